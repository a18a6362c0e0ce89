/**
 * `llmsim import hf` of quantized and multimodal checkpoints, in process: the precision each
 * format maps to (every dtype commented with the key it came from), multimodal wrappers'
 * text_config, empty lists read as transformers reads them, physical ranges of sizes, and the
 * refusals (an unknown format or algorithm, an unknown key, a mix llmsim cannot write), each at
 * its key. Fixtures: test/fixtures/hf (README names each file's source).
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { importHf, type ImportOptions, type ImportProblem } from "../../src/hf/import.ts"

const FIXTURES = new URL("../fixtures/hf/", import.meta.url)
const REFERENCE = new URL("../../data/reference/hf-configs/", import.meta.url)
const fixture = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(new URL(name, FIXTURES), "utf8"))
const reference = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(new URL(`${name}.json`, REFERENCE), "utf8"))

const opts = (name: string, over: Partial<ImportOptions> = {}): ImportOptions => ({
  name,
  model_dir: `configs/models/${name}`,
  source: `${name}/config.json`,
  hardware: "configs/hardware/H100-SXM.yaml",
  tp: 1,
  dp: 1,
  ep: 1,
  batch_size: 8,
  seq_len: 4096,
  phase: "both",
  ...over
})

const ok = (json: unknown, o: ImportOptions) => {
  const r = importHf(json, o)
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  return r
}
const problems = (json: unknown, o: ImportOptions): ReadonlyArray<ImportProblem> => {
  const r = importHf(json, o)
  if (r.ok) throw new Error("expected the import to be refused")
  return r.problems
}

/** The scenario's precision lines, as written (value and comment). */
const precisionLines = (scenario: string): Array<string> => {
  const lines = scenario.split("\n")
  const start = lines.indexOf("precision:")
  return lines.slice(start + 1, lines.indexOf("parallelism:")).map((l) => l.trim().replace(/ {2,}/g, " "))
}

const FP8_DIR = "nvidia-Llama-3.1-70B-Instruct-FP8/"
const fp8Config = () => fixture(`${FP8_DIR}config.json`)
const fp8Quant = () => fixture(`${FP8_DIR}hf_quant_config.json`)

describe("NVIDIA ModelOpt hf_quant_config.json", () => {
  it("nvidia/Llama-3.1-70B-Instruct-FP8: FP8 weights and FP8 KV cache, each naming its hf_quant_config.json key; 70.55B parameters", () => {
    const r = ok(fp8Config(), opts("l70", { hf_quant_config: fp8Quant() }))
    expect(precisionLines(r.scenario)).toEqual([
      "weights: fp8 # hf_quant_config.json quantization.quant_algo FP8",
      "activations: bf16 # llmsim default",
      "kv_cache: fp8 # hf_quant_config.json quantization.kv_cache_quant_algo FP8",
      // exclude_modules ["lm_head"]: the LM head (and the embedding) stay in torch_dtype.
      "lm_head: bf16 # config.json torch_dtype bfloat16 (embedding and lm_head are not quantized)"
    ])
    // Llama-3.1-70B: 70.6B (data/reference/hf-configs/README.md); quantization changes no count.
    expect(Math.abs(r.params.total / 70.6e9 - 1)).toBeLessThan(0.005)
    expect(r.params.total).toBe(ok(reference("llama-3.1-70b"), opts("l70")).params.total)
  })

  it("re-importing writes the same bytes", () => {
    const a = ok(fp8Config(), opts("l70", { hf_quant_config: fp8Quant() }))
    const b = ok(fp8Config(), opts("l70", { hf_quant_config: fp8Quant() }))
    expect(b.scenario).toBe(a.scenario)
    expect(b.templates).toEqual(a.templates)
  })

  it("the same config.json without hf_quant_config.json is the BF16 model (the sidecar is what says FP8)", () => {
    const r = ok(fp8Config(), opts("l70"))
    expect(precisionLines(r.scenario).slice(0, 3)).toEqual([
      "weights: bf16 # config.json torch_dtype bfloat16",
      "activations: bf16 # llmsim default",
      "kv_cache: bf16 # llmsim default"
    ])
  })

  it("nvidia/Qwen3-30B-A3B-NVFP4: NVFP4 weights and experts (fp4), FP8 KV cache; the router gates it lists are not weights llmsim stores apart", () => {
    const r = ok(reference("qwen3-30b-a3b"), opts("q", { hf_quant_config: fixture("nvidia-qwen3-30b-a3b-nvfp4-hf_quant_config.json") }))
    expect(r.precision.weights).toEqual({ key: "weights", value: "fp4", from: "hf_quant_config.json quantization.quant_algo NVFP4" })
    expect(r.precision.moe_experts).toBeUndefined()
    expect(r.precision.kv_cache?.value).toBe("fp8")
    expect(r.precision.lm_head.value).toBe("bf16")
  })

  it("exclude_modules leaving lm_head out quantizes the LM head too", () => {
    const quant = { quantization: { quant_algo: "FP8", kv_cache_quant_algo: null, exclude_modules: [] } }
    const r = ok(fp8Config(), opts("l70", { hf_quant_config: quant }))
    expect(r.precision.lm_head).toEqual({
      key: "lm_head",
      value: "fp8",
      from: "hf_quant_config.json quantization.quant_algo FP8 (hf_quant_config.json quantization.exclude_modules does not list lm_head)"
    })
    expect(r.precision.kv_cache).toBeUndefined()
  })

  it("a KV-cache-only checkpoint (quant_algo null): weights in torch_dtype, FP8 KV cache", () => {
    const r = ok(fp8Config(), opts("l70", { hf_quant_config: { quantization: { quant_algo: null, kv_cache_quant_algo: "FP8" } } }))
    expect(precisionLines(r.scenario).slice(0, 3)).toEqual([
      "weights: bf16 # hf_quant_config.json quantization.quant_algo null (weights not quantized)",
      "activations: bf16 # llmsim default",
      "kv_cache: fp8 # hf_quant_config.json quantization.kv_cache_quant_algo FP8"
    ])
  })

  it("MIXED_PRECISION: quantized_layers names each quantized module", () => {
    const layers = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`model.layers.${i}.*`, { quant_algo: "W4A16_AWQ" }]))
    const r = ok(
      fp8Config(),
      opts("l70", { hf_quant_config: { quantization: { quant_algo: "MIXED_PRECISION", quantized_layers: layers, exclude_modules: ["lm_head"] } } })
    )
    expect(r.precision.weights.value).toBe("int4")
    expect(r.precision.weights.from).toBe("hf_quant_config.json quantization.quantized_layers.model.layers.0.*.quant_algo W4A16_AWQ")
  })

  it("an unknown quant_algo is refused at its key in hf_quant_config.json", () => {
    const p = problems(fp8Config(), opts("l70", { hf_quant_config: { quantization: { quant_algo: "W2A16", kv_cache_quant_algo: "FP8" } } }))
    expect(p).toHaveLength(1)
    expect(p[0]).toMatchObject({ key: "quantization.quant_algo", file: "hf_quant_config.json" })
    expect(p[0]!.message).toMatch(/^expected one of NONE, FP8, .*NVFP4.* \(ModelOpt\), got "W2A16"$/)
  })

  it("an unknown key in hf_quant_config.json is refused by name, unless vouched for", () => {
    const quant = { quantization: { quant_algo: "FP8", kv_cache_quant_algo: "FP8", exclude_modules: ["lm_head"], sparsity: "2:4" } }
    const p = problems(fp8Config(), opts("l70", { hf_quant_config: quant }))
    expect(p[0]).toMatchObject({ key: "quantization.sparsity", file: "hf_quant_config.json" })
    expect(p[0]!.message).toContain("pass --ignore-keys quantization.sparsity")
    expect(importHf(fp8Config(), opts("l70", { hf_quant_config: quant, ignore_keys: ["quantization.sparsity"] })).ok).toBe(true)
  })

  it("attention left in BF16 while the dense FFN and shared experts are NVFP4 (nvidia/DeepSeek-V3-0324-NVFP4's exclude_modules pattern) cannot be written: refused at the list, with the way on", () => {
    const { quantization_config: _, ...v3 } = reference("deepseek-v3")
    // The published file lists every layer's self_attn*, router gate and norms, layer 61 (MTP), lm_head and the embedding.
    const exclude = [
      ...Array.from({ length: 61 }, (_, i) => [`model.layers.${i}.self_attn*`, `model.layers.${i}.mlp.gate`, `model.layers.${i}.input_layernorm`]).flat(),
      "model.layers.61*",
      "lm_head",
      "model.embed_tokens",
      "model.norm"
    ]
    const quant = {
      producer: { name: "modelopt", version: "0.27.0" },
      quantization: { quant_algo: "NVFP4", kv_cache_quant_algo: null, group_size: 16, exclude_modules: exclude }
    }
    const p = problems(v3, opts("d", { hf_quant_config: quant }))
    expect(p).toEqual([
      {
        key: "quantization.exclude_modules",
        file: "hf_quant_config.json",
        message:
          "expected one dtype for the attention projections, dense FFN and shared experts, got attention projections bf16 (layers 0-60), dense FFN fp4 (layers 0-2), shared experts fp4 (layers 3-60): llmsim's precision has one dtype for the attention projections, dense FFN and shared experts (weights) and one for the routed experts (moe_experts), so this checkpoint cannot be written exactly (pass --ignore-keys quantization.exclude_modules to read every module as quantized, then edit precision by hand)"
      }
    ])
    const vouched = ok(v3, opts("d", { hf_quant_config: quant, ignore_keys: ["quantization.exclude_modules"] }))
    expect(vouched.precision.weights.value).toBe("fp4")
  })

  it("config.json describing another format beside hf_quant_config.json is refused (two descriptions of one checkpoint)", () => {
    const p = problems(reference("deepseek-v3"), opts("d", { hf_quant_config: fp8Quant() }))
    expect(p.map((x) => x.key)).toEqual(["quantization_config.quant_method"])
  })
})

describe("config.json quantization_config", () => {
  const llama = () => fp8Config()
  const withQ = (q: Record<string, unknown>) => ({ ...llama(), quantization_config: q })

  it("fp8 (DeepSeek-V3 block FP8): weights and experts fp8, KV cache and LM head not quantized", () => {
    const r = ok(reference("deepseek-v3"), opts("d"))
    expect(r.precision.weights).toEqual({ key: "weights", value: "fp8", from: "quantization_config quant_method fp8" })
    expect(r.precision.moe_experts).toBeUndefined()
    expect(r.precision.kv_cache).toBeUndefined()
    expect(r.precision.lm_head.value).toBe("bf16")
  })

  it("compressed-tensors FP8 W8A8 with an FP8 KV cache scheme (llm-compressor's format)", () => {
    const q = {
      quant_method: "compressed-tensors",
      format: "float-quantized",
      config_groups: {
        group_0: {
          targets: ["Linear"],
          weights: { num_bits: 8, type: "float", strategy: "channel", symmetric: true, dynamic: false },
          input_activations: { num_bits: 8, type: "float", strategy: "token", dynamic: true }
        }
      },
      ignore: ["lm_head"],
      kv_cache_scheme: { num_bits: 8, type: "float", strategy: "tensor", dynamic: false, symmetric: true },
      quantization_status: "compressed",
      global_compression_ratio: null,
      sparsity_config: {}
    }
    const r = ok(withQ(q), opts("l"))
    expect(precisionLines(r.scenario)).toEqual([
      "weights: fp8 # config.json quantization_config.config_groups.group_0 weights num_bits 8 type float",
      "activations: bf16 # llmsim default",
      "kv_cache: fp8 # config.json quantization_config kv_cache_scheme num_bits 8 type float",
      "lm_head: bf16 # config.json torch_dtype bfloat16 (embedding and lm_head are not quantized)"
    ])
  })

  it("compressed-tensors: W4A16 int4, NVFP4 (fp4, groups of 16), MXFP4 (groups of 32), and an LM head the ignore list does not name", () => {
    const group = (weights: Record<string, unknown>) => ({
      quant_method: "compressed-tensors",
      config_groups: { group_0: { targets: ["Linear"], weights } },
      ignore: []
    })
    expect(ok(withQ(group({ num_bits: 4, type: "int", group_size: 128 })), opts("l")).precision.weights.value).toBe("int4")
    expect(ok(withQ(group({ num_bits: 4, type: "float", group_size: 16 })), opts("l")).precision.weights.value).toBe("fp4")
    expect(ok(withQ(group({ num_bits: 4, type: "float", group_size: 32 })), opts("l")).precision.weights.value).toBe("mxfp4")
    // `Linear` targets the LM head too when `ignore` does not list it.
    expect(ok(withQ(group({ num_bits: 8, type: "int" })), opts("l")).precision.lm_head.value).toBe("int8")
  })

  it("awq (Qwen/Qwen3-32B-AWQ's quantization_config): int4 weights, LM head in torch_dtype", () => {
    const q = { bits: 4, group_size: 128, modules_to_not_convert: null, quant_method: "awq", version: "gemm", zero_point: true }
    const r = ok({ ...reference("qwen3-32b"), quantization_config: q }, opts("q"))
    expect(r.precision.weights).toEqual({ key: "weights", value: "int4", from: "quantization_config quant_method awq bits 4" })
    expect(r.precision.lm_head.value).toBe("bf16")
  })

  it("gptq: 8 bits is int8, `lm_head: true` quantizes the LM head; 3 bits is refused at bits", () => {
    const q = { quant_method: "gptq", bits: 8, group_size: 128, desc_act: false, sym: true, lm_head: true, checkpoint_format: "gptq" }
    const r = ok(withQ(q), opts("l"))
    expect([r.precision.weights.value, r.precision.lm_head.value]).toEqual(["int8", "int8"])
    expect(problems(withQ({ ...q, bits: 3 }), opts("l"))[0]).toEqual({
      key: "quantization_config.bits",
      message: "expected 4 or 8 (llmsim's int4 and int8), got 3"
    })
  })

  it("bitsandbytes: 4-bit NF4 is stored in half a byte (int4: dequantized for the GEMM), 8-bit is int8", () => {
    const four = {
      quant_method: "bitsandbytes",
      load_in_4bit: true,
      load_in_8bit: false,
      bnb_4bit_quant_type: "nf4",
      bnb_4bit_compute_dtype: "bfloat16",
      bnb_4bit_use_double_quant: true,
      llm_int8_skip_modules: null
    }
    expect(ok(withQ(four), opts("l")).precision.weights).toEqual({
      key: "weights",
      value: "int4",
      from: "quantization_config load_in_4bit true (nf4 codes: 4-bit storage, dequantized for the GEMM)"
    })
    expect(ok(withQ({ ...four, load_in_4bit: false, load_in_8bit: true }), opts("l")).precision.weights.value).toBe("int8")
  })

  it("an unknown quant_method is refused at its key, never planned as BF16", () => {
    const p = problems(withQ({ quant_method: "hqq", nbits: 4 }), opts("l"))
    expect(p[0]!.key).toBe("quantization_config.quant_method")
    expect(p[0]!.message).toMatch(/^expected one of fp8, fbgemm_fp8, mxfp4, compressed-tensors, awq, gptq, bitsandbytes, modelopt .*got "hqq"/)
  })

  it("an unknown key inside quantization_config is refused by name", () => {
    const p = problems(withQ({ quant_method: "fp8", activation_scheme: "dynamic", weight_bits: 6 }), opts("l"))
    expect(p[0]).toMatchObject({ key: "quantization_config.weight_bits" })
  })
})

describe("multimodal wrappers: the text model under text_config", () => {
  it("Kimi-K2.5 (kimi_k25 -> kimi_k2): the K2 architecture, INT4 routed experts (compressed-tensors), everything else BF16", () => {
    const r = ok(fixture("kimi-k2.5-config.json"), opts("k"))
    expect(r.draft.family).toBe("kimi_k2")
    // Same text model as Kimi-K2 (data/reference/hf-configs/kimi-k2.json): the same counts.
    expect(r.params).toEqual(ok(reference("kimi-k2"), opts("k")).params)
    expect(precisionLines(r.scenario)).toEqual([
      // ignore: re:.*self_attn.*, re:.*shared_experts.*, re:.*mlp\.(gate|up|gate_up|down)_proj.* (the dense layer), lm_head
      "weights: bf16 # config.json text_config.dtype bfloat16 (text_config.quantization_config.ignore keeps them unquantized)",
      "moe_experts: int4 # config.json text_config.quantization_config.config_groups.group_0 weights num_bits 4 type int",
      "activations: bf16 # llmsim default",
      "kv_cache: bf16 # llmsim default",
      "lm_head: bf16 # config.json text_config.dtype bfloat16 (embedding and lm_head are not quantized)"
    ])
  })

  it("Qwen3-VL-235B-A22B (qwen3_vl_moe -> qwen3_vl_moe_text): the Qwen3-235B-A22B text model", () => {
    const r = ok(fixture("qwen3-vl-235b-a22b-config.json"), opts("qvl"))
    expect(r.params).toEqual(ok(reference("qwen3-235b-a22b"), opts("q")).params)
    expect(r.draft.layers).toHaveLength(94)
  })

  it("Llama-4 with the transformers default `no_rope_layers: []` imports as without the key; a wrapper-level quantization_config (fbgemm_fp8) is used", () => {
    const base = reference("llama-4-maverick") as { text_config: Record<string, unknown> }
    const empty = { ...base, text_config: { ...base.text_config, no_rope_layers: [] } }
    expect(ok(empty, opts("l4")).scenario).toBe(ok(base, opts("l4")).scenario)
    const fp8 = {
      ...empty,
      quantization_config: {
        quant_method: "fbgemm_fp8",
        activation_scale_ub: 1200.0,
        modules_to_not_convert: ["lm_head", "vision_model", "multi_modal_projector"]
      }
    }
    const r = ok(fp8, opts("l4"))
    expect(r.precision.weights).toEqual({ key: "weights", value: "fp8", from: "quantization_config quant_method fbgemm_fp8" })
  })

  it("attention excluded while the shared experts are quantized (an FP8 Llama-4 whose ignore list names self_attn) is refused at that list", () => {
    const base = reference("llama-4-maverick")
    const q = {
      quant_method: "compressed-tensors",
      config_groups: { group_0: { targets: ["Linear"], weights: { num_bits: 8, type: "float" } } },
      ignore: ["re:.*lm_head", "re:.*self_attn", "re:.*router", "re:.*vision_model.*", "re:.*multi_modal_projector.*"]
    }
    const p = problems({ ...base, quantization_config: q }, opts("l4"))
    expect(p[0]!.key).toBe("quantization_config.ignore")
    expect(p[0]!.message).toMatch(
      /^expected one dtype for the attention projections, dense FFN and shared experts, got attention projections bf16 \(layers 0-47\), dense FFN fp8 \(layers 0, 2, 4, 6, \.\.\. 24 layers\), shared experts fp8 \(layers 1, 3, 5, 7, \.\.\. 24 layers\): /
    )
  })
})

describe("physical ranges", () => {
  it("hidden_size 1e300 is refused at its key (never `total InfinityB`), and checks built on it stay quiet", () => {
    const p = problems({ ...fp8Config(), hidden_size: 1e300 }, opts("l"))
    expect(p).toEqual([{ key: "hidden_size", message: "expected a positive integer of at most 1048576 (a model size), got 1e+300" }])
  })

  it("layers, vocabulary and windows have their own limits", () => {
    expect(problems({ ...fp8Config(), num_hidden_layers: 20_000 }, opts("l"))[0]).toEqual({
      key: "num_hidden_layers",
      message: "expected a positive integer of at most 10000 (a layer count), got 20000"
    })
    expect(problems({ ...fp8Config(), vocab_size: 2 ** 25 }, opts("l"))[0]!.message).toBe(
      "expected a positive integer of at most 16777216 (a vocabulary size), got 33554432"
    )
    // The largest published sizes import: Llama-3.1-405B (intermediate_size 53248), a 262,144 vocabulary.
    expect(importHf({ ...reference("llama-3.1-405b"), vocab_size: 262_144 }, opts("l")).ok).toBe(true)
  })

  it("the written scenario parses and names only dtypes of the schema", () => {
    const s = parse(ok(fp8Config(), opts("l", { hf_quant_config: fp8Quant() })).scenario)
    expect(s.precision).toEqual({ weights: "fp8", activations: "bf16", kv_cache: "fp8", lm_head: "bf16" })
  })
})

/**
 * `llmsim import hf`, in process: every reference config.json imports; the written templates
 * decode with the layer schemas; their parameter counts match the vendors' published totals;
 * decode FLOPs per token match a hand formula; a re-import is byte-identical; what cannot be
 * mapped is refused with the key named.
 */
import * as fs from "node:fs"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { importHf, SUPPORTED_MODEL_TYPES, type ImportOptions } from "../../src/hf/import.ts"
import { modelParams, planLayer, planLmHead } from "../../src/layers/index.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { templateSchemaFor, type LayerTemplate, type LayerType } from "../../src/schema/layer.ts"
import { BF16, ctxOf } from "../layers/hf.ts"

const DIR = new URL("../../data/reference/hf-configs/", import.meta.url)
const read = (name: string): unknown => JSON.parse(fs.readFileSync(new URL(`${name}.json`, DIR), "utf8"))
const NAMES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""))
  .sort()

const opts = (name: string): ImportOptions => ({
  name,
  model_dir: `configs/models/${name}`,
  source: `data/reference/hf-configs/${name}.json`,
  hardware: "configs/hardware/H100-SXM.yaml",
  tp: 1,
  dp: 1,
  ep: 1,
  batch_size: 8,
  seq_len: 4096,
  phase: "both"
})

/** The written files decoded back: the scenario's layer entries with their templates. */
const imported = (name: string) => {
  const r = importHf(read(name), opts(name))
  if (!r.ok) throw new Error(JSON.stringify(r.problems))
  const texts = new Map(r.templates.map((t) => [t.path, t.text]))
  const scenario = parse(r.scenario)
  const layers = (scenario.layers as Array<{ type: LayerType; config: string; repeat?: number }>).map((e) => {
    const text = texts.get(e.config)
    if (text === undefined) throw new Error(`scenario names ${e.config}, not written`)
    const config = Schema.decodeUnknownSync(templateSchemaFor(e.type) as any)(parse(text))
    return { template: { type: e.type, config } as LayerTemplate, repeat: e.repeat ?? 1 }
  })
  return { r, scenario, layers, lm: scenario.lm_head as { vocab_size: number; d_model: number } }
}

/**
 * Published totals (data/reference/hf-configs/README.md "Summary table", and the _source of the
 * two reconstructed files). Vendors count active parameters differently; `active_as` says which
 * of llmsim's counts the vendor's figure is compared with: `all` (embedding and LM head
 * included), `no_input_embedding` (OpenAI's stated convention; DeepSeek, Kimi, Step-3 match it),
 * `non_embedding` (neither table; GLM-4.5, Qwen3-Next and MiniMax match it).
 */
const PUBLISHED: ReadonlyArray<{ name: string; total: number; active: number; active_as: "all" | "no_input_embedding" | "non_embedding" }> = [
  { name: "deepseek-v3", total: 671e9, active: 37e9, active_as: "no_input_embedding" },
  { name: "deepseek-r1", total: 671e9, active: 37e9, active_as: "no_input_embedding" },
  { name: "kimi-k2", total: 1e12, active: 32e9, active_as: "no_input_embedding" },
  { name: "glm-4.5", total: 355e9, active: 32e9, active_as: "non_embedding" },
  { name: "gpt-oss-120b", total: 117e9, active: 5.1e9, active_as: "no_input_embedding" },
  { name: "gpt-oss-20b", total: 21e9, active: 3.6e9, active_as: "no_input_embedding" },
  { name: "llama-3.1-8b", total: 8e9, active: 8e9, active_as: "all" },
  { name: "llama-3.1-70b", total: 70e9, active: 70e9, active_as: "all" },
  { name: "llama-3.1-405b", total: 405e9, active: 405e9, active_as: "all" },
  { name: "llama-4-maverick", total: 400e9, active: 17e9, active_as: "all" },
  { name: "mixtral-8x7b", total: 46.7e9, active: 12.9e9, active_as: "all" },
  { name: "mixtral-8x22b", total: 141e9, active: 39e9, active_as: "all" },
  { name: "qwen3-235b-a22b", total: 235e9, active: 22e9, active_as: "all" },
  { name: "qwen3-30b-a3b", total: 30.5e9, active: 3.3e9, active_as: "all" },
  { name: "qwen3-32b", total: 32.8e9, active: 32.8e9, active_as: "all" },
  { name: "qwen3-next-80b-a3b", total: 80e9, active: 3e9, active_as: "non_embedding" },
  { name: "step3", total: 316e9, active: 38e9, active_as: "no_input_embedding" },
  { name: "minimax-text-01", total: 456e9, active: 45.9e9, active_as: "non_embedding" }
]

/**
 * Where 1% does not hold (the published figures are rounded to one or two digits), the
 * measured error, asserted exactly so a change shows: Kimi-K2 total 1026.4B vs "1T";
 * DeepSeek-V3/R1 active 36.63B vs "37B"; Llama-4 active 17.18B vs "17B"; Qwen3-30B-A3B active
 * 3.353B vs "3.3B"; Qwen3-Next active 3.25B (non-embedding) vs "3B".
 */
const OFF: Readonly<Record<string, { total?: number; active?: number }>> = {
  "kimi-k2": { total: 0.027 },
  "deepseek-v3": { active: 0.011 },
  "deepseek-r1": { active: 0.011 },
  "llama-4-maverick": { active: 0.011 },
  "qwen3-30b-a3b": { active: 0.017 },
  "qwen3-next-80b-a3b": { active: 0.09 }
}

describe("llmsim import hf: every reference config.json", () => {
  it("every file in data/reference/hf-configs imports, and every one is in the published table but V3.2", () => {
    expect(NAMES.filter((n) => !PUBLISHED.some((p) => p.name === n))).toEqual(["deepseek-v3.2"])
  })

  for (const p of PUBLISHED) {
    it(`${p.name}: total and active parameters within 1% of the published figures (or the listed miss)`, () => {
      const { layers, lm } = imported(p.name)
      const count = modelParams(layers, lm)
      const active =
        p.active_as === "all" ? count.active : p.active_as === "no_input_embedding" ? count.active - count.embedding : count.active - 2 * count.embedding
      const off = OFF[p.name] ?? {}
      const errTotal = Math.abs(count.total / p.total - 1)
      const errActive = Math.abs(active / p.active - 1)
      expect(errTotal).toBeLessThan(off.total ?? 0.01)
      expect(errActive).toBeLessThan(off.active ?? 0.01)
      // A listed miss really misses: drop it from OFF when the count improves.
      if (off.total !== undefined) expect(errTotal).toBeGreaterThan(0.01)
      if (off.active !== undefined) expect(errActive).toBeGreaterThan(0.01)
    })
  }

  it("DeepSeek-V3.2 = DeepSeek-V3 + the DSA indexer: 61 x (1536*64*128 + 7168*128 + 7168*64 + 2*128) parameters", () => {
    const v3 = imported("deepseek-v3")
    const v32 = imported("deepseek-v3.2")
    // per layer 12,582,912 + 917,504 + 458,752 + 256 = 13,959,424; x 61 = 851,524,864
    expect(modelParams(v32.layers, v32.lm).total - modelParams(v3.layers, v3.lm).total).toBe(851_524_864)
  })
})

/** Whole-model FLOPs of one decode token at batch 1 and a KV length, tp = 1. */
const decodeFlops = (name: string, kvLen: number): number => {
  const { layers, lm } = imported(name)
  const ctx = ctxOf({ precision: BF16, seq_len: kvLen })
  const sum = (specs: ReadonlyArray<{ kind: string; name: string; category: any; params: any }>) => specs.reduce((s, x) => s + evaluateOpCost(x).flops, 0)
  return layers.reduce((s, l) => s + l.repeat * sum(planLayer(l.template, ctx)), 0) + sum(planLmHead(lm, ctx))
}

describe("decode FLOPs per token = the hand formula (batch 1, tp 1)", () => {
  // Per layer: projections 2*in*out each, RMSNorms 4 per element (attn_norm + ffn_norm 8d), the
  // attention core 4*h*head_dim per key, router 2*d*E, SwiGLU 6*d*I per expert used; LM head
  // 2*d*V + final norm 4d. Numbers worked from the config.json values in the comments.
  it("Qwen3-32B at 4096: 64 x (2d(64+16)128 + 4*72*128 + 4*64*128*4096 + 2*8192*5120 + 8d + 6d*25600) + 2dV + 4d", () => {
    // d = 5120: 104,857,600 + 36,864 + 134,217,728 + 83,886,080 + 40,960 + 786,432,000 = 1,109,471,232 per layer
    // x 64 = 71,006,158,848; + 2*5120*151936 = 1,555,824,640; + 20,480 -> 72,562,003,968
    expect(decodeFlops("qwen3-32b", 4096)).toBe(72_562_003_968)
  })

  it("gpt-oss-120b at 4096: 18 sliding layers see 128 keys, 18 full see 4096; sinks add 2 per head", () => {
    // per layer without core: QKV 2*2880*80*64 = 29,491,200; o 2*4096*2880 = 23,592,960; norms 23,040;
    // router 2*2880*128 = 737,280; experts 6*2880*2880*4 = 199,065,600; sinks 128 -> 252,910,208
    // cores 4*64*64*128 = 2,097,152 and 4*64*64*4096 = 67,108,864
    // 18*(252,910,208 + 2,097,152) + 18*(252,910,208 + 67,108,864) = 10,350,419,328
    // + LM head 2*2880*201088 = 1,158,266,880 + 11,520 + ... = 11,508,754,176
    expect(decodeFlops("gpt-oss-120b", 4096)).toBe(11_508_754_176)
  })

  it("Step-3 at 4096: MFA low-rank query (7168 -> 2048 -> 64 x 256) and one shared K/V head", () => {
    // attention: q_down 2*7168*2048, q_norm 4*2048, q_up 2*2048*16384, kv 2*7168*512,
    // core 4*64*256*4096, o 2*16384*7168, norms 8*7168;
    // 5 dense (6*7168*18432) + 56 MoE (router 2*7168*48, 3 routed + 1 shared x 6*7168*5120); LM head
    expect(decodeFlops("step3", 4096)).toBe(92_212_541_440)
  })

  it("DeepSeek-V3.2 at 4096: the indexer scores all 4096 keys, the MLA core reads the top 2048", () => {
    // indexer: wq_b 2*1536*64*128, wk 2*7168*128, k norm 4*128, weights 2*7168*64,
    // scores 4096*(2*64*128 + 3*64); MLA absorbed core over 2048 keys: 2*128*2048*576 + 2*128*2048*512
    expect(decodeFlops("deepseek-v3.2", 4096)).toBe(113_893_829_120)
  })

  it("Llama-4 Maverick at 10000: chunked layers see 10000 - 8192 = 1808 keys, NoPE layers 10000", () => {
    // 12 periods of (dense chunked, MoE chunked, dense chunked, MoE global); dense 6*5120*16384,
    // MoE router 2*5120*128 + 1 routed + 1 shared x 6*5120*8192
    expect(decodeFlops("llama-4-maverick", 10000)).toBe(36_092_006_400)
  })

  it("Qwen3-Next at 4096: 36 gated-DeltaNet layers cost the same at any context, 12 gated-attention layers grow", () => {
    // linear: in_proj 2*2048*(4096 + 8192) + 2*2048*64, 32 heads x 7*128*128, conv 2*4*8192,
    // out norm 4*4096, o 2*4096*2048; full: q+gate 2*2048*8192, kv 2*2048*1024, qk norm 4*18*256,
    // core 4*16*256*4096, o 2*4096*2048; MoE router 2*2048*512, 10 + 1 shared x 6*2048*512
    expect(decodeFlops("qwen3-next-80b-a3b", 4096)).toBe(8_065_941_504)
    // only the 12 full layers' cores grow: +12 * 4*16*256*4096 per 4096 more keys
    expect(decodeFlops("qwen3-next-80b-a3b", 8192) - decodeFlops("qwen3-next-80b-a3b", 4096)).toBe(12 * 4 * 16 * 256 * 4096)
  })
})

describe("import output", () => {
  it("re-importing is byte-identical", () => {
    for (const name of NAMES) {
      const a = importHf(read(name), opts(name))
      const b = importHf(read(name), opts(name))
      expect(JSON.stringify(b)).toBe(JSON.stringify(a))
    }
  })

  it("every template field carries a comment naming its config.json key (or why there is none)", () => {
    const r = importHf(read("qwen3-next-80b-a3b"), opts("q"))
    if (!r.ok) throw new Error("import failed")
    for (const t of r.templates) {
      for (const l of t.text.split("\n").filter((x) => x.startsWith("  "))) expect(l).toMatch(/ # (config\.json [a-z_]+|no key: )/)
    }
    expect(r.templates.map((t) => t.path)).toEqual(["configs/models/q/moe_layer_linear.yaml", "configs/models/q/moe_layer_full.yaml"])
  })

  it("Qwen3-Next: 36 gated-DeltaNet layers with an FP32 state (per-layer precision), 12 full-attention layers", () => {
    const { scenario, layers } = imported("qwen3-next-80b-a3b")
    const linear = scenario.layers.filter((l: { name: string }) => l.name === "moe_layer_linear")
    expect(linear.reduce((n: number, l: { repeat?: number }) => n + (l.repeat ?? 1), 0)).toBe(36)
    expect(linear.every((l: { precision?: unknown }) => JSON.stringify(l.precision) === '{"kv_cache":"fp32"}')).toBe(true)
    expect(layers.filter((l) => l.template.type === "moe_layer" && l.template.config.attn_config.type === "GQA").length).toBe(12)
  })

  it("MTP layers: left out by default; with --mtp-acceptance one `mtp: true` entry and the runtime rate", () => {
    const plain = importHf(read("deepseek-v3"), opts("d"))
    const mtp = importHf(read("deepseek-v3"), { ...opts("d"), mtp_acceptance: 0.85 })
    if (!plain.ok || !mtp.ok) throw new Error("import failed")
    expect(parse(plain.scenario).layers.some((l: { mtp?: boolean }) => l.mtp)).toBe(false)
    const s = parse(mtp.scenario)
    expect(s.layers.at(-1)).toEqual({ type: "moe_layer", name: "mtp", config: "configs/models/d/moe_layer.yaml", mtp: true })
    expect(s.runtime.mtp_acceptance_rate).toBe(0.85)
    // Parameter counts are the main model's (the published 671B leaves the MTP module out).
    expect(mtp.params).toEqual(plain.params)
  })

  it("gpt-oss keeps its alternation (18 sliding / 18 full entries), sinks and MXFP4 experts", () => {
    const { scenario, r } = imported("gpt-oss-120b")
    expect(scenario.layers.map((l: { name: string }) => l.name).slice(0, 3)).toEqual(["moe_layer_sliding", "moe_layer_full", "moe_layer_sliding"])
    expect(scenario.layers).toHaveLength(36)
    expect(scenario.precision.moe_experts).toBe("mxfp4")
    expect(r.ok && r.templates.every((t) => t.text.includes("attention_sinks: true"))).toBe(true)
  })
})

describe("families without a reference file", () => {
  it("Qwen1.5-MoE-A2.7B (qwen2_moe: 60 experts top-4 + one shared expert of 5632): 14.3B total, 2.7B active", () => {
    // Architecture values of https://huggingface.co/Qwen/Qwen1.5-MoE-A2.7B/blob/main/config.json;
    // totals from its model card ("14.3B parameters in total and 2.7B activated").
    const json = {
      model_type: "qwen2_moe",
      hidden_size: 2048,
      num_hidden_layers: 24,
      num_attention_heads: 16,
      num_key_value_heads: 16,
      intermediate_size: 5632,
      moe_intermediate_size: 1408,
      shared_expert_intermediate_size: 5632,
      num_experts: 60,
      num_experts_per_tok: 4,
      decoder_sparse_step: 1,
      vocab_size: 151936,
      hidden_act: "silu",
      tie_word_embeddings: false,
      torch_dtype: "bfloat16",
      use_sliding_window: false,
      sliding_window: 32768,
      max_window_layers: 21,
      norm_topk_prob: false,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      max_position_embeddings: 8192
    }
    const r = importHf(json, opts("qwen1.5-moe"))
    if (!r.ok) throw new Error(JSON.stringify(r.problems))
    expect(Math.abs(r.params.total / 14.3e9 - 1)).toBeLessThan(0.01)
    expect(Math.abs(r.params.active / 2.7e9 - 1)).toBeLessThan(0.01)
  })

  it("Mistral-7B (sliding_window 4096 on every layer): 7.24B", () => {
    // https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json; 7.24B (Mistral 7B paper, arXiv 2310.06825).
    const json = {
      model_type: "mistral",
      hidden_size: 4096,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      intermediate_size: 14336,
      vocab_size: 32000,
      hidden_act: "silu",
      sliding_window: 4096,
      tie_word_embeddings: false,
      torch_dtype: "bfloat16",
      rms_norm_eps: 1e-5,
      rope_theta: 10000.0,
      max_position_embeddings: 32768
    }
    const r = importHf(json, opts("mistral-7b"))
    if (!r.ok) throw new Error(JSON.stringify(r.problems))
    expect(Math.abs(r.params.total / 7.24e9 - 1)).toBeLessThan(0.01)
    expect(r.templates[0].text).toContain("sliding_window: 4096")
  })
})

describe("refusals", () => {
  it("an unknown model_type lists the supported ones; never a dense fallback", () => {
    const r = importHf({ model_type: "falcon_h1", hidden_size: 4096 }, opts("x"))
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.problems[0].key).toBe("model_type")
    expect(r.problems[0].message).toContain('got "falcon_h1"')
    for (const t of ["deepseek_v32", "gpt_oss", "qwen3_next", "llama4", "step3_vl", "glm4_moe", "kimi_k2", "mixtral"])
      expect(SUPPORTED_MODEL_TYPES).toContain(t)
  })

  it("an unknown architecture key is refused by name (a DeepSeek config with a new attention key)", () => {
    const json = { ...(read("deepseek-v3") as object), sparse_block_size: 64 }
    const r = importHf(json, opts("x"))
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.problems[0].key).toBe("sparse_block_size")
    expect(r.problems[0].message).toContain("unknown key sparse_block_size for model_type deepseek_v3")
    // ... unless the user vouches for it.
    expect(importHf(json, { ...opts("x"), ignore_keys: ["sparse_block_size"] }).ok).toBe(true)
  })

  it("values that change the math but are not mapped are refused (Qwen sliding window, moe_layer_freq 2)", () => {
    const qwen = importHf({ ...(read("qwen3-32b") as object), use_sliding_window: true }, opts("x"))
    expect(!qwen.ok && qwen.problems[0].key).toBe("use_sliding_window")
    const ds = importHf({ ...(read("deepseek-v3") as object), moe_layer_freq: 2 }, opts("x"))
    expect(!ds.ok && ds.problems[0]).toEqual({ key: "moe_layer_freq", message: "expected 1 (every layer after first_k_dense_replace is MoE), got 2" })
  })

  it("layer_types (written by recent transformers) must be all full_attention for full-attention families", () => {
    const ok = importHf({ ...(read("qwen3-32b") as object), layer_types: Array(64).fill("full_attention") }, opts("x"))
    expect(ok.ok).toBe(true)
    const bad = importHf({ ...(read("qwen3-32b") as object), layer_types: [...Array(63).fill("full_attention"), "sliding_attention"] }, opts("x"))
    expect(!bad.ok && bad.problems[0]).toEqual({
      key: "layer_types",
      message: 'expected only full_attention layers for this model_type, got "sliding_attention"'
    })
  })

  it("Llama-4 with layer_types gives the same import as the no_rope_layers default", () => {
    const base = read("llama-4-maverick") as { text_config: Record<string, unknown> }
    const types = Array.from({ length: 48 }, (_, i) => ((i + 1) % 4 === 0 ? "full_attention" : "chunked_attention"))
    const a = importHf(base, opts("l4"))
    const b = importHf({ ...base, text_config: { ...base.text_config, layer_types: types } }, opts("l4"))
    expect(a.ok && b.ok && b.scenario === a.scenario).toBe(true)
  })

  it("a missing required key is named with its path inside text_config", () => {
    const step = read("step3") as { text_config: Record<string, unknown> }
    const { share_q_dim: _, ...text } = step.text_config
    const r = importHf({ ...step, text_config: text }, opts("x"))
    expect(!r.ok && r.problems.map((p) => p.key)).toContain("text_config.share_q_dim")
  })
})

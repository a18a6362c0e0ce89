/**
 * Quantized checkpoints -> the scenario's `precision` (weights, moe_experts, kv_cache, lm_head).
 * Every dtype written carries the key it came from; a format, algorithm or key this module does
 * not know is refused at that key (never a silent BF16 fallback: an FP8 checkpoint planned as
 * BF16 holds twice the weight bytes and decodes about twice as slowly).
 *
 * Sources, each read as the serving engines read it:
 * - `hf_quant_config.json` beside config.json (NVIDIA ModelOpt's unified HF checkpoint,
 *   https://nvidia.github.io/TensorRT-Model-Optimizer/deployment/3_unified_hf.html):
 *   `quantization.quant_algo` (FP8, NVFP4, ... the QUANTIZATION_* names of
 *   modelopt/torch/export/model_config.py), `kv_cache_quant_algo`, `exclude_modules` (fnmatch
 *   patterns), `quantized_layers` (MIXED_PRECISION); vLLM model_executor/layers/quantization/modelopt.py.
 * - config.json `quantization_config.quant_method` (transformers src/transformers/quantizers,
 *   vLLM model_executor/layers/quantization/*):
 *   `fp8` (FineGrainedFP8Config: block FP8, DeepSeek-V3 / Qwen3-FP8), `fbgemm_fp8` (Llama-4 FP8),
 *   `mxfp4` (gpt-oss: the MXFP4 quantizer converts the routed experts only), `compressed-tensors`
 *   (llm-compressor: `config_groups` of `targets` with `weights.num_bits`/`type`, `ignore`,
 *   `kv_cache_scheme`; neuralmagic/compressed-tensors quantization/quant_config.py), `awq`
 *   (AwqConfig: 4-bit), `gptq` (GPTQConfig: 4 or 8 bits, `lm_head`), `bitsandbytes`
 *   (BitsAndBytesConfig: `load_in_4bit` / `load_in_8bit`), `modelopt` (the same fields inline).
 *
 * Which modules a format quantizes is decided per layer and per part (attention projections,
 * dense FFN, shared experts, routed experts, LM head) by matching the checkpoint's module names
 * against the exclusion lists and targets. llmsim's `precision.weights` is one dtype for the
 * attention projections, the dense FFN and the shared experts; a checkpoint that quantizes some
 * of them and not others (or only some layers) cannot be written exactly and is refused at its
 * list, with how to go on (`--ignore-keys` that list).
 */
import type { Dtype } from "../schema/dtypes.ts"
import { ConfigReader, f, type Field, type Json, type PrecisionDraft, type ReadProblem } from "./fields.ts"

/** The parts of a decoder llmsim gives a dtype to (src/layers/layer.ts "Precision"). */
type Part = "attention" | "dense" | "shared" | "experts" | "lm_head"

/** One module of the checkpoint: its name under each common prefix, and its part. */
interface Module {
  readonly names: ReadonlyArray<string>
  readonly part: Part
}

/** What a format stores a module in: a dtype and the key that says so, or null (kept in the checkpoint's dtype). */
type Stored = { readonly dtype: Dtype; readonly from: string } | null

interface Scheme {
  /** The dtype of one module's weights. */
  readonly storedAs: (m: Module) => Stored
  /** The key listing which modules are (not) quantized, named when the result cannot be written. */
  readonly listKey: string
  readonly kv?: Field
  /** The comment of `weights` when the format leaves them unquantized (gpt-oss: the MXFP4 quantizer converts the experts only). */
  readonly weightsFrom?: string
}

/** The layer structure the module names are made from (a ModelDraft, src/hf/families.ts). */
export interface QuantModel {
  readonly family: string
  readonly layers: ReadonlyArray<string>
  readonly templates: ReadonlyArray<{
    readonly id: string
    readonly type: "ffn_layer" | "moe_layer"
    readonly attn: ReadonlyArray<Field>
    readonly mlp: ReadonlyArray<Field>
  }>
}

// ---------------------------------------------------------------------------------------------
// Module names (the transformers modeling files' attribute names; vLLM loads the same names)

/** Layer prefixes: text models, and multimodal wrappers (Llama-4, Kimi-K2.5, Qwen3-VL). */
const PREFIXES = ["model.layers", "model.language_model.layers", "language_model.model.layers", "language_model.layers"]
const LM_HEAD = ["lm_head", "language_model.lm_head", "model.language_model.lm_head"]

const valueOf = (fields: ReadonlyArray<Field>, key: string): Field["value"] | undefined => fields.find((x) => x.key === key)?.value

const SHARED_EXPERTS = new Set(["deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2", "glm4_moe"])
const BLOCK_SPARSE = new Set(["mixtral", "minimax"])

/** The leaf modules of one part of one template (modeling_*.py attribute names). */
const leaves = (family: string, t: QuantModel["templates"][number], part: Exclude<Part, "lm_head">): Array<string> => {
  const gated = ["gate_proj", "up_proj", "down_proj"]
  const ffRoot = family === "llama4_text" ? "feed_forward" : "mlp"
  if (part === "attention") {
    const type = valueOf(t.attn, "type")
    if (type === "MLA") {
      const q = valueOf(t.attn, "q_lora_rank") ? ["q_a_proj", "q_b_proj"] : ["q_proj"]
      const indexer = valueOf(t.attn, "index_n_heads") !== undefined ? ["indexer.wq_b", "indexer.wk", "indexer.weights_proj"] : []
      return [...q, "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", ...indexer].map((x) => `self_attn.${x}`)
    }
    if (type === "linear" && valueOf(t.attn, "variant") === "gated_deltanet") return ["in_proj_qkvz", "in_proj_ba", "out_proj"].map((x) => `linear_attn.${x}`)
    if (type === "linear") return ["qkv_proj", "output_gate", "out_proj"].map((x) => `self_attn.${x}`)
    return ["q_proj", "k_proj", "v_proj", "o_proj"].map((x) => `self_attn.${x}`)
  }
  if (part === "dense") return gated.map((x) => `${ffRoot}.${x}`)
  if (part === "shared") {
    const root = family === "step3_text" ? "share_expert" : `${ffRoot}.${SHARED_EXPERTS.has(family) ? "shared_experts" : "shared_expert"}`
    return gated.map((x) => `${root}.${x}`)
  }
  if (BLOCK_SPARSE.has(family)) return ["w1", "w2", "w3"].map((x) => `block_sparse_moe.experts.0.${x}`)
  if (family === "gpt_oss" || family === "llama4_text") return ["gate_up_proj", "down_proj"].map((x) => `${ffRoot}.experts.${x}`)
  if (family === "step3_text") return gated.map((x) => `moe.${x}`)
  return gated.map((x) => `mlp.experts.0.${x}`)
}

const moduleAt = (layer: number, leaf: string, part: Part): Module => ({ names: PREFIXES.map((p) => `${p}.${layer}.${leaf}`), part })

// ---------------------------------------------------------------------------------------------
// Patterns: exact or dotted-segment names (transformers modules_to_not_convert), fnmatch globs
// (ModelOpt exclude_modules), `re:` regular expressions matched from the start (compressed-tensors
// ignore and targets, Python re.match), and class names (compressed-tensors targets `Linear`).

type Matcher = (m: Module) => boolean

const escape = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, "\\$&")

/** The module and each dotted parent: an excluded parent excludes its children. */
const withParents = (name: string): Array<string> => name.split(".").map((_, i, parts) => parts.slice(0, i + 1).join("."))

const CLASS_PARTS: ReadonlyArray<readonly [RegExp, ReadonlyArray<Part>]> = [
  [/^Linear$/, ["attention", "dense", "shared", "experts", "lm_head"]],
  [/Attention$/, ["attention"]],
  [/(MLP|Mlp|FeedForward)$/, ["dense", "shared"]],
  [/Experts$/, ["experts"]]
]

const compile = (r: ConfigReader, key: string, pattern: unknown): Matcher | undefined => {
  if (typeof pattern !== "string" || pattern === "") {
    r.problem(key, `expected module names or patterns (strings), got ${JSON.stringify(pattern)}`)
    return undefined
  }
  if (pattern.startsWith("re:")) {
    try {
      const re = new RegExp(`^(?:${pattern.slice(3)})`)
      return (m) => m.names.some((n) => re.test(n))
    } catch {
      r.problem(key, `expected a regular expression after re:, got ${JSON.stringify(pattern)}`)
      return undefined
    }
  }
  if (/^[A-Z][A-Za-z0-9]*$/.test(pattern)) {
    const parts = CLASS_PARTS.find(([re]) => re.test(pattern))?.[1]
    if (parts === undefined) {
      r.problem(
        key,
        `expected module names, re: patterns or a class name llmsim can place (Linear, *Attention, *MLP, *Experts), got ${JSON.stringify(pattern)}`
      )
      return undefined
    }
    return (m) => parts.includes(m.part)
  }
  if (/[*?]/.test(pattern)) {
    const re = new RegExp(`^${escape(pattern).replace(/\*/g, ".*").replace(/\?/g, ".")}$`)
    return (m) => m.names.some((n) => withParents(n).some((x) => re.test(x)))
  }
  return (m) => m.names.some((n) => `.${n}.`.includes(`.${pattern}.`))
}

/** A list of patterns at `key` (absent, null or vouched for with --ignore-keys: none). */
const patterns = (r: ConfigReader, key: string, ignore: ReadonlySet<string>): Array<Matcher> => {
  const v = r.raw(key)
  if (v === undefined || v === null || ignore.has(`${r.prefix}${key}`)) return []
  if (!Array.isArray(v)) {
    r.problem(key, `expected a list of module names or patterns, got ${JSON.stringify(v)}`)
    return []
  }
  return v.map((p) => compile(r, key, p)).filter((m): m is Matcher => m !== undefined)
}

const matchesAny = (list: ReadonlyArray<Matcher>, m: Module): boolean => list.some((x) => x(m))

// ---------------------------------------------------------------------------------------------
// Formats

const objectAt = (r: ConfigReader, key: string): Json | undefined => {
  const v = r.raw(key)
  if (v === undefined || v === null) return undefined
  if (typeof v === "object" && !Array.isArray(v)) return v as Json
  r.problem(key, `expected an object, got ${JSON.stringify(v)}`)
  return undefined
}

/** Where a key is, for comments: `quantization_config quant_method fp8`, `hf_quant_config.json quantization.quant_algo FP8`. */
const at = (r: ConfigReader, key: string, value: unknown): string => {
  const path = `${r.prefix}${key}`
  const dot = path.lastIndexOf(".")
  const shown = r.file === undefined && dot > 0 ? `${path.slice(0, dot)} ${path.slice(dot + 1)}` : path
  return `${r.file === undefined ? "" : `${r.file} `}${shown} ${typeof value === "string" ? value : JSON.stringify(value)}`
}

/** Transformers-style quantizers: every decoder Linear but the listed modules; the LM head is never converted. */
const linearScheme = (r: ConfigReader, dtype: Dtype, from: string, lists: ReadonlyArray<string>, ignore: ReadonlySet<string>): Scheme => {
  const skip = lists.flatMap((k) => patterns(r, k, ignore))
  const present = lists.find((k) => r.json[k] !== undefined && r.json[k] !== null) ?? lists[0]!
  return {
    listKey: `${r.prefix}${present}`,
    storedAs: (m) => (m.part === "lm_head" || matchesAny(skip, m) ? null : { dtype, from })
  }
}

const FP8_KEYS = ["quant_method", "activation_scheme", "fmt", "weight_block_size", "scale_fmt", "modules_to_not_convert", "ignored_layers", "dequantize"]

/** fp8: transformers FineGrainedFP8Config / vLLM Fp8Config (e4m3 or e5m2 weights, per tensor or in blocks). */
const fp8 = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of FP8_KEYS) r.raw(k)
  const fmt = r.optString("fmt")
  if (fmt !== undefined && fmt !== "e4m3" && fmt !== "e5m2") r.problem("fmt", `expected e4m3 or e5m2 (FP8), got ${JSON.stringify(fmt)}`)
  return linearScheme(r, "fp8", at(r, "quant_method", "fp8"), ["modules_to_not_convert", "ignored_layers"], ignore)
}

/** fbgemm_fp8: transformers FbgemmFp8Config (Llama-4 Maverick FP8): FP8 weights, per-row scales. */
const fbgemmFp8 = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of ["quant_method", "activation_scale_ub", "modules_to_not_convert"]) r.raw(k)
  return linearScheme(r, "fp8", at(r, "quant_method", "fbgemm_fp8"), ["modules_to_not_convert"], ignore)
}

/** mxfp4: transformers Mxfp4HfQuantizer replaces the routed experts only (GptOssExperts); the rest stays in torch_dtype. */
const mxfp4 = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of ["quant_method", "dequantize"]) r.raw(k)
  patterns(r, "modules_to_not_convert", ignore)
  const from = at(r, "quant_method", "mxfp4")
  return {
    listKey: `${r.prefix}modules_to_not_convert`,
    storedAs: (m) => (m.part === "experts" ? { dtype: "mxfp4", from } : null),
    weightsFrom: `${r.prefix.slice(0, -1)} modules_to_not_convert (attention, router)`
  }
}

const AWQ_KEYS = [
  "quant_method",
  "bits",
  "group_size",
  "zero_point",
  "version",
  "backend",
  "do_fuse",
  "fuse_max_seq_len",
  "modules_to_fuse",
  "modules_to_not_convert",
  "exllama_config"
]

/** awq: transformers AwqConfig (AutoAWQ): 4-bit integer weights in groups, activations in 16 bits. */
const awq = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of AWQ_KEYS) r.raw(k)
  const bits = r.raw("bits")
  if (bits !== 4) r.problem("bits", `expected 4 (AWQ stores 4-bit integer weights), got ${JSON.stringify(bits)}`)
  return linearScheme(r, "int4", at(r, "quant_method", "awq bits 4"), ["modules_to_not_convert"], ignore)
}

const GPTQ_KEYS = [
  "quant_method",
  "bits",
  "tokenizer",
  "dataset",
  "group_size",
  "damp_percent",
  "damp_auto_increment",
  "desc_act",
  "act_group_aware",
  "sym",
  "true_sequential",
  "static_groups",
  "use_cuda_fp16",
  "model_seqlen",
  "block_name_to_quantize",
  "module_name_preceding_first_block",
  "batch_size",
  "pad_token_id",
  "use_exllama",
  "disable_exllama",
  "max_input_length",
  "exllama_config",
  "cache_block_outputs",
  "checkpoint_format",
  "is_marlin_format",
  "model_name_or_path",
  "model_file_base_name",
  "meta",
  "backend",
  "quantizer",
  "pack_dtype",
  "mse",
  "format"
]

/** gptq: transformers GPTQConfig (optimum / GPTQModel): 4- or 8-bit integer weights; `lm_head: true` quantizes the LM head too. */
const gptq = (r: ConfigReader): Scheme => {
  for (const k of GPTQ_KEYS) r.raw(k)
  const bits = r.raw("bits")
  const dtype: Dtype | undefined = bits === 4 ? "int4" : bits === 8 ? "int8" : undefined
  if (dtype === undefined) r.problem("bits", `expected 4 or 8 (llmsim's int4 and int8), got ${JSON.stringify(bits)}`)
  const dynamic = r.raw("dynamic")
  if (dynamic !== undefined && dynamic !== null && !(typeof dynamic === "object" && Object.keys(dynamic).length === 0))
    r.problem("dynamic", "expected null or {} (per-module bit widths are not mapped: llmsim has one weights dtype)")
  const only = r.raw("modules_in_block_to_quantize")
  if (only !== undefined && only !== null) r.problem("modules_in_block_to_quantize", "expected null (quantizing only some modules of a block is not mapped)")
  const lmHead = r.optBool("lm_head", false)
  const from = at(r, "quant_method", `gptq bits ${bits}`)
  return {
    listKey: `${r.prefix}modules_in_block_to_quantize`,
    storedAs: (m) => (dtype === undefined || (m.part === "lm_head" && !lmHead) ? null : { dtype, from: m.part === "lm_head" ? `${from}, lm_head true` : from })
  }
}

const BNB_KEYS = [
  "quant_method",
  "load_in_4bit",
  "load_in_8bit",
  "_load_in_4bit",
  "_load_in_8bit",
  "llm_int8_threshold",
  "llm_int8_skip_modules",
  "llm_int8_enable_fp32_cpu_offload",
  "llm_int8_has_fp16_weight",
  "bnb_4bit_quant_type",
  "bnb_4bit_use_double_quant",
  "bnb_4bit_compute_dtype",
  "bnb_4bit_quant_storage"
]

/**
 * bitsandbytes: transformers BitsAndBytesConfig. 4-bit (NF4 or FP4 codes, 0.5 byte per weight)
 * is written as int4: dequantized to bnb_4bit_compute_dtype for every GEMM, never a 4-bit
 * tensor-core rate (llmsim's fp4 would use one where the hardware lists it); 8-bit as int8.
 */
const bitsandbytes = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of BNB_KEYS) r.raw(k)
  const four = r.optBool("load_in_4bit", false) || r.json._load_in_4bit === true
  const eight = r.optBool("load_in_8bit", false) || r.json._load_in_8bit === true
  if (four === eight) r.problem("load_in_4bit", `expected load_in_4bit or load_in_8bit true (one of them), got ${four ? "both" : "neither"}`)
  const type = r.optString("bnb_4bit_quant_type") ?? "fp4"
  const from = four ? `${at(r, "load_in_4bit", true)} (${type} codes: 4-bit storage, dequantized for the GEMM)` : at(r, "load_in_8bit", true)
  return linearScheme(r, four ? "int4" : "int8", from, ["llm_int8_skip_modules"], ignore)
}

/** compressed-tensors QuantizationArgs (weights, kv_cache_scheme): bits and type to a dtype, null for 16 bits. */
const argsDtype = (r: ConfigReader, key: string, args: Json, format: string | undefined): Dtype | null | undefined => {
  const bits = args.num_bits
  const type = args.type ?? "int"
  if (bits === 16) return null
  if (bits === 8 && type === "float") return "fp8"
  if (bits === 8 && type === "int") return "int8"
  if (bits === 4 && type === "int") return "int4"
  // NVFP4: 16-element groups with an FP8 scale; MXFP4: 32-element groups with an E8M0 scale (OCP MX v1.0).
  if (bits === 4 && type === "float") return format?.startsWith("mxfp4") || args.group_size === 32 ? "mxfp4" : "fp4"
  r.problem(key, `expected num_bits 4, 8 or 16 of type int or float, got num_bits ${JSON.stringify(bits)} type ${JSON.stringify(type)}`)
  return undefined
}

const CT_KEYS = [
  "quant_method",
  "config_groups",
  "format",
  "ignore",
  "kv_cache_scheme",
  "quantization_status",
  "global_compression_ratio",
  "sparsity_config",
  "transform_config",
  "version",
  "provider"
]
const GROUP_KEYS = ["targets", "weights", "input_activations", "output_activations", "format"]

const empty = (v: unknown): boolean => v === undefined || v === null || (typeof v === "object" && Object.keys(v).length === 0)

/** compressed-tensors (llm-compressor; vLLM compressed_tensors.py): the first group whose targets match, unless ignored. */
const compressedTensors = (r: ConfigReader, ignore: ReadonlySet<string>, notes: Array<ReadProblem>): Scheme => {
  for (const k of CT_KEYS) r.raw(k)
  const format = r.optString("format")
  const sparsity = r.json.sparsity_config as Json | null | undefined
  if (!empty(sparsity) && sparsity?.format !== "dense")
    r.problem("sparsity_config", "expected null or {} (sparse weights, 2:4 or unstructured, are not modelled)")
  if (!empty(r.json.transform_config)) r.problem("transform_config", "expected null (online rotations add GEMMs llmsim does not model)")
  const skip = patterns(r, "ignore", ignore)
  const groups: Array<{ readonly targets: ReadonlyArray<Matcher>; readonly dtype: Dtype | null; readonly from: string }> = []
  for (const [name, g] of Object.entries(objectAt(r, "config_groups") ?? {})) {
    const gr = new ConfigReader(typeof g === "object" && g !== null && !Array.isArray(g) ? (g as Json) : {}, `${r.prefix}config_groups.${name}.`, r.file)
    for (const k of GROUP_KEYS) gr.raw(k)
    for (const k of gr.unread(ignore))
      gr.problem(k, `unknown key ${k} in a compressed-tensors config group (pass --ignore-keys ${gr.prefix}${k} if it does not change the weights' dtype)`)
    const weights = objectAt(gr, "weights")
    const dtype = weights === undefined ? null : argsDtype(gr, "weights", weights, gr.optString("format") ?? format)
    const targets = patterns(gr, "targets", new Set())
    notes.push(...gr.problems)
    if (dtype !== undefined) groups.push({ targets, dtype, from: at(gr, "weights", `num_bits ${weights?.num_bits} type ${weights?.type ?? "int"}`) })
  }
  if (groups.length === 0) r.problem("config_groups", "expected at least one group with weights (what the checkpoint quantizes)")
  const kvArgs = objectAt(r, "kv_cache_scheme")
  const kv = kvArgs === undefined ? undefined : argsDtype(r, "kv_cache_scheme", kvArgs, undefined)
  return {
    listKey: `${r.prefix}ignore`,
    storedAs: (m) => {
      if (matchesAny(skip, m)) return null
      const g = groups.find((x) => matchesAny(x.targets, m))
      return g === undefined || g.dtype === null ? null : { dtype: g.dtype, from: g.from }
    },
    ...(kv ? { kv: f("kv_cache", kv, at(r, "kv_cache_scheme", `num_bits ${kvArgs?.num_bits} type ${kvArgs?.type ?? "int"}`)) } : {})
  }
}

/**
 * ModelOpt quant_algo names (modelopt/torch/export/model_config.py QUANTIZATION_*; vLLM
 * modelopt.py): weight storage dtype. NVFP4 is 4-bit E2M1 in 16-element groups (llmsim's fp4);
 * MXFP8 and the FP8 variants store one byte per weight.
 */
const MODELOPT_ALGOS: Readonly<Record<string, Dtype | null>> = {
  NONE: null,
  FP8: "fp8",
  FP8_PER_CHANNEL_PER_TOKEN: "fp8",
  FP8_PB_WO: "fp8",
  FP8_PB: "fp8",
  MXFP8: "fp8",
  NVFP4: "fp4",
  NVFP4_AWQ: "fp4",
  W4A8_NVFP4_FP8: "fp4",
  MXFP4: "mxfp4",
  W4A8_MXFP4_FP8: "mxfp4",
  INT4_AWQ: "int4",
  W4A16_AWQ: "int4",
  W4A8_AWQ: "int4",
  INT8_SQ: "int8",
  INT8_WO: "int8",
  W8A8_SQ_PER_CHANNEL: "int8"
}
const MODELOPT_KV: Readonly<Record<string, Dtype | null>> = { NONE: null, FP8: "fp8", NVFP4: "fp4", INT8: "int8" }

const MODELOPT_KEYS = [
  "quant_algo",
  "kv_cache_quant_algo",
  "exclude_modules",
  "group_size",
  "has_zero_point",
  "pre_quant_scale",
  "awq_block_size",
  "quantized_layers",
  // config.json's inline copy (quant_method modelopt) adds these:
  "quant_method",
  "producer",
  "config_groups",
  "ignore",
  "kv_cache_scheme",
  "quantization_status"
]

const algoOf = (r: ConfigReader, key: string, table: Readonly<Record<string, Dtype | null>>): Dtype | null | undefined => {
  const v = r.raw(key)
  if (v === undefined || v === null) return null
  const dtype = typeof v === "string" ? table[v.toUpperCase()] : undefined
  if (dtype === undefined) r.problem(key, `expected one of ${Object.keys(table).join(", ")} (ModelOpt), got ${JSON.stringify(v)}`)
  return dtype
}

/** ModelOpt's quantization fields (hf_quant_config.json `quantization`, or config.json inline with quant_method modelopt). */
const modelopt = (r: ConfigReader, ignore: ReadonlySet<string>): Scheme => {
  for (const k of MODELOPT_KEYS) r.raw(k)
  const algo = r.raw("quant_algo")
  const mixed = typeof algo === "string" && algo.toUpperCase() === "MIXED_PRECISION"
  const dtype = mixed ? null : algoOf(r, "quant_algo", MODELOPT_ALGOS)
  const listKey = r.json.exclude_modules !== undefined || r.json.ignore === undefined ? "exclude_modules" : "ignore"
  const listed = r.json[listKey] !== undefined && r.json[listKey] !== null
  const skip = patterns(r, listKey, ignore)
  const from = at(r, "quant_algo", algo)
  // MIXED_PRECISION: quantized_layers names each quantized module and its algorithm.
  const layers: Array<{ readonly match: Matcher; readonly dtype: Dtype | null; readonly from: string }> = []
  if (mixed) {
    const q = objectAt(r, "quantized_layers") ?? {}
    if (Object.keys(q).length === 0) r.problem("quantized_layers", "expected the quantized modules of a MIXED_PRECISION checkpoint")
    for (const [name, spec] of Object.entries(q)) {
      const lr = new ConfigReader(
        typeof spec === "object" && spec !== null && !Array.isArray(spec) ? (spec as Json) : {},
        `${r.prefix}quantized_layers.${name}.`,
        r.file
      )
      const d = algoOf(lr, "quant_algo", MODELOPT_ALGOS)
      const match = compile(r, "quantized_layers", name)
      if (d !== undefined && match !== undefined) layers.push({ match, dtype: d, from: at(lr, "quant_algo", lr.json.quant_algo) })
    }
  } else if (r.json.quantized_layers !== undefined) r.raw("quantized_layers")
  const kvKey = r.json.kv_cache_quant_algo !== undefined || r.json.kv_cache_scheme === undefined ? "kv_cache_quant_algo" : "kv_cache_scheme"
  const kvArgs = kvKey === "kv_cache_scheme" ? objectAt(r, kvKey) : undefined
  const kv = kvKey === "kv_cache_scheme" ? (kvArgs === undefined ? null : argsDtype(r, kvKey, kvArgs, undefined)) : algoOf(r, kvKey, MODELOPT_KV)
  return {
    listKey: `${r.prefix}${mixed ? "quantized_layers" : listKey}`,
    // A KV-cache-only checkpoint (quant_algo null or NONE) keeps every weight in torch_dtype.
    ...(dtype === null && !mixed ? { weightsFrom: `${from} (weights not quantized)` } : {}),
    storedAs: (m) => {
      if (matchesAny(skip, m)) return null
      // Without a list, the LM head keeps its dtype (ModelOpt's default config disables "*lm_head*").
      if (m.part === "lm_head" && !listed && !mixed) return null
      if (mixed) {
        const l = layers.find((x) => x.match(m))
        return l === undefined || l.dtype === null ? null : { dtype: l.dtype, from: l.from }
      }
      return dtype === null || dtype === undefined ? null : { dtype, from }
    },
    ...(kv ? { kv: f("kv_cache", kv, at(r, kvKey, kvKey === "kv_cache_scheme" ? `num_bits ${kvArgs?.num_bits} type ${kvArgs?.type}` : r.json[kvKey])) } : {})
  }
}

const METHODS = ["fp8", "fbgemm_fp8", "mxfp4", "compressed-tensors", "awq", "gptq", "bitsandbytes", "modelopt"]

/** The quantization_config object's format, or undefined with a problem at quant_method. */
const configScheme = (r: ConfigReader, ignore: ReadonlySet<string>, notes: Array<ReadProblem>): Scheme | undefined => {
  const method = r.raw("quant_method")
  switch (method) {
    case "fp8":
      return fp8(r, ignore)
    case "fbgemm_fp8":
      return fbgemmFp8(r, ignore)
    case "mxfp4":
      return mxfp4(r, ignore)
    case "compressed-tensors":
      return compressedTensors(r, ignore, notes)
    case "awq":
      return awq(r, ignore)
    case "gptq":
      return gptq(r)
    case "bitsandbytes":
      return bitsandbytes(r, ignore)
    case "modelopt":
      return modelopt(r, ignore)
    default:
      r.problem(
        "quant_method",
        `expected one of ${METHODS.join(", ")} (the quantization formats llmsim maps to a precision), got ${JSON.stringify(method)}: an unknown format is never planned as BF16`
      )
      return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// The precision

const PART_NAMES: Readonly<Record<Part, string>> = {
  attention: "attention projections",
  dense: "dense FFN",
  shared: "shared experts",
  experts: "routed experts",
  lm_head: "LM head"
}

/** `0-2, 5, 7-60`; a long list shows its first runs and the count (`1, 3, 5, 7, ... 24 layers`). */
const spans = (xs: ReadonlyArray<number>): string => {
  const out: Array<string> = []
  xs.forEach((x, i) => {
    if (i > 0 && xs[i - 1] === x - 1) out[out.length - 1] = `${out[out.length - 1]!.split("-")[0]}-${x}`
    else out.push(String(x))
  })
  return out.length > 6 ? `${out.slice(0, 4).join(", ")}, ... ${xs.length} layers` : out.join(", ")
}

/** What each (layer, part) is stored as: dtype name (torch_dtype's for unquantized) -> the layers of each part, and the comment. */
type Census = Map<string, { readonly layers: Map<Part, Array<number>>; readonly from: string }>

export interface QuantInput {
  /** config.json's quantization_config (text_config's first), with the reader it was found by. */
  readonly config?: ConfigReader
  /** hf_quant_config.json, when it sits beside config.json. */
  readonly sidecar?: ConfigReader
  /** Keys the user vouches for (--ignore-keys): a vouched list is read as empty, a vouched unknown key is allowed. */
  readonly ignore: ReadonlySet<string>
  /** The dtype unquantized weights keep (torch_dtype), with its comment. */
  readonly base: Field
}

/**
 * The scenario precision for a model draft and its quantization, or the problems (each at a key
 * of config.json or of hf_quant_config.json) that stop it. Unquantized: `base` everywhere.
 */
export const quantPrecision = (m: QuantModel, q: QuantInput): { precision: PrecisionDraft; problems: Array<ReadProblem> } => {
  const baseLm = f("lm_head", q.base.value, `${q.base.from} (embedding and lm_head are not quantized)`)
  const plain: PrecisionDraft = { weights: f("weights", q.base.value, q.base.from), lm_head: baseLm }
  if (q.config === undefined && q.sidecar === undefined) return { precision: plain, problems: [] }
  const notes: Array<ReadProblem> = []
  let scheme: Scheme | undefined
  const readers: Array<ConfigReader> = []
  if (q.sidecar !== undefined) {
    const s = q.sidecar
    readers.push(s)
    s.raw("producer")
    const inner = objectAt(s, "quantization")
    if (inner === undefined) s.problem("quantization", "expected the ModelOpt quantization object (quant_algo, kv_cache_quant_algo, exclude_modules)")
    else {
      const r = new ConfigReader(inner, "quantization.", s.file)
      readers.push(r)
      scheme = modelopt(r, q.ignore)
      // config.json may carry the same description inline; it must not say something else.
      if (q.config !== undefined) {
        const c = q.config
        const method = c.raw("quant_method")
        if (method !== "modelopt")
          c.problem(
            "quant_method",
            `expected modelopt or no quantization_config: hf_quant_config.json (ModelOpt) beside this config.json describes the quantization, got ${JSON.stringify(method)}`
          )
        for (const k of ["quant_algo", "kv_cache_quant_algo"]) {
          const a = c.json[k]
          const b = r.json[k]
          if (a !== undefined && String(a).toUpperCase() !== String(b).toUpperCase())
            c.problem(k, `expected ${JSON.stringify(b)} as in hf_quant_config.json quantization.${k}, got ${JSON.stringify(a)}`)
        }
        for (const k of Object.keys(c.json)) c.raw(k)
        readers.push(c)
      }
    }
  } else if (q.config !== undefined) {
    readers.push(q.config)
    scheme = configScheme(q.config, q.ignore, notes)
  }
  const problems: Array<ReadProblem> = [...notes]
  for (const r of readers) {
    const unread = r.unread(q.ignore)
    if (unread.length > 0)
      r.problem(
        unread[0]!,
        `unknown key${unread.length > 1 ? "s" : ""} ${unread.join(", ")}: llmsim cannot tell whether ${unread.length > 1 ? "they change" : "it changes"} the stored dtypes (pass --ignore-keys ${unread.map((k) => `${r.prefix}${k}`).join(",")} if not)`
      )
    problems.push(...r.problems)
  }
  if (scheme === undefined || problems.length > 0) return { precision: plain, problems }
  const s = scheme

  // Census: every (layer, part) of the model, by what its modules are stored as.
  const byId = new Map(m.templates.map((t) => [t.id, t]))
  const census: Record<"weights" | "experts", Census> = { weights: new Map(), experts: new Map() }
  const partial: Array<string> = []
  const note = (c: Census, key: string, layer: number, part: Part, from: string) => {
    const e = c.get(key) ?? { layers: new Map<Part, Array<number>>(), from }
    e.layers.set(part, [...(e.layers.get(part) ?? []), layer])
    c.set(key, e)
  }
  m.layers.forEach((id, i) => {
    const t = byId.get(id)
    if (t === undefined) return
    const shared = Number(valueOf(t.mlp, "n_shared_experts") ?? 0) > 0
    const parts: Array<Exclude<Part, "lm_head">> = [
      "attention",
      ...(t.type === "ffn_layer" ? ["dense" as const] : shared ? ["shared" as const, "experts" as const] : ["experts" as const])
    ]
    for (const part of parts) {
      const stored = leaves(m.family, t, part).map((leaf) => s.storedAs(moduleAt(i, leaf, part)))
      const kinds = new Set(stored.map((x) => x?.dtype ?? String(q.base.value)))
      if (kinds.size > 1) partial.push(`layer ${i} ${PART_NAMES[part]} (${[...kinds].join(" and ")})`)
      const first = stored[0] ?? null
      note(census[part === "experts" ? "experts" : "weights"], first?.dtype ?? String(q.base.value), i, part, first?.from ?? "")
    }
  })
  const describe = (c: Census): string =>
    [...c.entries()]
      .flatMap(([dtype, e]) => [...e.layers.entries()].map(([part, layers]) => `${PART_NAMES[part]} ${dtype} (layers ${spans(layers)})`))
      .join(", ")
  const refuse = (what: string): { precision: PrecisionDraft; problems: Array<ReadProblem> } => {
    const key = s.listKey
    const file = key.startsWith("quantization.") ? ({ file: "hf_quant_config.json" } as const) : {}
    return {
      precision: plain,
      problems: [
        {
          key,
          ...file,
          message: `${what}: llmsim's precision has one dtype for the attention projections, dense FFN and shared experts (weights) and one for the routed experts (moe_experts), so this checkpoint cannot be written exactly (pass --ignore-keys ${key} to read every module as quantized, then edit precision by hand)`
        }
      ]
    }
  }
  if (partial.length > 0)
    return refuse(
      `expected each part of a layer stored in one dtype, got ${partial.slice(0, 3).join("; ")}${partial.length > 3 ? ` and ${partial.length - 3} more` : ""}`
    )
  if (census.weights.size > 1) return refuse(`expected one dtype for the attention projections, dense FFN and shared experts, got ${describe(census.weights)}`)
  if (census.experts.size > 1) return refuse(`expected one dtype for the routed experts, got ${describe(census.experts)}`)

  const fieldOf = (key: string, c: Census, other: string): Field | undefined => {
    const [dtype, e] = [...c.entries()][0] ?? []
    if (dtype === undefined || e === undefined) return undefined
    return dtype === String(q.base.value) && e.from === "" ? f(key, q.base.value, other) : f(key, dtype, e.from)
  }
  const list = s.listKey.startsWith("quantization.") ? `hf_quant_config.json ${s.listKey}` : s.listKey
  const weights = fieldOf("weights", census.weights, s.weightsFrom ?? `${q.base.from} (${list} keeps them unquantized)`) ?? plain.weights
  const experts = fieldOf("moe_experts", census.experts, `${q.base.from} (${list} keeps them unquantized)`)
  const lm = s.storedAs({ names: LM_HEAD, part: "lm_head" })
  return {
    precision: {
      weights,
      ...(experts !== undefined && experts.value !== weights.value ? { moe_experts: experts } : {}),
      ...(s.kv ? { kv_cache: s.kv } : {}),
      lm_head: lm === null ? baseLm : f("lm_head", lm.dtype, `${lm.from} (${list} does not list lm_head)`)
    },
    problems: []
  }
}

/**
 * Hugging Face `config.json` -> llmsim layer templates, one mapping per model family. Key names
 * and defaults follow each family's HF transformers configuration / modeling file (named per
 * family below). Every template field records the key it came from.
 *
 * A layer plan is one template id per decoder layer (num_hidden_layers of them); consecutive
 * equal ids become one scenario entry with `repeat`. MTP modules (DeepSeek / GLM
 * num_nextn_predict_layers, Qwen3-Next mtp_num_hidden_layers) are reported, not planned: they run
 * only under speculative decoding, and the published totals leave them out.
 */
import type { LayerType } from "../schema/layer.ts"
import { ConfigReader, f, type Field } from "./fields.ts"

export interface TemplateDraft {
  /** File name stem and the entry label, e.g. `moe_layer_sliding`. */
  readonly id: string
  readonly type: Exclude<LayerType, "comm_layer">
  /** One line on which layers use it. */
  readonly about: string
  readonly attn: ReadonlyArray<Field>
  readonly mlp: ReadonlyArray<Field>
}

export interface ModelDraft {
  readonly family: string
  readonly templates: ReadonlyArray<TemplateDraft>
  /** Template id of every decoder layer, in order. */
  readonly layers: ReadonlyArray<string>
  readonly vocab_size: Field
  readonly d_model: Field
  readonly tied_embeddings: boolean
  /** Per-layer precision of a template's entries (scenario `precision` on the layer entry). */
  readonly layer_precision?: Readonly<Record<string, ReadonlyArray<Field>>>
  /** MTP layers in the checkpoint, not in the main layer list (0 = none). */
  readonly mtp_layers: number
  /** The template an MTP layer uses (the family's MTP block is a full decoder layer of this kind). */
  readonly mtp_template?: string
  /** Lines for the scenario's header comment. */
  readonly notes: ReadonlyArray<string>
}

type Mapper = (c: ConfigReader) => ModelDraft

// ---------------------------------------------------------------------------------------------
// Shared pieces

const HIDDEN_ACTS = ["silu", "swiglu", "gelu", "gelu_tanh", "relu", "geglu"]

const act = (c: ConfigReader, dflt?: string): Field => {
  const v = c.optString("hidden_act") ?? dflt
  if (v === undefined) c.problem("hidden_act", "expected an activation name, got nothing")
  else if (!HIDDEN_ACTS.includes(v)) c.problem("hidden_act", `expected one of ${HIDDEN_ACTS.join(", ")}, got ${JSON.stringify(v)}`)
  return c.has("hidden_act") ? f("hidden_act", v ?? "silu", "hidden_act") : f("hidden_act", v ?? "silu", `no key: ${v} (the family's MLP)`)
}

interface GqaOptions {
  readonly qkNorm?: Field
  readonly extra?: ReadonlyArray<Field>
  /** KV heads key (Step-3: num_attention_groups). */
  readonly kvKey?: string
}

const gqa = (c: ConfigReader, o: GqaOptions = {}): Array<Field> => {
  const d = c.int("hidden_size")
  const heads = c.int("num_attention_heads")
  const kvKey = o.kvKey ?? "num_key_value_heads"
  const kv = c.has(kvKey) ? c.int(kvKey) : heads
  const out: Array<Field> = [
    f("type", kv === heads ? "MHA" : "GQA", kv === heads ? `${kvKey} = num_attention_heads ${heads}` : `${kvKey} ${kv} < num_attention_heads ${heads}`),
    f("d_model", d, "hidden_size"),
    f("num_attention_heads", heads, "num_attention_heads"),
    f("num_key_value_heads", kv, c.has(kvKey) ? kvKey : "no key: MHA")
  ]
  if (c.has("head_dim")) out.push(f("head_dim", c.int("head_dim"), "head_dim"))
  else if (d % heads !== 0 && c.clean("hidden_size", "num_attention_heads"))
    c.problem("head_dim", `expected head_dim when hidden_size ${d} is not a multiple of num_attention_heads ${heads}`)
  out.push(...(o.extra ?? []))
  if (o.qkNorm) out.push(o.qkNorm)
  if (c.optBool("attention_bias", false)) out.push(f("attention_bias", true, "attention_bias"))
  return out
}

const dense = (c: ConfigReader, ffKey = "intermediate_size"): Array<Field> => [
  f("d_model", c.int("hidden_size"), "hidden_size"),
  f("d_ff", c.int(ffKey), ffKey),
  act(c)
]

interface MoeKeys {
  readonly experts: string
  readonly topk: string
  readonly size: string
  readonly shared?: { readonly count: Field; readonly size?: Field }
  readonly scoring?: Field
  readonly hiddenAct?: Field
}

const moe = (c: ConfigReader, k: MoeKeys): Array<Field> => {
  const experts = c.int(k.experts)
  const topk = c.int(k.topk)
  if (topk > experts && c.clean(k.topk, k.experts)) c.problem(k.topk, `expected at most ${k.experts} ${experts}, got ${topk}`)
  const out: Array<Field> = [
    f("d_model", c.int("hidden_size"), "hidden_size"),
    f("n_routed_experts", experts, k.experts),
    f("num_experts_per_tok", topk, k.topk),
    f("moe_intermediate_size", c.int(k.size), k.size)
  ]
  if (k.shared) {
    out.push(k.shared.count)
    if (k.shared.size) out.push(k.shared.size)
  } else out.push(f("n_shared_experts", 0, "no key: no shared expert"))
  if (c.has("n_group")) out.push(f("n_group", c.int("n_group"), "n_group"))
  if (c.has("topk_group")) out.push(f("topk_group", c.int("topk_group"), "topk_group"))
  if (k.scoring) out.push(k.scoring)
  const scale = c.optNumber("routed_scaling_factor")
  if (scale !== undefined) out.push(f("routed_scaling_factor", scale, "routed_scaling_factor"))
  out.push(k.hiddenAct ?? act(c))
  return out
}

/** Qwen MoE's one gated shared expert, present when `shared_expert_intermediate_size` > 0 (Qwen2/3-MoE, Qwen3-Next). */
const qwenSharedExpert = (c: ConfigReader): Pick<MoeKeys, "shared"> => {
  const size = c.optInt("shared_expert_intermediate_size", 0)
  return size > 0
    ? {
        shared: {
          count: f("n_shared_experts", 1, "shared_expert_intermediate_size > 0: one gated shared expert"),
          size: f("shared_expert_intermediate_size", size, "shared_expert_intermediate_size")
        }
      }
    : {}
}

const lmFields = (c: ConfigReader) => ({
  vocab_size: f("vocab_size", c.int("vocab_size"), "vocab_size"),
  d_model: f("d_model", c.int("hidden_size"), "hidden_size"),
  tied_embeddings: c.optBool("tie_word_embeddings", false)
})

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * Recent transformers versions write `layer_types` into every config; for the families whose
 * layers all use full attention it must say so (a sliding or chunked entry would change the math).
 */
const allFullAttention = (c: ConfigReader): void => {
  const types = c.optStrings("layer_types", true)
  const other = types?.find((t) => t !== "full_attention")
  if (other !== undefined) c.problem("layer_types", `expected only full_attention layers for this model_type, got ${JSON.stringify(other)}`)
}

const tpl = (id: string, type: TemplateDraft["type"], about: string, attn: ReadonlyArray<Field>, mlp: ReadonlyArray<Field>): TemplateDraft => ({
  id,
  type,
  about,
  attn,
  mlp
})

// ---------------------------------------------------------------------------------------------
// Families

/** Llama 3.x, Mistral, Qwen2/2.5, Qwen3 dense (HF modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py). */
const denseGqa =
  (family: string, qkNorm: boolean): Mapper =>
  (c) => {
    allFullAttention(c)
    if (c.optBool("use_sliding_window", false)) c.problem("use_sliding_window", "expected false: Qwen sliding-window layers (max_window_layers) are not mapped")
    c.raw("max_window_layers")
    const window = family === "mistral" ? c.optInt("sliding_window", 0) : (c.raw("sliding_window"), 0)
    if (c.optBool("mlp_bias", false)) c.raw("mlp_bias") // a bias adds no GEMM work
    const attn = gqa(c, {
      ...(qkNorm ? { qkNorm: f("qk_norm", true, "no key: Qwen3 always applies q_norm / k_norm") } : {}),
      extra: window > 0 ? [f("sliding_window", window, "sliding_window")] : []
    })
    const n = c.int("num_hidden_layers")
    return {
      family,
      templates: [tpl("ffn_layer", "ffn_layer", `all ${n} layers (num_hidden_layers)`, attn, dense(c))],
      layers: range(n).map(() => "ffn_layer"),
      ...lmFields(c),
      mtp_layers: 0,
      notes: []
    }
  }

/** Qwen2-MoE / Qwen3-MoE (HF modeling_qwen3_moe.py: MoE where (i+1) % decoder_sparse_step == 0 and i not in mlp_only_layers). */
const qwenMoe =
  (family: string, qkNorm: boolean): Mapper =>
  (c) => {
    allFullAttention(c)
    if (c.optBool("use_sliding_window", false)) c.problem("use_sliding_window", "expected false: Qwen sliding-window layers (max_window_layers) are not mapped")
    c.raw("max_window_layers")
    c.raw("sliding_window")
    const n = c.int("num_hidden_layers")
    const step = c.optInt("decoder_sparse_step", 1)
    const dense = new Set(c.optInts("mlp_only_layers") ?? [])
    const attn = gqa(c, qkNorm ? { qkNorm: f("qk_norm", true, "no key: Qwen3 always applies q_norm / k_norm") } : {})
    const moeFields = moe(c, {
      experts: "num_experts",
      topk: "num_experts_per_tok",
      size: "moe_intermediate_size",
      ...qwenSharedExpert(c),
      scoring: f("scoring_func", "softmax", "no key: Qwen MoE routes by softmax")
    })
    const isMoe = (i: number) => step > 0 && (i + 1) % step === 0 && !dense.has(i)
    const layers = range(n).map((i) => (isMoe(i) ? "moe_layer" : "ffn_layer"))
    const templates = [tpl("moe_layer", "moe_layer", "MoE layers ((i+1) % decoder_sparse_step == 0, not in mlp_only_layers)", attn, moeFields)]
    if (layers.includes("ffn_layer"))
      templates.unshift(
        tpl("ffn_layer", "ffn_layer", "dense layers (mlp_only_layers / decoder_sparse_step)", attn, [
          f("d_model", c.int("hidden_size"), "hidden_size"),
          f("d_ff", c.int("intermediate_size"), "intermediate_size"),
          act(c)
        ])
      )
    else c.raw("intermediate_size")
    return { family, templates, layers, ...lmFields(c), mtp_layers: 0, notes: [] }
  }

/** Mixtral (HF modeling_mixtral.py): every layer MoE, softmax top-k, no shared expert. */
const mixtral: Mapper = (c) => {
  allFullAttention(c)
  const window = c.optInt("sliding_window", 0)
  const attn = gqa(c, { extra: window > 0 ? [f("sliding_window", window, "sliding_window")] : [] })
  const n = c.int("num_hidden_layers")
  const m = moe(c, {
    experts: "num_local_experts",
    topk: "num_experts_per_tok",
    size: "intermediate_size",
    scoring: f("scoring_func", "softmax", "no key: Mixtral routes by softmax")
  })
  return {
    family: "mixtral",
    templates: [tpl("moe_layer", "moe_layer", `all ${n} layers`, attn, m)],
    layers: range(n).map(() => "moe_layer"),
    ...lmFields(c),
    mtp_layers: 0,
    notes: []
  }
}

/**
 * DeepSeek-V2/V3/V3.2 and Kimi-K2 (deepseek-ai/DeepSeek-V3 inference/model.py; HF
 * modeling_deepseek_v3.py): MLA, first_k_dense_replace dense layers then MoE every
 * moe_layer_freq; V3.2 adds the DSA indexer (index_* keys).
 */
const deepseek =
  (family: string): Mapper =>
  (c) => {
    allFullAttention(c)
    const freq = c.optInt("moe_layer_freq", 1)
    if (freq !== 1) c.problem("moe_layer_freq", `expected 1 (every layer after first_k_dense_replace is MoE), got ${freq}`)
    c.raw("num_key_value_heads") // = num_attention_heads in MLA configs; MLA has one latent cache
    const qLora = c.optInt("q_lora_rank", 0)
    const attn: Array<Field> = [
      f("type", "MLA", "model_type " + family + ": multi-head latent attention"),
      f("d_model", c.int("hidden_size"), "hidden_size"),
      f("num_attention_heads", c.int("num_attention_heads"), "num_attention_heads"),
      f("q_lora_rank", qLora, c.has("q_lora_rank") ? "q_lora_rank" : "q_lora_rank null: queries projected directly"),
      f("kv_lora_rank", c.int("kv_lora_rank"), "kv_lora_rank"),
      f("qk_nope_head_dim", c.int("qk_nope_head_dim"), "qk_nope_head_dim"),
      f("qk_rope_head_dim", c.int("qk_rope_head_dim"), "qk_rope_head_dim"),
      f("v_head_dim", c.int("v_head_dim"), "v_head_dim")
    ]
    const dsa = ["index_n_heads", "index_head_dim", "index_topk"].filter((k) => c.has(k))
    if (family === "deepseek_v32" && dsa.length < 3)
      c.problem("index_topk", "expected index_n_heads, index_head_dim and index_topk (DeepSeek-V3.2 sparse attention)")
    for (const k of dsa) attn.push(f(k, c.int(k), k))
    c.optBool("attention_bias", false)
    const scoring = c.optString("scoring_func") ?? "softmax"
    if (scoring !== "softmax" && scoring !== "sigmoid") c.problem("scoring_func", `expected softmax or sigmoid, got ${JSON.stringify(scoring)}`)
    const shared = c.optInt("n_shared_experts", 0)
    const m = moe(c, {
      experts: "n_routed_experts",
      topk: "num_experts_per_tok",
      size: "moe_intermediate_size",
      shared: { count: f("n_shared_experts", shared, "n_shared_experts") },
      scoring: f("scoring_func", scoring, c.has("scoring_func") ? "scoring_func" : "no key: softmax (DeepSeek-V2)")
    })
    const n = c.int("num_hidden_layers")
    const k = c.optInt("first_k_dense_replace", 0)
    const mtp = c.optInt("num_nextn_predict_layers", 0)
    const templates = [
      tpl("ffn_layer", "ffn_layer", `layers 0..${k - 1} (first_k_dense_replace ${k})`, attn, dense(c)),
      tpl("moe_layer", "moe_layer", `layers ${k}..${n - 1}`, attn, m)
    ]
    return {
      family,
      templates: k > 0 ? templates : [templates[1]],
      layers: range(n).map((i) => (i < k ? "ffn_layer" : "moe_layer")),
      ...lmFields(c),
      mtp_layers: mtp,
      mtp_template: "moe_layer",
      notes: []
    }
  }

/**
 * gpt-oss (HF modeling_gpt_oss.py; openai/gpt-oss gpt_oss/torch/model.py): layer_types
 * alternate sliding_attention (window sliding_window) and full_attention; every layer has
 * attention sinks and a softmax top-k MoE with no shared expert.
 */
const gptOss: Mapper = (c) => {
  const n = c.int("num_hidden_layers")
  const types = c.optStrings("layer_types", true) ?? range(n).map((i) => (i % 2 === 0 ? "sliding_attention" : "full_attention"))
  if (types.length !== n && c.clean("num_hidden_layers")) c.problem("layer_types", `expected ${n} entries (num_hidden_layers), got ${types.length}`)
  const bad = types.find((t) => t !== "sliding_attention" && t !== "full_attention")
  if (bad !== undefined) c.problem("layer_types", `expected sliding_attention or full_attention, got ${JSON.stringify(bad)}`)
  const window = c.int("sliding_window")
  const topk = c.int("num_experts_per_tok")
  if (c.has("experts_per_token") && c.raw("experts_per_token") !== topk)
    c.problem("experts_per_token", `expected num_experts_per_tok ${topk}, got ${JSON.stringify(c.raw("experts_per_token"))}`)
  const sinks = f("attention_sinks", true, "no key: gpt-oss has a learned sink per head (model.py AttentionBlock.sinks)")
  const m = moe(c, {
    experts: "num_local_experts",
    topk: "num_experts_per_tok",
    size: "intermediate_size",
    scoring: f("scoring_func", "softmax", "no key: softmax over the top-k logits (model.py MLPBlock)")
  })
  const sliding = gqa(c, { extra: [f("sliding_window", window, "sliding_window (layer_types sliding_attention)"), sinks] })
  const full = gqa(c, { extra: [sinks] })
  return {
    family: "gpt_oss",
    templates: [
      tpl("moe_layer_sliding", "moe_layer", "layer_types sliding_attention", sliding, m),
      tpl("moe_layer_full", "moe_layer", "layer_types full_attention", full, m)
    ],
    layers: types.map((t) => (t === "sliding_attention" ? "moe_layer_sliding" : "moe_layer_full")),
    ...lmFields(c),
    mtp_layers: 0,
    notes: []
  }
}

/** GLM-4.5 (HF modeling_glm4_moe.py): GQA + QK-norm, first_k_dense_replace dense, sigmoid MoE with shared experts. */
const glm4Moe: Mapper = (c) => {
  allFullAttention(c)
  c.raw("partial_rotary_factor") // RoPE on half the head dims: no FLOP change
  const attn = gqa(c, c.optBool("use_qk_norm", false) ? { qkNorm: f("qk_norm", true, "use_qk_norm") } : {})
  const n = c.int("num_hidden_layers")
  const k = c.optInt("first_k_dense_replace", 0)
  const m = moe(c, {
    experts: "n_routed_experts",
    topk: "num_experts_per_tok",
    size: "moe_intermediate_size",
    shared: { count: f("n_shared_experts", c.optInt("n_shared_experts", 0), "n_shared_experts") },
    scoring: f("scoring_func", "sigmoid", "no key: sigmoid with e_score_correction_bias (modeling_glm4_moe.py Glm4MoeTopkRouter)")
  })
  const templates = [
    tpl("ffn_layer", "ffn_layer", `layers 0..${k - 1} (first_k_dense_replace ${k})`, attn, dense(c)),
    tpl("moe_layer", "moe_layer", `layers ${k}..${n - 1}`, attn, m)
  ]
  return {
    family: "glm4_moe",
    templates: k > 0 ? templates : [templates[1]],
    layers: range(n).map((i) => (i < k ? "ffn_layer" : "moe_layer")),
    ...lmFields(c),
    mtp_layers: c.optInt("num_nextn_predict_layers", 0),
    mtp_template: "moe_layer",
    notes: []
  }
}

/**
 * Step-3 text backbone (vLLM step3_text.py, SGLang step3_vl.py `Step3TextConfig`): MFA
 * attention (low-rank query share_q_dim, num_attention_groups K/V heads), MoE on the layers in
 * moe_layers_enum with one shared expert of share_expert_dim, dense elsewhere.
 */
const step3: Mapper = (c) => {
  allFullAttention(c)
  const n = c.int("num_hidden_layers")
  const moeLayers = new Set(c.optInts("moe_layers_enum") ?? range(n))
  c.raw("norm_expert_weight") // renormalising the top-k weights: no FLOP change
  const attn = gqa(c, { kvKey: "num_attention_groups", extra: [f("q_lora_rank", c.int("share_q_dim"), "share_q_dim (MFA low-rank query)")] })
  const m = moe(c, {
    experts: "moe_num_experts",
    topk: "moe_top_k",
    size: "moe_intermediate_size",
    shared: {
      count: f("n_shared_experts", 1, "share_expert_dim present: one shared expert"),
      size: f("shared_expert_intermediate_size", c.int("share_expert_dim"), "share_expert_dim")
    },
    scoring: f("scoring_func", "softmax", "no key: softmax router (vLLM step3_text.py)"),
    hiddenAct: f("hidden_act", "silu", "no key: SwiGLU experts (vLLM step3_text.py)")
  })
  const dense: Array<Field> = [
    f("d_model", c.int("hidden_size"), "hidden_size"),
    f("d_ff", c.int("intermediate_size"), "intermediate_size"),
    f("hidden_act", "silu", "no key: SwiGLU MLP (vLLM step3_text.py)")
  ]
  return {
    family: "step3_text",
    templates: [
      tpl("ffn_layer", "ffn_layer", "layers not in moe_layers_enum", attn, dense),
      tpl("moe_layer", "moe_layer", "layers in moe_layers_enum", attn, m)
    ],
    layers: range(n).map((i) => (moeLayers.has(i) ? "moe_layer" : "ffn_layer")),
    ...lmFields(c),
    mtp_layers: 0,
    notes: []
  }
}

/**
 * Qwen3-Next (HF modeling_qwen3_next.py): layer_types (or every full_attention_interval-th
 * layer) full gated attention, the rest gated DeltaNet linear attention; every layer a
 * high-sparsity MoE with one gated shared expert.
 */
const qwen3Next: Mapper = (c) => {
  const n = c.int("num_hidden_layers")
  const interval = c.optInt("full_attention_interval", 4)
  const types = c.optStrings("layer_types", true) ?? range(n).map((i) => ((i + 1) % interval === 0 ? "full_attention" : "linear_attention"))
  if (types.length !== n && c.clean("num_hidden_layers")) c.problem("layer_types", `expected ${n} entries (num_hidden_layers), got ${types.length}`)
  const bad = types.find((t) => t !== "full_attention" && t !== "linear_attention")
  if (bad !== undefined) c.problem("layer_types", `expected full_attention or linear_attention, got ${JSON.stringify(bad)}`)
  const step = c.optInt("decoder_sparse_step", 1)
  const mlpOnly = c.optInts("mlp_only_layers") ?? []
  if (step !== 1 || mlpOnly.length > 0)
    c.problem(mlpOnly.length > 0 ? "mlp_only_layers" : "decoder_sparse_step", "expected every layer MoE (decoder_sparse_step 1, mlp_only_layers [])")
  c.raw("intermediate_size") // unused when every layer is MoE
  c.raw("partial_rotary_factor")
  const full = gqa(c, {
    extra: [f("output_gate", true, "no key: gated attention, q_proj emits a sigmoid gate (modeling_qwen3_next.py)")],
    qkNorm: f("qk_norm", true, "no key: q_norm / k_norm")
  })
  const linear: Array<Field> = [
    f("type", "linear", "layer_types linear_attention"),
    f("variant", "gated_deltanet", "model_type qwen3_next: Qwen3NextGatedDeltaNet"),
    f("d_model", c.int("hidden_size"), "hidden_size"),
    f("num_attention_heads", c.int("linear_num_value_heads"), "linear_num_value_heads"),
    f("num_key_heads", c.int("linear_num_key_heads"), "linear_num_key_heads"),
    f("key_head_dim", c.int("linear_key_head_dim"), "linear_key_head_dim"),
    f("value_head_dim", c.int("linear_value_head_dim"), "linear_value_head_dim"),
    f("conv_kernel_dim", c.int("linear_conv_kernel_dim"), "linear_conv_kernel_dim")
  ]
  const m = moe(c, {
    experts: "num_experts",
    topk: "num_experts_per_tok",
    size: "moe_intermediate_size",
    ...qwenSharedExpert(c),
    scoring: f("scoring_func", "softmax", "no key: softmax router")
  })
  return {
    family: "qwen3_next",
    templates: [
      tpl("moe_layer_linear", "moe_layer", "layer_types linear_attention", linear, m),
      tpl("moe_layer_full", "moe_layer", "layer_types full_attention", full, m)
    ],
    layers: types.map((t) => (t === "full_attention" ? "moe_layer_full" : "moe_layer_linear")),
    layer_precision: {
      moe_layer_linear: [f("kv_cache", "fp32", "no key: the recurrent state stays float32 (flash-linear-attention chunk_gated_delta_rule final_state)")]
    },
    ...lmFields(c),
    mtp_layers: c.optInt("mtp_num_hidden_layers", 0),
    mtp_template: "moe_layer_full",
    notes: []
  }
}

/**
 * Llama-4 text model (HF modeling_llama4.py, configuration_llama4.py): MoE on moe_layers
 * (default every interleave_moe_layer_step-th layer) with one shared expert and a sigmoid top-k
 * router, dense MLPs of intermediate_size_mlp elsewhere; RoPE layers (no_rope_layers[i] = 1) use
 * chunked local attention of attention_chunk_size, NoPE layers full attention.
 */
const llama4: Mapper = (c) => {
  const n = c.int("num_hidden_layers")
  const step = c.optInt("interleave_moe_layer_step", 1)
  const moeLayers = new Set(c.optInts("moe_layers") ?? range(n).filter((i) => step > 0 && (i + 1) % step === 0))
  const interval = c.optInt("no_rope_layer_interval", 4)
  // layer_types (newer transformers) names the chunked layers directly; else no_rope_layers (1 = RoPE, chunked).
  const types = c.optStrings("layer_types", true)
  const bad = types?.find((t) => t !== "chunked_attention" && t !== "full_attention")
  if (bad !== undefined) c.problem("layer_types", `expected chunked_attention or full_attention, got ${JSON.stringify(bad)}`)
  const rope =
    types?.map((t) => (t === "chunked_attention" ? 1 : 0)) ??
    c.optInts("no_rope_layers", { emptyIsDefault: true }) ??
    range(n).map((i) => ((i + 1) % interval !== 0 ? 1 : 0))
  if (types !== undefined) c.raw("no_rope_layers")
  if (rope.length !== n && c.clean("num_hidden_layers"))
    c.problem(types !== undefined ? "layer_types" : "no_rope_layers", `expected ${n} entries (num_hidden_layers), got ${rope.length}`)
  const chunk = c.optInt("attention_chunk_size", 0)
  c.raw("use_qk_norm") // an L2 norm without weights on RoPE layers: no parameters, few FLOPs
  c.raw("attn_temperature_tuning")
  c.raw("floor_scale")
  c.raw("attn_scale")
  const chunked = gqa(c, { extra: chunk > 0 ? [f("attention_chunk_size", chunk, "attention_chunk_size (RoPE layers, no_rope_layers 1)")] : [] })
  const global = gqa(c)
  const m = moe(c, {
    experts: "num_local_experts",
    topk: "num_experts_per_tok",
    size: "intermediate_size",
    shared: { count: f("n_shared_experts", 1, "no key: one shared expert of intermediate_size (Llama4TextMoe.shared_expert)") },
    scoring: f("scoring_func", "sigmoid", "no key: sigmoid of the top-k logits (Llama4Router)")
  })
  const d = dense(c, "intermediate_size_mlp")
  const id = (i: number) => `${moeLayers.has(i) ? "moe" : "ffn"}_layer_${rope[i] === 1 && chunk > 0 ? "chunked" : "global"}`
  const layers = range(n).map(id)
  const all = [
    tpl("ffn_layer_chunked", "ffn_layer", "dense (not in moe_layers), chunked attention", chunked, d),
    tpl("ffn_layer_global", "ffn_layer", "dense, full attention (NoPE)", global, d),
    tpl("moe_layer_chunked", "moe_layer", "MoE (moe_layers), chunked attention", chunked, m),
    tpl("moe_layer_global", "moe_layer", "MoE, full attention (NoPE)", global, m)
  ]
  return {
    family: "llama4_text",
    templates: all.filter((t) => layers.includes(t.id)),
    layers,
    ...lmFields(c),
    mtp_layers: 0,
    notes: []
  }
}

/**
 * MiniMax-Text-01 / MiniMax-M1 (HF modeling_minimax.py; vLLM minimax_text_01.py): layer_types
 * (or the original attn_type_list, 0 = lightning, 1 = softmax) mix lightning linear attention
 * (heads x head_dim for q, k and v, an output gate) with GQA softmax layers; every layer a
 * softmax top-k MoE without a shared expert.
 */
const minimax: Mapper = (c) => {
  const n = c.int("num_hidden_layers")
  const list = c.optInts("attn_type_list")
  const types = c.optStrings("layer_types", true) ?? list?.map((t) => (t === 0 ? "linear_attention" : t === 1 ? "full_attention" : `attn_type ${t}`))
  if (types === undefined) c.problem("layer_types", "expected layer_types or attn_type_list (which layers are lightning attention)")
  const kinds = types ?? []
  if (kinds.length !== n && c.clean("num_hidden_layers"))
    c.problem(list ? "attn_type_list" : "layer_types", `expected ${n} entries (num_hidden_layers), got ${kinds.length}`)
  const bad = kinds.find((t) => t !== "linear_attention" && t !== "full_attention")
  if (bad !== undefined)
    c.problem(
      list ? "attn_type_list" : "layer_types",
      `expected lightning (0, linear_attention) or softmax (1, full_attention) layers, got ${JSON.stringify(bad)}`
    )
  const shared = c.optInt("shared_intermediate_size", 0)
  if (shared > 0) c.problem("shared_intermediate_size", `expected 0 (a shared expert is not mapped for MiniMax), got ${shared}`)
  // Residual / norm scales, RoPE width and the lightning block size change no FLOP count here.
  for (const k of [
    "postnorm",
    "rotary_dim",
    "block_size",
    "shared_moe_mode",
    "layernorm_full_attention_alpha",
    "layernorm_full_attention_beta",
    "layernorm_linear_attention_alpha",
    "layernorm_linear_attention_beta",
    "layernorm_mlp_alpha",
    "layernorm_mlp_beta"
  ])
    c.raw(k)
  const heads = c.int("num_attention_heads")
  const headDim = c.int("head_dim")
  const lightning: Array<Field> = [
    f("type", "linear", "layer_types linear_attention (attn_type_list 0)"),
    f("variant", "lightning", "model_type minimax: MiniMaxLightningAttention"),
    f("d_model", c.int("hidden_size"), "hidden_size"),
    f("num_attention_heads", heads, "num_attention_heads"),
    f("num_key_heads", heads, "num_attention_heads (lightning q, k, v have every head)"),
    f("key_head_dim", headDim, "head_dim"),
    f("value_head_dim", headDim, "head_dim")
  ]
  const m = moe(c, {
    experts: "num_local_experts",
    topk: "num_experts_per_tok",
    size: "intermediate_size",
    scoring: f("scoring_func", "softmax", "no key: softmax router (modeling_minimax.py)")
  })
  return {
    family: "minimax",
    templates: [
      tpl("moe_layer_lightning", "moe_layer", "lightning attention layers", lightning, m),
      tpl("moe_layer_softmax", "moe_layer", "softmax attention layers", gqa(c), m)
    ],
    layers: kinds.map((t) => (t === "full_attention" ? "moe_layer_softmax" : "moe_layer_lightning")),
    ...lmFields(c),
    mtp_layers: 0,
    notes: []
  }
}

/** model_type -> mapper. */
export const FAMILIES: Readonly<Record<string, Mapper>> = {
  llama: denseGqa("llama", false),
  mistral: denseGqa("mistral", false),
  qwen2: denseGqa("qwen2", false),
  qwen3: denseGqa("qwen3", true),
  qwen2_moe: qwenMoe("qwen2_moe", false),
  qwen3_moe: qwenMoe("qwen3_moe", true),
  // Qwen3-VL's text models (HF modeling_qwen3_vl.py / modeling_qwen3_vl_moe.py): the Qwen3 and
  // Qwen3-MoE decoders (QK-norm); multimodal RoPE sections and the vision deepstack change no
  // text FLOP count.
  qwen3_vl_text: denseGqa("qwen3_vl_text", true),
  qwen3_vl_moe_text: qwenMoe("qwen3_vl_moe_text", true),
  mixtral,
  deepseek_v2: deepseek("deepseek_v2"),
  deepseek_v3: deepseek("deepseek_v3"),
  deepseek_v32: deepseek("deepseek_v32"),
  kimi_k2: deepseek("kimi_k2"),
  gpt_oss: gptOss,
  glm4_moe: glm4Moe,
  step3_text: step3,
  qwen3_next: qwen3Next,
  llama4_text: llama4,
  minimax,
  minimax_text_01: minimax,
  minimax_m1: minimax
}

/**
 * Multimodal wrappers whose text model sits under text_config (the vision tower and projector
 * are not planned): Step-3, Llama-4 (Llama4ForConditionalGeneration), Kimi-K2.5
 * (KimiK25ForConditionalGeneration: a kimi_k2 text model), Qwen3-VL and Qwen3-VL-MoE.
 */
export const WRAPPERS: Readonly<Record<string, string>> = {
  step3_vl: "step3_text",
  llama4: "llama4_text",
  kimi_k25: "kimi_k2",
  qwen3_vl: "qwen3_vl_text",
  qwen3_vl_moe: "qwen3_vl_moe_text"
}

/**
 * transformers' PretrainedConfig attributes that every config.json saved by `save_pretrained`
 * of older versions carries (src/transformers/configuration_utils.py: generation defaults, label
 * maps, output switches, encoder-decoder flags): none changes a decoder's FLOPs or bytes. A
 * text_config serialized this way (Kimi-K2.5) lists them all. `pruned_heads` is read by the
 * importer (a pruned head would change the math).
 */
const PRETRAINED_CONFIG_KEYS = [
  "add_cross_attention",
  "bad_words_ids",
  "begin_suppress_tokens",
  "chunk_size_feed_forward",
  "cross_attention_hidden_size",
  "decoder_start_token_id",
  "diversity_penalty",
  "do_sample",
  "early_stopping",
  "encoder_no_repeat_ngram_size",
  "exponential_decay_length_penalty",
  "finetuning_task",
  "forced_bos_token_id",
  "forced_eos_token_id",
  "id2label",
  "is_decoder",
  "is_encoder_decoder",
  "label2id",
  "length_penalty",
  "max_length",
  "min_length",
  "no_repeat_ngram_size",
  "num_beam_groups",
  "num_beams",
  "num_return_sequences",
  "output_attentions",
  "output_hidden_states",
  "output_scores",
  "prefix",
  "problem_type",
  "remove_invalid_values",
  "repetition_penalty",
  "return_dict",
  "return_dict_in_generate",
  "sep_token_id",
  "suppress_tokens",
  "task_specific_params",
  "temperature",
  "tf_legacy_loss",
  "tie_encoder_decoder",
  "tokenizer_class",
  "top_k",
  "top_p",
  "torchscript",
  "typical_p",
  "use_bfloat16"
]

/**
 * Keys that do not change FLOPs, bytes or parameter counts as llmsim models them (positions,
 * RoPE, norms' epsilon, token ids, training-only settings, routing details with no cost).
 */
export const IGNORABLE_KEYS: ReadonlySet<string> = new Set([
  "architectures",
  "model_type",
  "transformers_version",
  "torch_dtype",
  "dtype",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "initializer_range",
  "rms_norm_eps",
  "layer_norm_eps",
  "rope_theta",
  "rope_scaling",
  "rope_parameters",
  "max_position_embeddings",
  "max_position_embedding",
  "max_seq_len",
  "initial_context_length",
  "use_cache",
  "attention_dropout",
  "hidden_dropout",
  "norm_topk_prob",
  "topk_method",
  "router_aux_loss_coef",
  "output_router_logits",
  "aux_loss_alpha",
  "seq_aux",
  "swiglu_limit",
  "pretraining_tp",
  "ep_size",
  "auto_map",
  "router_jitter_noise",
  "for_llm_compressor",
  "text_config",
  "vision_config",
  "image_token_index",
  "projector_hidden_act",
  "boi_token_index",
  "eoi_token_index",
  ...PRETRAINED_CONFIG_KEYS
])

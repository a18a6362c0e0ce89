/**
 * Layer templates: the YAML a model ships per layer kind (`ffn_layer`, `moe_layer`,
 * `comm_layer`). Field names follow Hugging Face `config.json` where one exists.
 */
import { Schema } from "effect"
import { NonNegative, NonNegativeInt, Positive, PositiveInt } from "./common.ts"
import { Dtype } from "./dtype.ts"

/** Multi-head / grouped-query attention. `head_dim` defaults to d_model / num_attention_heads. */
export const GqaAttention = Schema.Struct({
  type: Schema.Literals(["MHA", "GQA"]),
  d_model: PositiveInt,
  num_attention_heads: PositiveInt,
  /** KV heads; defaults to num_attention_heads (MHA). */
  num_key_value_heads: Schema.optionalKey(PositiveInt),
  head_dim: Schema.optionalKey(PositiveInt),
  /** Tokens a sliding-window layer attends to; absent = full attention. */
  sliding_window: Schema.optionalKey(PositiveInt),
  /**
   * Chunked local attention (Llama-4 `attention_chunk_size`): a token attends only to the tokens
   * of its own chunk of this many positions; absent = no chunking.
   */
  attention_chunk_size: Schema.optionalKey(PositiveInt),
  /**
   * Low-rank query (Step-3 multi-matrix factorization attention, `share_q_dim`): queries are
   * projected d_model -> q_lora_rank, normalised, then up to heads x head_dim. Absent = direct.
   */
  q_lora_rank: Schema.optionalKey(PositiveInt),
  /** One learned softmax sink logit per head (gpt-oss `sinks`); absent = none. */
  attention_sinks: Schema.optionalKey(Schema.Boolean),
  /** Sigmoid output gate from a doubled q_proj (Qwen3-Next gated attention); absent = none. */
  output_gate: Schema.optionalKey(Schema.Boolean),
  attention_bias: Schema.optionalKey(Schema.Boolean),
  qk_norm: Schema.optionalKey(Schema.Boolean)
})
export type GqaAttention = typeof GqaAttention.Type

/**
 * Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2). The KV cache stores the compressed
 * latent (kv_lora_rank) plus the shared RoPE key (qk_rope_head_dim) per token.
 * `q_lora_rank: 0` means queries are projected directly from d_model (DeepSeek-V2-Lite).
 */
export const MlaAttention = Schema.Struct({
  type: Schema.Literal("MLA"),
  d_model: PositiveInt,
  num_attention_heads: PositiveInt,
  q_lora_rank: NonNegativeInt,
  kv_lora_rank: PositiveInt,
  qk_nope_head_dim: PositiveInt,
  qk_rope_head_dim: PositiveInt,
  v_head_dim: PositiveInt,
  /**
   * DeepSeek Sparse Attention (DeepSeek-V3.2 `index_n_heads`, `index_head_dim`, `index_topk`):
   * a lightning indexer scores every cached token and the MLA core attends to the top
   * `index_topk` only. All three present or all absent.
   */
  index_n_heads: Schema.optionalKey(PositiveInt),
  index_head_dim: Schema.optionalKey(PositiveInt),
  index_topk: Schema.optionalKey(PositiveInt)
})
export type MlaAttention = typeof MlaAttention.Type

/**
 * Linear attention with a fixed-size recurrent state instead of a growing KV cache.
 * `gated_deltanet` (Qwen3-Next `linear_*` keys; Yang et al., Gated Delta Networks, arXiv
 * 2412.06464): fused q/k/v/z and beta/alpha projections, a depthwise causal conv1d over q, k, v,
 * the gated delta rule, a gated RMSNorm and o_proj. `lightning` (MiniMax-01/M1, arXiv
 * 2501.08313): q/k/v and an output gate, decayed linear attention, no conv.
 * `num_attention_heads` are the value heads (the ones split by tp); q and k have
 * `num_key_heads` heads, repeated to the value heads.
 */
export const LinearAttention = Schema.Struct({
  type: Schema.Literal("linear"),
  variant: Schema.Literals(["gated_deltanet", "lightning"]),
  d_model: PositiveInt,
  num_attention_heads: PositiveInt,
  num_key_heads: PositiveInt,
  key_head_dim: PositiveInt,
  value_head_dim: PositiveInt,
  /** Depthwise causal conv1d width over q, k, v (gated_deltanet: linear_conv_kernel_dim); 0 = none. */
  conv_kernel_dim: Schema.optionalKey(NonNegativeInt)
})
export type LinearAttention = typeof LinearAttention.Type

export const AttnConfig = Schema.Union([GqaAttention, MlaAttention, LinearAttention])
export type AttnConfig = typeof AttnConfig.Type

const HiddenAct = Schema.Literals(["silu", "swiglu", "gelu", "gelu_tanh", "relu", "geglu"])

/** Dense FFN. Gated (SwiGLU: gate, up, down) unless `gated: false`. */
export const FfnConfig = Schema.Struct({
  d_model: PositiveInt,
  d_ff: PositiveInt,
  hidden_act: HiddenAct,
  gated: Schema.optionalKey(Schema.Boolean)
})
export type FfnConfig = typeof FfnConfig.Type

/**
 * Mixture of experts. `num_experts_per_tok` is top-k (not `topk_group`, which is the number of
 * expert groups a token may route into under group-limited routing).
 */
export const MoeConfig = Schema.Struct({
  d_model: PositiveInt,
  n_routed_experts: PositiveInt,
  num_experts_per_tok: PositiveInt,
  moe_intermediate_size: PositiveInt,
  n_shared_experts: Schema.optionalKey(NonNegativeInt),
  /** Intermediate size of one shared expert; defaults to moe_intermediate_size. */
  shared_expert_intermediate_size: Schema.optionalKey(PositiveInt),
  n_group: Schema.optionalKey(PositiveInt),
  topk_group: Schema.optionalKey(PositiveInt),
  scoring_func: Schema.optionalKey(Schema.Literals(["softmax", "sigmoid"])),
  hidden_act: Schema.optionalKey(HiddenAct),
  routed_scaling_factor: Schema.optionalKey(Positive)
})
export type MoeConfig = typeof MoeConfig.Type

export const CommPattern = Schema.Literals(["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "p2p"])
export type CommPattern = typeof CommPattern.Type

/** A standalone communication step (the spec's CommLayerConfig). */
export const CommConfig = Schema.Struct({
  /** Payload per GPU, MB (1e6 bytes). */
  payload_mb: NonNegative,
  pattern: CommPattern,
  /** Ranks in the collective; defaults to the scenario's tensor-parallel size. */
  num_ranks: Schema.optionalKey(PositiveInt),
  /** Which link carries it; defaults to the NVLink domain when num_ranks fits in a node. */
  link: Schema.optionalKey(Schema.Literals(["interconnect", "nic"]))
})
export type CommConfig = typeof CommConfig.Type

export const FfnLayerTemplate = Schema.Struct({ attn_config: AttnConfig, ffn_config: FfnConfig })
export type FfnLayerTemplate = typeof FfnLayerTemplate.Type
export const MoeLayerTemplate = Schema.Struct({ attn_config: AttnConfig, moe_config: MoeConfig })
export type MoeLayerTemplate = typeof MoeLayerTemplate.Type
export const CommLayerTemplate = Schema.Struct({ comm_config: CommConfig })
export type CommLayerTemplate = typeof CommLayerTemplate.Type

export const LayerType = Schema.Literals(["ffn_layer", "moe_layer", "comm_layer"])
export type LayerType = typeof LayerType.Type

/**
 * Per-layer precision: a scenario layer entry's `precision` replaces these fields of the
 * scenario's precision for that entry's layers only (e.g. BF16 KV on the full-attention layers
 * of a model whose other layers keep an FP8 cache, or an FP32 recurrent state on linear-attention
 * layers).
 */
export const LayerPrecision = Schema.Struct({
  weights: Schema.optionalKey(Dtype),
  activations: Schema.optionalKey(Dtype),
  kv_cache: Schema.optionalKey(Dtype),
  moe_experts: Schema.optionalKey(Dtype)
})
export type LayerPrecision = typeof LayerPrecision.Type

/** Entry-level facts a decoded template carries once in a model: the scenario entry's precision override and MTP mark (src/kernel/model.ts modelOf). */
interface EntryFacts {
  readonly precision?: LayerPrecision
  /** An MTP layer (the scenario entry's `mtp: true`). */
  readonly mtp?: boolean
}
export type LayerTemplate =
  | ({ readonly type: "ffn_layer"; readonly config: FfnLayerTemplate } & EntryFacts)
  | ({ readonly type: "moe_layer"; readonly config: MoeLayerTemplate } & EntryFacts)
  | ({ readonly type: "comm_layer"; readonly config: CommLayerTemplate } & EntryFacts)

export const templateSchemaFor = (type: LayerType) => (type === "ffn_layer" ? FfnLayerTemplate : type === "moe_layer" ? MoeLayerTemplate : CommLayerTemplate)

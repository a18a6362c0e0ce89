/**
 * Attention block estimator: projections, attention core and the TP all-reduce.
 *
 * Precision: projections in `weights`, attention math and activations in `activations`, cache in
 * `kv_cache`. Every TP rank processes all T tokens of its DP group; heads are split by tp.
 *
 * GQA/MHA: fused QKV projection (n = (q_heads + 2 kv_heads) * head_dim per GPU), optional
 * per-head QK RMSNorm (Qwen3), attention core, o_proj. QKV bias is ignored (T*n adds).
 * MLA (DeepSeek-V2/V3): q_down (d -> q_lora_rank) and kv_down (d -> kv_lora_rank + rope) are
 * replicated on every TP rank; their RMSNorms follow; q_up, kv_up, W_UK / W_UV and o_proj are
 * split by heads. Prefill expands K/V with kv_up (non-absorbed); decode absorbs W_UK into the
 * query and applies W_UV after attention (FlashMLA form). q_lora_rank 0 means a direct q_proj.
 * tp > 1: ring all-reduce of T * d_model activations after o_proj.
 *
 * GQA options: `q_lora_rank` (Step-3 MFA, arXiv 2507.19427 section 3.1; vLLM step3_text.py
 * `Step3TextAttention`: wq_a d -> q_lora_rank and its RMSNorm replicated on every rank, then
 * wq_b q_lora_rank -> heads x head_dim split by heads, and K and V projected from d_model);
 * `output_gate` (Qwen3-Next, HF modeling_qwen3_next.py: q_proj also emits a heads x head_dim
 * gate, sigmoid(gate) * O before o_proj); `attention_chunk_size` and `attention_sinks` go to the
 * attention core (src/ops/attention.ts).
 * MLA option: DSA (index_* keys, DeepSeek-V3.2-Exp inference/model.py `Indexer`): wq_b
 * q_lora_rank -> index_heads x index_head_dim from the query latent, wk d -> index_head_dim and
 * its LayerNorm, weights_proj d -> index_heads, all replicated on every rank; then the
 * lightning indexer op (src/ops/dsa.ts) and the MLA core with `topk`. The indexer key cache is
 * index_head_dim FP8 values + FP32 scales per token (indexKeyBytes), beside the latent.
 * Linear attention: src/layers/linearAttention.ts.
 */
import { chunkedDecodeKeys } from "../ops/attention.ts"
import { indexKeyBytes } from "../ops/dsa.ts"
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { AttnConfig, GqaAttention, MlaAttention } from "../schema/layer.ts"
import { queriesParam, tokensPerStep, type LayerContext } from "./context.ts"
import { kvHeadsPerGpu, linkFor, qHeadsPerGpu } from "./layout.ts"
import { linearAttentionActivationElements, linearAttentionKvBytesPerToken, linearAttentionWeightBytes, planLinearAttention } from "./linearAttention.ts"
import { collectiveOp, linearOp, op, rmsnormOp } from "./spec.ts"

const gqaHeadDim = (a: GqaAttention): number => a.head_dim ?? a.d_model / a.num_attention_heads

const gqaKvHeads = (a: GqaAttention, ctx: LayerContext): number => kvHeadsPerGpu(a.num_key_value_heads ?? a.num_attention_heads, ctx)

const attnAllReduce = (d: number, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const tp = ctx.parallel.tp
  if (tp <= 1) return []
  const payload = tokensPerStep(ctx) * d * DTYPE_BYTES[ctx.precision.activations]
  return [collectiveOp("attn_all_reduce", "all_reduce", payload, tp, linkFor(tp, ctx))]
}

const planGqa = (a: GqaAttention, ctx: LayerContext): Array<OpSpec> => {
  const t = tokensPerStep(ctx)
  const { weights: w, activations: act, kv_cache: kv } = ctx.precision
  const qh = qHeadsPerGpu(a, ctx)
  const kvh = gqaKvHeads(a, ctx)
  const hd = gqaHeadDim(a)
  // Optional params only when set: specs without them keep their cache keys.
  const extra = { ...(a.attention_chunk_size ? { chunk: a.attention_chunk_size } : {}), ...(a.attention_sinks ? { sinks: true } : {}) }
  const verify = queriesParam(ctx)
  const core =
    ctx.phase === "prefill"
      ? op("gqa_attention_prefill", "attention", "attention_core", {
          batch: ctx.batch_size,
          seq_len: ctx.seq_len,
          q_heads: qh,
          kv_heads: kvh,
          head_dim: hd,
          window: a.sliding_window ?? 0,
          act_dtype: act,
          kv_dtype: kv,
          ...extra
        })
      : op("gqa_attention_decode", "attention", "attention_core", {
          batch: ctx.batch_size,
          kv_len: ctx.seq_len,
          q_heads: qh,
          kv_heads: kvh,
          head_dim: hd,
          window: a.sliding_window ?? 0,
          act_dtype: act,
          kv_dtype: kv,
          ...extra,
          ...verify
        })
  const gate = a.output_gate ? qh * hd : 0
  const projections = a.q_lora_rank
    ? [
        linearOp("q_down_proj", "attention_linear", t, a.d_model, a.q_lora_rank, w, act),
        rmsnormOp("q_norm", "other", t, a.q_lora_rank, act),
        linearOp("q_up_proj", "attention_linear", t, a.q_lora_rank, qh * hd + gate, w, act),
        linearOp("kv_proj", "attention_linear", t, a.d_model, 2 * kvh * hd, w, act)
      ]
    : [linearOp("qkv_proj", "attention_linear", t, a.d_model, (qh + 2 * kvh) * hd + gate, w, act)]
  return [
    ...projections,
    ...(a.qk_norm ? [rmsnormOp("qk_norm", "other", t * (qh + kvh), hd, act)] : []),
    core,
    linearOp("o_proj", "attention_linear", t, qh * hd, a.d_model, w, act)
  ]
}

/** DSA's indexer projections and scoring (absent without the index_* keys). */
const dsaOps = (a: MlaAttention, ctx: LayerContext): Array<OpSpec> => {
  if (a.index_n_heads === undefined || a.index_head_dim === undefined || a.index_topk === undefined) return []
  const t = tokensPerStep(ctx)
  const { weights: w, activations: act } = ctx.precision
  const shape = { index_heads: a.index_n_heads, index_head_dim: a.index_head_dim, topk: a.index_topk }
  return [
    linearOp("index_q_proj", "attention_linear", t, a.q_lora_rank > 0 ? a.q_lora_rank : a.d_model, a.index_n_heads * a.index_head_dim, w, act),
    linearOp("index_k_proj", "attention_linear", t, a.d_model, a.index_head_dim, w, act),
    rmsnormOp("index_k_norm", "other", t, a.index_head_dim, act),
    linearOp("index_weights_proj", "attention_linear", t, a.d_model, a.index_n_heads, w, act),
    ctx.phase === "prefill"
      ? op("dsa_indexer_prefill", "dsa_indexer", "attention_core", { batch: ctx.batch_size, seq_len: ctx.seq_len, ...shape })
      : op("dsa_indexer_decode", "dsa_indexer", "attention_core", { batch: ctx.batch_size, kv_len: ctx.seq_len, ...shape, ...queriesParam(ctx) })
  ]
}

const isDsa = (a: MlaAttention): boolean => a.index_topk !== undefined

const planMla = (a: MlaAttention, ctx: LayerContext): Array<OpSpec> => {
  const t = tokensPerStep(ctx)
  const { weights: w, activations: act, kv_cache: kv } = ctx.precision
  const h = qHeadsPerGpu(a, ctx)
  const dqk = a.qk_nope_head_dim + a.qk_rope_head_dim
  const latent = a.kv_lora_rank + a.qk_rope_head_dim
  const query =
    a.q_lora_rank > 0
      ? [
          linearOp("q_down_proj", "attention_linear", t, a.d_model, a.q_lora_rank, w, act),
          rmsnormOp("q_norm", "other", t, a.q_lora_rank, act),
          linearOp("q_up_proj", "attention_linear", t, a.q_lora_rank, h * dqk, w, act)
        ]
      : [linearOp("q_proj", "attention_linear", t, a.d_model, h * dqk, w, act)]
  const kvDown = [linearOp("kv_down_proj", "attention_linear", t, a.d_model, latent, w, act), rmsnormOp("kv_norm", "other", t, a.kv_lora_rank, act)]
  const oProj = linearOp("o_proj", "attention_linear", t, h * a.v_head_dim, a.d_model, w, act)
  const topk: Record<string, number> = a.index_topk === undefined ? {} : { topk: a.index_topk }
  if (ctx.phase === "prefill") {
    return [
      ...query,
      ...kvDown,
      ...dsaOps(a, ctx),
      linearOp("kv_up_proj", "attention_linear", t, a.kv_lora_rank, h * (a.qk_nope_head_dim + a.v_head_dim), w, act),
      op("mla_attention_prefill", "attention", "attention_core", {
        batch: ctx.batch_size,
        seq_len: ctx.seq_len,
        heads: h,
        qk_nope_head_dim: a.qk_nope_head_dim,
        qk_rope_head_dim: a.qk_rope_head_dim,
        v_head_dim: a.v_head_dim,
        kv_lora_rank: a.kv_lora_rank,
        act_dtype: act,
        kv_dtype: kv,
        ...topk
      }),
      oProj
    ]
  }
  const bmm = (name: string, inF: number, outF: number) =>
    op("mla_absorbed_bmm", name, "attention_linear", { tokens: t, heads: h, in_features: inF, out_features: outF, weight_dtype: w, act_dtype: act })
  return [
    ...query,
    ...kvDown,
    ...dsaOps(a, ctx),
    bmm("uk_absorb", a.qk_nope_head_dim, a.kv_lora_rank),
    op("mla_attention_decode", "attention", "attention_core", {
      batch: ctx.batch_size,
      kv_len: ctx.seq_len,
      heads: h,
      kv_lora_rank: a.kv_lora_rank,
      qk_rope_head_dim: a.qk_rope_head_dim,
      act_dtype: act,
      kv_dtype: kv,
      ...topk,
      ...queriesParam(ctx)
    }),
    bmm("uv_absorb", a.kv_lora_rank, a.v_head_dim),
    oProj
  ]
}

/** Attention ops in execution order (the pre-attention norm is added by the layer). */
export const planAttention = (a: AttnConfig, ctx: LayerContext): ReadonlyArray<OpSpec> => [
  ...(a.type === "MLA" ? planMla(a, ctx) : a.type === "linear" ? planLinearAttention(a, ctx) : planGqa(a, ctx)),
  ...attnAllReduce(a.d_model, ctx)
]

/** Attention weights on one GPU (projections in `weights`, norm gammas in `activations`). */
export const attentionWeightBytes = (a: AttnConfig, ctx: LayerContext): number => {
  const wb = DTYPE_BYTES[ctx.precision.weights]
  const ab = DTYPE_BYTES[ctx.precision.activations]
  const h = qHeadsPerGpu(a, ctx)
  if (a.type === "linear") return linearAttentionWeightBytes(a, ctx)
  if (a.type === "MLA") {
    const dqk = a.qk_nope_head_dim + a.qk_rope_head_dim
    const q = a.q_lora_rank > 0 ? a.d_model * a.q_lora_rank + a.q_lora_rank * h * dqk : a.d_model * h * dqk
    const kv = a.d_model * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank * h * (a.qk_nope_head_dim + a.v_head_dim)
    const o = h * a.v_head_dim * a.d_model
    const index = isDsa(a) ? dsaWeights(a) : { matrices: 0, norms: 0 }
    return (q + kv + o + index.matrices) * wb + (a.q_lora_rank + a.kv_lora_rank + index.norms) * ab
  }
  const hd = gqaHeadDim(a)
  const kvh = gqaKvHeads(a, ctx)
  const gate = a.output_gate ? h * hd : 0
  const q = a.q_lora_rank ? a.d_model * a.q_lora_rank + a.q_lora_rank * (h * hd + gate) : a.d_model * (h * hd + gate)
  const qNorm = a.q_lora_rank ?? 0
  return (q + a.d_model * 2 * kvh * hd + h * hd * a.d_model) * wb + ((a.qk_norm ? 2 * hd : 0) + qNorm + (a.attention_sinks ? h : 0)) * ab
}

/** DSA indexer weights (replicated): wq_b, wk, weights_proj; the k LayerNorm's weight and bias. */
const dsaWeights = (a: MlaAttention): { matrices: number; norms: number } => {
  const heads = a.index_n_heads ?? 0
  const d = a.index_head_dim ?? 0
  const qIn = a.q_lora_rank > 0 ? a.q_lora_rank : a.d_model
  return { matrices: qIn * heads * d + a.d_model * d + a.d_model * heads, norms: 2 * d }
}

/**
 * KV-cache bytes per token on one GPU. MLA: the latent (kv_lora_rank + rope) per token,
 * replicated on every TP rank. GQA: K and V of the GPU's KV heads. A sliding-window layer keeps
 * at most `window` tokens, so its per-token figure is averaged over the step's seq_len tokens
 * (min(seq_len, window) / seq_len) to make per-token x tokens the layer's real cache size.
 */
export const attentionKvBytesPerToken = (a: AttnConfig, ctx: LayerContext): number => {
  const kvb = DTYPE_BYTES[ctx.precision.kv_cache]
  if (a.type === "linear") return linearAttentionKvBytesPerToken(a, ctx)
  if (a.type === "MLA") return (a.kv_lora_rank + a.qk_rope_head_dim) * kvb + (a.index_head_dim === undefined ? 0 : indexKeyBytes(a.index_head_dim))
  if (a.attention_chunk_size !== undefined) {
    // vLLM keeps only the current chunk of a chunked-local layer (as a window of chunk tokens).
    const full = 2 * gqaKvHeads(a, ctx) * gqaHeadDim(a) * kvb
    return (full * chunkedDecodeKeys(ctx.seq_len, a.attention_chunk_size)) / ctx.seq_len
  }
  const full = 2 * gqaKvHeads(a, ctx) * gqaHeadDim(a) * kvb
  return a.sliding_window === undefined ? full : (full * Math.min(ctx.seq_len, a.sliding_window)) / ctx.seq_len
}

/**
 * Activation elements live in the attention block at its widest point: every intermediate of the
 * block (projection outputs, the attention output) held at once. Flash-style kernels keep no
 * S x S scores in HBM, so nothing here grows with seq_len squared.
 */
export const attentionActivationElements = (a: AttnConfig, ctx: LayerContext): number => {
  if (a.type === "linear") return linearAttentionActivationElements(a, ctx)
  const t = tokensPerStep(ctx)
  const h = qHeadsPerGpu(a, ctx)
  if (a.type === "MLA") {
    const latent = a.kv_lora_rank + a.qk_rope_head_dim
    const q = t * (a.q_lora_rank + h * (a.qk_nope_head_dim + a.qk_rope_head_dim))
    if (ctx.phase === "prefill") {
      // latents, q, expanded K_nope/V, and O.
      return q + t * latent + t * h * (a.qk_nope_head_dim + a.v_head_dim) + t * h * a.v_head_dim
    }
    // latents, q, absorbed q (h x latent), latent output (h x kv_lora), O after W_UV.
    return q + t * latent + t * h * latent + t * h * a.kv_lora_rank + t * h * a.v_head_dim
  }
  const hd = gqaHeadDim(a)
  return t * ((a.output_gate ? 2 : 1) * h + 2 * gqaKvHeads(a, ctx)) * hd + t * h * hd + t * (a.q_lora_rank ?? 0)
}

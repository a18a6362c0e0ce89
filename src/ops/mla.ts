/**
 * Multi-head latent attention (DeepSeek-V2, arXiv 2405.04434, section 2.1; DeepSeek-V3 tech
 * report arXiv 2412.19437, section 2.1). The cache holds, per token, the compressed latent
 * c_KV (kv_lora_rank) and the shared RoPE key (qk_rope_head_dim); head counts are per GPU.
 *
 * Prefill (non-absorbed): K, V are expanded from the latent by kv_up, attention runs per head
 * with qk dim = qk_nope + qk_rope and v dim = v_head_dim.
 * Decode (absorbed, FlashMLA form, deepseek-ai/FlashMLA): W_UK is folded into the query and W_UV
 * applied after attention, so attention runs directly on the latent cache:
 * scores use kv_lora_rank + qk_rope per key, the value is the kv_lora_rank latent.
 * The same forms as AIC's MLA model (ai-dynamo/aiconfigurator
 * aic-core/rust/aiconfigurator-core/src/perf_database/mla.rs) and InferSim's (alibaba/InferSim flops/flops.py).
 *
 * Op kinds:
 *  - `mla_absorbed_bmm`: tokens, heads, in_features, out_features, weight_dtype, act_dtype.
 *    Per-head batched GEMM (q_nope x W_UK, or o_latent x W_UV).
 *  - `mla_attention_prefill`: batch, seq_len, heads, qk_nope_head_dim, qk_rope_head_dim,
 *    v_head_dim, kv_lora_rank, act_dtype, kv_dtype.
 *  - `mla_attention_decode`: batch, kv_len, heads, kv_lora_rank, qk_rope_head_dim, act_dtype,
 *    kv_dtype.
 * Optional `topk` of both attention kinds (DeepSeek-V3.2 DSA, arXiv 2512.02556 and
 * deepseek-ai/DeepSeek-V3.2-Exp inference/model.py `MLA.forward`): each query attends only to
 * the top-k keys its lightning indexer picked (dsa.ts), min(i, topk) for the i-th prompt token
 * (the pair count of a window of topk, attention.ts causalPairs) and min(kv_len, topk) in
 * decode; absent = dense.
 * Optional `queries` of the decode kind: query tokens per sequence (MTP verification, as in
 * attention.ts); the latent cache is read once per sequence.
 * Softmax FLOPs are not counted (see attention.ts).
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { causalPairs, decodeKeys, queriesOf } from "./attention.ts"
import { gemmCost } from "./gemm.ts"
import { dtype, num } from "./params.ts"
import type { OpCost, OpParams } from "./types.ts"

const topkOf = (p: OpParams): number => (p.topk === undefined ? 0 : num(p, "topk"))

export const mlaAbsorbedBmm = (p: OpParams): OpCost =>
  gemmCost(
    { m: num(p, "tokens"), n: num(p, "out_features"), k: num(p, "in_features"), groups: num(p, "heads") },
    dtype(p, "weight_dtype"),
    dtype(p, "act_dtype"),
    "per-head batched GEMM, heads x 2*tokens*in*out; per-head weights read once"
  )

export const mlaAttentionPrefill = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = num(p, "seq_len")
  const h = num(p, "heads")
  const dqk = num(p, "qk_nope_head_dim") + num(p, "qk_rope_head_dim")
  const dv = num(p, "v_head_dim")
  const latent = num(p, "kv_lora_rank") + num(p, "qk_rope_head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  const pairs = causalPairs(s, topkOf(p))
  const tokens = b * s
  return {
    flops: b * (2 * h * pairs * dqk + 2 * h * pairs * dv),
    // Q and K (h x (nope+rope) each, the RoPE key broadcast to every head) and V (h x v_head_dim).
    bytes_read: tokens * h * (2 * dqk + dv) * act,
    // O, plus the latent cache entries (c_KV and k_rope) of the fresh tokens.
    bytes_written: tokens * h * dv * act + tokens * latent * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: `non-absorbed causal MLA: 2*h*pairs*(nope+rope) + 2*h*pairs*v${p.topk === undefined ? "" : ", pairs of the top-k selected keys"}; reads Q,K,V once, writes O and latent cache`
  }
}

export const mlaAttentionDecode = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = decodeKeys(num(p, "kv_len"), topkOf(p))
  const h = num(p, "heads")
  const c = num(p, "kv_lora_rank")
  const latent = c + num(p, "qk_rope_head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  const q = queriesOf(p)
  return {
    flops: b * q * (2 * h * s * latent + 2 * h * s * c),
    // Latent cache of kv_len tokens + absorbed query (h x (kv_lora + rope) per token).
    bytes_read: b * s * latent * kvb + b * q * h * latent * act,
    // Latent output (h x kv_lora per token) + the new token's latent entry.
    bytes_written: b * q * h * c * act + b * q * latent * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: `absorbed MLA decode (FlashMLA): 2*h*S*(kv_lora+rope) + 2*h*S*kv_lora${p.topk === undefined ? "; reads the latent cache once" : ", S = min(kv_len, topk) selected keys; reads those latent rows once"}`
  }
}

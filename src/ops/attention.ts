/**
 * Attention core (softmax(Q K^T) V) for MHA/GQA, flash-attention style: Q, K, V are read once,
 * O is written once, no S x S score matrix reaches HBM (Dao et al., FlashAttention, arXiv
 * 2205.14135). Head counts in params are per GPU.
 *
 * FLOPs count the two tensor-core products only: QK^T and PV, 2 * head_dim FLOPs per
 * (query, key) pair and head each. Softmax (exp, max, sum, rescale: a few FLOPs per score) runs
 * on the CUDA cores and is left out; it is under 2% of the products for head_dim >= 64.
 *
 * Op kinds:
 *  - `gqa_attention_prefill`: batch, seq_len, q_heads, kv_heads, head_dim, window (0 = full),
 *    act_dtype, kv_dtype. Causal over a fresh prompt; also writes the new KV cache entries.
 *  - `gqa_attention_decode`: batch, kv_len, q_heads, kv_heads, head_dim, window, act_dtype,
 *    kv_dtype. One query token per sequence over a cache of kv_len tokens (min(kv_len, window)
 *    for a sliding window); reads the cache and writes the new token's entry.
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { dtype, num } from "./params.ts"
import type { OpCost, OpParams } from "./types.ts"

/**
 * (query, key) pairs of causal attention over one sequence of s tokens, key <= query:
 * sum over i = 1..s of min(i, w) (w = sliding window; 0 or >= s means full, s(s+1)/2).
 */
export const causalPairs = (s: number, window = 0): number => {
  if (window <= 0 || window >= s) return (s * (s + 1)) / 2
  return (window * (window + 1)) / 2 + (s - window) * window
}

/** Keys one decode query attends to: the whole cache, or the last `window` tokens. */
export const decodeKeys = (kvLen: number, window = 0): number => (window > 0 ? Math.min(kvLen, window) : kvLen)

export const gqaAttentionPrefill = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = num(p, "seq_len")
  const h = num(p, "q_heads")
  const kv = num(p, "kv_heads")
  const d = num(p, "head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  const pairs = causalPairs(s, num(p, "window"))
  const tokens = b * s
  return {
    flops: b * (2 * h * pairs * d + 2 * h * pairs * d),
    // Q, K, V of the fresh tokens in the activations dtype.
    bytes_read: tokens * (h + 2 * kv) * d * act,
    // O, plus the new K and V entries appended to the cache.
    bytes_written: tokens * h * d * act + tokens * 2 * kv * d * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: "causal pairs sum(min(i,w)); FLOPs 4*h*pairs*head_dim; reads Q,K,V once, writes O and new KV"
  }
}

export const gqaAttentionDecode = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const keys = decodeKeys(num(p, "kv_len"), num(p, "window"))
  const h = num(p, "q_heads")
  const kv = num(p, "kv_heads")
  const d = num(p, "head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  return {
    flops: b * 2 * h * keys * d * 2,
    bytes_read: b * keys * 2 * kv * d * kvb + b * h * d * act,
    bytes_written: b * h * d * act + b * 2 * kv * d * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: "one query per sequence; reads K and V of min(kv_len, window) tokens + Q; writes O and the new KV entry"
  }
}

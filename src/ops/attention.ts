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
 * Optional params of both (absent = off, so older specs keep their cost):
 *  - `chunk`: chunked local attention (Llama-4 `attention_chunk_size`, HF transformers
 *    modeling_llama4.py chunked causal mask): a token attends only to the earlier tokens of its
 *    own chunk of `chunk` positions.
 *  - `sinks: true`: gpt-oss attention sinks (openai/gpt-oss gpt_oss/torch/model.py
 *    `AttentionBlock.sinks`): one learned logit per head joins every softmax denominator. It adds
 *    no tensor-core product; counted are its exp and add, 2 FLOPs per (query, head), and the read
 *    of the per-GPU heads' sink logits (activations dtype) once per kernel.
 *  - `queries` (decode only): query tokens per sequence, verified together against the cache
 *    (MTP speculative decoding: 1 + draft tokens). Each attends the kv_len cached keys (the few
 *    draft keys among themselves are not counted); K and V are read once per sequence, Q, O and
 *    the new KV entries are per query.
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

/**
 * (query, key) pairs of chunked causal attention over s tokens in chunks of c: every full chunk
 * is causal inside itself, c(c+1)/2 pairs, and the last partial chunk of r = s mod c tokens adds
 * r(r+1)/2.
 */
export const chunkedPairs = (s: number, c: number): number => {
  const full = Math.floor(s / c)
  const r = s - full * c
  return (full * c * (c + 1)) / 2 + (r * (r + 1)) / 2
}

/**
 * Keys the decode query sees under chunking when the cache holds kv_len tokens, the query's own
 * included (as decodeKeys): the tokens of its chunk up to it, kv_len - floor((kv_len-1)/c)*c.
 */
export const chunkedDecodeKeys = (kvLen: number, c: number): number => kvLen - Math.floor((kvLen - 1) / c) * c

const optNum = (p: OpParams, key: string): number => (p[key] === undefined ? 0 : num(p, key))

/** Decode query tokens per sequence (`queries`, MTP verification); absent = 1. */
export const queriesOf = (p: OpParams): number => (p.queries === undefined ? 1 : num(p, "queries"))

/** FLOPs and bytes the sink logits add to a kernel over `queries` query tokens. */
const sinkCost = (p: OpParams, queries: number, heads: number, act: number): { flops: number; bytes: number } =>
  p.sinks === true ? { flops: 2 * queries * heads, bytes: heads * act } : { flops: 0, bytes: 0 }

export const gqaAttentionPrefill = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = num(p, "seq_len")
  const h = num(p, "q_heads")
  const kv = num(p, "kv_heads")
  const d = num(p, "head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  const chunk = optNum(p, "chunk")
  const window = num(p, "window")
  const pairs = chunk > 0 ? chunkedPairs(s, chunk) : causalPairs(s, window)
  const tokens = b * s
  const sink = sinkCost(p, tokens, h, act)
  return {
    flops: b * (2 * h * pairs * d + 2 * h * pairs * d) + sink.flops,
    // Q, K, V of the fresh tokens in the activations dtype.
    bytes_read: tokens * (h + 2 * kv) * d * act + sink.bytes,
    // O, plus the new K and V entries appended to the cache.
    bytes_written: tokens * h * d * act + tokens * 2 * kv * d * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: `causal pairs ${chunk > 0 ? "per chunk" : "sum(min(i,w))"}; FLOPs 4*h*pairs*head_dim${p.sinks === true ? " + 2 per (query, head) for the sinks" : ""}; reads Q,K,V once, writes O and new KV`
  }
}

export const gqaAttentionDecode = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const chunk = optNum(p, "chunk")
  const window = num(p, "window")
  const keys = chunk > 0 ? chunkedDecodeKeys(num(p, "kv_len"), chunk) : decodeKeys(num(p, "kv_len"), window)
  const q = queriesOf(p)
  const h = num(p, "q_heads")
  const kv = num(p, "kv_heads")
  const d = num(p, "head_dim")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  const kvb = DTYPE_BYTES[dtype(p, "kv_dtype")]
  const sink = sinkCost(p, b * q, h, act)
  return {
    flops: b * q * 2 * h * keys * d * 2 + sink.flops,
    bytes_read: b * keys * 2 * kv * d * kvb + b * q * h * d * act + sink.bytes,
    bytes_written: b * q * h * d * act + b * q * 2 * kv * d * kvb,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: `one query per sequence; reads K and V of ${chunk > 0 ? "its chunk's" : "min(kv_len, window)"} tokens + Q${p.sinks === true ? " + the sink logits" : ""}; writes O and the new KV entry`
  }
}

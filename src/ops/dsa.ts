/**
 * DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2, arXiv 2512.02556 section 2.1;
 * deepseek-ai/DeepSeek-V3.2-Exp inference/model.py `Indexer`). For every (query, key) pair the
 * indexer scores
 *   I(t, s) = sum_j w(t, j) * ReLU(q(t, j) . k(s))
 * over index_heads heads j of index_head_dim D, with one key k(s) of D per token (an MQA-style
 * cache), then keeps the top `topk` keys per query for the main MLA (mla.ts `topk`). The score
 * GEMM runs in FP8 (DeepGEMM `fp8_mqa_logits`); the key cache is FP8 with one FP32 scale per
 * 128 values (`k_cache`, `k_scale_cache`, block_size 128 in the reference code).
 *
 * FLOPs per (query, key) pair: 2*H*D for the H dot products, then H ReLUs, H multiplies by the
 * head weights and H adds: 2*H*D + 3*H. The top-k selection's comparisons are not counted.
 * Bytes: the FP32 logits of every pair are written by the score kernel and read by the top-k
 * kernel (as DeepGEMM's logits output is a [queries, keys] FP32 tensor); the chosen indices are
 * int32. The projections (wq_b, wk, weights_proj) are `linear` ops emitted by the estimator.
 *
 * Op kinds:
 *  - `dsa_indexer_prefill`: batch, seq_len, index_heads, index_head_dim, topk. Causal pairs over
 *    the fresh prompt; writes the new indexer keys.
 *  - `dsa_indexer_decode`: batch, kv_len, index_heads, index_head_dim, topk, optional queries
 *    (per sequence, MTP verification; absent = 1). Each query against the kv_len cached indexer
 *    keys (read once per sequence); writes the new tokens' keys.
 */
import { causalPairs, decodeKeys, queriesOf } from "./attention.ts"
import { num } from "./params.ts"
import type { OpCost, OpParams } from "./types.ts"

/** FP8 values per FP32 scale in the indexer key cache (reference `block_size`). */
const INDEX_SCALE_BLOCK = 128

/** Bytes of one token's indexer key: D FP8 values plus one FP32 scale per 128. */
export const indexKeyBytes = (headDim: number): number => headDim + 4 * Math.ceil(headDim / INDEX_SCALE_BLOCK)

const pairFlops = (h: number, d: number): number => 2 * h * d + 3 * h

export const dsaIndexerPrefill = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = num(p, "seq_len")
  const h = num(p, "index_heads")
  const d = num(p, "index_head_dim")
  const topk = num(p, "topk")
  const pairs = b * causalPairs(s)
  const tokens = b * s
  const selected = b * causalPairs(s, topk) // sum over queries of min(i, topk)
  return {
    flops: pairs * pairFlops(h, d),
    // FP8 queries (H x D), FP8 keys + scales, FP32 head weights; then the logits, for top-k.
    bytes_read: tokens * h * d + tokens * indexKeyBytes(d) + tokens * h * 4 + pairs * 4,
    // Logits (FP32) of every pair, the new key cache entries, the int32 indices chosen.
    bytes_written: pairs * 4 + tokens * indexKeyBytes(d) + selected * 4,
    comm_bytes: 0,
    math_dtype: "fp8",
    kernels: 2,
    notes: "lightning indexer: (2*H*D + 3*H) FLOPs per causal pair, FP8; FP32 logits written and re-read by top-k"
  }
}

export const dsaIndexerDecode = (p: OpParams): OpCost => {
  const b = num(p, "batch")
  const s = num(p, "kv_len")
  const h = num(p, "index_heads")
  const d = num(p, "index_head_dim")
  const chosen = decodeKeys(s, num(p, "topk"))
  const q = queriesOf(p)
  return {
    flops: b * q * s * pairFlops(h, d),
    bytes_read: b * s * indexKeyBytes(d) + b * q * (h * d + h * 4 + s * 4),
    bytes_written: b * q * (s * 4 + indexKeyBytes(d) + chosen * 4),
    comm_bytes: 0,
    math_dtype: "fp8",
    kernels: 2,
    notes: "lightning indexer decode: (2*H*D + 3*H) FLOPs per cached key; reads the FP8 key cache once, top-k of the FP32 logits"
  }
}

/**
 * Attention-kernel terms the GEMM roofline does not see, read from an attention op's spec
 * (src/ops/attention.ts, src/ops/mla.ts give the FLOPs and bytes; these add what a fused
 * attention kernel spends besides them).
 *
 * Softmax exponentials. Every (query row, key) score takes one exp on the special-function
 * units (MUFU), a roof of its own on Hopper: "the H100 SXM5 GPU has 989 TFLOPS of FP16 matmul
 * but only 3.9 TFLOPS of special functions" (Shah et al., FlashAttention-3, arXiv 2407.08608,
 * section 3). That is 3.9e12 / 132 SMs = 29.5e9 exp/s per SM; the rate of a part is that per-SM
 * rate x its `sm_count` (same SM design and similar clocks assumed for every Hopper part; for other
 * architectures an assumption, said in docs/validation.md). With the
 * exps counted, an attention kernel's compute time is
 *     compute = tensor FLOPs / (peak x compute) + exps / exp rate
 * the two not overlapped: FA3's published causal forward times on H100 (attention_kernels_measured.csv)
 * sit close to this sum (head dim 64 / 128 / 256: the sum is within 4 to 8% of each, the max of the
 * two 20 to 41% fast), so its GEMM-softmax pipelining hides little of the exp time at these sizes.
 *   exps = batch x heads x causal pairs (prefill; pairs from the sliding window when one is set)
 *        = batch x heads x keys         (decode; min(kv_len, window) keys)
 * GQA / MQA: exps follow the query heads (each query head scores every key of its group).
 *
 * MLA decode query tiles (FlashMLA). FlashMLA runs the h_q x s_q query rows of a sequence (the
 * op's `heads`: s_q tokens of MTP are modelled as h_q x s_q heads) in 64-row tiles: the tensor
 * cores spend ceil(rows / 64) x 64 rows of work. The H20 rows of flashmla.yaml show it: 601 to
 * 614 us for h_q x s_q = 16 to 64 rows, 1,168 us at 80 (b=128, s_k=4096, h_q=16).
 */
import { causalPairs, decodeKeys } from "../ops/attention.ts"
import type { OpSpec } from "../ops/types.ts"

/** FA3 paper: 3.9 TFLOPS of special functions on H100 SXM5 (132 SMs), per SM. */
export const EXP_PER_SM_PER_S = 3.9e12 / 132

/** FlashMLA's query tile: 64 rows (h_q x s_q) per tile. */
const MLA_DECODE_QUERY_TILE = 64

/** What the terms read of an op spec: its kind and params. */
export type AttentionSpec = Pick<OpSpec, "kind" | "params">

const n = (spec: AttentionSpec, key: string): number => {
  const v = spec.params[key]
  return typeof v === "number" ? v : 0
}

const ATTENTION_KINDS: ReadonlySet<string> = new Set(["gqa_attention_prefill", "mla_attention_prefill", "gqa_attention_decode", "mla_attention_decode"])

/** True for the fused attention-core kinds these terms and the attention efficiencies apply to. */
export const isAttention = (spec: AttentionSpec): boolean => ATTENTION_KINDS.has(spec.kind)

/** Softmax exponentials of an attention op (0 for other ops). */
export const attentionExps = (spec: AttentionSpec): number => {
  switch (spec.kind) {
    case "gqa_attention_prefill":
      return n(spec, "batch") * n(spec, "q_heads") * causalPairs(n(spec, "seq_len"), n(spec, "window"))
    case "mla_attention_prefill":
      return n(spec, "batch") * n(spec, "heads") * causalPairs(n(spec, "seq_len"))
    case "gqa_attention_decode":
      return n(spec, "batch") * n(spec, "q_heads") * decodeKeys(n(spec, "kv_len"), n(spec, "window"))
    case "mla_attention_decode":
      return n(spec, "batch") * n(spec, "heads") * n(spec, "kv_len")
    default:
      return 0
  }
}

/** Tensor-core work spent / useful: MLA decode query rows padded to whole 64-row tiles (1 for other ops). */
export const attentionPadding = (spec: AttentionSpec): number => {
  if (spec.kind !== "mla_attention_decode") return 1
  const rows = n(spec, "heads")
  return rows > 0 ? (Math.ceil(rows / MLA_DECODE_QUERY_TILE) * MLA_DECODE_QUERY_TILE) / rows : 1
}

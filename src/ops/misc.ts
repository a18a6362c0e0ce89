/**
 * Small ops around the layers.
 *
 * Op kinds:
 *  - `rmsnorm`: tokens, hidden, act_dtype. RMSNorm (Zhang & Sennrich, arXiv 1910.07467):
 *    square, sum, scale by rsqrt and gamma: counted as 4 FLOPs per element. Reads x and gamma,
 *    writes y in the activations dtype. A residual add fused into it is not charged.
 *  - `embedding`: tokens, d_model, table_dtype, act_dtype. Row gather from the embedding table:
 *    reads tokens rows of d_model in the table dtype, writes them in the activations dtype.
 * The LM head is a `linear` op (gemm.ts) with the lm_head weight dtype.
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { dtype, num } from "./params.ts"
import type { OpCost, OpParams } from "./types.ts"

const RMSNORM_FLOPS_PER_ELEMENT = 4

export const rmsnorm = (p: OpParams): OpCost => {
  const t = num(p, "tokens")
  const h = num(p, "hidden")
  const act = DTYPE_BYTES[dtype(p, "act_dtype")]
  return {
    flops: RMSNORM_FLOPS_PER_ELEMENT * t * h,
    bytes_read: t * h * act + h * act,
    bytes_written: t * h * act,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: "RMSNorm: 4 FLOPs/element; reads x and gamma, writes y"
  }
}

export const embedding = (p: OpParams): OpCost => {
  const t = num(p, "tokens")
  const d = num(p, "d_model")
  return {
    flops: 0,
    bytes_read: t * d * DTYPE_BYTES[dtype(p, "table_dtype")],
    bytes_written: t * d * DTYPE_BYTES[dtype(p, "act_dtype")],
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1,
    notes: "embedding gather: one table row per token"
  }
}

/**
 * Feed-forward block: up-projection, activation, down-projection, as three kernels.
 * Gated (SwiGLU, Shazeer arXiv 2002.05202): gate and up are one fused GEMM of n = 2*I (as vLLM's
 * MergedColumnParallelLinear), then SiLU(gate)*up, then down; 3 weight matrices d x I.
 * Not gated: up (n = I), activation, down; 2 weight matrices.
 *
 *   FLOPs   = 2 * tokens * d * I * (3 gated | 2 not gated)
 *   read    = weights * weight_sets + up input + activation input + down input
 *   written = up output + activation output + down output
 * The activation kernel writes its output in the down GEMM's input dtype (FP8 quantization fused
 * into it, as SGLang's silu_and_mul + quant kernels do). Its few FLOPs per element are not counted
 * (< 0.1% of the GEMMs' 2*d per element).
 *
 * `weight_sets` lets grouped expert GEMMs (moe.ts) charge only the experts actually touched.
 *
 * Op kind `ffn`: tokens, d_model, intermediate (per GPU), gated, weight_dtype, act_dtype.
 * Used for dense FFNs and for shared experts (intermediate = n_shared * size / tp).
 */
import { DTYPE_BYTES, type Dtype } from "../schema/dtypes.ts"
import { gemmInputBytes, mathDtype } from "./gemm.ts"
import { bool, dtype, num } from "./params.ts"
import type { GemmShape, OpCost, OpParams } from "./types.ts"

export interface FfnBlock {
  /** Rows through the block: tokens (dense) or (token, expert) pairs (grouped). */
  readonly rows: number
  readonly d_model: number
  readonly intermediate: number
  readonly gated: boolean
  readonly weight: Dtype
  readonly activation: Dtype
  /** Weight matrices sets read from HBM: 1 for a dense FFN, experts touched for grouped GEMMs. */
  readonly weight_sets: number
}

export const ffnBlockCost = (f: FfnBlock, gemms: ReadonlyArray<GemmShape>, notes: string): OpCost => {
  const up = f.gated ? 2 * f.intermediate : f.intermediate
  const mats = f.gated ? 3 : 2
  const inB = gemmInputBytes(f.weight, f.activation)
  const act = DTYPE_BYTES[f.activation]
  const weights = f.weight_sets * mats * f.d_model * f.intermediate * DTYPE_BYTES[f.weight]
  return {
    flops: 2 * f.rows * f.d_model * f.intermediate * mats,
    bytes_read: weights + f.rows * f.d_model * inB + f.rows * up * act + f.rows * f.intermediate * inB,
    bytes_written: f.rows * up * act + f.rows * f.intermediate * inB + f.rows * f.d_model * act,
    comm_bytes: 0,
    math_dtype: mathDtype(f.weight, f.activation),
    kernels: 3,
    gemms,
    notes
  }
}

export const ffn = (p: OpParams): OpCost => {
  const gated = bool(p, "gated")
  const rows = num(p, "tokens")
  const d = num(p, "d_model")
  const i = num(p, "intermediate")
  return ffnBlockCost(
    { rows, d_model: d, intermediate: i, gated, weight: dtype(p, "weight_dtype"), activation: dtype(p, "act_dtype"), weight_sets: 1 },
    [
      { m: rows, n: gated ? 2 * i : i, k: d, groups: 1 },
      { m: rows, n: d, k: i, groups: 1 }
    ],
    gated ? "gate_up GEMM (n=2I) + SiLU*mul + down GEMM: 6*tokens*d*I FLOPs" : "up GEMM + activation + down GEMM: 4*tokens*d*I FLOPs"
  )
}

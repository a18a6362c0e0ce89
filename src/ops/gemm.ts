/**
 * Dense GEMM accounting, shared by every projection-like op.
 *
 *   FLOPs         = 2 * m * n * k per group            (one multiply-add = 2 FLOPs)
 *   bytes_read    = weights n*k*w_bytes per group (read once per step) + input m*k*in_bytes
 *   bytes_written = m * n * out_bytes                  (outputs in the activations dtype)
 *
 * Math dtype is decided from dtypes alone (a formula cannot see hardware rates):
 * fp8/int8 weights run fp8/int8 GEMMs with activations quantized to that dtype, so the input
 * is read at 1 byte/element (DeepSeek-V3 tech report, arXiv 2412.19437, section 3.3: 1x128
 * tile-wise FP8 activations); 4-bit weights are dequantized and multiplied in the activations
 * dtype; any other weight dtype is the math dtype. The quantization of the input is assumed
 * fused into the producing op (as SGLang's fused norm/act + quant kernels do) and not charged.
 *
 * Op kind `linear`: one projection y[tokens, out] = x[tokens, in] * W[in, out].
 */
import { DTYPE_BYTES, gemmMathDtype, type Dtype } from "../schema/dtypes.ts"
import { dtype, num } from "./params.ts"
import type { GemmShape, OpCost, OpParams } from "./types.ts"

/** fp8/int8 have native tensor paths here; 4-bit formats are dequantized (see header). */
const nativeLowPrecision = (d: Dtype): boolean => d === "fp8" || d === "int8"

export const mathDtype = (weight: Dtype, activation: Dtype): Dtype => gemmMathDtype(weight, activation, nativeLowPrecision)

/** Bytes per element of a GEMM's activation input: 1 when the math is fp8/int8, else the activation dtype. */
export const gemmInputBytes = (weight: Dtype, activation: Dtype): number => {
  const math = mathDtype(weight, activation)
  return nativeLowPrecision(math) ? DTYPE_BYTES[math] : DTYPE_BYTES[activation]
}

export interface GemmTotals {
  readonly flops: number
  readonly weight_bytes: number
  readonly input_bytes: number
  readonly output_bytes: number
}

/** Totals of `groups` independent (m x k) * (k x n) products with their own weights. */
export const gemmTotals = (g: GemmShape, weight: Dtype, activation: Dtype): GemmTotals => ({
  flops: 2 * g.m * g.n * g.k * g.groups,
  weight_bytes: g.n * g.k * g.groups * DTYPE_BYTES[weight],
  input_bytes: g.m * g.k * g.groups * gemmInputBytes(weight, activation),
  output_bytes: g.m * g.n * g.groups * DTYPE_BYTES[activation]
})

/** OpCost of a single-kernel GEMM (or batched GEMM with `groups` > 1). */
export const gemmCost = (g: GemmShape, weight: Dtype, activation: Dtype, notes: string): OpCost => {
  const t = gemmTotals(g, weight, activation)
  return {
    flops: t.flops,
    bytes_read: t.weight_bytes + t.input_bytes,
    bytes_written: t.output_bytes,
    comm_bytes: 0,
    math_dtype: mathDtype(weight, activation),
    kernels: 1,
    gemms: [g],
    notes
  }
}

/** `linear`: params tokens, in_features, out_features, weight_dtype, act_dtype. */
export const linear = (p: OpParams): OpCost =>
  gemmCost(
    { m: num(p, "tokens"), n: num(p, "out_features"), k: num(p, "in_features"), groups: 1 },
    dtype(p, "weight_dtype"),
    dtype(p, "act_dtype"),
    "GEMM 2*m*n*k; weights read once, input read once, output written in the activations dtype"
  )

/** K depth of one block-scale group of DeepGEMM's FP8 kernels (per-128-channel scales). */
const SCALE_BLOCK_K = 128

/**
 * Weight-gradient GEMM (training): D[m, n] += A[m, k] * B[n, k]^T per group, FP8 A and B with
 * 1x128 FP32 scales on both (1D1D), accumulated into an FP32 D (deepseek-ai/DeepGEMM @ 78d8362,
 * deep_gemm/jit_kernels/wgrad_gemm.py and include/deep_gemm/fp8_wgrad_gemm.cuh: each output
 * tile TMA-loads D, adds the tile's sum and TMA-stores D). Per group, with b = ceil(k / 128):
 *
 *   FLOPs         = 2 * m * n * k
 *   bytes_read    = (m + n) * k * 1  +  (m + n) * b * 4  +  m * n * 4     FP8 A, B; scales; D
 *   bytes_written = m * n * 4                                            D
 *   cuda_core_ops = m * n * b
 *
 * The promotion scales every accumulator by scale_a[row] * scale_b[col] per K block: an FMUL
 * and an FFMA per accumulator, where the 1D2D inference kernel hoists the scale product per row
 * and issues only the FFMA; the extra FMUL is cuda_core_ops (src/timing/cudaCores.ts). (DeepGEMM's
 * printed GB/s counts D as 2 B per element, tests/test_core.py; the kernel moves 8.)
 */
export const wgradGemmCost = (g: GemmShape, notes: string): OpCost => {
  const blocks = Math.ceil(g.k / SCALE_BLOCK_K)
  const d = g.m * g.n * g.groups * DTYPE_BYTES.fp32
  return {
    flops: 2 * g.m * g.n * g.k * g.groups,
    bytes_read: (g.m + g.n) * g.groups * (g.k * DTYPE_BYTES.fp8 + blocks * DTYPE_BYTES.fp32) + d,
    bytes_written: d,
    comm_bytes: 0,
    math_dtype: "fp8",
    kernels: 1,
    gemms: [g],
    cuda_core_ops: g.m * g.n * blocks * g.groups,
    notes
  }
}

/**
 * CUDA-core (FP32 pipe) work a tiled GEMM runs between its tensor-core steps.
 *
 * DeepGEMM's FP8 kernels accumulate each 128-deep K block on the tensor cores, then promote it
 * into FP32 registers on the CUDA cores, multiplied by the block's dequantisation scales. The
 * inference kernel (1D2D: per-row scales on A, one scale per 128 x 128 block of B) hoists the
 * per-row scale products and issues one FFMA per accumulator per K block
 * (deepseek-ai/DeepGEMM @ 78d8362, deep_gemm/include/deep_gemm/fp8_gemm.cuh, "Promote with
 * scales"). That FFMA is inside what the fitted `compute` fraction measures. At H100 SXM rates a
 * 128-deep block costs an accumulator 2 * 128 / 1979e12 s of tensor time and its FFMA
 * 1 / 33.5e12 s, so a serial promotion leaves the tensor cores busy 1 / (1 + 0.231) = 0.81 of
 * the time: consistent with the H800 fit's 0.815.
 *
 * Kernels that issue more per accumulator carry the extra instructions in cost.cuda_core_ops,
 * timed at
 *
 *   rate = sm_count * FP32_OPS_PER_SM_PER_S,   cuda_core_ms = cuda_core_ops / rate
 *
 * and added to the tensor-core time, not overlapped with it: the kernel waits for its WGMMAs
 * (warpgroup_wait<0>) before promoting and issues the next K block's WGMMAs only after, and all
 * math warpgroups of its one CTA per SM wait on the same TMA barrier, so they promote in phase
 * while the tensor cores idle (fp8_wgrad_gemm.cuh, same commit). The per-SM rate is assumed for
 * every part (as attention.ts's exp rate is). Counted only where tiles are modelled: the
 * speed-of-light roofline (no efficiency block, or `--efficiency none`) is the tensor peak alone.
 */
import type { OpCost } from "../ops/types.ts"
import { tilingEnabled, type TileGrid } from "./waves.ts"

/**
 * FP32 instructions per second per SM: NVIDIA H100 / H200 SXM datasheets, FP32 67 TFLOPS on
 * 132 SMs, an FMA counted as 2 FLOPs (FMUL and FFMA issue at the same rate, one per lane per clock).
 */
const FP32_OPS_PER_SM_PER_S = 67e12 / 2 / 132

/** Time of an op's serial CUDA-core instructions, ms (0 without any or without tiles). */
export const cudaCoreMs = (cost: Pick<OpCost, "cuda_core_ops">, hw: TileGrid): number => {
  const ops = cost.cuda_core_ops ?? 0
  return ops > 0 && tilingEnabled(hw) ? (ops / (hw.sm_count * FP32_OPS_PER_SM_PER_S)) * 1e3 : 0
}

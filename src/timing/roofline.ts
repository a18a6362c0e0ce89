/**
 * Timing of one fused op: a roofline with the few corrections a GPU engineer applies to it.
 *
 * Compute ops (everything that is not communication):
 *
 *   compute_ms  = spent FLOPs / (peak[math dtype] * compute)         spent >= useful: waves.ts
 *   memory_ms   = (bytes_read + bytes_written) / (HBM GB/s * memory)
 *   dominant    = max(compute_ms, memory_ms) + kernels * kernel_latency          (untiled ops)
 *               = max(max(compute_ms, read_ms) + write_ms, load_ms) + kernels * kernel_latency
 *                                                                                 (tiled GEMMs)
 *   load_ms     = operand bytes one SM loads into shared memory / sm_load_gbps     (waves.ts)
 *
 * where read_ms and write_ms split memory_ms by bytes read and written. A tiled GEMM (an op with
 * GEMM shapes when tiling is on: a fixed tile or tile_choice waves) streams its operands while the tensor cores work
 * (the main loop hides one under the other, hence the max), then stores each output tile in the
 * epilogue after its K loop, so output traffic does not hide under tensor-core time. The
 * operand loads (load_ms) are a third lane that the epilogue does not stall: DeepGEMM's TMA
 * producer warp keeps filling the next tile's pipeline stages while the math warps store
 * (deepseek-ai/DeepGEMM @ 989c9e3694638dd02aa36b4d8cb42339305caa85, fp8_gemm.cuh: separate
 * producer and math warpgroups, the scheduler's next block fetched by the producer). `compute`
 * and `memory` are the achievable fractions of the dense tensor peak and of HBM bandwidth;
 * `kernel_latency_us` is the fixed cost of one kernel (launch, prologue, pipeline fill and
 * drain, tail). `sm_load_gbps` is the rate at which one SM's TMA loads fill its shared memory
 * from L2 (0: not modelled): every SM streams the A and B slabs of each of its tiles, however
 * often they hit in L2, so a thin block (64 x 16 on a 64-row GEMM, reloading all of A for 16
 * columns of B) runs at that rate rather than at HBM's. The rate is not published; it is fitted
 * (calibrate.ts) on DeepGEMM's dense H800 table, where 64 x 2112 x 7168 on 132 blocks of 64 x 16
 * moves about 8 TB/s of operands into the SMs while reading only 1.7 TB/s from HBM.
 *
 * Communication ops (comm_bytes > 0 or a link):
 *
 *   comm_ms = comm_bytes / (link GB/s * link fraction) + messages * link_latency
 *
 * on NVLink (`interconnect`) or the scale-out NIC (`nic`); never as HBM time.
 *
 * Attention ops (given their spec) add the kernel terms of attention.ts to compute_ms: softmax
 * exponentials on the special-function units (exps / exp rate, not overlapped with the tensor
 * cores) and FlashMLA's 64-row query tiles (decode FLOPs x padding); their fractions of the
 * tensor peak and of HBM are `attention_compute` and `attention_memory` (fitted on FlashMLA and
 * FlashAttention-3 rows by `llmsim calibrate --attention`; the GEMM fractions when not set).
 *
 * A GEMM's serial CUDA-core instructions (cost.cuda_core_ops: block-scale promotion beyond the
 * fitted fraction's) add to compute_ms at the FP32 rate (cudaCores.ts).
 *
 * With no `efficiency` block every fraction is 1, every latency 0 and tiling is off: the
 * peak-only "speed of light" roofline, max(compute, memory). `mode: "none"` forces that even
 * when the file has constants (`--efficiency none`), and also drops the attention terms.
 */
import type { Dtype } from "../schema/dtypes.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { OpCost } from "../ops/types.ts"
import { attentionExps, attentionPadding, EXP_PER_SM_PER_S, isAttention, type AttentionSpec } from "./attention.ts"
import { cudaCoreMs } from "./cudaCores.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { operandLoadPerSm, quantisedGemmFlops, tilingEnabled, type TileChoice } from "./waves.ts"

/** The slice of a HardwareSpec that op timing reads (its cache-key parameters). */
export interface TimingHardware {
  /** Dense TFLOPS per math dtype, resolved (missing formats fall back, see resolveTflops). */
  readonly tflops: Readonly<Record<string, number>>
  readonly memory_bandwidth_gbps: number
  readonly interconnect_gbps: number
  readonly nic_gbps: number
  readonly compute_efficiency: number
  readonly memory_efficiency: number
  readonly interconnect_efficiency: number
  readonly nic_efficiency: number
  readonly kernel_latency_us: number
  readonly link_latency_us: number
  readonly tile_m: number
  readonly tile_n: number
  readonly tile_choice: TileChoice
  readonly sm_count: number
  /** Shared-memory fill rate of one SM's operand loads, GB/s (0: not modelled). */
  readonly sm_load_gbps: number
  /** Softmax exponentials per second (special-function units; 0: not modelled), attention.ts. */
  readonly exp_per_s: number
  /** Fractions of the tensor peak and of HBM that fused attention kernels reach (attention.ts). */
  readonly attention_compute_efficiency: number
  readonly attention_memory_efficiency: number
}

export type EfficiencyMode = "hardware" | "none"

const MATH_DTYPES: ReadonlyArray<Dtype> = ["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "mxfp4", "int4"]

/**
 * Peak per math dtype. bf16/fp16 default to `peak_tflops` (the spec's single figure);
 * other formats without a listed rate run at the bf16 rate (no faster tensor path), which is
 * what a part without native FP8/FP4 does after dequantising.
 */
const resolveTflops = (hw: HardwareSpec): Record<string, number> => {
  const listed = (hw.tflops ?? {}) as Record<string, number | undefined>
  const bf16 = listed.bf16 ?? hw.peak_tflops
  const out: Record<string, number> = {}
  for (const d of MATH_DTYPES) out[d] = listed[d] ?? (d === "fp16" ? (listed.bf16 ?? hw.peak_tflops) : bf16)
  return out
}

export const timingHardware = (hw: HardwareSpec, mode: EfficiencyMode = "hardware"): TimingHardware => {
  const e = mode === "none" ? {} : (hw.efficiency ?? {})
  return {
    tflops: resolveTflops(hw),
    memory_bandwidth_gbps: hw.memory_bandwidth_gbps,
    interconnect_gbps: hw.interconnect_gbps,
    // Without a NIC figure, traffic that leaves the node is charged at the scale-up rate.
    nic_gbps: hw.nic_gbps ?? hw.interconnect_gbps,
    compute_efficiency: e.compute ?? 1,
    memory_efficiency: e.memory ?? 1,
    interconnect_efficiency: e.interconnect ?? 1,
    nic_efficiency: e.nic ?? 1,
    kernel_latency_us: e.kernel_latency_us ?? 0,
    link_latency_us: e.link_latency_us ?? 0,
    tile_m: e.tile_m ?? 0,
    tile_n: e.tile_n ?? 0,
    tile_choice: e.tile_choice ?? "fixed",
    sm_count: hw.sm_count ?? 0,
    sm_load_gbps: e.sm_load_gbps ?? 0,
    exp_per_s: mode === "none" ? 0 : (hw.sm_count ?? 0) * EXP_PER_SM_PER_S,
    attention_compute_efficiency: e.attention_compute ?? e.compute ?? 1,
    attention_memory_efficiency: e.attention_memory ?? e.memory ?? 1
  }
}

export type Bound = "compute" | "memory" | "comm"

export interface OpTiming {
  readonly compute_time_ms: number
  readonly memory_time_ms: number
  readonly comm_time_ms: number
  readonly dominant_latency_ms: number
  readonly bound: Bound
  /** Set by a learned estimator only: whether its model timed the op, or why it did not. */
  readonly estimate?: EstimateNote
}

/** Which model timed an op under a learned estimator (the analytic one leaves it unset). */
interface EstimateNote {
  readonly estimator: "ml" | "analytic-fallback"
  /** The correction applied (ml) or why the analytic times were kept (fallback). */
  readonly note: string
}

/** True for ops that move bytes over a link rather than through tensor cores and HBM. */
export const isCommunication = (cost: OpCost): boolean => cost.comm_bytes > 0 || cost.link !== undefined

/** Time of a communication op on its link, ms. */
const linkTimeMs = (cost: OpCost, hw: TimingHardware): number => {
  const nic = cost.link === "nic"
  const gbps = nic ? hw.nic_gbps * hw.nic_efficiency : hw.interconnect_gbps * hw.interconnect_efficiency
  return (cost.comm_bytes / (gbps * 1e9)) * 1e3 + ((cost.messages ?? 1) * hw.link_latency_us) / 1e3
}

/** True when the op is timed as a tiled GEMM (main loop, then a serial epilogue store). */
const isTiledGemm = (cost: OpCost, hw: TimingHardware): boolean => cost.gemms !== undefined && cost.gemms.length > 0 && tilingEnabled(hw)

/** Compute time of an attention op's exps and padded query tiles (0 and 1 without a spec or an exp rate). */
const attentionCompute = (
  spec: AttentionSpec | undefined,
  hw: TimingHardware
): { readonly exp_ms: number; readonly padding: number; readonly compute: number; readonly memory: number } => {
  if (spec === undefined || !isAttention(spec)) return { exp_ms: 0, padding: 1, compute: hw.compute_efficiency, memory: hw.memory_efficiency }
  const e = { compute: hw.attention_compute_efficiency, memory: hw.attention_memory_efficiency }
  if (hw.exp_per_s <= 0) return { exp_ms: 0, padding: 1, ...e }
  return { exp_ms: (attentionExps(spec) / hw.exp_per_s) * 1e3, padding: attentionPadding(spec), ...e }
}

/** Time one SM spends filling shared memory with its tiles' operands, ms (0 when not modelled). */
const loadMs = (cost: OpCost, hw: TimingHardware): number =>
  hw.sm_load_gbps > 0 ? ((operandLoadPerSm(cost, hw) * DTYPE_BYTES[cost.math_dtype ?? "bf16"]) / (hw.sm_load_gbps * 1e9)) * 1e3 : 0

/** Times of one op; `spec` (the op's kind and params) adds the attention kernel terms. */
export const timeOp = (cost: OpCost, hw: TimingHardware, spec?: AttentionSpec): OpTiming => {
  if (isCommunication(cost)) {
    const comm = linkTimeMs(cost, hw)
    return { compute_time_ms: 0, memory_time_ms: 0, comm_time_ms: comm, dominant_latency_ms: comm, bound: "comm" }
  }
  const peak = hw.tflops[cost.math_dtype ?? "bf16"] ?? hw.tflops.bf16
  const att = attentionCompute(spec, hw)
  const compute =
    (cost.flops === 0 ? 0 : ((quantisedGemmFlops(cost, hw) * att.padding) / (peak * 1e12 * att.compute)) * 1e3) + att.exp_ms + cudaCoreMs(cost, hw)
  const bytesPerMs = hw.memory_bandwidth_gbps * 1e9 * att.memory * 1e-3
  const read = cost.bytes_read / bytesPerMs
  const write = cost.bytes_written / bytesPerMs
  const memory = read + write
  const body = isTiledGemm(cost, hw) ? Math.max(Math.max(compute, read) + write, loadMs(cost, hw)) : Math.max(compute, memory)
  return {
    compute_time_ms: compute,
    memory_time_ms: memory,
    comm_time_ms: 0,
    dominant_latency_ms: body + (cost.kernels * hw.kernel_latency_us) / 1e3,
    bound: compute >= memory ? "compute" : "memory"
  }
}

/**
 * Roofline timing of one fused op.
 *
 *   compute_ms = flops / (peak[math dtype] * compute efficiency)          (tensor-core bound)
 *   memory_ms  = (bytes_read + bytes_written) / (HBM GB/s * memory efficiency)
 *   comm_ms    = comm_bytes / (link GB/s * link efficiency) + messages * link latency
 *   dominant   = max(compute_ms, memory_ms) + kernels * kernel latency   (compute ops)
 *              = comm_ms                                                (communication ops)
 *
 * Link time is never HBM time. With no `efficiency` block in the hardware file every factor is
 * 1 and every latency 0: the "speed of light" roofline. `mode: "none"` forces that even when the
 * file has constants (`--efficiency none`).
 */
import type { Dtype } from "../schema/dtype.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { OpCost } from "../ops/types.ts"

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
  readonly sm_count: number
}

export type EfficiencyMode = "hardware" | "none"

const MATH_DTYPES: ReadonlyArray<Dtype> = ["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4", "mxfp4", "int4"]

/**
 * Peak per math dtype. bf16/fp16 default to `peak_tflops` (the spec's single figure);
 * other formats without a listed rate run at the bf16 rate (no faster tensor path), which is
 * what a part without native FP8/FP4 does after dequantising.
 */
export const resolveTflops = (hw: HardwareSpec): Record<string, number> => {
  const listed = (hw.tflops ?? {}) as Record<string, number | undefined>
  const bf16 = listed.bf16 ?? hw.peak_tflops
  const out: Record<string, number> = {}
  for (const d of MATH_DTYPES) out[d] = listed[d] ?? (d === "fp16" ? listed.bf16 ?? hw.peak_tflops : bf16)
  return out
}

export const timingHardware = (hw: HardwareSpec, mode: EfficiencyMode = "hardware"): TimingHardware => {
  const e = mode === "none" ? {} : hw.efficiency ?? {}
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
    sm_count: hw.sm_count ?? 0
  }
}

export type Bound = "compute" | "memory" | "comm"

export interface OpTiming {
  readonly compute_time_ms: number
  readonly memory_time_ms: number
  readonly comm_time_ms: number
  readonly dominant_latency_ms: number
  readonly bound: Bound
}

/**
 * Wave quantisation: a GEMM is cut into tile_m x tile_n output tiles that run in waves of
 * `sm_count` tiles; a partial last wave and partial edge tiles still cost full tiles. Returns
 * the FLOPs the tensor cores actually spend (>= useful FLOPs). Disabled when tiles are 0.
 */
export const quantisedGemmFlops = (cost: OpCost, hw: TimingHardware): number => {
  if (!cost.gemms || cost.gemms.length === 0 || hw.tile_m <= 0 || hw.tile_n <= 0 || hw.sm_count <= 0) return cost.flops
  let spent = 0
  let useful = 0
  for (const g of cost.gemms) {
    const tiles = Math.ceil(g.m / hw.tile_m) * Math.ceil(g.n / hw.tile_n) * g.groups
    const waves = Math.ceil(tiles / hw.sm_count)
    spent += waves * hw.sm_count * hw.tile_m * hw.tile_n * 2 * g.k
    useful += 2 * g.m * g.n * g.k * g.groups
  }
  // Scale the op's FLOPs (which may include small elementwise work) by the GEMM waste factor.
  return useful > 0 ? cost.flops * (spent / useful) : cost.flops
}

export const timeOp = (cost: OpCost, hw: TimingHardware): OpTiming => {
  if (cost.comm_bytes > 0 || cost.link !== undefined) {
    const nic = cost.link === "nic"
    const gbps = (nic ? hw.nic_gbps : hw.interconnect_gbps) * (nic ? hw.nic_efficiency : hw.interconnect_efficiency)
    const comm = (cost.comm_bytes / (gbps * 1e9)) * 1e3 + ((cost.messages ?? 1) * hw.link_latency_us) / 1e3
    return { compute_time_ms: 0, memory_time_ms: 0, comm_time_ms: comm, dominant_latency_ms: comm, bound: "comm" }
  }
  const peak = hw.tflops[cost.math_dtype ?? "bf16"] ?? hw.tflops.bf16
  const flops = quantisedGemmFlops(cost, hw)
  const compute = cost.flops === 0 ? 0 : (flops / (peak * 1e12 * hw.compute_efficiency)) * 1e3
  const memory = ((cost.bytes_read + cost.bytes_written) / (hw.memory_bandwidth_gbps * 1e9 * hw.memory_efficiency)) * 1e3
  const dominant = Math.max(compute, memory) + (cost.kernels * hw.kernel_latency_us) / 1e3
  return {
    compute_time_ms: compute,
    memory_time_ms: memory,
    comm_time_ms: 0,
    dominant_latency_ms: dominant,
    bound: compute >= memory ? "compute" : "memory"
  }
}

/**
 * HardwareSpec: one accelerator and the links around it.
 *
 * Units: TFLOPS are dense (no 2:4 sparsity) tensor-core rates, 1e12 FLOP/s. Every `*_gbps`
 * field is GIGABYTES per second (1e9 B/s), not gigabits, as in the product spec. Link
 * bandwidths are per GPU and per direction (unidirectional). `hbm_gb` is decimal GB (1e9 B).
 * Every rate, bandwidth, capacity, share, latency and price is `physical(kind)`: inside its
 * kind's physical range (src/schema/physical.ts), so no time can overflow or come out absurd.
 */
import { Schema } from "effect"
import { Fraction, NonNegativeInt, physical, PositiveInt } from "./common.ts"

/** Dense tensor-core peak per math format, TFLOPS. Missing formats fall back to `peak_tflops`. */
const Tflops = physical("tflops")
const DtypeTflops = Schema.Struct({
  fp32: Schema.optionalKey(Tflops),
  tf32: Schema.optionalKey(Tflops),
  bf16: Schema.optionalKey(Tflops),
  fp16: Schema.optionalKey(Tflops),
  fp8: Schema.optionalKey(Tflops),
  int8: Schema.optionalKey(Tflops),
  fp4: Schema.optionalKey(Tflops),
  mxfp4: Schema.optionalKey(Tflops),
  int4: Schema.optionalKey(Tflops)
})
type DtypeTflops = typeof DtypeTflops.Type

/**
 * Efficiency knobs of the timing model. Each is a physically meaningful constant, the same for
 * every shape; defaults give the "speed of light" roofline (fraction 1, zero latency). The
 * fractions divide a peak rate, so they are shares in [0.001, 1]: 0 would make every time x / 0.
 */
const Share = physical("share")
const Latency = physical("latency_us")
const Bandwidth = physical("gbps")

export const Efficiency = Schema.Struct({
  /** Achievable fraction of the dense tensor peak for large GEMMs. */
  compute: Schema.optionalKey(Share),
  /** Achievable fraction of HBM bandwidth for streaming kernels. */
  memory: Schema.optionalKey(Share),
  /** Achievable fraction of the scale-up link (NVLink / xGMI) per direction. */
  interconnect: Schema.optionalKey(Share),
  /** Achievable fraction of the scale-out NIC per direction. */
  nic: Schema.optionalKey(Share),
  /** Fixed cost of one kernel (launch + prologue/epilogue + tail), microseconds. */
  kernel_latency_us: Schema.optionalKey(Latency),
  /** Fixed cost of one collective / message on a link, microseconds. */
  link_latency_us: Schema.optionalKey(Latency),
  /**
   * GEMM output tile rows (M) for wave quantisation (src/timing/waves.ts); with tile_n it also
   * times GEMMs as a main loop then a serial epilogue store. 0 disables both.
   */
  tile_m: Schema.optionalKey(NonNegativeInt),
  /** GEMM output tile columns (N), as tile_m. */
  tile_n: Schema.optionalKey(NonNegativeInt),
  /**
   * How each GEMM's block is picked (src/timing/waves.ts): `fixed` (default) uses tile_m x tile_n,
   * `waves` DeepGEMM's per-shape choice (fewest waves, then the fullest last wave).
   */
  tile_choice: Schema.optionalKey(Schema.Literals(["fixed", "waves"])),
  /** Rate one SM's operand loads fill its shared memory from L2, GB/s (src/timing/roofline.ts); 0 or absent: not modelled. */
  sm_load_gbps: Schema.optionalKey(physical("gbps", true)),
  /** Achievable fraction of the tensor peak in fused attention kernels (FlashMLA, FlashAttention); default `compute`. */
  attention_compute: Schema.optionalKey(Share),
  /** Achievable fraction of HBM bandwidth in fused attention kernels (KV-cache streaming); default `memory`. */
  attention_memory: Schema.optionalKey(Share)
})
export type Efficiency = typeof Efficiency.Type

export const HardwareSpec = Schema.Struct({
  name: Schema.String,
  /** Dense BF16/FP16 tensor peak, TFLOPS (the spec's field). */
  peak_tflops: Tflops,
  /** HBM bandwidth, GB/s. */
  memory_bandwidth_gbps: Bandwidth,
  /** HBM capacity, GB (decimal). */
  hbm_gb: physical("gb"),
  /** Scale-up link (NVLink / xGMI) bandwidth per GPU per direction, GB/s. */
  interconnect_gbps: Bandwidth,
  /** Independent streams a layer can overlap (compute + communication); 1 disables overlap. */
  max_concurrency: PositiveInt,
  /** Fraction of the shorter of (compute, communication) hidden under the longer when overlapped. */
  overlap_efficiency: Fraction,
  /** Per-dtype dense tensor peaks, TFLOPS. */
  tflops: Schema.optionalKey(DtypeTflops),
  /** Scale-out NIC bandwidth per GPU per direction, GB/s. */
  nic_gbps: Schema.optionalKey(Bandwidth),
  /** GPUs that share one scale-up (NVLink) domain. */
  gpus_per_node: Schema.optionalKey(PositiveInt),
  /** Streaming multiprocessors (or CUs), for wave quantisation. */
  sm_count: Schema.optionalKey(PositiveInt),
  efficiency: Schema.optionalKey(Efficiency),
  /**
   * What one GPU-hour of this hardware costs you, USD: user-set (your contract, cloud list
   * price or amortised capex + power); `llmsim sweep` prices tokens with it. Shipped files
   * carry a public on-demand list price with its source and date.
   */
  price_per_gpu_hour_usd: Schema.optionalKey(physical("usd_per_gpu_hour"))
})
export type HardwareSpec = typeof HardwareSpec.Type

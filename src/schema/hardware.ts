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
import { Fraction, NonNegative, NonNegativeInt, physical, PositiveInt } from "./common.ts"

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

/**
 * The timing constants whose source a hardware file states (`calibration:`, below): the
 * `efficiency` block's, the GEMM tile as one (tile_m, tile_n, tile_choice), and
 * overlap_efficiency. The order is the report's (src/timing/efficiency.ts).
 */
export const CALIBRATED_CONSTANTS = [
  "compute",
  "memory",
  "kernel_latency_us",
  "tile",
  "sm_load_gbps",
  "attention_compute",
  "attention_memory",
  "interconnect",
  "nic",
  "link_latency_us",
  "overlap_efficiency"
] as const
export type CalibratedConstant = (typeof CALIBRATED_CONSTANTS)[number]

const Text = Schema.String.check(Schema.isMinLength(1))

/** Absolute % error of the fit: on the rows it was fitted on, and held out (leave-one-out, or rows it never saw) where known. */
const FitError = Schema.Struct({
  median_pct: NonNegative,
  p90_pct: Schema.optionalKey(NonNegative),
  held_out_median_pct: Schema.optionalKey(NonNegative),
  held_out_p90_pct: Schema.optionalKey(NonNegative)
})

/** Fitted on measurements of this hardware: which (files under data/reference, or a published source), how many rows, the error. */
const Fitted = Schema.Struct({
  status: Schema.Literal("fitted"),
  /** The measurements: a file (data/reference/...) with its rows or filter, or a published source. */
  dataset: Text,
  rows: PositiveInt,
  /** The kernel library and version the rows timed (fits on other kernels do not compare like with like). */
  measured_with: Schema.optionalKey(Text),
  error: FitError,
  note: Schema.optionalKey(Text)
})

/** Taken from another hardware's fit (or another constant of this file): from where, and why it applies. */
const Borrowed = Schema.Struct({
  status: Schema.Literal("borrowed"),
  from: Text,
  why: Text
})

/** No measurement behind it: the term runs at the datasheet peak (fraction 1, latency 0, no tile, full overlap). */
const DatasheetOnly = Schema.Struct({
  status: Schema.Literal("datasheet only"),
  why: Schema.optionalKey(Text)
})

export const ConstantCalibration = Schema.Union([Fitted, Borrowed, DatasheetOnly]).annotate({ identifier: "ConstantCalibration" })
export type ConstantCalibration = typeof ConstantCalibration.Type

/**
 * Where each timing constant comes from, so a comparison of hardware can say when it compares
 * a fit with a datasheet. A constant without an entry is `datasheet only` when the file leaves
 * it at its peak, else `unstated` (src/timing/calibration.ts).
 */
const Calibration = Schema.Struct({
  compute: Schema.optionalKey(ConstantCalibration),
  memory: Schema.optionalKey(ConstantCalibration),
  kernel_latency_us: Schema.optionalKey(ConstantCalibration),
  tile: Schema.optionalKey(ConstantCalibration),
  sm_load_gbps: Schema.optionalKey(ConstantCalibration),
  attention_compute: Schema.optionalKey(ConstantCalibration),
  attention_memory: Schema.optionalKey(ConstantCalibration),
  interconnect: Schema.optionalKey(ConstantCalibration),
  nic: Schema.optionalKey(ConstantCalibration),
  link_latency_us: Schema.optionalKey(ConstantCalibration),
  overlap_efficiency: Schema.optionalKey(ConstantCalibration)
})

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
  /** GPUs of one server or compute tray; also the scale-up (NVLink) domain unless scale_up_gpus says otherwise. */
  gpus_per_node: Schema.optionalKey(PositiveInt),
  /**
   * GPUs one scale-up fabric connects when it spans servers: 72 on a GB200/GB300 NVL72 rack (18
   * trays of 4 on one NVLink switch domain). Collectives and expert all-to-all within this many
   * GPUs go over interconnect_gbps, beyond it over nic_gbps. Default: gpus_per_node.
   */
  scale_up_gpus: Schema.optionalKey(PositiveInt),
  /** Streaming multiprocessors (or CUs), for wave quantisation. */
  sm_count: Schema.optionalKey(PositiveInt),
  efficiency: Schema.optionalKey(Efficiency),
  /** Where each constant of `efficiency` (and overlap_efficiency) comes from: fitted, borrowed or datasheet only. */
  calibration: Schema.optionalKey(Calibration),
  /**
   * What one GPU-hour of this hardware costs you, USD: user-set (your contract, cloud list
   * price or amortised capex + power); `llmsim sweep` prices tokens with it. Shipped files
   * carry a public on-demand list price with its source and date.
   */
  price_per_gpu_hour_usd: Schema.optionalKey(physical("usd_per_gpu_hour"))
})
export type HardwareSpec = typeof HardwareSpec.Type

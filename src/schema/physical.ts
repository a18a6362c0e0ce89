/**
 * The physical range of every kind of quantity llmsim reads: one table, one rule. A config field
 * (src/schema/common.ts `physical`) and a measured value (the aligned CSV `ml train` reads,
 * `calibrate`'s measurements) outside its kind's range is an input error at its position, never a
 * number: a bandwidth of 2.3e-308 GB/s is a "positive normal double", yet any byte count divided
 * by it overflows to Infinity, and a kernel measured at 1e308 us trains a model that predicts
 * TPOTs of 1e112 ms.
 *
 * The bounds are wide on purpose: every real accelerator, link and kernel sits orders of
 * magnitude inside them (B200: 2,250 dense BF16 TFLOPS, 8,000 GB/s, 180 GB; a wafer-scale chip's
 * on-chip SRAM about 2e7 GB/s), and a quantity at a bound keeps every time finite (the largest
 * byte count llmsim forms, about 1e63, over 1e-3 GB/s at a 1e-3 share is about 1e72 s).
 * Plain data and functions, no imports: the pure floors (src/ml, src/accuracy's readers) use it.
 */

export interface PhysicalRange {
  /** What the quantity is, for the message: `a bandwidth`. */
  readonly what: string
  /** Its unit as printed after the bounds (empty for a share). */
  readonly unit: string
  readonly min: number
  readonly max: number
}

export const PHYSICAL = {
  /** A dense tensor rate: 1 GFLOPS to 1 EFLOPS per device. */
  tflops: { what: "a compute rate", unit: "TFLOPS", min: 1e-3, max: 1e6 },
  /** HBM, link and NIC bandwidth, an SM's load rate: 1 MB/s to 100 PB/s. */
  gbps: { what: "a bandwidth", unit: "GB/s", min: 1e-3, max: 1e8 },
  /** Memory per device: 1 MB to 1 PB. */
  gb: { what: "a memory capacity", unit: "GB", min: 1e-3, max: 1e6 },
  /** An achievable fraction of a peak rate, which times divide by: 0.1 % to 100 %. */
  share: { what: "an achievable fraction of a peak", unit: "", min: 1e-3, max: 1 },
  /** A fixed cost per kernel, call or message: 0 to 1 s. */
  latency_us: { what: "a fixed latency", unit: "us", min: 0, max: 1e6 },
  /** One measured kernel: 1 ns to 1,000 s. */
  kernel_us: { what: "a kernel time", unit: "us", min: 1e-3, max: 1e9 },
  /** What a GPU-hour costs: a tenth of a cent to 100,000 USD. */
  usd_per_gpu_hour: { what: "a price", unit: "USD per GPU-hour", min: 1e-3, max: 1e5 }
} as const satisfies Record<string, PhysicalRange>

export type PhysicalKind = keyof typeof PHYSICAL

const bound = (x: number): string => (x !== 0 && (Math.abs(x) >= 1e5 || Math.abs(x) < 1e-2) ? x.toExponential().replace("e+", "e") : String(x))

/** What a value of `kind` must be: `a bandwidth between 1e-3 and 1e8 GB/s` (`or 0`: 0 allowed too, meaning off). */
const physicalExpectation = (kind: PhysicalKind, orZero = false): string => {
  const r: PhysicalRange = PHYSICAL[kind]
  return `${r.what} between ${bound(r.min)} and ${bound(r.max)}${r.unit === "" ? "" : ` ${r.unit}`}${orZero ? ", or 0 (off)" : ""}`
}

/** Whether `x` is a value of `kind` (finite, inside its range; 0 too when `orZero`). */
export const isPhysical = (kind: PhysicalKind, x: number, orZero = false): boolean => {
  const r: PhysicalRange = PHYSICAL[kind]
  return (orZero && x === 0) || (Number.isFinite(x) && x >= r.min && x <= r.max)
}

/** The one-line problem of a value outside its range (`Expected a bandwidth between ... GB/s (its physical range), got 2.3e-308`), or undefined. */
export const physicalProblem = (kind: PhysicalKind, x: number, orZero = false, got: string = String(x)): string | undefined =>
  isPhysical(kind, x, orZero) ? undefined : `Expected ${physicalExpectation(kind, orZero)} (its physical range), got ${got}`

/**
 * The "does not fit" verdict shared by `llmsim run` and the playbooks' screens.
 *
 * A configuration whose memory per GPU exceeds HBM cannot run, so its TTFT, TPOT and tokens/s
 * are not achievable. The JSON keeps the numbers (with `fits_in_hbm: false`) for tools that
 * explore; the tables say it in a verdict line near the top and next to each serving figure,
 * so nobody reads a TPOT as if it would run. Pure text helpers.
 */
import { gb } from "../base/format.ts"

/** Appended to a serving figure that a non-fitting configuration cannot achieve. */
export const NOT_ACHIEVABLE = "(does not fit)"

/** `text`, marked as not achievable when the configuration does not fit (a missing value `-` stays as is). */
export const markUnfit = (text: string, fits: boolean): string => (fits || text === "-" ? text : `${text} ${NOT_ACHIEVABLE}`)

export interface UnfitFacts {
  /** Memory per GPU (the largest phase, role or step). */
  readonly per_gpu_bytes: number
  readonly hbm_bytes: number
  /** Held back from HBM (runtime, allocator); 0 when the model reserves nothing. */
  readonly reserved_bytes: number
  /** Where the peak is (a phase, a role), shown before the parts; empty for none. */
  readonly where: string
  /** The memory per GPU by part, label and bytes, in the order shown. */
  readonly parts: ReadonlyArray<readonly [string, number]>
}

/**
 * `verdict: DOES NOT FIT in HBM: 93.40 GB per GPU > 80.00 GB (weights 60.00, KV cache 33.10, activations 0.30)`;
 * with a reservation, the usable capacity: `> 78.00 GB usable of 80.00 GB HBM (...)`.
 */
export const unfitVerdict = (f: UnfitFacts): string => {
  const usable = f.hbm_bytes - f.reserved_bytes
  const capacity = f.reserved_bytes > 0 ? `${gb(usable)} GB usable of ${gb(f.hbm_bytes)} GB HBM` : `${gb(f.hbm_bytes)} GB`
  const parts = f.parts.map(([label, bytes]) => `${label} ${gb(bytes)}`).join(", ")
  return (
    `verdict: DOES NOT FIT in HBM: ${gb(f.per_gpu_bytes)} GB per GPU > ${capacity} (${f.where === "" ? "" : `${f.where}: `}${parts}); ` +
    "its TTFT, TPOT and tokens/s are not achievable"
  )
}

/** The memory figures of a serving summary (`llmsim run`'s or a playbook's) that decide its fit. */
export interface FitFigures {
  readonly fits_in_hbm: boolean
  readonly peak_memory_bytes: number
  readonly hbm_bytes_per_gpu: number
  readonly reserved_bytes?: number
}

/** `93.40 GB per GPU > 80.00 GB HBM` for a summary that does not fit; undefined when it fits. */
export const unfitSummary = (s: FitFigures): string | undefined => {
  if (s.fits_in_hbm) return undefined
  const reserved = s.reserved_bytes ?? 0
  const capacity = reserved > 0 ? `${gb(s.hbm_bytes_per_gpu - reserved)} GB usable of ${gb(s.hbm_bytes_per_gpu)} GB HBM` : `${gb(s.hbm_bytes_per_gpu)} GB HBM`
  return `${gb(s.peak_memory_bytes)} GB per GPU > ${capacity}`
}

/**
 * What a run says about its timing constants (`efficiency` in run's header and JSON), so a
 * peak-only number is never presented as calibrated. Each constant of the hardware file's
 * `efficiency` block (src/schema/hardware.ts, read by roofline.ts timingHardware), and its
 * overlap_efficiency (a top-level field: below 1 only when fitted, `calibrate --overlap`), is its
 * value, or `none (no data)` when the file has none (the hardware files say which have no source
 * data): then that term runs at its peak (fraction 1, latency 0, no tiling, full overlap;
 * attention fractions fall back to the GEMM ones).
 *
 *   status = calibrated      every GEMM constant set (compute, memory, kernel_latency_us, tile:
 *                            a fixed tile_m x tile_n or tile_choice waves)
 *          = partial         some of them set
 *          = none (no data)  none of them: the peak-only roofline
 *          = off             --efficiency none: constants ignored on purpose
 */
import type { HardwareSpec } from "../schema/hardware.ts"
import type { EfficiencyMode } from "./roofline.ts"

export const NO_DATA = "none (no data)"

/** What a missing constant means in timing (roofline.ts timingHardware's defaults). */
const AT_PEAK = "peak rates, zero latency, no tiling, full overlap; attention takes the GEMM fractions"

type EfficiencyStatus = "calibrated" | "partial" | "none (no data)" | "off (--efficiency none)"

type EfficiencyValue = number | string

export interface EfficiencySummary {
  readonly status: EfficiencyStatus
  /** Each constant: its value (the tile as "MxN"), or NO_DATA. Absent when status is off. */
  readonly constants?: Readonly<Record<string, EfficiencyValue>>
}

/** The constants in report order: GEMM ones (which decide the status), then attention and links. */
const GEMM_KEYS = ["compute", "memory", "kernel_latency_us", "tile"] as const
const OTHER_KEYS = ["sm_load_gbps", "attention_compute", "attention_memory", "interconnect", "nic", "link_latency_us", "overlap_efficiency"] as const

export const efficiencySummary = (hw: HardwareSpec, mode: EfficiencyMode): EfficiencySummary => {
  if (mode === "none") return { status: "off (--efficiency none)" }
  const e = (hw.efficiency ?? {}) as Readonly<Record<string, number | undefined>>
  const value = (k: string): EfficiencyValue => {
    if (k === "tile" && hw.efficiency?.tile_choice === "waves") return "per GEMM (fewest waves)"
    if (k === "tile") return e.tile_m !== undefined && e.tile_n !== undefined && e.tile_m > 0 && e.tile_n > 0 ? `${e.tile_m}x${e.tile_n}` : NO_DATA
    // A top-level field (always present): 1 is the roofline's full overlap, what a file without a
    // serving measurement states; below 1 it was fitted (calibrate --overlap).
    if (k === "overlap_efficiency") return hw.overlap_efficiency < 1 ? hw.overlap_efficiency : NO_DATA
    return e[k] ?? NO_DATA
  }
  const constants: Record<string, EfficiencyValue> = {}
  for (const k of [...GEMM_KEYS, ...OTHER_KEYS]) constants[k] = value(k)
  const set = GEMM_KEYS.filter((k) => constants[k] !== NO_DATA).length
  const status: EfficiencyStatus = set === GEMM_KEYS.length ? "calibrated" : set === 0 ? "none (no data)" : "partial"
  return { status, constants }
}

/** One header line: `efficiency partial: compute 0.511; none (no data): memory, ...`. */
export const efficiencyLine = (s: EfficiencySummary): string => {
  if (s.constants === undefined) return `efficiency ${s.status}: peak-only roofline (constants ignored)`
  const entries = Object.entries(s.constants)
  const set = entries.filter(([, v]) => v !== NO_DATA).map(([k, v]) => `${k} ${v}`)
  const missing = entries.filter(([, v]) => v === NO_DATA).map(([k]) => k)
  if (s.status === "none (no data)") {
    return `efficiency none (no data): peak-only roofline, not calibrated${set.length > 0 ? ` (set: ${set.join(", ")})` : ""}`
  }
  return `efficiency ${s.status}: ${set.join(", ")}${missing.length > 0 ? `; ${NO_DATA}: ${missing.join(", ")} (${AT_PEAK})` : ""}`
}

/**
 * Where each timing constant of a hardware file comes from: `fitted` on measurements of that
 * hardware (which data, how many rows, the error), `borrowed` (from which hardware, and why it
 * applies) or `datasheet only` (no measurement: the term runs at the datasheet peak). The file
 * states it in its `calibration:` block (src/schema/hardware.ts); a constant without an entry is
 * `datasheet only` when the file leaves it at its peak and `unstated` when it sets a value
 * without saying where it comes from.
 *
 * The hardware's status is the weakest of its constants':
 *
 *   fitted          every constant fitted on this hardware's measurements
 *   borrowed        every constant fitted or borrowed, some borrowed
 *   partial         some fitted or borrowed, some datasheet only or unstated
 *   datasheet only  none fitted or borrowed: the peak-only roofline (or its constants unsourced: unstated)
 *   off             --efficiency none: every constant ignored, on purpose
 *
 * Two hardware whose constants differ in status (or were fitted on different data) compare a
 * fit with a datasheet, or one kernel version with another: `calibrationDifferences` names
 * where, so a sweep over hardware says so beside its answer.
 */
import { CALIBRATED_CONSTANTS, type CalibratedConstant, type ConstantCalibration, type HardwareSpec } from "../schema/hardware.ts"
import type { EfficiencyMode } from "./roofline.ts"

type ConstantStatus = ConstantCalibration["status"] | "unstated"

/** A constant's source: the file's entry, or what its absence means. */
export type ConstantSource = ConstantCalibration | { readonly status: "unstated" }

type CalibrationStatus = "fitted" | "borrowed" | "partial" | "datasheet only" | "unstated" | "off (--efficiency none)"

export interface CalibrationSummary {
  readonly status: CalibrationStatus
  /** Each constant's source, in report order. Absent when status is off. */
  readonly constants?: Readonly<Record<CalibratedConstant, ConstantSource>>
}

/** The value a constant times with, as the file sets it or as it falls back (src/timing/roofline.ts timingHardware). */
const effective = (hw: HardwareSpec, k: CalibratedConstant): { readonly value: number | string; readonly peak: boolean; readonly text: string } => {
  const e = hw.efficiency ?? {}
  const fraction = (key: "compute" | "memory" | "interconnect" | "nic") => {
    const v = e[key] ?? 1
    return { value: v, peak: v === 1, text: e[key] === undefined ? `efficiency.${key} is not set (1)` : `efficiency.${key} is ${v}` }
  }
  switch (k) {
    case "compute":
    case "memory":
    case "interconnect":
    case "nic":
      return fraction(k)
    case "attention_compute":
    case "attention_memory": {
      const own = e[k]
      if (own !== undefined) return { value: own, peak: own === 1, text: `efficiency.${k} is ${own}` }
      const gemm = fraction(k === "attention_compute" ? "compute" : "memory")
      return { ...gemm, text: `efficiency.${k} is not set and falls back to ${gemm.text.replace(/ is /, " ")}` }
    }
    case "kernel_latency_us":
    case "link_latency_us": {
      const v = e[k] ?? 0
      return { value: v, peak: v === 0, text: e[k] === undefined ? `efficiency.${k} is not set (0)` : `efficiency.${k} is ${v}` }
    }
    case "sm_load_gbps": {
      const v = e.sm_load_gbps ?? 0
      return { value: v, peak: v === 0, text: `efficiency.sm_load_gbps is ${v}` }
    }
    case "tile": {
      if (e.tile_choice === "waves") return { value: "waves", peak: false, text: "efficiency.tile_choice is waves" }
      const on = (e.tile_m ?? 0) > 0 && (e.tile_n ?? 0) > 0
      return { value: on ? `${e.tile_m}x${e.tile_n}` : "off", peak: !on, text: on ? `the tile is ${e.tile_m}x${e.tile_n}` : "the tile is off" }
    }
    case "overlap_efficiency": {
      // With one stream nothing overlaps, so the value cannot make the hardware look faster.
      const v = hw.overlap_efficiency
      return { value: v, peak: v === 1 || hw.max_concurrency < 2, text: `overlap_efficiency is ${v}` }
    }
  }
}

/** What `datasheet only` claims: the term runs at its peak (fraction 1, latency 0, no tile, full overlap). */
const atDatasheetPeak = (hw: HardwareSpec, k: CalibratedConstant): boolean => effective(hw, k).peak

/**
 * A `datasheet only` entry on a constant that is not at its peak, as the message of a positioned
 * config error (src/config/validate.ts), or undefined when the entry is consistent.
 */
export const datasheetOnlyProblem = (hw: HardwareSpec, k: CalibratedConstant): string | undefined => {
  if (hw.calibration?.[k]?.status !== "datasheet only") return undefined
  const v = effective(hw, k)
  return v.peak
    ? undefined
    : `Expected fitted or borrowed: ${v.text}, not the datasheet peak (datasheet only means the term runs at its peak: fraction 1, latency 0, no tile, full overlap)`
}

export const calibrationSummary = (hw: HardwareSpec, mode: EfficiencyMode): CalibrationSummary => {
  if (mode === "none") return { status: "off (--efficiency none)" }
  const constants = {} as Record<CalibratedConstant, ConstantSource>
  for (const k of CALIBRATED_CONSTANTS) {
    constants[k] = hw.calibration?.[k] ?? (atDatasheetPeak(hw, k) ? { status: "datasheet only" } : { status: "unstated" })
  }
  const statuses = Object.values(constants).map((c) => c.status)
  const sourced = statuses.filter((s) => s === "fitted" || s === "borrowed").length
  const status: CalibrationStatus =
    sourced === statuses.length
      ? statuses.every((s) => s === "fitted")
        ? "fitted"
        : "borrowed"
      : sourced > 0
        ? "partial"
        : statuses.includes("unstated")
          ? "unstated"
          : "datasheet only"
  return { status, constants }
}

/** Fitted or borrowed throughout: what `sweep --require-calibrated` accepts. */
export const isCalibrated = (s: CalibrationSummary): boolean => s.status === "fitted" || s.status === "borrowed"

/** The constants with no measurement behind them (datasheet only or unstated), in report order. */
export const unsourcedConstants = (s: CalibrationSummary): Array<CalibratedConstant> =>
  s.constants === undefined ? [...CALIBRATED_CONSTANTS] : CALIBRATED_CONSTANTS.filter((k) => !["fitted", "borrowed"].includes(s.constants![k].status))

/** The data files a fit names (`data/reference/flashmla.yaml:112-121 + ...` -> flashmla.yaml), else the dataset text. */
export const datasetFiles = (dataset: string): Array<string> => {
  const files = [...dataset.matchAll(/[\w.-]+\.(?:csv|yaml|yml|json|jsonl)\b/g)].map((m) => m[0])
  return files.length > 0 ? [...new Set(files)] : [dataset]
}

const STATUS_ORDER: ReadonlyArray<ConstantStatus> = ["fitted", "borrowed", "datasheet only", "unstated"]

/** `fitted compute, memory (data: a.csv); borrowed tile (from H800-SXM); datasheet only nic, link_latency_us (...)`. */
const groupsText = (constants: Readonly<Record<CalibratedConstant, ConstantSource>>): string => {
  const groups = STATUS_ORDER.flatMap((status) => {
    const names = CALIBRATED_CONSTANTS.filter((k) => constants[k].status === status)
    return names.length === 0 ? [] : [{ status, names }]
  })
  return groups
    .map(({ status, names }) => {
      const sources = names.map((k) => constants[k])
      const detail =
        status === "fitted"
          ? ` (data: ${[...new Set(sources.flatMap((c) => (c.status === "fitted" ? datasetFiles(c.dataset) : [])))].join(", ")})`
          : status === "borrowed"
            ? ` (from ${[...new Set(sources.flatMap((c) => (c.status === "borrowed" ? [c.from] : [])))].join(", ")})`
            : status === "datasheet only"
              ? " (at the datasheet peak)"
              : " (set, source not stated)"
      // One status for every constant: the hardware's status already names it.
      return groups.length === 1 ? `every constant${detail}` : `${status} ${names.join(", ")}${detail}`
    })
    .join("; ")
}

/** The body of the calibration line: `partial: fitted compute (data: ...); datasheet only memory, ...`. */
export const calibrationText = (s: CalibrationSummary): string =>
  s.constants === undefined ? `${s.status}: every constant at its datasheet peak` : `${s.status}: ${groupsText(s.constants)}`

/** One header line of `run` (and the playbooks): `calibration partial: fitted compute (data: ...); ...`. */
export const calibrationLine = (s: CalibrationSummary): string => `calibration ${calibrationText(s)}`

/** Constants whose source differs between compared hardware, grouped when they differ the same way. */
export interface CalibrationDifference {
  readonly constants: ReadonlyArray<CalibratedConstant>
  /** Per hardware (by its sweep value), how that constant was obtained. */
  readonly by_hardware: Readonly<Record<string, string>>
}

/** A fit's data and kernels, to tell fits apart: `deepgemm_dense_h800.csv (DeepGEMM 989c9e3)`. */
const fitData = (c: ConstantSource): string | undefined =>
  c.status === "fitted" ? `${datasetFiles(c.dataset).join(" + ")}${c.measured_with === undefined ? "" : ` (${c.measured_with})`}` : undefined

/**
 * Where hardware compared side by side (a sweep's hardware axis) differ in calibration: for each
 * constant, each hardware's status when they are not all the same, and the data and kernels of
 * each fit when fits on different data meet; constants that differ the same way are one entry.
 * Hardware under `--efficiency none` (no constants) compare equal.
 */
export const calibrationDifferences = (byHardware: Readonly<Record<string, CalibrationSummary>>): Array<CalibrationDifference> => {
  const names = Object.keys(byHardware)
  if (names.length < 2 || names.some((n) => byHardware[n].constants === undefined)) return []
  const groups = new Map<string, { constants: Array<CalibratedConstant>; by_hardware: Record<string, string> }>()
  for (const k of CALIBRATED_CONSTANTS) {
    const sources = names.map((n) => byHardware[n].constants![k])
    const fits = new Set(sources.flatMap((c) => fitData(c) ?? []))
    const showData = fits.size > 1
    const by = Object.fromEntries(
      names.map((n, i) => {
        const c = sources[i]
        const how = c.status === "borrowed" ? `borrowed from ${c.from}` : c.status === "fitted" && showData ? `fitted on ${fitData(c)}` : c.status
        return [n, how]
      })
    )
    if (new Set(sources.map((c) => c.status)).size === 1 && !showData) continue
    const key = JSON.stringify(by)
    const g = groups.get(key)
    if (g === undefined) groups.set(key, { constants: [k], by_hardware: by })
    else g.constants.push(k)
  }
  return [...groups.values()]
}

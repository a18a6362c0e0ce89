/**
 * Where a hardware file's timing constants come from, as table rows for the HTML pages: a run's
 * constants with their values, and a sweep's hardware side by side (src/timing/calibration.ts).
 */
import { CALIBRATED_CONSTANTS } from "../schema/hardware.ts"
import type { CalibrationSummary, ConstantSource } from "../timing/calibration.ts"
import type { EfficiencySummary } from "../timing/efficiency.ts"

/** A table of the page: header cells and rows of text cells (escaped when written). */
export interface TextTable {
  readonly headers: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

const pct = (x: number) => `${x.toFixed(1)}%`

/** A fit's error: `median 2.8%, p90 7.9%; held out median 3.9%, p90 11.8%`. */
const errorText = (e: { median_pct: number; p90_pct?: number; held_out_median_pct?: number; held_out_p90_pct?: number }): string => {
  const inSample = `median ${pct(e.median_pct)}${e.p90_pct === undefined ? "" : `, p90 ${pct(e.p90_pct)}`}`
  const held =
    e.held_out_median_pct === undefined
      ? "; no held-out error"
      : `; held out median ${pct(e.held_out_median_pct)}${e.held_out_p90_pct === undefined ? "" : `, p90 ${pct(e.held_out_p90_pct)}`}`
  return inSample + held
}

/** One constant's source in words. */
const sourceText = (c: ConstantSource): string => {
  switch (c.status) {
    case "fitted":
      return `${c.rows} row${c.rows === 1 ? "" : "s"} of ${c.dataset}${c.measured_with === undefined ? "" : ` (${c.measured_with})`}: ${errorText(c.error)}${c.note === undefined ? "" : `; ${c.note}`}`
    case "borrowed":
      return `from ${c.from}: ${c.why}`
    case "datasheet only":
      return c.why ?? "no measurement: the term runs at its datasheet peak"
    case "unstated":
      return "set in the file with no calibration entry: its source is not stated"
  }
}

/** A run's constants: name, value (src/timing/efficiency.ts), status and source. */
export const runCalibrationTable = (c: CalibrationSummary, e: EfficiencySummary | undefined): TextTable | undefined =>
  c.constants === undefined
    ? undefined
    : {
        headers: ["constant", "value", "status", "source"],
        rows: CALIBRATED_CONSTANTS.map((k) => [k, String(e?.constants?.[k] ?? "-"), c.constants![k].status, sourceText(c.constants![k])])
      }

/** A sweep's hardware side by side: one row per constant, one column per hardware (its status and source). */
export const sweepCalibrationTable = (byHardware: Readonly<Record<string, CalibrationSummary>>): TextTable | undefined => {
  const names = Object.keys(byHardware)
  if (names.length === 0 || names.some((n) => byHardware[n].constants === undefined)) return undefined
  return {
    headers: ["constant", ...names],
    rows: [
      ["status", ...names.map((n) => byHardware[n].status)],
      ...CALIBRATED_CONSTANTS.map((k) => [
        k,
        ...names.map((n) => {
          const c = byHardware[n].constants![k]
          return `${c.status}: ${sourceText(c)}`
        })
      ])
    ]
  }
}

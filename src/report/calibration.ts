/**
 * The text report of `llmsim calibrate`: per-row times before and after, the tile candidates,
 * the error summaries and the fitted `efficiency:` block. ASCII only.
 */
import { ascii, percent as pct, significant as fmt } from "../base/format.ts"
import { renderTable, type Column } from "./table.ts"
import type { CalibrationResult } from "../accuracy/calibrate.ts"
import type { AttentionCalibration } from "../accuracy/calibrateAttention.ts"
import type { OverlapCalibration } from "../accuracy/calibrateOverlap.ts"
import type { ErrorSummary } from "../reference/stats.ts"
import { gemmLabel } from "../accuracy/gemm.ts"

type RowFit = CalibrationResult["rows"][number]
const apeOf = (us: number, x: RowFit) => pct(Math.abs(us / x.row.measured_us - 1) * 100)

/** Each measured row: the time and error before and after the fit. */
const ROW_COLUMNS: ReadonlyArray<Column<RowFit>> = [
  { header: "shape", align: "left", format: (x) => gemmLabel(x.row) },
  { header: "kind", align: "left", format: (x) => x.row.kind },
  { header: "measured", unit: "us", format: (x) => fmt(x.row.measured_us) },
  { header: "before", unit: "us", format: (x) => fmt(x.before_us) },
  { header: "before APE", format: (x) => apeOf(x.before_us, x) },
  { header: "after", unit: "us", format: (x) => fmt(x.after_us) },
  { header: "after APE", format: (x) => apeOf(x.after_us, x) }
]

/**
 * The `calibration:` entries of the constants a fit set (configs/README.md "Calibration"): status
 * fitted, the data, its rows, the error after the fit and, with --loo, held out. Printed under the
 * fitted values, to paste beside them.
 */
const fittedCalibrationBlock = (
  names: ReadonlyArray<string>,
  fit: { readonly dataset: string; readonly rows: number; readonly after: ErrorSummary; readonly loo?: ErrorSummary | undefined }
): string => {
  const r1 = (x: number) => Number(x.toFixed(1))
  const error = [
    `median_pct: ${r1(fit.after.median_ape)}`,
    `p90_pct: ${r1(fit.after.p90_ape)}`,
    ...(fit.loo === undefined ? [] : [`held_out_median_pct: ${r1(fit.loo.median_ape)}`, `held_out_p90_pct: ${r1(fit.loo.p90_ape)}`])
  ].join(", ")
  const entry = `{status: fitted, dataset: ${JSON.stringify(fit.dataset)}, rows: ${fit.rows}, error: {${error}}}`
  return ["calibration:", ...names.map((n) => `  ${n}: ${entry}`)].join("\n") + "\n"
}

const summaryText = (s: CalibrationResult["before_summary"]) => `median ${pct(s.median_ape)}, p90 ${pct(s.p90_ape)}, max ${pct(s.max_ape)}`

export const renderCalibration = (
  r: CalibrationResult,
  header: string,
  block: string,
  skipped: ReadonlyArray<string>,
  loo?: ErrorSummary,
  dataset?: string
): string => {
  const lines = [header, ""]
  lines.push(renderTable(ROW_COLUMNS, r.rows))
  if (r.tiles.length > 0) {
    lines.push("", "tile candidates (log-time loss with their best continuous constants):")
    for (const t of r.tiles) lines.push(`  ${t.tile_m}x${t.tile_n}  ${t.loss.toFixed(4)}`)
  }
  lines.push(
    "",
    `error before: ${summaryText(r.before_summary)} (log-time loss ${r.before_loss.toFixed(4)})`,
    `error after:  ${summaryText(r.after_summary)} (log-time loss ${r.after_loss.toFixed(4)})`
  )
  if (loo !== undefined) lines.push(`leave-one-out: ${summaryText(loo)} (each row predicted by constants fitted without it)`)
  for (const s of skipped) lines.push(`not used: ${s}`)
  lines.push("", block.trimEnd())
  if (dataset !== undefined) {
    const names = r.fit.map((f) => (f === "tile" ? "tile" : f))
    lines.push(fittedCalibrationBlock(names, { dataset, rows: r.rows.length, after: r.after_summary, loo }).trimEnd())
  }
  return ascii(lines.join("\n")) + "\n"
}

type AttentionRowFit = AttentionCalibration["rows"][number]
const ATTENTION_COLUMNS: ReadonlyArray<Column<AttentionRowFit>> = [
  { header: "case", align: "left", format: (x) => x.label },
  { header: "source", align: "left", format: (x) => x.source },
  { header: "measured", unit: "us", format: (x) => fmt(x.measured_us) },
  { header: "before", unit: "us", format: (x) => fmt(x.before_us) },
  { header: "before APE", format: (x) => pct(Math.abs(x.before_us / x.measured_us - 1) * 100) },
  { header: "after", unit: "us", format: (x) => fmt(x.after_us) },
  { header: "after APE", format: (x) => pct(Math.abs(x.after_us / x.measured_us - 1) * 100) },
  { header: "bound", align: "left", format: (x) => x.bound }
]

/**
 * One fitted attention fraction, or, when no row is bound by its roof, a commented line: the
 * search leaves such a fraction wherever it stopped, so it is not a fitted value to copy (the
 * file should leave it unset: attention then takes the GEMM fraction).
 */
const fractionLine = (name: string, value: number, boundRows: number, roof: string): string =>
  boundRows > 0
    ? `  ${`${name}: ${value}`.padEnd(28)} # fitted: calibrate --attention (rows above)`
    : `  # ${name}: not identified (no row is ${roof}-bound): leave it unset`

/** The text report of `llmsim calibrate --attention`: rows, errors and the fitted lines. */
export const renderAttentionCalibration = (r: AttentionCalibration, header: string, dataset?: string): string => {
  const bounds = (b: string) => r.rows.filter((x) => x.bound === b).length
  const lines = [
    header,
    "",
    renderTable(ATTENTION_COLUMNS, r.rows),
    "",
    `error before: ${summaryText(r.before_summary)}`,
    `error after:  ${summaryText(r.after_summary)}`,
    ...(r.leave_one_out === undefined ? [] : [`leave-one-out: ${summaryText(r.leave_one_out)} (each row predicted by constants fitted without it)`]),
    `rows bound by compute ${bounds("compute")}, by memory ${bounds("memory")} (a fraction no row is bound by is not identified by these rows)`,
    "",
    "efficiency:",
    fractionLine("attention_compute", r.after.attention_compute, bounds("compute"), "compute"),
    fractionLine("attention_memory", r.after.attention_memory, bounds("memory"), "memory"),
    ...(dataset === undefined
      ? []
      : [
          fittedCalibrationBlock(
            (["compute", "memory"] as const).filter((b) => bounds(b) > 0).map((b) => `attention_${b}`),
            { dataset, rows: r.rows.length, after: r.after_summary, loo: r.leave_one_out }
          ).trimEnd()
        ])
  ]
  return ascii(lines.join("\n")) + "\n"
}

type OverlapRowFit = OverlapCalibration["rows"][number]
const overlapApe = (x: OverlapRowFit, v: number) => pct(Math.abs(v / x.measured - 1) * 100)
const OVERLAP_COLUMNS: ReadonlyArray<Column<OverlapRowFit>> = [
  { header: "case", align: "left", format: (x) => x.case },
  { header: "role", align: "left", format: (x) => (x.held_out ? "held out" : "fitted") },
  { header: "unit", align: "left", format: (x) => x.unit },
  { header: "measured", format: (x) => fmt(x.measured) },
  { header: "before", format: (x) => fmt(x.before) },
  { header: "before APE", format: (x) => overlapApe(x, x.before) },
  { header: "after", format: (x) => fmt(x.after) },
  { header: "after APE", format: (x) => overlapApe(x, x.after) }
]

/** The text report of `llmsim calibrate --overlap`: rows (fitted and held out), errors and the fitted line. */
export const renderOverlapCalibration = (r: OverlapCalibration, header: string, dataset?: string): string => {
  const lines = [
    header,
    "",
    renderTable(OVERLAP_COLUMNS, r.rows),
    "",
    `error before (fitted rows, overlap_efficiency ${r.before}): ${summaryText(r.before_summary)}`,
    `error after  (fitted rows, overlap_efficiency ${r.after}): ${summaryText(r.after_summary)}`,
    ...(r.leave_one_out === undefined ? [] : [`leave-one-out: ${summaryText(r.leave_one_out)} (each fitted row predicted by the value fitted on the others)`]),
    "",
    `${`overlap_efficiency: ${r.after}`.padEnd(30)} # fitted: calibrate --overlap (rows above)`,
    ...(dataset === undefined
      ? []
      : [
          fittedCalibrationBlock(["overlap_efficiency"], {
            dataset,
            rows: r.rows.filter((x) => !x.held_out).length,
            after: r.after_summary,
            loo: r.leave_one_out
          }).trimEnd()
        ])
  ]
  return ascii(lines.join("\n")) + "\n"
}

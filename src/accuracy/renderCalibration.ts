/**
 * The text report of `llmsim calibrate`: per-row times before and after, the tile candidates,
 * the error summaries and the fitted `efficiency:` block. ASCII only.
 */
import { renderTable } from "../report/table.ts"
import type { CalibrationResult } from "./calibrate.ts"
import type { ErrorSummary } from "./stats.ts"
import { gemmLabel } from "./gemm.ts"
import { ascii, fmt, pct } from "./text.ts"

const summaryText = (s: CalibrationResult["before_summary"]) => `median ${pct(s.median_ape)}, p90 ${pct(s.p90_ape)}, max ${pct(s.max_ape)}`

export const renderCalibration = (
  r: CalibrationResult,
  header: string,
  block: string,
  skipped: ReadonlyArray<string>,
  loo?: ErrorSummary
): string => {
  const lines = [header, ""]
  lines.push(renderTable(
    [{ header: "shape", align: "left" }, { header: "kind", align: "left" }, { header: "measured us" }, { header: "before us" }, { header: "before APE" }, { header: "after us" }, { header: "after APE" }],
    r.rows.map((x) => [
      gemmLabel(x.row),
      x.row.kind,
      fmt(x.row.measured_us),
      fmt(x.before_us),
      pct(Math.abs(x.before_us / x.row.measured_us - 1) * 100),
      fmt(x.after_us),
      pct(Math.abs(x.after_us / x.row.measured_us - 1) * 100)
    ])
  ))
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
  return ascii(lines.join("\n")) + "\n"
}

/**
 * The shape of a validation report: per dataset, one row per modelled measurement with the
 * predicted and measured value and the absolute percentage error, the median / p90 summary,
 * and the rows left out with why.
 */
import type { ErrorSummary } from "../reference/stats.ts"
import { ape, summarise } from "../reference/stats.ts"

export interface ValidationRow {
  /** What was measured, in a few words (shape, configuration). */
  readonly case: string
  /** Hardware file the prediction used (configs/hardware/<name>.yaml). */
  readonly hardware: string
  /** Unit of `predicted` and `measured` (us, GB/s, TFLOPS, tokens/s per node). */
  readonly unit: string
  readonly predicted: number
  readonly measured: number
  /** |predicted / measured - 1| * 100. */
  readonly ape: number
  /** `file:line` of the measurement in the reference folder. */
  readonly source: string
  readonly note: string
}

interface SkippedGroup {
  readonly reason: string
  readonly count: number
}

export interface DatasetReport {
  readonly id: string
  readonly title: string
  /** Reference file(s) the rows come from. */
  readonly file: string
  /** How each row is predicted (one paragraph). */
  readonly method: string
  readonly rows: ReadonlyArray<ValidationRow>
  readonly summary: ErrorSummary
  readonly skipped: ReadonlyArray<SkippedGroup>
  /** Summary per hardware file, when the rows use more than one. */
  readonly by_hardware: ReadonlyArray<{ readonly hardware: string; readonly summary: ErrorSummary }>
  /** Assumptions and sensitivity lines shown under the table (system-level checks). */
  readonly notes?: ReadonlyArray<string>
  /**
   * The hardware files whose constants were fitted on this dataset's file (their calibration
   * block names it), with those constants: its rows on that hardware are in sample. Empty: held out.
   */
  readonly in_sample?: ReadonlyArray<{ readonly hardware: string; readonly constants: ReadonlyArray<string> }>
}

/** `held out`, or `in sample: H800-SXM (compute, memory)`. */
export const sampleText = (d: Pick<DatasetReport, "in_sample">): string =>
  d.in_sample === undefined || d.in_sample.length === 0
    ? "held out"
    : `in sample: ${d.in_sample.map((x) => `${x.hardware} (${x.constants.join(", ")})`).join("; ")}`

export const row = (r: Omit<ValidationRow, "ape">): ValidationRow => ({ ...r, ape: ape(r.predicted, r.measured) })

/** Count skip reasons, in order of first appearance. */
const groupSkipped = (reasons: ReadonlyArray<string>): Array<SkippedGroup> => {
  const counts = new Map<string, number>()
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1)
  return [...counts.entries()].map(([reason, count]) => ({ reason, count }))
}

export const dataset = (d: Omit<DatasetReport, "summary" | "skipped" | "by_hardware">, skippedReasons: ReadonlyArray<string>): DatasetReport => {
  const names = [...new Set(d.rows.map((r) => r.hardware))].sort()
  return {
    ...d,
    summary: summarise(d.rows.map((r) => r.ape)),
    by_hardware:
      names.length < 2 ? [] : names.map((hardware) => ({ hardware, summary: summarise(d.rows.filter((r) => r.hardware === hardware).map((r) => r.ape)) })),
    skipped: groupSkipped(skippedReasons)
  }
}

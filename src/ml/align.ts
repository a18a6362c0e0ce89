/**
 * Measurements joined to feature rows, and the aligned CSV a model trains on. Pure.
 *
 * Measurement CSV (docs/ml-estimator.md): one row per measured kernel call,
 *
 *   kind, hardware, <shape columns>, measured_us      (+ optional source, note)
 *
 * `kind` is an op kind (`linear`, `mla_attention_decode`, ...); `hardware` a hardware file's
 * name (`H800-SXM`) or a label the reference data uses (`H800 SXM`); every other column is a
 * shape parameter of the op: one of its params as `llmsim ops` and the features' `shape` column
 * show them (`tokens`, `in_features`, `kv_len`, ...), or `m`, `n`, `k`, `groups` for the op's
 * first GEMM. A measurement matches the first feature row with the same kind and hardware whose
 * shape agrees on every non-empty shape column; rows that match none are reported with why.
 *
 * Aligned CSV: the feature columns (features.ts), then `measured_us` and `source` (file:line of
 * the measurement).
 *
 * Every measured time, and the hardware figures an aligned row carries, must lie in its physical
 * range (src/schema/physical.ts): a measurement of 1e308 us would train a model that predicts
 * absurd times. Such a value is an error at its `file:line:col`, never a row.
 */
import { fieldAt, type CsvRecord, type CsvTable } from "../reference/csv.ts"
import { physicalProblem, type PhysicalKind } from "../schema/physical.ts"
import { hardwareFileFor } from "../reference/hardware.ts"
import { FEATURE_COLUMNS, featureRowOf, featuresCsv, parseShape, type FeatureRow } from "./features.ts"
import type { TrainingRow } from "./model.ts"

const ALIGNED_COLUMNS = [...FEATURE_COLUMNS, "measured_us", "source"] as const

/** Measurement columns that are not shape parameters. */
const RESERVED = new Set(["kind", "hardware", "measured_us", "source", "note"])
/** Shape columns naming the op's first GEMM rather than a param. */
const GEMM_COLUMNS: Readonly<Record<string, keyof FeatureRow>> = { m: "gemm_m", n: "gemm_n", k: "gemm_k", groups: "gemm_groups" }

export interface AlignedRow extends TrainingRow {
  readonly source: string
}

export interface Unmatched {
  readonly line: number
  readonly reason: string
}

const shapeValue = (row: FeatureRow, column: string): number | string | undefined => {
  const params = parseShape(row.shape)
  if (Object.hasOwn(params, column)) return params[column]
  const g = GEMM_COLUMNS[column]
  return g === undefined ? undefined : (row[g] ?? undefined)
}

const sameValue = (a: number | string | undefined, text: string): boolean => a !== undefined && (typeof a === "number" ? Number(text) === a : a === text)

/** Columns of a measurement or aligned row that are physical quantities, and their kind. */
const PHYSICAL_COLUMNS: ReadonlyArray<readonly [string, PhysicalKind]> = [
  ["measured_us", "kernel_us"],
  ["hw_peak_tflops", "tflops"],
  ["hw_memory_bandwidth_gbps", "gbps"],
  ["hw_kernel_latency_us", "latency_us"]
]

/** The first physical column of `r` outside its range, as `file:line:col column: Expected ...`; a number column left empty is not checked here. */
const physicalError = (file: string, r: CsvRecord, columns: ReadonlyArray<readonly [string, PhysicalKind]>): string | undefined => {
  for (const [c, kind] of columns) {
    const text = r.values[c]
    if (text === undefined || (text === "" && c !== "measured_us")) continue
    const x = text === "" ? Number.NaN : Number(text)
    const problem = physicalProblem(kind, x, false, JSON.stringify(text))
    if (problem !== undefined) return `${fieldAt(file, r, c)} ${c}: ${problem}`
  }
  return undefined
}

/**
 * Join each measurement row to a feature row; `file` names the measurement file in sources and
 * reasons. A measured time outside its physical range is the answer (the error), not a row.
 */
export const alignMeasurements = (
  table: CsvTable,
  features: ReadonlyArray<FeatureRow>,
  file: string
): { readonly aligned: ReadonlyArray<AlignedRow>; readonly unmatched: ReadonlyArray<Unmatched> } | string => {
  for (const c of ["kind", "hardware", "measured_us"]) {
    if (!table.columns.includes(c)) return `${file}: column ${c} is missing (a measurement CSV has kind, hardware, shape columns and measured_us)`
  }
  const shapeColumns = table.columns.filter((c) => !RESERVED.has(c))
  const ops = features.filter((r) => r.level === "op")
  const aligned: Array<AlignedRow> = []
  const unmatched: Array<Unmatched> = []
  for (const r of table.rows) {
    const v = r.values
    const bad = physicalError(file, r, PHYSICAL_COLUMNS.slice(0, 1))
    if (bad !== undefined) return bad
    const measured = Number(v.measured_us)
    const hardware = hardwareFileFor(v.hardware) ?? v.hardware
    const ofKind = ops.filter((o) => o.kind === v.kind)
    if (ofKind.length === 0) {
      unmatched.push({ line: r.line, reason: `no op of kind ${v.kind} in the features` })
      continue
    }
    const onHw = ofKind.filter((o) => o.hardware === hardware)
    if (onHw.length === 0) {
      unmatched.push({
        line: r.line,
        reason: `no ${v.kind} op on hardware ${hardware} (the features are for ${[...new Set(ofKind.map((o) => o.hardware))].join(", ")})`
      })
      continue
    }
    const given = shapeColumns.filter((c) => v[c] !== "")
    const unknown = given.find((c) => shapeValue(onHw[0], c) === undefined)
    if (unknown !== undefined) {
      unmatched.push({ line: r.line, reason: `${unknown} is not a shape parameter of ${v.kind}` })
      continue
    }
    const hit = onHw.find((o) => given.every((c) => sameValue(shapeValue(o, c), v[c])))
    if (hit === undefined) {
      unmatched.push({ line: r.line, reason: `no ${v.kind} op on ${hardware} with ${given.map((c) => `${c}=${v[c]}`).join(" ")}` })
      continue
    }
    aligned.push({ features: hit, measured_us: measured, source: `${file}:${r.line}` })
  }
  return { aligned, unmatched }
}

/** The aligned CSV text of training rows. */
export const alignedCsv = (rows: ReadonlyArray<AlignedRow>): string =>
  featuresCsv(
    rows.map((r) => ({ ...r.features, measured_us: r.measured_us, source: r.source })),
    ALIGNED_COLUMNS
  )

/** Training rows of an aligned CSV, or the first problem as `file:line: ...`. */
export const readAligned = (table: CsvTable, file: string): ReadonlyArray<AlignedRow> | string => {
  const missing = ALIGNED_COLUMNS.find((c) => c !== "source" && !table.columns.includes(c))
  if (missing !== undefined) return `${file}: column ${missing} is missing (expected the columns llmsim features --align writes)`
  if (table.rows.length === 0) return `${file}: no data rows`
  const out: Array<AlignedRow> = []
  for (const r of table.rows) {
    const features = featureRowOf(r.values)
    if (typeof features === "string") return `${file}:${r.line}: ${features}`
    const bad = physicalError(file, r, PHYSICAL_COLUMNS)
    if (bad !== undefined) return bad
    const measured = Number(r.values.measured_us)
    out.push({ features, measured_us: measured, source: r.values.source ?? `${file}:${r.line}` })
  }
  return out
}

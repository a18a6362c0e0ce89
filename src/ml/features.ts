/**
 * The feature row of one fused op (or one layer): what a learned estimator sees of it, and what
 * `llmsim features` writes. Pure: an op's spec, its exact cost and the hardware's timing slice
 * in, one flat row out.
 *
 * The column set is fixed and versioned (FEATURE_SCHEMA_VERSION; docs/ml-estimator.md lists every
 * column): shape parameters of every op kind go into one `shape` column (`name=value` pairs), and
 * the first GEMM of a GEMM-like op into the `gemm_*` columns, so the columns do not depend on
 * which op kinds a scenario has. Times are the analytic roofline's (src/timing/roofline.ts) on
 * the same hardware slice the simulator times the op with.
 */
import { csvTable } from "../base/csv.js"
import type { OpCost, OpParams } from "../ops/types.ts"
import { timeOp, type TimingHardware } from "../timing/roofline.ts"

/** Bump when a column is added, removed or changes meaning (a model records the version it was trained on). */
export const FEATURE_SCHEMA_VERSION = 1

export const FEATURE_COLUMNS = [
  "schema_version",
  "level",
  "scenario",
  "phase",
  "batch_size",
  "seq_len",
  "layer",
  "op",
  "kind",
  "category",
  "hardware",
  "math_dtype",
  "shape",
  "gemm_m",
  "gemm_n",
  "gemm_k",
  "gemm_groups",
  "flops",
  "bytes_read",
  "bytes_written",
  "comm_bytes",
  "arithmetic_intensity_flops_per_byte",
  "analytic_compute_us",
  "analytic_memory_us",
  "analytic_comm_us",
  "analytic_us",
  "hw_peak_tflops",
  "hw_memory_bandwidth_gbps",
  "hw_sm_count",
  "hw_kernel_latency_us"
] as const

type FeatureColumn = (typeof FEATURE_COLUMNS)[number]

/** Text columns; every other column is a number (an empty CSV field when not applicable: gemm_* of a non-GEMM op). */
const TEXT_COLUMNS: ReadonlySet<FeatureColumn> = new Set(["level", "scenario", "phase", "layer", "op", "kind", "category", "hardware", "math_dtype", "shape"])

export type FeatureRow = {
  readonly [C in FeatureColumn]: C extends "level" | "scenario" | "phase" | "layer" | "op" | "kind" | "category" | "hardware" | "math_dtype" | "shape"
    ? string
    : number | null
}

/** Where a row sits: the scenario, phase, runtime point and layer it comes from (empty / null for a measurement). */
export interface RowPlace {
  readonly scenario: string
  readonly phase: string
  readonly batch_size: number | null
  readonly seq_len: number | null
  readonly layer: string
}

/** The place of a row that comes from no scenario (a measurement, or an op timed by an estimator). */
export const NO_PLACE: RowPlace = { scenario: "", phase: "", batch_size: null, seq_len: null, layer: "" }

/** `name=value` pairs of an op's params, in the spec's order, space separated. */
const shapeText = (params: OpParams): string =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")

/** The params of a `shape` text, numbers where they parse as numbers. */
export const parseShape = (text: string): Record<string, number | string> => {
  const out: Record<string, number | string> = {}
  for (const pair of text.split(" ")) {
    const i = pair.indexOf("=")
    if (i <= 0) continue
    const v = pair.slice(i + 1)
    out[pair.slice(0, i)] = v !== "" && Number.isFinite(Number(v)) ? Number(v) : v
  }
  return out
}

/** The feature row of one op: kind and params (an OpSpec's), its cost, the hardware (name and timing slice). */
export const opFeatureRow = (
  place: RowPlace,
  op: { readonly name: string; readonly kind: string; readonly category: string; readonly params: OpParams },
  cost: OpCost,
  hardware: string,
  hw: TimingHardware
): FeatureRow => {
  const t = timeOp(cost, hw, op)
  const bytes = cost.bytes_read + cost.bytes_written
  const g = cost.gemms !== undefined && cost.gemms.length > 0 ? cost.gemms[0] : undefined
  return {
    schema_version: FEATURE_SCHEMA_VERSION,
    level: "op",
    ...place,
    op: op.name,
    kind: op.kind,
    category: op.category,
    hardware,
    math_dtype: cost.math_dtype ?? "",
    shape: shapeText(op.params),
    gemm_m: g?.m ?? null,
    gemm_n: g?.n ?? null,
    gemm_k: g?.k ?? null,
    gemm_groups: g?.groups ?? null,
    flops: cost.flops,
    bytes_read: cost.bytes_read,
    bytes_written: cost.bytes_written,
    comm_bytes: cost.comm_bytes,
    arithmetic_intensity_flops_per_byte: bytes > 0 ? cost.flops / bytes : null,
    analytic_compute_us: t.compute_time_ms * 1e3,
    analytic_memory_us: t.memory_time_ms * 1e3,
    analytic_comm_us: t.comm_time_ms * 1e3,
    analytic_us: t.dominant_latency_ms * 1e3,
    hw_peak_tflops: hw.tflops[cost.math_dtype ?? "bf16"] ?? hw.tflops.bf16,
    hw_memory_bandwidth_gbps: hw.memory_bandwidth_gbps,
    hw_sm_count: hw.sm_count,
    hw_kernel_latency_us: hw.kernel_latency_us
  }
}

const sum = (
  rows: ReadonlyArray<FeatureRow>,
  c: "flops" | "bytes_read" | "bytes_written" | "comm_bytes" | "analytic_compute_us" | "analytic_memory_us" | "analytic_comm_us" | "analytic_us"
): number => rows.reduce((a, r) => a + (r[c] ?? 0), 0)

/** A layer's row: its ops' totals (times summed serially, as one stream runs them), kind = the layer type. */
export const layerFeatureRow = (place: RowPlace, layerType: string, ops: ReadonlyArray<FeatureRow>, hardware: string, hw: TimingHardware): FeatureRow => {
  const flops = sum(ops, "flops")
  const bytes = sum(ops, "bytes_read") + sum(ops, "bytes_written")
  return {
    schema_version: FEATURE_SCHEMA_VERSION,
    level: "layer",
    ...place,
    op: "",
    kind: layerType,
    category: "",
    hardware,
    math_dtype: "",
    shape: "",
    gemm_m: null,
    gemm_n: null,
    gemm_k: null,
    gemm_groups: null,
    flops,
    bytes_read: sum(ops, "bytes_read"),
    bytes_written: sum(ops, "bytes_written"),
    comm_bytes: sum(ops, "comm_bytes"),
    arithmetic_intensity_flops_per_byte: bytes > 0 ? flops / bytes : null,
    analytic_compute_us: sum(ops, "analytic_compute_us"),
    analytic_memory_us: sum(ops, "analytic_memory_us"),
    analytic_comm_us: sum(ops, "analytic_comm_us"),
    analytic_us: sum(ops, "analytic_us"),
    hw_peak_tflops: hw.tflops.bf16,
    hw_memory_bandwidth_gbps: hw.memory_bandwidth_gbps,
    hw_sm_count: hw.sm_count,
    hw_kernel_latency_us: hw.kernel_latency_us
  }
}

/** A CSV field: quoted when it holds a comma, a quote or a space-free-breaking character (RFC 4180). */

/** Rows as CSV: a `#` line naming the schema version, the header, one line per row. */
export const featuresCsv = (rows: ReadonlyArray<Record<string, string | number | null>>, columns: ReadonlyArray<string> = FEATURE_COLUMNS): string =>
  `# llmsim features, schema ${FEATURE_SCHEMA_VERSION} (docs/ml-estimator.md)\n` + csvTable(columns, rows)

/** Rows as JSON Lines, fields in column order. */
export const featuresJsonl = (rows: ReadonlyArray<Record<string, string | number | null>>, columns: ReadonlyArray<string> = FEATURE_COLUMNS): string =>
  rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))).join("\n") + (rows.length > 0 ? "\n" : "")

/**
 * A feature row from CSV fields (an aligned file read back), or the first problem: a missing
 * column, a number column that does not parse, a schema version this build does not read.
 */
export const featureRowOf = (values: Readonly<Record<string, string>>): FeatureRow | string => {
  const out: Record<string, string | number | null> = {}
  for (const c of FEATURE_COLUMNS) {
    const v = values[c]
    if (v === undefined) return `column ${c} is missing`
    if (TEXT_COLUMNS.has(c)) out[c] = v
    else if (v === "") out[c] = null
    else {
      const n = Number(v)
      if (!Number.isFinite(n)) return `${c} is "${v}", expected a number`
      out[c] = n
    }
  }
  if (out.schema_version !== FEATURE_SCHEMA_VERSION) return `schema_version is ${out.schema_version}, this llmsim reads ${FEATURE_SCHEMA_VERSION}`
  return out as FeatureRow
}

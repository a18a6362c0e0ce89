/**
 * A sweep's rows on disk: every point as CSV or JSON Lines, streamed (constant memory), with a
 * fixed column set (names carry units). A JSON Lines file starts with one header line
 * `{"llmsim_sweep": {...}}` naming the sweep (src/sweep/run.ts SweepHeader: its inputs, code,
 * digests, shard and points) so `llmsim sweep merge` can rebuild the sweep and check the shards
 * against it (src/sweep/merge.ts, the schemas in src/sweep/shardFile.ts).
 */
import { openAtomic } from "../base/atomicFile.js"
import { csvRecord } from "../base/csv.js"
import type { AxisName } from "./axes.ts"
import { EXTRA_AXES, type Row } from "./judge.ts"

/** Columns after the swept extra axes, in order. */
const RESULT_COLUMNS = [
  "hardware",
  "model",
  "strategy",
  "batch",
  "seq",
  "output",
  "tp",
  "dp",
  "ep",
  "gpus",
  "ttft_ms",
  "tpot_ms",
  "tokens_per_s_per_gpu",
  "tokens_per_s_per_user",
  "prefill_tokens_per_s_per_gpu",
  "memory_per_gpu_bytes",
  "weights_bytes",
  "kv_cache_bytes",
  "activation_bytes",
  "comm_buffer_bytes",
  "capacity_bytes",
  "fits_in_hbm",
  "max_batch",
  "bottleneck",
  "price_per_gpu_hour_usd",
  "cost_per_1m_output_tokens_usd",
  "cost_per_1m_input_tokens_usd",
  "feasible",
  "rejected_by",
  "invalid"
] as const

export const columnsFor = (swept: ReadonlyArray<AxisName>): Array<string> => ["index", ...EXTRA_AXES.filter((a) => swept.includes(a)), ...RESULT_COLUMNS]

export type RowFormat = "csv" | "jsonl"

/** The format a points file's name asks for (`.csv`, else JSON Lines). */
const formatOf = (file: string): RowFormat => (file.toLowerCase().endsWith(".csv") ? "csv" : "jsonl")

/** A cell as a JSON Lines row writes it (a non-finite number and a missing value as null). */
export const jsonValue = (v: unknown): string =>
  typeof v === "number" ? (Number.isFinite(v) ? String(v) : "null") : v === undefined ? "null" : JSON.stringify(v)

/**
 * One row as a line of `format`, fields in `columns` order: CSV cells, or a JSON object written
 * field by field (the same text JSON.stringify gives for these keys, without building a copy:
 * a sweep writes a million of them).
 */
export const rowLine = (r: Row, format: RowFormat, columns: ReadonlyArray<string>): string => {
  const rec = r as unknown as Record<string, unknown>
  if (format === "csv") return csvRecord(columns.map((c) => rec[c]))
  let out = "{"
  for (let i = 0; i < columns.length; i++) out += `${i === 0 ? "" : ","}"${columns[i]}":${jsonValue(rec[columns[i]])}`
  return out + "}\n"
}

export interface RowWriter {
  readonly format: RowFormat
  readonly columns: ReadonlyArray<string>
  /** Append formatted lines (rowLine). */
  readonly write: (text: string) => void
  /** Flush and move the file into place. */
  readonly close: () => void
  /** Remove the partial file (a failed or interrupted sweep leaves nothing half-written). */
  readonly abort: () => void
}

/**
 * Stream rows to `file` through the one writer (src/base/atomicFile.js): a temp file renamed
 * into place by close, so an interrupted sweep leaves nothing half-written; a symlink is written
 * through and a FIFO or directory refused, as --out.
 */
export const openRowWriter = (file: string, columns: ReadonlyArray<string>, header: unknown): RowWriter => {
  const format = formatOf(file)
  const w = openAtomic(file)
  try {
    w.write(format === "csv" ? csvRecord(columns) : JSON.stringify({ llmsim_sweep: header }) + "\n")
  } catch (e) {
    w.abort()
    throw e
  }
  return { format, columns, write: (text) => w.write(text), close: () => void w.commit(), abort: w.abort }
}

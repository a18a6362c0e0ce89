/**
 * A small CSV reader for the reference tables: RFC 4180 fields (quoted fields may hold commas
 * and doubled quotes), `#` comment lines before and between rows, a header row naming columns.
 * Pure: text in, records out.
 */

export interface CsvTable {
  readonly columns: ReadonlyArray<string>
  /** One record per data row, keyed by column name; `line` is the 1-based line in the file. */
  readonly rows: ReadonlyArray<CsvRecord>
}

export interface CsvRecord {
  readonly line: number
  readonly values: Readonly<Record<string, string>>
  /** The 1-based character column where each field starts (for `file:line:col` errors); absent for a missing field. */
  readonly cols?: Readonly<Record<string, number>>
}

/** Fields of one CSV line; `starts`, when given, receives each field's 0-based start offset. */
export const splitCsvLine = (line: string, starts?: Array<number>): Array<string> => {
  const out: Array<string> = []
  let field = ""
  let quoted = false
  starts?.push(0)
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      out.push(field)
      field = ""
      starts?.push(i + 1)
    } else field += c
  }
  out.push(field)
  return out
}

/** Parse CSV text; the first non-comment, non-empty line is the header. */
export const parseCsv = (text: string): CsvTable => {
  const lines = text.split(/\r?\n/)
  let columns: Array<string> | undefined
  const rows: Array<CsvRecord> = []
  lines.forEach((raw, i) => {
    if (raw.trim() === "" || raw.startsWith("#")) return
    const starts: Array<number> = []
    const fields = splitCsvLine(raw, starts)
    if (columns === undefined) {
      columns = fields.map((f) => f.trim())
      return
    }
    const values: Record<string, string> = {}
    const cols: Record<string, number> = {}
    columns.forEach((c, j) => {
      values[c] = (fields[j] ?? "").trim()
      if (starts[j] !== undefined) cols[c] = starts[j] + 1
    })
    rows.push({ line: i + 1, values, cols })
  })
  return { columns: columns ?? [], rows }
}

/** A field as a finite number, or undefined when empty or not numeric. */
export const numberField = (r: CsvRecord, column: string): number | undefined => {
  const v = r.values[column]
  if (v === undefined || v === "") return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** Where a field of a record is: `file:line:col` (col 1 when the field is missing). */
export const fieldAt = (file: string, r: CsvRecord, column: string): string => `${file}:${r.line}:${r.cols?.[column] ?? 1}`

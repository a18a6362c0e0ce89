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
}

/** Fields of one CSV line. */
export const splitCsvLine = (line: string): Array<string> => {
  const out: Array<string> = []
  let field = ""
  let quoted = false
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
    const fields = splitCsvLine(raw)
    if (columns === undefined) {
      columns = fields.map((f) => f.trim())
      return
    }
    const values: Record<string, string> = {}
    columns.forEach((c, j) => {
      values[c] = (fields[j] ?? "").trim()
    })
    rows.push({ line: i + 1, values })
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

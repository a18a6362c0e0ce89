/**
 * The one CSV writer (RFC 4180 fields): every CSV llmsim prints or writes (`run --format csv`,
 * the playbooks' CSV, `sweep --points x.csv`, feature and aligned-measurement files) goes
 * through it, so a text field with a comma, a quote or a line break never splits a row. Records
 * end in LF, as most tools write them (RFC 4180 readers accept it; src/reference/csv.ts reads
 * both). Plain JavaScript: no dependency.
 */

/**
 * One field: empty for null or undefined, `String(v)` for numbers and booleans, and a text
 * quoted (its quotes doubled) when it holds a comma, a double quote, CR or LF.
 * @param {unknown} v
 * @returns {string}
 */
export const csvField = (v) => {
  if (v === null || v === undefined) return ""
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * One record: its fields, comma separated, and the line end.
 * @param {ReadonlyArray<unknown>} fields
 * @returns {string}
 */
export const csvRecord = (fields) => fields.map(csvField).join(",") + "\n"

/**
 * A whole table: the header record, then one record per row, each row's fields taken by column name.
 * @param {ReadonlyArray<string>} columns
 * @param {ReadonlyArray<object>} rows Plain records (interfaces included; a missing field is empty).
 * @returns {string}
 */
export const csvTable = (columns, rows) =>
  csvRecord(columns) + rows.map((r) => csvRecord(columns.map((c) => /** @type {Readonly<Record<string, unknown>>} */ (r)[c]))).join("")

/**
 * Tables from column specs: a plain ASCII table for terminals and a GitHub-flavoured markdown
 * table, both deterministic. A column says its header, unit, alignment and how to format a row,
 * so one spec serves the terminal and the markdown rendering of the same data.
 * Hand-written rather than a dependency: it is a few dozen lines, and every module loaded counts
 * against the start-up time of a fully cached run (see bench/).
 */

export interface Column<R = ReadonlyArray<string>> {
  readonly header: string
  /** Shown after the header, space separated (`compute` + `ms` -> `compute ms`). */
  readonly unit?: string | undefined
  /** Right (the default, for numbers) or left (text). */
  readonly align?: "left" | "right"
  /** The column's cell for a row; without it a row is an array of cells, taken by position. */
  readonly format?: (row: R) => string
}

const headerText = <R>(c: Column<R>): string => (c.unit === undefined ? c.header : `${c.header} ${c.unit}`)

const cellsOf = <R>(columns: ReadonlyArray<Column<R>>, row: R): Array<string> =>
  columns.map((c, i) => (c.format ? c.format(row) : ((row as unknown as ReadonlyArray<string>)[i] ?? "")))

/** Columns two spaces apart, a dashed rule under the header, no trailing blanks. */
export const renderTable = <R = ReadonlyArray<string>>(columns: ReadonlyArray<Column<R>>, rows: ReadonlyArray<R>): string => {
  const head = columns.map(headerText)
  const body = rows.map((r) => cellsOf(columns, r))
  const widths = head.map((h, i) => body.reduce((w, cells) => Math.max(w, cells[i].length), h.length))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => (columns[i].align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join("  ")
      .trimEnd()
  const rule = widths.map((w) => "-".repeat(w)).join("  ")
  return [line(head), rule, ...body.map(line)].join("\n")
}

export interface MarkdownOptions {
  /** The alignment row: `tight` `|---|---:|` or `spaced` `| --- | ---: |`. Default tight. */
  readonly rule?: "tight" | "spaced"
}

/** A cell cannot hold a pipe or a line break. */
const mdCell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ")

/** A markdown table; alignment as in the terminal table (right unless `left`). */
export const renderMarkdownTable = <R = ReadonlyArray<string>>(columns: ReadonlyArray<Column<R>>, rows: ReadonlyArray<R>, o: MarkdownOptions = {}): string => {
  const row = (cells: ReadonlyArray<string>) => `| ${cells.map(mdCell).join(" | ")} |`
  const marks = columns.map((c) => (c.align === "left" ? "---" : "---:"))
  return [row(columns.map(headerText)), o.rule === "spaced" ? row(marks) : `|${marks.join("|")}|`, ...rows.map((r) => row(cellsOf(columns, r)))].join("\n")
}

/** Headers only, every column left-aligned: for tables of text. */
export const leftColumns = (...headers: ReadonlyArray<string>): Array<Column> => headers.map((header) => ({ header, align: "left" }))

/** The two columns of a figure list: label left, value right. */
export const METRIC_VALUE: ReadonlyArray<Column> = [{ header: "metric", align: "left" }, { header: "value" }]

// The formats most table cells use, importable with the table (as before report/format.ts).

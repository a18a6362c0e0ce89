/**
 * A plain ASCII table: right-aligned numbers, left-aligned text, deterministic output.
 * Hand-written rather than a dependency: it is 30 lines, and every module loaded counts
 * against the start-up time of a fully cached run (see bench/).
 */
export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
}

export const renderTable = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => (columns[i].align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join("  ")
      .trimEnd()
  const rule = widths.map((w) => "-".repeat(w)).join("  ")
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join("\n")
}

/** Fixed decimals, no exponent, `-` for null. */
export const fixed = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits)

export const giga = (x: number): string => (x / 1e9).toFixed(3)
export const mega = (x: number): string => (x / 1e6).toFixed(3)
export const gb = (bytes: number): string => (bytes / 1e9).toFixed(2)

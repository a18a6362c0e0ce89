/**
 * The shared table renderer: column specs (header, unit, alignment, formatter) rendered as a
 * terminal table and as markdown, and the number formats.
 */
import { describe, expect, it } from "vitest"
import { percent, significant, signedCompact, signedFixed } from "../../src/base/format.ts"
import { leftColumns, renderMarkdownTable, renderTable, type Column } from "../../src/report/table.ts"

interface Row {
  readonly name: string
  readonly ms: number
}
const COLUMNS: ReadonlyArray<Column<Row>> = [
  { header: "layer", align: "left", format: (r) => r.name },
  { header: "time", unit: "ms", format: (r) => r.ms.toFixed(2) }
]
const ROWS: ReadonlyArray<Row> = [
  { name: "L0.attention", ms: 1.5 },
  { name: "L1|x", ms: 12 }
]

describe("renderTable", () => {
  it("fits columns to their widest cell, numbers right, text left, no trailing blanks", () => {
    expect(renderTable(COLUMNS, ROWS)).toBe(["layer         time ms", "------------  -------", "L0.attention     1.50", "L1|x            12.00"].join("\n"))
  })

  it("takes string rows by position when a column has no formatter", () => {
    expect(
      renderTable(
        [{ header: "a", align: "left" }, { header: "b" }],
        [
          ["x", "1"],
          ["yy", ""]
        ]
      )
    ).toBe("a   b\n--  -\nx   1\nyy")
  })
})

describe("renderMarkdownTable", () => {
  it("aligns like the terminal table and escapes pipes", () => {
    expect(renderMarkdownTable(COLUMNS, ROWS)).toBe(["| layer | time ms |", "|---|---:|", "| L0.attention | 1.50 |", "| L1\\|x | 12.00 |"].join("\n"))
  })

  it("can space the alignment row", () => {
    expect(renderMarkdownTable(leftColumns("a", "b"), [["1", "2\n3"]], { rule: "spaced" })).toBe("| a | b |\n| --- | --- |\n| 1 | 2 3 |")
  })
})

describe("formats", () => {
  it("significant digits, percentages", () => {
    expect([significant(1234.5), significant(0.012345), significant(0), significant(NaN)]).toEqual(["1235", "0.01235", "0", "-"])
    expect([percent(12.345), percent(Infinity)]).toEqual(["12.3%", "-"])
  })

  it("signed changes: compact (watch) and in the column's format (diff)", () => {
    expect([signedCompact(1.23456, 4), signedCompact(-0.000003, 4), signedCompact(0, 4), signedCompact(null, 4), signedCompact(2.5, 2, "%")]).toEqual([
      "+1.2346",
      "-<0.0001",
      "0",
      "",
      "+2.50%"
    ])
    const f = (x: number) => x.toFixed(2)
    expect([signedFixed(1, f), signedFixed(-1, f), signedFixed(0, f), signedFixed(null, f)]).toEqual(["+1.00", "-1.00", "0.00", "-"])
  })
})

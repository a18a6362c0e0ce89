/** The one CSV writer (src/base/csv.js) against RFC 4180's quoting rules, and read back by the reader. */
import { describe, expect, it } from "vitest"
import { csvField, csvRecord, csvTable } from "../../src/base/csv.js"
import { parseCsv } from "../../src/reference/csv.ts"

describe("csv", () => {
  it("quotes a field holding a comma, a quote, CR or LF, doubling its quotes (RFC 4180 section 2, rules 6-7)", () => {
    expect(csvField("plain")).toBe("plain")
    expect(csvField("a,b")).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField("two\nlines")).toBe('"two\nlines"')
    expect(csvField("cr\r")).toBe('"cr\r"')
  })

  it("writes numbers and booleans as text and nothing for a missing value", () => {
    expect(csvRecord([1.5, 0, true, null, undefined, "x"])).toBe("1.5,0,true,,,x\n")
  })

  it("writes a table its reader reads back field for field", () => {
    const rows = [
      { name: "L3-L60, moe", note: '"quoted"', ms: 1.25 },
      { name: "lm_head", ms: 0.5 }
    ]
    const text = csvTable(["name", "note", "ms"], rows)
    expect(text).toBe('name,note,ms\n"L3-L60, moe","""quoted""",1.25\nlm_head,,0.5\n')
    const back = parseCsv(text)
    expect(back.columns).toEqual(["name", "note", "ms"])
    expect(back.rows.map((r) => r.values)).toEqual([
      { name: "L3-L60, moe", note: '"quoted"', ms: "1.25" },
      { name: "lm_head", note: "", ms: "0.5" }
    ])
  })
})

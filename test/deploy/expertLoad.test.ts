/** The measured expert-load file (src/deploy/expertLoad.ts): its table and its errors, by hand. */
import { describe, expect, it } from "vitest"
import { parseExpertLoad } from "../../src/deploy/expertLoad.ts"

describe("expert load CSV", () => {
  it("steps x layers x experts, in the order of their values; pairs not listed routed 0 tokens", () => {
    const text = ["# recorded with SGLang", "step,layer,expert,count", "1,3,0,5", "0,3,2,7", "0,5,1,1", "1,5,0,2"].join("\n")
    // Steps 0, 1; layers 3, 5; experts 0..2.
    expect(parseExpertLoad(text, "l.csv")).toEqual([
      [
        [0, 0, 7],
        [0, 1, 0]
      ],
      [
        [5, 0, 0],
        [2, 0, 0]
      ]
    ])
  })

  it("without a step column the rows are one step of totals", () => {
    expect(parseExpertLoad("layer,expert,count\n0,0,4\n0,1,2.5", "t.csv")).toEqual([[[4, 2.5]]])
  })

  it("names the file, line, column and field of the first bad row", () => {
    expect(parseExpertLoad("layer,expert,count\n0,0,4\n0,1,-2", "t.csv")).toBe('t.csv:3:5 count: Expected a number >= 0 (tokens routed), got "-2"')
    expect(parseExpertLoad("layer,expert,count\n0,x,4", "t.csv")).toBe('t.csv:2:3 expert: Expected an integer >= 0, got "x"')
    expect(parseExpertLoad("step,layer,expert,count\n0,0,1,4\n0,0,1,5", "t.csv")).toBe(
      "t.csv:3:5 expert: Expected one row per step, layer and expert, got a second for step 0, layer 0, expert 1 (first at line 2)"
    )
    expect(parseExpertLoad("layer,count\n0,4", "t.csv")).toBe("t.csv:1:1 expert: Expected a column expert (columns: [step,] layer, expert, count)")
    expect(parseExpertLoad("layer,expert,count\n0,0,0", "t.csv")).toMatch(/^t\.csv:1:1 count: Expected some tokens routed/)
  })
})

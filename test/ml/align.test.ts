/** Joining measurements to feature rows: matches, and every reason a row is not matched. */
import { describe, expect, it } from "vitest"
import { parseCsv } from "../../src/reference/csv.ts"
import { alignedCsv, alignMeasurements, readAligned } from "../../src/ml/align.ts"
import { NO_PLACE, opFeatureRow } from "../../src/ml/features.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { linearSpec, PEAK_HW } from "./fixtures.ts"

const rows = [16, 64].map((t) => opFeatureRow(NO_PLACE, linearSpec(t), evaluateOpCost(linearSpec(t)), "H800-SXM", PEAK_HW))

const MEASURED = [
  "kind,hardware,tokens,in_features,out_features,measured_us",
  "linear,H800 SXM,64,256,512,2.5", // line 2: matches the second row (label mapped to the file name)
  "linear,H800-SXM,,,,1.5", // line 3: no shape given: the first linear op
  "rmsnorm,H800-SXM,64,,,1", // line 4
  "linear,H100-SXM,64,256,512,1", // line 5
  "linear,H800-SXM,32,256,512,1" // line 6
].join("\n")

describe("alignMeasurements", () => {
  it("matches by kind, hardware and every given shape column; says why the others do not match", () => {
    const r = alignMeasurements(parseCsv(MEASURED), rows, "m.csv")
    if (typeof r === "string") throw new Error(r)
    expect(r.aligned.map((a) => [a.features.gemm_m, a.measured_us, a.source])).toEqual([
      [64, 2.5, "m.csv:2"],
      [16, 1.5, "m.csv:3"]
    ])
    expect(r.unmatched).toEqual([
      { line: 4, reason: "no op of kind rmsnorm in the features" },
      { line: 5, reason: "no linear op on hardware H100-SXM (the features are for H800-SXM)" },
      { line: 6, reason: "no linear op on H800-SXM with tokens=32 in_features=256 out_features=512" }
    ])
  })

  it("a measured time outside a kernel's physical range (1 ns to 1,000 s) is an error at file:line:col, not a row", () => {
    const at = (value: string) => alignMeasurements(parseCsv(`${MEASURED}\nlinear,H800-SXM,64,256,512,${value}`), rows, "m.csv")
    // Line 7, the measured_us field starting at column 28 ("linear,H800-SXM,64,256,512," is 27 characters).
    const expected = (got: string) => `m.csv:7:28 measured_us: Expected a kernel time between 1e-3 and 1e9 us (its physical range), got ${got}`
    expect(at("1e308")).toBe(expected('"1e308"'))
    expect(at("-1")).toBe(expected('"-1"'))
    expect(at("5e-324")).toBe(expected('"5e-324"'))
    expect(at("")).toBe(expected('""'))
    expect(typeof at("1e9")).not.toBe("string")
  })

  it("GEMM columns m, n, k name the first GEMM; an unknown column and a missing column are reported", () => {
    const gemm = alignMeasurements(parseCsv("kind,hardware,m,n,k,measured_us\nlinear,H800-SXM,16,512,256,3"), rows, "g.csv")
    expect(typeof gemm !== "string" && gemm.aligned.map((a) => a.features.gemm_m)).toEqual([16])
    const unknown = alignMeasurements(parseCsv("kind,hardware,heads,measured_us\nlinear,H800-SXM,8,3"), rows, "u.csv")
    expect(typeof unknown !== "string" && unknown.unmatched).toEqual([{ line: 2, reason: "heads is not a shape parameter of linear" }])
    expect(alignMeasurements(parseCsv("kind,tokens\nlinear,16"), rows, "x.csv")).toBe(
      "x.csv: column hardware is missing (a measurement CSV has kind, hardware, shape columns and measured_us)"
    )
  })

  it("the aligned CSV reads back to the same training rows; a bad row names file and line", () => {
    const r = alignMeasurements(parseCsv(MEASURED), rows, "m.csv")
    if (typeof r === "string") throw new Error(r)
    const text = alignedCsv(r.aligned)
    expect(readAligned(parseCsv(text), "a.csv")).toEqual(r.aligned)
    const col = (t: string, line: number, needle: string) => t.split("\n")[line - 1]!.indexOf(needle) + 2
    const fast = text.replace(",2.5,", ",fast,")
    expect(readAligned(parseCsv(fast), "a.csv")).toBe(
      `a.csv:3:${col(fast, 3, ",fast,")} measured_us: Expected a kernel time between 1e-3 and 1e9 us (its physical range), got "fast"`
    )
    const huge = text.replace(",2.5,", ",1e308,")
    expect(readAligned(parseCsv(huge), "a.csv")).toBe(
      `a.csv:3:${col(huge, 3, ",1e308,")} measured_us: Expected a kernel time between 1e-3 and 1e9 us (its physical range), got "1e308"`
    )
    // The hardware figures an aligned row carries: a bandwidth of 2.3e-308 GB/s is not a GPU's.
    const slow = text.replace(/,100,1000,/g, ",100,2.3e-308,")
    expect(slow).not.toBe(text)
    expect(readAligned(parseCsv(slow), "a.csv")).toMatch(
      /^a\.csv:3:\d+ hw_memory_bandwidth_gbps: Expected a bandwidth between 1e-3 and 1e8 GB\/s \(its physical range\), got "2\.3e-308"$/
    )
    expect(readAligned(parseCsv("kind,measured_us\nlinear,1"), "b.csv")).toMatch(/^b\.csv: column schema_version is missing/)
  })
})

/**
 * The serving reference tables parse with the project's CSV reader and every row is usable by a
 * request-level simulator: a positive published throughput, a source at a commit, positive
 * sequence lengths, a GPU count equal to its layout's product and a hardware file that exists.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type CsvRecord, numberField, parseCsv } from "../../src/reference/csv.ts"

const REPO = path.resolve(import.meta.dirname, "..", "..")
const read = (file: string) => parseCsv(fs.readFileSync(path.join(REPO, "data", "reference", file), "utf8"))

const positive = (r: CsvRecord, column: string): number => {
  const v = numberField(r, column)
  if (v === undefined || !(v > 0)) throw new Error(`line ${r.line}: ${column} ${JSON.stringify(r.values[column])} is not a positive number`)
  return v
}
const positiveInt = (r: CsvRecord, column: string): number => {
  const v = positive(r, column)
  if (!Number.isInteger(v)) throw new Error(`line ${r.line}: ${column} ${v} is not an integer`)
  return v
}

/** Every row's common checks: throughput, source, lengths, layout product, hardware file. */
const checkRow = (r: CsvRecord, throughputColumn: string): void => {
  positive(r, throughputColumn)
  expect(r.values.source_url, `line ${r.line}`).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[0-9a-f]{40}\//)
  expect(r.values.source_version, `line ${r.line}`).not.toBe("")
  positiveInt(r, "isl")
  positiveInt(r, "osl")
  const tp = positiveInt(r, "tp")
  const pp = positiveInt(r, "pp")
  expect(positiveInt(r, "gpus"), `line ${r.line} gpus = tp * pp`).toBe(tp * pp)
  expect(fs.existsSync(path.join(REPO, r.values.hardware_config ?? "")), `line ${r.line} ${r.values.hardware_config}`).toBe(true)
}

describe("data/reference/trtllm_perf_overview.csv", () => {
  const t = read("trtllm_perf_overview.csv")

  it("every row: positive throughput, source at a commit, isl/osl > 0, gpus = tp * pp, DEP = attention DP + EP over the same ranks", () => {
    expect(t.rows.length).toBe(459)
    for (const r of t.rows) {
      checkRow(r, "published")
      expect(["trtllm_out_tps_gpu", "trtllm_total_out_tps", "trtllm_token_tps"], `line ${r.line}`).toContain(r.values.metric)
      if (r.values.layout?.startsWith("DEP")) {
        expect(r.values.attention_dp, `line ${r.line}`).toBe("true")
        expect(r.values.ep, `line ${r.line}`).toBe(r.values.tp)
      }
    }
  })

  it("one row per measurement, B200 rows in their own block after the H100/H200 rows", () => {
    const keys = t.rows.map((r) => ["source_version", "model", "hardware", "layout", "isl", "osl"].map((c) => r.values[c]).join("|"))
    expect(new Set(keys).size).toBe(keys.length)
    const firstB200 = t.rows.findIndex((r) => r.values.hardware_config === "configs/hardware/B200.yaml")
    expect(t.rows.slice(firstB200).every((r) => r.values.hardware_config === "configs/hardware/B200.yaml")).toBe(true)
    expect(t.rows.length - firstB200).toBe(98)
  })

  it("holds the six rows of the shared sample unchanged", () => {
    const sample: ReadonlyArray<readonly [string, string, string, number, number, number]> = [
      ["Llama-3.3-70B-Instruct", "H200 SXM 141GB (DGX H200)", "TP2", 1000, 1000, 2587],
      ["Llama-3.3-70B-Instruct", "H100 SXM 80GB (DGX H100)", "TP2", 1000, 1000, 2209],
      ["Llama-3.3-70B-Instruct", "H200 SXM 141GB (DGX H200)", "TP2", 8192, 1024, 537],
      ["Qwen3-235B-A22B", "H200 SXM 141GB (DGX H200)", "DEP4 (attention DP4 + EP4)", 1000, 1000, 3288],
      ["Qwen3-235B-A22B", "H100 SXM 80GB (DGX H100)", "DEP8 (attention DP8 + EP8)", 1000, 1000, 1932],
      ["DeepSeek-R1-0528", "H200 SXM 141GB (DGX H200)", "DEP8 (attention DP8 + EP8)", 1000, 1000, 1627]
    ]
    for (const [model, hardware, layout, isl, osl, published] of sample) {
      const hit = t.rows.filter(
        (r) =>
          r.values.model === model &&
          r.values.hardware === hardware &&
          r.values.layout === layout &&
          numberField(r, "isl") === isl &&
          numberField(r, "osl") === osl &&
          r.values.metric === "trtllm_out_tps_gpu"
      )
      expect(
        hit.map((r) => numberField(r, "published")),
        `${model} ${hardware} ${isl}/${osl}`
      ).toEqual([published])
    }
  })
})

describe("data/reference/serving_benchmarks.csv", () => {
  const t = read("serving_benchmarks.csv")

  it("every row: positive output throughput, source at a commit, isl/osl > 0, gpus = tp * pp, a request count and a rate", () => {
    expect(t.rows.length).toBeGreaterThanOrEqual(10)
    for (const r of t.rows) {
      checkRow(r, "output_throughput_tps")
      positiveInt(r, "num_prompts")
      if (r.values.request_rate !== "inf") positive(r, "request_rate")
      expect(r.values.engine, `line ${r.line}`).not.toBe("")
      expect(r.values.engine_version, `line ${r.line}`).not.toBe("")
    }
  })
})

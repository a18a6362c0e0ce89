/** Predicted against measured results (src/serve/compare.ts), with vLLM and SGLang files. */
import { describe, expect, it } from "vitest"
import { type CompareRow, type Comparison, compareResults, errorPct, vllmName } from "../../src/serve/compare.ts"

const predicted = {
  duration: 100,
  completed: 1000,
  failed: 0,
  request_throughput: 10,
  request_goodput: null,
  output_throughput: 2000,
  total_token_throughput: 4000,
  max_concurrent_requests: 64,
  mean_ttft_ms: 110,
  p99_ttft_ms: 300,
  mean_e2el_ms: 5000
}

const comparison = (measured: unknown): Comparison => {
  const c = compareResults(predicted, measured)
  if (!c.ok) throw new Error(c.message)
  return c.comparison
}

describe("compareResults", () => {
  it("a vLLM --save-result file: shared numeric fields in the prediction's order, then each side's own", () => {
    const measured = {
      date: "20260101-000000",
      backend: "openai",
      mean_ttft_ms: 100,
      duration: 125,
      completed: 1000,
      request_throughput: 8,
      output_throughput: 2000,
      ttfts: [0.1, 0.2],
      request_goodput: null,
      max_output_tokens_per_s: 3000,
      p99_ttft_ms: 0
    }
    const c = comparison(measured)
    expect(c.measured_by).toBe("vllm")
    const rows: CompareRow[] = [
      // (100 - 125) / 125 = -20 %
      { field: "duration", predicted: 100, measured: 125, error_pct: -20 },
      { field: "completed", predicted: 1000, measured: 1000, error_pct: 0 },
      // (10 - 8) / 8 = +25 %
      { field: "request_throughput", predicted: 10, measured: 8, error_pct: 25 },
      { field: "output_throughput", predicted: 2000, measured: 2000, error_pct: 0 },
      // (110 - 100) / 100 = +10 %
      { field: "mean_ttft_ms", predicted: 110, measured: 100, error_pct: 10 },
      // a measured 0 has no relative error for a non-zero prediction
      { field: "p99_ttft_ms", predicted: 300, measured: 0, error_pct: null }
    ]
    expect(c.rows).toEqual(rows)
    // request_goodput is null on both sides: not numeric, not listed
    expect(c.only_predicted).toEqual(["failed", "total_token_throughput", "max_concurrent_requests", "mean_e2el_ms"])
    expect(c.only_measured).toEqual(["max_output_tokens_per_s"])
  })

  it("an sglang.bench_serving line: e2e latency and total throughput under vLLM's names", () => {
    const measured = {
      backend: "sglang",
      request_rate: 10,
      duration: 80,
      completed: 1000,
      total_throughput: 5000,
      input_throughput: 2500,
      mean_e2e_latency_ms: 4000,
      median_e2e_latency_ms: 3900,
      concurrency: 50,
      mean_ttft_ms: 110
    }
    const c = comparison(measured)
    expect(c.measured_by).toBe("sglang")
    expect(c.rows.map((r) => [r.field, r.measured, r.error_pct])).toEqual([
      // (100 - 80) / 80 = 25 %
      ["duration", 80, 25],
      ["completed", 1000, 0],
      // (4000 - 5000) / 5000 = -20 %
      ["total_token_throughput", 5000, -20],
      ["mean_ttft_ms", 110, 0],
      // (5000 - 4000) / 4000 = 25 %
      ["mean_e2el_ms", 4000, 25]
    ])
    // the run's arguments are numbers too; they have no predicted twin
    expect(c.only_measured).toEqual(["request_rate", "input_throughput", "median_e2el_ms", "concurrency"])
  })

  it("refuses a file that is not an object", () => {
    expect(compareResults(predicted, [1, 2])).toMatchObject({ ok: false })
    expect(compareResults(predicted, null)).toMatchObject({ ok: false })
  })

  it("names and errors", () => {
    expect([vllmName("p99_e2e_latency_ms"), vllmName("std_e2e_latency_ms"), vllmName("total_throughput"), vllmName("mean_itl_ms")]).toEqual([
      "p99_e2el_ms",
      "std_e2el_ms",
      "total_token_throughput",
      "mean_itl_ms"
    ])
    expect([errorPct(0, 0), errorPct(-2, -4)]).toEqual([0, 50])
  })
})

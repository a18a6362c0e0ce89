/** The vllm bench serve summary (src/serve/metrics.ts) on outcomes worked by hand. */
import { describe, expect, it } from "vitest"
import {
  type BenchResult,
  DEFAULT_METRIC_PERCENTILES,
  DEFAULT_PERCENTILE_METRICS,
  Distribution,
  EXACT_LIMIT,
  fixed2,
  formatSummary,
  MetricsAccumulator,
  PERCENTILE_METRICS,
  parseGoodput,
  parseMetricPercentiles,
  parsePercentileMetrics,
  percentileWord,
  summarize
} from "../../src/serve/metrics.ts"
import type { RequestOutcome } from "../../src/serve/types.ts"

const outcome = (o: Omit<RequestOutcome, "cached_tokens" | "preemptions">): RequestOutcome => ({ ...o, cached_tokens: 0, preemptions: 0 })

/**
 * Three requests:
 *   A arrives at 0, 3 tokens out: first at 100, then +20, +30 -> done at 150. TPOT (150 - 100) / 2 = 25.
 *   B arrives at 1500, 1 token out at +200.                     No TPOT (0 for goodput).
 *   C arrives at 100, 2 tokens out: first at +10, then +40.      TPOT (50 - 10) / 1 = 40.
 * Token deliveries: A 100, 120, 150; C 110, 150 (second 0); B 1700 (second 1). A and C overlap.
 */
const A = outcome({ id: 0, arrival_ms: 0, input_len: 10, output_len: 3, ttft_ms: 100, itls_ms: [20, 30], e2el_ms: 150 })
const B = outcome({ id: 1, arrival_ms: 1500, input_len: 20, output_len: 1, ttft_ms: 200, itls_ms: [], e2el_ms: 200 })
const C = outcome({ id: 2, arrival_ms: 100, input_len: 5, output_len: 2, ttft_ms: 10, itls_ms: [40], e2el_ms: 50 })

const fed = (options = {}) => {
  const acc = new MetricsAccumulator(options)
  for (const o of [A, B, C]) acc.add(o)
  return acc
}

describe("Distribution: numpy's mean, std, median and percentile", () => {
  it("[1, 2, 3, 4]", () => {
    const d = new Distribution()
    for (const v of [4, 1, 3, 2]) d.add(v)
    expect(d.mean()).toBe(2.5)
    // population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    expect(d.std()).toBeCloseTo(Math.sqrt(1.25), 14)
    expect(d.median()).toBe(2.5)
    // virtual index 4 x 0.99 + 0.01 - 1 = 2.97: between 3 and 4, weight 0.97 -> 4 - 1 x 0.03
    expect(d.percentile(99)).toBeCloseTo(3.97, 14)
    expect(d.percentile(0)).toBe(1)
    expect(d.percentile(100)).toBe(4)
    expect(d.percentile(50)).toBe(2.5)
  })

  it("odd count median is the middle value; empty reports 0 as vLLM's `np.mean(x or 0)`", () => {
    const d = new Distribution()
    for (const v of [10, 200, 100]) d.add(v)
    expect(d.median()).toBe(100)
    const e = new Distribution()
    expect([e.mean(), e.std(), e.median(), e.percentile(99)]).toEqual([0, 0, 0, 0])
  })

  it("past EXACT_LIMIT values it folds into the histogram: percentiles within 1e-4, mean and std exact", () => {
    const n = EXACT_LIMIT + 37_856 // 300,000 values 1..n
    const d = new Distribution()
    for (let v = 1; v <= n; v++) d.add(v)
    expect(d.exact).toBe(false)
    expect(n).toBe(300_000)
    // mean (n + 1) / 2; population std sqrt((n^2 - 1) / 12)
    expect(d.mean()).toBe(150_000.5)
    expect(d.std()).toBeCloseTo(Math.sqrt((n * n - 1) / 12), 6)
    // exact median 150000.5; p99: virtual 296999.01 -> 297000 + 0.01 = 297000.01
    expect(Math.abs(d.median() - 150_000.5) / 150_000.5).toBeLessThan(1e-4)
    expect(Math.abs(d.percentile(99) - 297_000.01) / 297_000.01).toBeLessThan(1e-4)
    expect(Math.abs(d.percentile(1) - 3_000.99) / 3_000.99).toBeLessThan(1e-4)
    // 1..1000 are at most 1000.5 (stand-ins within 5e-5 of each value, 0.05 at 1000).
    expect(d.countAtMost(1000.5)).toBe(1000)
    expect(d.countAtMost(0.5)).toBe(0)
    expect(d.countAtMost(n + 1)).toBe(n)
  })

  it("counts the values at most x: the share of requests within an SLO", () => {
    const d = new Distribution()
    for (const v of [3, 1, 2, 2]) d.add(v)
    expect([d.countAtMost(0.9), d.countAtMost(1), d.countAtMost(2), d.countAtMost(2.5), d.countAtMost(3)]).toEqual([0, 1, 3, 3, 4])
  })
})

describe("MetricsAccumulator + summarize", () => {
  it("gives vLLM's keys in vLLM's order", () => {
    expect(Object.keys(summarize(fed()))).toEqual([
      "duration",
      "completed",
      "failed",
      "total_input_tokens",
      "total_output_tokens",
      "request_throughput",
      "request_goodput",
      "output_throughput",
      "total_token_throughput",
      "max_output_tokens_per_s",
      "max_concurrent_requests",
      "rtfx",
      "mean_ttft_ms",
      "median_ttft_ms",
      "std_ttft_ms",
      "p99_ttft_ms",
      "mean_tpot_ms",
      "median_tpot_ms",
      "std_tpot_ms",
      "p99_tpot_ms",
      "mean_itl_ms",
      "median_itl_ms",
      "std_itl_ms",
      "p99_itl_ms"
    ])
  })

  it("totals and rates: duration = last end 1700 ms", () => {
    const r = summarize(fed())
    expect(r.duration).toBe(1.7)
    expect(r.completed).toBe(3)
    expect(r.failed).toBe(0)
    expect(r.total_input_tokens).toBe(35)
    expect(r.total_output_tokens).toBe(6)
    expect(r.request_throughput).toBeCloseTo(3 / 1.7, 12)
    expect(r.output_throughput).toBeCloseTo(6 / 1.7, 12)
    expect(r.total_token_throughput).toBeCloseTo(41 / 1.7, 12)
    expect(r.request_goodput).toBeNull()
    // second 0 holds A's 3 deliveries and C's 2
    expect(r.max_output_tokens_per_s).toBe(5)
    // A [0, 150) and C [100, 150) overlap; B [1500, 1700) is alone
    expect(r.max_concurrent_requests).toBe(2)
    expect(r.rtfx).toBe(0)
    // a given duration wins
    expect(summarize(fed(), { duration_ms: 2000 }).request_throughput).toBe(1.5)
  })

  it("TTFT, TPOT (per request, output > 1 only), ITL (every gap), E2EL", () => {
    const r = summarize(fed(), { percentile_metrics: ["ttft", "tpot", "itl", "e2el"] })
    // TTFT 100, 200, 10: mean 310 / 3; variance 50100 / 3 - (310 / 3)^2 = 54200 / 9
    expect(r.mean_ttft_ms).toBeCloseTo(310 / 3, 12)
    expect(r.median_ttft_ms).toBe(100)
    expect(r.std_ttft_ms).toBeCloseTo(Math.sqrt(54_200 / 9), 10)
    // virtual 3 x 0.99 + 0.01 - 1 = 1.98: 200 - 100 x 0.02
    expect(r.p99_ttft_ms).toBeCloseTo(198, 10)
    // TPOT 25, 40
    expect([r.mean_tpot_ms, r.median_tpot_ms, r.std_tpot_ms]).toEqual([32.5, 32.5, 7.5])
    expect(r.p99_tpot_ms).toBeCloseTo(40 - 15 * 0.01, 10)
    // ITL 20, 30, 40: variance 200 / 3
    expect([r.mean_itl_ms, r.median_itl_ms]).toEqual([30, 30])
    expect(r.std_itl_ms).toBeCloseTo(Math.sqrt(200 / 3), 12)
    expect(r.p99_itl_ms).toBeCloseTo(39.8, 10)
    // E2EL 150, 200, 50: variance 65000 / 3 - (400 / 3)^2 = 35000 / 9
    expect(r.mean_e2el_ms).toBeCloseTo(400 / 3, 12)
    expect(r.median_e2el_ms).toBe(150)
    expect(r.std_e2el_ms).toBeCloseTo(Math.sqrt(35_000 / 9), 10)
    expect(r.p99_e2el_ms).toBeCloseTo(199, 10)
  })

  it("--percentile-metrics and --metric-percentiles pick the keys (p99.9 keeps its decimal)", () => {
    const r = summarize(fed(), { percentile_metrics: ["e2el"], metric_percentiles: [50, 99.9] })
    expect(Object.keys(r).slice(12)).toEqual(["mean_e2el_ms", "median_e2el_ms", "std_e2el_ms", "p50_e2el_ms", "p99.9_e2el_ms"])
    expect(r["p50_e2el_ms"]).toBe(150)
  })

  it("goodput: good when every SLO >= the value; a one-token request's TPOT counts as 0", () => {
    // ttft <= 150 and tpot <= 30: A (100, 25) yes; B (200) no; C (tpot 40) no
    expect(summarize(fed({ goodput: { ttft: 150, tpot: 30 } })).request_goodput).toBeCloseTo(1 / 1.7, 12)
    // tpot <= 0: only B, whose TPOT is taken as 0
    expect(summarize(fed({ goodput: { tpot: 0 } })).request_goodput).toBeCloseTo(1 / 1.7, 12)
    // e2el <= 200 holds for all three (the bound is inclusive)
    expect(summarize(fed({ goodput: { e2el: 200 } })).request_goodput).toBeCloseTo(3 / 1.7, 12)
  })

  it("token buckets start at origin_ms, as vLLM's start at the earliest request", () => {
    // deliveries at 900 and 1100: seconds 0 and 1 from 0, both second 0 from 200
    const one = outcome({ id: 0, arrival_ms: 200, input_len: 1, output_len: 2, ttft_ms: 700, itls_ms: [200], e2el_ms: 900 })
    const from0 = new MetricsAccumulator()
    from0.add(one)
    const from200 = new MetricsAccumulator({ origin_ms: 200 })
    from200.add(one)
    expect(summarize(from0).max_output_tokens_per_s).toBe(1)
    expect(summarize(from200).max_output_tokens_per_s).toBe(2)
  })

  it("an empty run reports zeros, not NaN", () => {
    const r = summarize(new MetricsAccumulator({ goodput: { ttft: 1 } }))
    expect([r.duration, r.completed, r.request_throughput, r.request_goodput, r.mean_ttft_ms, r.p99_itl_ms, r.max_concurrent_requests]).toEqual([
      0, 0, 0, 0, 0, 0, 0
    ])
  })

  it("peak concurrency is half-open: a request ending as another starts does not overlap it", () => {
    const acc = new MetricsAccumulator()
    acc.add(outcome({ id: 0, arrival_ms: 0, input_len: 1, output_len: 1, ttft_ms: 100, itls_ms: [], e2el_ms: 100 }))
    acc.add(outcome({ id: 1, arrival_ms: 100, input_len: 1, output_len: 1, ttft_ms: 100, itls_ms: [], e2el_ms: 100 }))
    expect(summarize(acc).max_concurrent_requests).toBe(1)
  })
})

describe("flags", () => {
  it("vLLM's defaults and order: ttft,tpot,itl at the 99th percentile; sections ttft, tpot, itl, e2el", () => {
    expect(DEFAULT_PERCENTILE_METRICS).toEqual(["ttft", "tpot", "itl"])
    expect(DEFAULT_METRIC_PERCENTILES).toEqual([99])
    expect(PERCENTILE_METRICS).toEqual(["ttft", "tpot", "itl", "e2el"])
  })

  it("--goodput KEY:VALUE pairs, checked as vLLM does", () => {
    expect(parseGoodput(["ttft:200", "tpot:50"])).toEqual({ ttft: 200, tpot: 50 })
    expect(parseGoodput(["e2el:1.5e3"])).toEqual({ e2el: 1500 })
    expect(typeof parseGoodput(["itl:5"])).toBe("string")
    expect(typeof parseGoodput(["ttft:-1"])).toBe("string")
    expect(typeof parseGoodput(["ttft"])).toBe("string")
    expect(typeof parseGoodput(["ttft:1:2"])).toBe("string")
  })

  it("--percentile-metrics and --metric-percentiles", () => {
    expect(parsePercentileMetrics("ttft,tpot,itl,e2el")).toEqual(["ttft", "tpot", "itl", "e2el"])
    expect(typeof parsePercentileMetrics("ttft,client_queue_time")).toBe("string")
    expect(parseMetricPercentiles("50,90,99.9")).toEqual([50, 90, 99.9])
    expect(typeof parseMetricPercentiles("50,x")).toBe("string")
    expect(typeof parseMetricPercentiles("101")).toBe("string")
  })

  it("percentile words as Python's str: 99, 99.9, 1e-05", () => {
    expect([percentileWord(99), percentileWord(99.9), percentileWord(50.0), percentileWord(0.00001)]).toEqual(["99", "99.9", "50", "1e-05"])
  })
})

describe("the printed block", () => {
  it("Python's .2f: half to even on exact ties, inf and nan spelled as Python", () => {
    // 0.125 and 0.375 are exact binary ties; 2.675 is 2.67499999... in binary
    expect([fixed2(0.125), fixed2(0.375), fixed2(2.675), fixed2(-0.125), fixed2(3)]).toEqual(["0.12", "0.38", "2.67", "-0.12", "3.00"])
    expect([fixed2(Number.POSITIVE_INFINITY), fixed2(Number.NaN)]).toEqual(["inf", "nan"])
  })

  it("vLLM's lines (label to 40, value to 10), its order, and the two per-GPU lines", () => {
    const result = {
      duration: 837.031,
      completed: 250,
      failed: 0,
      total_input_tokens: 57_729,
      total_output_tokens: 51_024,
      request_throughput: 0.2987,
      request_goodput: null,
      output_throughput: 60.958,
      total_token_throughput: 129.926,
      max_output_tokens_per_s: 371,
      max_concurrent_requests: 7,
      rtfx: 0,
      mean_ttft_ms: 75.334,
      median_ttft_ms: 73.051,
      std_ttft_ms: 12,
      p50_ttft_ms: 73.051,
      p99_ttft_ms: 178.283
    } as BenchResult
    expect(formatSummary(result, { gpus: 2, request_rate: 0.3 }).split("\n")).toEqual([
      "============ Serving Benchmark Result ============",
      "Successful requests:                     250       ",
      "Failed requests:                         0         ",
      "Request rate configured (RPS):           0.30      ",
      "Benchmark duration (s):                  837.03    ",
      "Total input tokens:                      57729     ",
      "Total generated tokens:                  51024     ",
      "Request throughput (req/s):              0.30      ",
      "Output token throughput (tok/s):         60.96     ",
      // 60.958 / 2 = 30.479
      "Output token throughput per GPU (tok/s): 30.48     ",
      "Peak output token throughput (tok/s):    371.00    ",
      "Peak concurrent requests:                7.00      ",
      "Total token throughput (tok/s):          129.93    ",
      // 129.926 / 2 = 64.963
      "Total token throughput per GPU (tok/s):  64.96     ",
      "---------------Time to First Token----------------",
      "Mean TTFT (ms):                          75.33     ",
      "Median TTFT (ms):                        73.05     ",
      "P50 TTFT (ms):                           73.05     ",
      "P99 TTFT (ms):                           178.28    ",
      "=================================================="
    ])
  })

  it("goodput and max concurrency lines appear when set; headers center with the extra fill on the right", () => {
    const r = summarize(fed({ goodput: { e2el: 200 } }), { percentile_metrics: ["tpot"] })
    const lines = formatSummary(r, { gpus: 1, max_concurrency: 8 }).split("\n")
    expect(lines).toContain("Maximum request concurrency:             8         ")
    expect(lines).toContain("Request goodput (req/s):                 1.76      ")
    // 50 - 39 = 11 dashes: 5 left, 6 right
    expect(lines).toContain("-----Time per Output Token (excl. 1st token)------")
    expect(lines.some((l) => l.startsWith("Request rate configured"))).toBe(false)
  })
})

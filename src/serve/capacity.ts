/**
 * The largest request rate a served deployment sustains within its SLOs, by simulation: what
 * `sweep --bench` asks of every layout and `plan` of every deployment. A deployment is one engine
 * instance, or a disaggregated pair of pools (benchmark.ts); each probe is one simulated benchmark
 * of the same seeded workload at one Poisson rate, and the rates are chosen by rateSearch.ts.
 *
 * Probe sizes: the max-load probe has `full` requests (by default twice what the deployment holds
 * at once, at least 1,000, so it measures a capacity rather than a burst); every later probe covers
 * the same simulated time (its count scales with its rate), at least 200 requests for its
 * percentiles, so a low-rate probe is not a long run of near-empty steps. Pure.
 */
import { runBenchmark, type BenchmarkInput } from "./benchmark.ts"
import { percentileWord, type GoodputSlo } from "./metrics.ts"
import { searchRate, type RateProbe, type RateSearch, type RateSearchOptions } from "./rateSearch.ts"
import { requests, type Workload } from "./workload.ts"

/** Requests of the max-load probe without a count given, at least; and of any probe. */
export const DEFAULT_PROBE_REQUESTS = 1000
const MIN_PROBE_REQUESTS = 200

/** What a probe runs: a benchmark input less its requests and metric choices. */
export type Deployment = Omit<
  BenchmarkInput,
  "requests" | "goodput" | "percentileMetrics" | "metricPercentiles" | "onOutcome" | "onProgress" | "maxConcurrency"
>

/** The SLOs (ms, any of TTFT, TPOT, E2E latency) and the percentile they hold at. */
export interface SloTarget {
  readonly slo?: GoodputSlo
  readonly percentile: number
}

/** One probe: a simulated benchmark at one rate. */
export interface LoadPoint extends RateProbe {
  /** Requests meeting every SLO per second (vLLM's request_goodput; request_throughput without SLOs). */
  readonly goodput: number
  readonly output_tokens_per_s: number
  /** The percentile's TTFT, TPOT and E2E latency, ms. */
  readonly ttft_ms: number
  readonly tpot_ms: number
  readonly e2el_ms: number
  readonly mean_tpot_ms: number
  readonly requests: number
}

/** One simulated benchmark of `n` requests of `workload` at `rate` on `d`. */
const probe = (d: Deployment, workload: Workload, target: SloTarget, n: number, rate: number): LoadPoint => {
  const run = runBenchmark({
    ...d,
    requests: { [Symbol.iterator]: () => requests({ ...workload, request_rate: rate, num_prompts: n })[Symbol.iterator]() },
    ...(target.slo === undefined ? {} : { goodput: target.slo }),
    percentileMetrics: ["ttft", "tpot", "e2el"],
    metricPercentiles: [target.percentile],
    // A probe reads no per-token figure (below): skip streaming every token into the ITL statistics.
    tokenStats: false
  })
  const r = run.result as unknown as Record<string, number>
  const at = (m: string) => r[`p${percentileWord(target.percentile)}_${m}_ms`]!
  const slo = target.slo ?? {}
  const meets =
    (slo.ttft === undefined || at("ttft") <= slo.ttft) &&
    (slo.tpot === undefined || at("tpot") <= slo.tpot) &&
    (slo.e2el === undefined || at("e2el") <= slo.e2el)
  return {
    rate,
    meets,
    request_throughput: run.result.request_throughput,
    goodput: run.result.request_goodput ?? run.result.request_throughput,
    output_tokens_per_s: run.result.output_throughput,
    ttft_ms: at("ttft"),
    tpot_ms: at("tpot"),
    e2el_ms: at("e2el"),
    mean_tpot_ms: r.mean_tpot_ms!,
    requests: n
  }
}

export interface CapacitySearch extends RateSearch<LoadPoint> {
  /** Requests of the max-load probe. */
  readonly full: number
  /** Requests simulated over every probe. */
  readonly simulated: number
}

/** The largest rate `d` serves within `target` (rateSearch.ts), with `full` requests in the max-load probe. */
export const maxRate = (d: Deployment, workload: Workload, target: SloTarget, full: number, o: RateSearchOptions = {}): CapacitySearch => {
  let capacity = Number.NaN
  let simulated = 0
  const search = searchRate((rate) => {
    const n = rate === Number.POSITIVE_INFINITY ? full : Math.max(MIN_PROBE_REQUESTS, Math.min(full, Math.ceil((full * rate) / capacity)))
    const p = probe(d, workload, target, n, rate)
    if (rate === Number.POSITIVE_INFINITY) capacity = p.request_throughput
    simulated += n
    return p
  }, o)
  return { ...search, full, simulated }
}

/** One max-load run of `n` requests (all at once): the deployment's capacity, no SLOs. */
export const saturation = (d: Deployment, workload: Workload, n: number): LoadPoint => probe(d, workload, { percentile: 90 }, n, Number.POSITIVE_INFINITY)

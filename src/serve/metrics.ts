/**
 * The summary `vllm bench serve` prints and saves, computed from request outcomes fed one at a
 * time, so a million requests need no per-request lists.
 *
 * Source: vllm-project/vllm `vllm/benchmarks/serve.py` @ 009e6d4a1cd6ba3fb2a9fc00f4ec06f5297232a1:
 *   - `calculate_metrics`: per completed request TTFT, E2EL (its `latency`), every inter-token gap
 *     (ITL), and TPOT = (e2el - ttft) / (output_len - 1) for output_len > 1 (a request of one
 *     token has no TPOT; for goodput its TPOT counts as 0). Mean, median, std (numpy's population
 *     std) and the selected percentiles of each, in ms; an empty list reports 0.
 *     Goodput: a request is good when every given SLO holds, `slo >= value` (--goodput
 *     ttft:MS tpot:MS e2el:MS; names outside ttft/tpot/e2el or negative values refused).
 *     Peak output tokens/s: each request's token deliveries (start + ttft, then + each ITL) are
 *     counted into 1-second buckets from the earliest start; the fullest bucket.
 *     Peak concurrent requests: a sweep over [start, start + latency), departures before arrivals
 *     at equal times.
 *   - `benchmark`: the printed block ("{:<40} {:<10}" lines, 50-wide headers) and the result dict
 *     (--save-result): duration (s), completed, failed, total_input_tokens,
 *     total_output_tokens, request_throughput, request_goodput (None without --goodput),
 *     output_throughput, total_token_throughput, max_output_tokens_per_s,
 *     max_concurrent_requests, rtfx, then mean_/median_/std_/p{P}_{metric}_ms for each metric of
 *     --percentile-metrics (default "ttft,tpot,itl") and each P of --metric-percentiles
 *     (default "99"; the key is p99, or p99.9 for a fractional P). The per-request lists of the
 *     dict (ttfts, itls, ...) are left out: they are what this module avoids keeping.
 * Percentiles are numpy's default (linear) method: virtual index n q + (1 - q) - 1, then
 * `_lerp`, which for a weight >= 0.5 interpolates back from the upper neighbour
 * (numpy/numpy `numpy/lib/_function_base_impl.py` @ 4a71101d40a9b04a7405dbfa3a443a2d449f2291,
 * `_compute_virtual_index`, `_lerp`); the median is the middle value or the mean of the middle
 * two, as `np.median`.
 *
 * Memory: each metric keeps its values exactly (and so matches numpy to the last bit on the
 * same numbers) up to EXACT_LIMIT values; past that it folds them into a log-bucket histogram
 * with bucket ratio 1 + 1e-4, each value represented within a relative 5e-5 of itself, so a
 * percentile is within 1e-4 relative of the exact one. Mean and std stay exact (compensated sum,
 * Welford's update). Token deliveries are counted per second of the run. The one per-request
 * state is the [start, end) pair of each request for the exact concurrency sweep: 16 bytes a
 * request (16 MB per million), against vLLM's full per-request lists.
 */
import type { RequestOutcome } from "./types.ts"

export type PercentileMetric = "ttft" | "tpot" | "itl" | "e2el"

/** The order vLLM prints and saves them in. */
export const PERCENTILE_METRICS: ReadonlyArray<PercentileMetric> = ["ttft", "tpot", "itl", "e2el"]

/** --goodput: an SLO per metric, in ms. */
export interface GoodputSlo {
  readonly ttft?: number
  readonly tpot?: number
  readonly e2el?: number
}

/** vLLM's defaults: --percentile-metrics "ttft,tpot,itl", --metric-percentiles "99". */
export const DEFAULT_PERCENTILE_METRICS: ReadonlyArray<PercentileMetric> = ["ttft", "tpot", "itl"]
export const DEFAULT_METRIC_PERCENTILES: ReadonlyArray<number> = [99]

/** Values kept exactly per metric before the histogram takes over (2 MiB of doubles). */
export const EXACT_LIMIT = 1 << 18

/** Histogram bucket ratio: bucket i holds [G^i, G^(i+1)). */
const G = 1 + 1e-4
const LOG_G = Math.log(G)
/** Bucket i's stand-in, G^i 2G / (1 + G): within (G - 1) / (G + 1) < 5e-5 of every value in it. */
const MID = (2 * G) / (1 + G)

// ---------------------------------------------------------------------------------------------
// One metric's values

/** Streaming statistics of one metric (see the module header). */
export class Distribution {
  #count = 0
  // Neumaier-compensated sum for the mean; Welford's running mean and M2 for the variance.
  #sum = 0
  #carry = 0
  #mean = 0
  #m2 = 0
  #exact: Float64Array | null = new Float64Array(64)
  #sorted: Float64Array | null = null
  #buckets: Map<number, number> | null = null
  #zeros = 0
  #keys: Float64Array | null = null

  get count(): number {
    return this.#count
  }

  /** Whether the values are still kept exactly. */
  get exact(): boolean {
    return this.#exact !== null
  }

  add(v: number): void {
    const n = ++this.#count
    const t = this.#sum + v
    this.#carry += Math.abs(this.#sum) >= Math.abs(v) ? this.#sum - t + v : v - t + this.#sum
    this.#sum = t
    const d = v - this.#mean
    this.#mean += d / n
    this.#m2 += d * (v - this.#mean)
    this.#sorted = null
    this.#keys = null
    if (this.#exact !== null) {
      if (n > EXACT_LIMIT) {
        this.#buckets = new Map()
        for (let i = 0; i < n - 1; i++) this.#bucket(this.#exact[i] as number)
        this.#exact = null
        this.#bucket(v)
        return
      }
      if (n > this.#exact.length) {
        const grown = new Float64Array(Math.min(this.#exact.length * 2, EXACT_LIMIT))
        grown.set(this.#exact)
        this.#exact = grown
      }
      this.#exact[n - 1] = v
      return
    }
    this.#bucket(v)
  }

  #bucket(v: number): void {
    // Zero and (not expected) negative values share one bucket standing for 0.
    if (!(v > 0)) {
      this.#zeros++
      return
    }
    const i = Math.floor(Math.log(v) / LOG_G)
    const buckets = this.#buckets as Map<number, number>
    buckets.set(i, (buckets.get(i) ?? 0) + 1)
  }

  /** numpy's np.mean (0 when empty, as vLLM's `np.mean(x or 0)`). */
  mean(): number {
    return this.#count === 0 ? 0 : (this.#sum + this.#carry) / this.#count
  }

  /** numpy's np.std: the population standard deviation. */
  std(): number {
    return this.#count === 0 ? 0 : Math.sqrt(Math.max(0, this.#m2 / this.#count))
  }

  /** The k-th smallest value (0-based), exactly or as its bucket's stand-in. */
  #orderStatistic(k: number): number {
    if (this.#exact !== null) {
      this.#sorted ??= this.#exact.slice(0, this.#count).sort()
      return this.#sorted[k] as number
    }
    if (k < this.#zeros) return 0
    const buckets = this.#buckets as Map<number, number>
    this.#keys ??= Float64Array.from(buckets.keys()).sort()
    let seen = this.#zeros
    for (const key of this.#keys) {
      seen += buckets.get(key) as number
      if (k < seen) return G ** key * MID
    }
    return G ** (this.#keys[this.#keys.length - 1] as number) * MID
  }

  /** How many values are at most `x` (past EXACT_LIMIT, a value counts by its bucket's stand-in). */
  countAtMost(x: number): number {
    if (this.#exact !== null) {
      this.#sorted ??= this.#exact.slice(0, this.#count).sort()
      const sorted = this.#sorted
      let lo = 0
      let hi = this.#count
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if ((sorted[mid] as number) <= x) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    let n = x >= 0 ? this.#zeros : 0
    for (const [key, c] of this.#buckets as Map<number, number>) if (G ** key * MID <= x) n += c
    return n
  }

  /** numpy's np.percentile(values, p), linear method; 0 when empty. */
  percentile(p: number): number {
    const n = this.#count
    if (n === 0) return 0
    const q = p / 100
    const virtual = n * q + (1 - q) - 1
    const lo = Math.min(Math.max(Math.floor(virtual), 0), n - 1)
    const hi = Math.min(lo + 1, n - 1)
    const t = virtual - Math.floor(virtual)
    const a = this.#orderStatistic(lo)
    const b = this.#orderStatistic(hi)
    const diff = b - a
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
  }

  /** numpy's np.median: the middle value, or the mean of the middle two; 0 when empty. */
  median(): number {
    const n = this.#count
    if (n === 0) return 0
    const h = Math.floor(n / 2)
    return n % 2 === 1 ? this.#orderStatistic(h) : (this.#orderStatistic(h - 1) + this.#orderStatistic(h)) / 2
  }
}

// ---------------------------------------------------------------------------------------------
// The run

export interface AccumulatorOptions {
  /**
   * Peak concurrency is counted by the caller (the simulator knows it as requests come and go):
   * no per-request interval is kept, so memory does not grow with the run.
   */
  readonly externalConcurrency?: boolean
  /** --goodput SLOs (none: request_goodput is null). */
  readonly goodput?: GoodputSlo
  /**
   * Where the 1-second token buckets start (ms). vLLM starts them at the earliest request's start;
   * pass the first request's arrival to match it exactly (default 0, the start of the run).
   */
  readonly origin_ms?: number
}

/** Growable pair of double arrays: each request's [start, end) for the concurrency sweep. */
class Intervals {
  starts = new Float64Array(256)
  ends = new Float64Array(256)
  size = 0
  push(start: number, end: number): void {
    if (this.size === this.starts.length) {
      const s = new Float64Array(this.size * 2)
      const e = new Float64Array(this.size * 2)
      s.set(this.starts)
      e.set(this.ends)
      this.starts = s
      this.ends = e
    }
    this.starts[this.size] = start
    this.ends[this.size] = end
    this.size++
  }
  /** Most intervals open at once, half-open: an end at t closes before a start at t opens. */
  peak(): number {
    const s = this.starts.slice(0, this.size).sort()
    const e = this.ends.slice(0, this.size).sort()
    let open = 0
    let peak = 0
    let j = 0
    for (let i = 0; i < s.length; i++) {
      while (j < e.length && (e[j] as number) <= (s[i] as number)) {
        open--
        j++
      }
      open++
      if (open > peak) peak = open
    }
    return peak
  }
}

/** Everything `summarize` needs, fed one outcome at a time. */
export class MetricsAccumulator {
  readonly ttft = new Distribution()
  readonly tpot = new Distribution()
  readonly itl = new Distribution()
  readonly e2el = new Distribution()
  readonly #goodput: GoodputSlo | undefined
  readonly #origin: number
  #completed = 0
  #good = 0
  #inputTokens = 0
  #outputTokens = 0
  #lastEnd = 0
  /** Token deliveries per second since the origin (keys may be negative before it). */
  readonly #perSecond = new Map<number, number>()
  readonly #intervals: Intervals | undefined

  constructor(options: AccumulatorOptions = {}) {
    this.#goodput = options.goodput
    this.#origin = options.origin_ms ?? 0
    this.#intervals = options.externalConcurrency === true ? undefined : new Intervals()
  }

  get completed(): number {
    return this.#completed
  }

  get goodput(): GoodputSlo | undefined {
    return this.#goodput
  }

  /** The latest request end seen (ms): the run's duration when it starts at 0. */
  get last_end_ms(): number {
    return this.#lastEnd
  }

  /** A finished request; `gapsStreamed`: its inter-token gaps already came through `gap` (its itls_ms are not counted again). */
  add(o: RequestOutcome, gapsStreamed = false): void {
    this.#completed++
    this.#inputTokens += o.input_len
    this.#outputTokens += o.output_len
    this.ttft.add(o.ttft_ms)
    this.e2el.add(o.e2el_ms)
    let tpot = 0
    if (o.output_len > 1) {
      tpot = (o.e2el_ms - o.ttft_ms) / (o.output_len - 1)
      this.tpot.add(tpot)
    }
    if (gapsStreamed) this.#count(o.arrival_ms + o.ttft_ms)
    else {
      for (const gap of o.itls_ms) this.itl.add(gap)
      this.#countDeliveries(o)
    }
    const g = this.#goodput
    if (
      g !== undefined &&
      (g.ttft === undefined || g.ttft >= o.ttft_ms) &&
      (g.tpot === undefined || g.tpot >= tpot) &&
      (g.e2el === undefined || g.e2el >= o.e2el_ms)
    )
      this.#good++
    const end = o.arrival_ms + o.e2el_ms
    if (end > this.#lastEnd) this.#lastEnd = end
    this.#intervals?.push(o.arrival_ms, end)
  }

  /** The first token of `o`, and the later ones from its gaps (none when they were streamed with `gap`). */
  #countDeliveries(o: RequestOutcome): void {
    let t = o.arrival_ms + o.ttft_ms
    this.#count(t)
    for (const gap of o.itls_ms) {
      t += gap
      this.#count(t)
    }
  }

  /** One inter-token gap of a request still running (ms), its token delivered at `atMs`: ITL and the token count without keeping the gaps. */
  gap(gapMs: number, atMs: number): void {
    this.itl.add(gapMs)
    this.#count(atMs)
  }

  #count(t: number): void {
    const s = Math.floor((t - this.#origin) / 1000)
    this.#perSecond.set(s, (this.#perSecond.get(s) ?? 0) + 1)
  }

  /** The totals behind the summary. */
  totals(): {
    readonly completed: number
    readonly good: number
    readonly input_tokens: number
    readonly output_tokens: number
    readonly max_output_tokens_per_s: number
    readonly max_concurrent_requests: number
  } {
    let peak = 0
    for (const c of this.#perSecond.values()) if (c > peak) peak = c
    return {
      completed: this.#completed,
      good: this.#good,
      input_tokens: this.#inputTokens,
      output_tokens: this.#outputTokens,
      max_output_tokens_per_s: peak,
      max_concurrent_requests: this.#intervals?.peak() ?? 0
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Flags

/** --percentile-metrics "ttft,tpot,itl" to its list; vLLM's queue metrics need a client queue we do not model. */
export const parsePercentileMetrics = (text: string): ReadonlyArray<PercentileMetric> | string => {
  const names = text.split(",").map((s) => s.trim())
  const bad = names.filter((n) => !(PERCENTILE_METRICS as ReadonlyArray<string>).includes(n))
  if (bad.length > 0) return `unknown metric ${bad.map((b) => JSON.stringify(b)).join(", ")}: allowed are ${PERCENTILE_METRICS.join(", ")}`
  return names as PercentileMetric[]
}

/** --metric-percentiles "50,90,99" to numbers in [0, 100]. */
export const parseMetricPercentiles = (text: string): ReadonlyArray<number> | string => {
  const out: number[] = []
  for (const part of text.split(",")) {
    const p = Number(part.trim())
    if (part.trim() === "" || !(p >= 0 && p <= 100)) return `percentile ${JSON.stringify(part.trim())} is not a number in [0, 100]`
    out.push(p)
  }
  return out
}

/** --goodput "ttft:200" "tpot:50" (ms), with vLLM's `parse_goodput` / `check_goodput_args` checks. */
export const parseGoodput = (pairs: ReadonlyArray<string>): GoodputSlo | string => {
  const slo: Record<string, number> = {}
  for (const pair of pairs) {
    const parts = pair.split(":")
    const value = Number(parts[1]?.trim())
    if (parts.length !== 2 || parts[1]?.trim() === "" || Number.isNaN(value))
      return `${JSON.stringify(pair)}: specify service level objectives for goodput as "KEY:VALUE" pairs, the value a number in milliseconds`
    const name = (parts[0] as string).trim()
    if (name !== "ttft" && name !== "tpot" && name !== "e2el")
      return `invalid metric name ${JSON.stringify(name)}: the service level objective name should be one of ttft, tpot, e2el`
    if (value < 0) return `invalid value ${name}: ${value}: the service level objective value should be non-negative`
    slo[name] = value
  }
  return slo as GoodputSlo
}

// ---------------------------------------------------------------------------------------------
// The result dict

/** vLLM's saved result, less the per-request lists; metric keys like mean_ttft_ms, p99_itl_ms. */
export interface BenchResult {
  readonly duration: number
  readonly completed: number
  readonly failed: number
  readonly total_input_tokens: number
  readonly total_output_tokens: number
  readonly request_throughput: number
  readonly request_goodput: number | null
  readonly output_throughput: number
  readonly total_token_throughput: number
  readonly max_output_tokens_per_s: number
  readonly max_concurrent_requests: number
  readonly rtfx: number
  readonly [metric: `${string}_ms`]: number
}

export interface SummaryOptions {
  /** Peak concurrent requests counted by the caller (with `externalConcurrency`). */
  readonly max_concurrent_requests?: number
  /** Benchmark duration (ms); default the latest request end (the run starts at 0). A run of no time reports its rates as 0. */
  readonly duration_ms?: number
  /** --percentile-metrics (default ttft, tpot, itl). */
  readonly percentile_metrics?: ReadonlyArray<PercentileMetric>
  /** --metric-percentiles (default 99). */
  readonly metric_percentiles?: ReadonlyArray<number>
}

/** Python's str() of a float, as vLLM's percentile key uses it (p99, p99.9, p1e-05). */
const pythonFloat = (p: number): string => {
  if (p !== 0 && Math.abs(p) < 1e-4) {
    const [m, e] = p.toExponential().split("e") as [string, string]
    const exp = Number(e)
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`
  }
  return String(p)
}

/** vLLM's key word for a percentile: "99" for 99, "99.9" for 99.9. */
export const percentileWord = (p: number): string => (Number.isInteger(p) ? String(p) : pythonFloat(p))

/** The saved result of a run (see the module header), keys in vLLM's order. */
export const summarize = (acc: MetricsAccumulator, options: SummaryOptions = {}): BenchResult => {
  const t = acc.totals()
  const durationMs = options.duration_ms ?? acc.last_end_ms
  const s = durationMs / 1000
  const rate = (x: number) => (s > 0 ? x / s : 0)
  const result: Record<string, number | null> = {
    duration: s,
    completed: t.completed,
    failed: 0,
    total_input_tokens: t.input_tokens,
    total_output_tokens: t.output_tokens,
    request_throughput: rate(t.completed),
    request_goodput: acc.goodput === undefined ? null : rate(t.good),
    output_throughput: rate(t.output_tokens),
    total_token_throughput: rate(t.input_tokens + t.output_tokens),
    max_output_tokens_per_s: t.max_output_tokens_per_s,
    max_concurrent_requests: options.max_concurrent_requests ?? t.max_concurrent_requests,
    rtfx: 0
  }
  const selected = options.percentile_metrics ?? DEFAULT_PERCENTILE_METRICS
  const percentiles = options.metric_percentiles ?? DEFAULT_METRIC_PERCENTILES
  for (const m of PERCENTILE_METRICS) {
    if (!selected.includes(m)) continue
    const d = acc[m]
    result[`mean_${m}_ms`] = d.mean()
    result[`median_${m}_ms`] = d.median()
    result[`std_${m}_ms`] = d.std()
    for (const p of percentiles) result[`p${percentileWord(p)}_${m}_ms`] = d.percentile(p)
  }
  return result as unknown as BenchResult
}

// ---------------------------------------------------------------------------------------------
// The printed block

/** Python's format(x, ".2f"): round half to even on the double's exact value; inf and nan as Python spells them. */
export const fixed2 = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf"
  if (Object.is(x, -0)) return "-0.00"
  const y = Math.abs(x) * 100
  // A tie (x * 100 ending in exactly .5) needs x a multiple of 1/8, and only a tie can round
  // differently: toFixed takes the larger neighbour, Python the even one.
  if (Number.isInteger(x * 8) && y % 1 === 0.5) {
    const down = Math.floor(y)
    const text = ((down % 2 === 0 ? down : down + 1) / 100).toFixed(2)
    return x < 0 ? `-${text}` : text
  }
  return x.toFixed(2)
}

const row = (label: string, value: string): string => `${label.padEnd(40)} ${value.padEnd(10)}`
const center = (text: string, fill: string): string => {
  const pad = Math.max(0, 50 - text.length)
  const left = Math.floor(pad / 2)
  return fill.repeat(left) + text + fill.repeat(pad - left)
}

/** Each metric's name and section header as vLLM prints them. */
const METRIC_TEXT: Record<PercentileMetric, readonly [string, string]> = {
  ttft: ["TTFT", "Time to First Token"],
  tpot: ["TPOT", "Time per Output Token (excl. 1st token)"],
  itl: ["ITL", "Inter-token Latency"],
  e2el: ["E2EL", "End-to-end Latency"]
}

export interface SummaryExtra {
  /** GPUs serving the run: adds the per-GPU throughput lines. */
  readonly gpus: number
  /** --max-concurrency, printed when set. */
  readonly max_concurrency?: number
  /** --request-rate, printed when finite. */
  readonly request_rate?: number
}

/**
 * The block `vllm bench serve` prints, from a result: same labels, widths and order, plus
 * "Output token throughput per GPU (tok/s):" and "Total token throughput per GPU (tok/s):" after
 * their totals. Metric sections follow the result's keys (mean, median, then each percentile).
 */
export const formatSummary = (result: BenchResult, extra: SummaryExtra): string => {
  const lines: string[] = [center(" Serving Benchmark Result ", "=")]
  lines.push(row("Successful requests:", String(result.completed)))
  lines.push(row("Failed requests:", String(result.failed)))
  if (extra.max_concurrency !== undefined) lines.push(row("Maximum request concurrency:", String(extra.max_concurrency)))
  if (extra.request_rate !== undefined && extra.request_rate !== Number.POSITIVE_INFINITY)
    lines.push(row("Request rate configured (RPS):", fixed2(extra.request_rate)))
  lines.push(row("Benchmark duration (s):", fixed2(result.duration)))
  lines.push(row("Total input tokens:", String(result.total_input_tokens)))
  lines.push(row("Total generated tokens:", String(result.total_output_tokens)))
  lines.push(row("Request throughput (req/s):", fixed2(result.request_throughput)))
  if (result.request_goodput !== null) lines.push(row("Request goodput (req/s):", fixed2(result.request_goodput)))
  lines.push(row("Output token throughput (tok/s):", fixed2(result.output_throughput)))
  lines.push(row("Output token throughput per GPU (tok/s):", fixed2(result.output_throughput / extra.gpus)))
  lines.push(row("Peak output token throughput (tok/s):", fixed2(result.max_output_tokens_per_s)))
  lines.push(row("Peak concurrent requests:", fixed2(result.max_concurrent_requests)))
  if (result.rtfx > 0) lines.push(row("RTFx (Inverse Real-Time Factor):", fixed2(result.rtfx)))
  lines.push(row("Total token throughput (tok/s):", fixed2(result.total_token_throughput)))
  lines.push(row("Total token throughput per GPU (tok/s):", fixed2(result.total_token_throughput / extra.gpus)))
  const keys = Object.keys(result)
  for (const m of PERCENTILE_METRICS) {
    const mean = result[`mean_${m}_ms`]
    if (mean === undefined) continue
    const [name, header] = METRIC_TEXT[m]
    lines.push(center(header, "-"))
    lines.push(row(`Mean ${name} (ms):`, fixed2(mean)))
    lines.push(row(`Median ${name} (ms):`, fixed2(result[`median_${m}_ms`] as number)))
    const suffix = `_${m}_ms`
    for (const k of keys) {
      if (!(k.startsWith("p") && k.endsWith(suffix))) continue
      lines.push(row(`P${k.slice(1, -suffix.length)} ${name} (ms):`, fixed2(result[k as `${string}_ms`])))
    }
  }
  lines.push("=".repeat(50))
  return lines.join("\n")
}

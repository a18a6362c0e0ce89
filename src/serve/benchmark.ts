/**
 * One simulated `vllm bench serve`: a workload's requests through one engine instance (simulate.ts),
 * each outcome into the metrics (metrics.ts), and the summary with vLLM's result keys plus what
 * llmsim knows besides: the engine's settings, its KV budget, per-GPU rates, the step counts and
 * a time series for the report. Pure: the caller supplies the requests (generated or read from
 * a trace) and receives each outcome if it wants them (`--requests FILE`).
 */
import type { EngineSettings } from "./engine.ts"
import type { KvBudget } from "./memory.ts"
import { MetricsAccumulator, summarize, type BenchResult, type GoodputSlo, type PercentileMetric } from "./metrics.ts"
import { createRng } from "./random.ts"
import { serveDisaggregated, type DisaggregatedInput } from "./disaggregate.ts"
import { serve, type SeriesPoint, type StepPricer } from "./simulate.ts"
import { PrefixCache } from "./trace.ts"
import type { RequestOutcome, ServeRequest } from "./types.ts"

export interface BenchmarkInput {
  readonly settings: EngineSettings
  readonly kv: KvBudget
  readonly pricer: StepPricer
  /** Attention data-parallel ranks; GPUs of the instance. */
  readonly ranks: number
  readonly gpus: number
  readonly requests: Iterable<ServeRequest>
  readonly maxConcurrency?: number
  /** MTP draft acceptance (0 without MTP). */
  readonly acceptance: number
  /** Seeds the MTP acceptance draws. */
  readonly seed: number
  /** Tokens per prefix-hash block of the requests' hashes (Mooncake: 512). */
  readonly hashBlockTokens: number
  readonly goodput?: GoodputSlo
  readonly percentileMetrics: ReadonlyArray<PercentileMetric>
  readonly metricPercentiles: ReadonlyArray<number>
  readonly onOutcome?: (o: RequestOutcome) => void
  readonly onProgress?: (finished: number) => void
  /**
   * False: no per-token statistics (inter-token latencies, tokens per second): the result's ITL
   * and peak-output figures are then empty. A capacity probe (capacity.ts) reads TTFT, TPOT, E2E
   * latency and throughputs only, and streaming every token into the ITL distribution was about
   * a sixth of a plan's time. Default true.
   */
  readonly tokenStats?: boolean
  /**
   * Prefill/decode disaggregation (disaggregate.ts): the prefill pool and the decode pool, the
   * link and the KV bytes; `settings`, `pricer`, `ranks` and `kv` above are then the decode
   * pool's (what the report's engine lines show). Prefix caching is not applied across pools.
   */
  readonly disaggregated?: Omit<DisaggregatedInput, "requests" | "acceptance" | "random" | "onOutcome" | "onGap" | "keepItls" | "onProgress" | "maxConcurrency">
}

/** What a disaggregated run adds: its KV transfers. */
interface TransferStats {
  readonly transfers: number
  readonly transfer_bytes: number
  readonly transfer_ms_mean: number
  readonly transfer_wait_ms_mean: number
  readonly max_transfers_in_flight: number
  readonly prefill_steps: number
  readonly decode_steps: number
}

/** What llmsim adds to vLLM's result keys. */
interface BenchmarkExtras {
  readonly gpus: number
  readonly output_throughput_per_gpu: number
  readonly total_token_throughput_per_gpu: number
  readonly request_goodput_per_gpu: number | null
  readonly steps: number
  readonly prefill_steps: number
  readonly preemptions: number
  readonly max_running: number
  /** Prompt tokens served from the prefix cache. */
  readonly cached_prompt_tokens: number
  readonly series: ReadonlyArray<SeriesPoint>
  /** Per --goodput SLO, the fraction of requests whose metric met it (each on its own; goodput needs all). */
  readonly within_slo: Readonly<Partial<Record<"ttft" | "tpot" | "e2el", number>>>
  /** Empirical CDFs of TTFT, TPOT and E2EL (ms, fraction), for the report. */
  readonly cdf: Readonly<Record<"ttft" | "tpot" | "e2el", ReadonlyArray<readonly [number, number]>>>
  /** Disaggregated runs only. */
  readonly transfer?: TransferStats
}

export interface BenchmarkRun {
  readonly result: BenchResult
  readonly extras: BenchmarkExtras
}

/** Points of each CDF the report draws. */
const CDF_POINTS = 200

export const runBenchmark = (input: BenchmarkInput): BenchmarkRun => {
  const acc = new MetricsAccumulator({ externalConcurrency: true, ...(input.goodput === undefined ? {} : { goodput: input.goodput }) })
  const rng = createRng(input.seed)
  const s = input.settings
  const caches = s.prefix_caching
    ? Array.from({ length: input.ranks }, () => new PrefixCache(Math.floor(input.kv.kv_tokens / input.hashBlockTokens), input.hashBlockTokens))
    : undefined
  let cached = 0
  // Gaps go to the metrics as they happen; a request keeps its list only for --requests.
  const common = {
    requests: input.requests,
    ...(input.maxConcurrency === undefined ? {} : { maxConcurrency: input.maxConcurrency }),
    acceptance: input.acceptance,
    random: () => rng.float(),
    ...(input.tokenStats === false ? {} : { onGap: (gap: number, at: number) => acc.gap(gap, at) }),
    keepItls: input.onOutcome !== undefined,
    onOutcome: (o: RequestOutcome) => {
      cached += o.cached_tokens
      acc.add(o, true)
      input.onOutcome?.(o)
    },
    ...(input.onProgress === undefined ? {} : { onProgress: input.onProgress })
  }
  const pd = input.disaggregated === undefined ? undefined : serveDisaggregated({ ...input.disaggregated, ...common })
  const run =
    pd ??
    serve({
      settings: s,
      pricer: input.pricer,
      ranks: input.ranks,
      kvTokensPerRank: input.kv.kv_tokens,
      ...(caches === undefined
        ? {}
        : {
            prefixHit: (req: ServeRequest, blockSize: number, rank: number) => {
              if (req.prefix_hashes === undefined) return 0
              const hit = caches[rank].access(req.prefix_hashes, req.input_len)
              return Math.floor(hit / blockSize) * blockSize
            }
          }),
      ...common
    })
  const result = summarize(acc, {
    duration_ms: run.duration_ms,
    max_concurrent_requests: run.max_concurrent,
    percentile_metrics: input.percentileMetrics,
    metric_percentiles: input.metricPercentiles
  })
  const cdf = (m: "ttft" | "tpot" | "e2el") => {
    const d = acc[m]
    const out: Array<readonly [number, number]> = []
    if (d.count === 0) return out
    for (let i = 0; i <= CDF_POINTS; i++) out.push([d.percentile((100 * i) / CDF_POINTS), i / CDF_POINTS])
    return out
  }
  return {
    result,
    extras: {
      gpus: input.gpus,
      output_throughput_per_gpu: result.output_throughput / input.gpus,
      total_token_throughput_per_gpu: result.total_token_throughput / input.gpus,
      request_goodput_per_gpu: result.request_goodput === null ? null : result.request_goodput / input.gpus,
      steps: run.steps,
      prefill_steps: run.prefill_steps,
      preemptions: run.preemptions,
      max_running: run.max_running,
      cached_prompt_tokens: cached,
      series: run.series,
      within_slo: Object.fromEntries(
        (["ttft", "tpot", "e2el"] as const).flatMap((m) => {
          const slo = input.goodput?.[m]
          return slo === undefined || acc[m].count === 0 ? [] : [[m, acc[m].countAtMost(slo) / acc[m].count]]
        })
      ),
      cdf: { ttft: cdf("ttft"), tpot: cdf("tpot"), e2el: cdf("e2el") },
      ...(pd === undefined
        ? {}
        : {
            transfer: {
              transfers: pd.transfers,
              transfer_bytes: pd.transfer_bytes,
              transfer_ms_mean: pd.transfer_ms_mean,
              transfer_wait_ms_mean: pd.transfer_wait_ms_mean,
              max_transfers_in_flight: pd.max_transfers_in_flight,
              prefill_steps: pd.prefill_steps_total,
              decode_steps: pd.decode_steps_total
            }
          })
    }
  }
}

/**
 * `llmsim bench [scenario]`: a simulated `vllm bench serve` against an engine model. The workload
 * flags are vLLM's (--dataset-name, --random-input-len, --request-rate, --burstiness,
 * --max-concurrency, --goodput, --percentile-metrics, --metric-percentiles, --seed, ...), the
 * summary is vLLM's block, and `--format json` writes vLLM's result keys, so
 * `llmsim bench --compare measured.json` lines them up with a real `--save-result` file.
 * Engine settings have engine-neutral names (the scenario's `engine:` block uses the same); the
 * vLLM names are aliases.
 */
import { Effect, Option, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { openAtomic } from "../base/atomicFile.js"
import { readGuarded, refusalText } from "../base/guardedRead.js"
import { UsageError } from "../config/errors.ts"
import { noteBytes, taint } from "../launch/recording.ts"
import { runBench, type BenchOptions } from "../playbooks/bench.ts"
import { renderBenchJson, renderBenchTable } from "../report/bench.ts"
import { compareResults, type Comparison } from "../serve/compare.ts"
import { parseMetricPercentiles, parsePercentileMetrics, type PercentileMetric } from "../serve/metrics.ts"
import type { RequestOutcome } from "../serve/types.ts"
import { documented, parsedWith, servingRunFlags, servingRunOptions } from "./flags.ts"
import { engineFlags, engineOverridesOf, positiveInt, some, workloadFlags, workloadSpecOf } from "./benchFlags.ts"
import { checkOutputs, emit } from "./output.ts"
import { scenarioArg } from "./run.ts"

const opt = Option.getOrUndefined

/** vLLM's --request-rate: requests per second, or inf (every request at time 0). */
const requestRate = Flag.String("request-rate").pipe(
  Flag.withDescription(
    "Requests per second (Poisson arrivals, or Gamma with --burstiness); inf: every request at once, the offline max-load run (default inf)"
  ),
  parsedWith("request-rate", (t: string) => {
    const s = t.trim().toLowerCase()
    if (s === "inf" || s === "infinity") return Result.succeed(Number.POSITIVE_INFINITY)
    const x = Number(s)
    return Number.isFinite(x) && x > 0 && s !== "" ? Result.succeed(x) : Result.fail(`expected a rate > 0 in requests/s or inf, got "${t}"`)
  }),
  Flag.optional
)

const listOf = <A>(name: string, parse: (t: string) => A | string) =>
  Flag.String(name).pipe(
    parsedWith(name, (t: string) => {
      const r = parse(t)
      return typeof r === "string" ? Result.fail(r) : Result.succeed(r)
    })
  )

const benchFlags = {
  ...engineFlags,
  ...workloadFlags,
  datasetName: Flag.Literals("dataset-name", ["random", "sharegpt", "trace"]).pipe(
    Flag.withDescription("random: lengths from --random-*; sharegpt: lognormal lengths from --sharegpt-lengths; trace: replay --dataset-path"),
    Flag.withDefault("random" as const)
  ),
  datasetPath: Flag.String("dataset-path").pipe(
    Flag.withDescription("Trace to replay: JSON Lines as the Mooncake traces (timestamp ms, input_length, output_length, hash_ids) or CSV with a header"),
    Flag.optional
  ),
  requestRate,
  maxConcurrency: positiveInt("max-concurrency", "At most this many requests in flight (the client waits for a free slot)"),
  percentileMetrics: listOf<ReadonlyArray<PercentileMetric>>("percentile-metrics", parsePercentileMetrics).pipe(
    Flag.withDescription("Metrics to report percentiles of: ttft,tpot,itl,e2el (default all four)"),
    Flag.optional
  ),
  metricPercentiles: listOf<ReadonlyArray<number>>("metric-percentiles", parseMetricPercentiles).pipe(
    Flag.withDescription("Percentiles to report (default 90,99)"),
    Flag.optional
  ),
  prefillInstances: positiveInt(
    "prefill-instances",
    "Serve disaggregated: this many prefill instances (the layout of the scenario's disaggregation.prefill block, else the scenario's)"
  ),
  decodeInstances: positiveInt("decode-instances", "Serve disaggregated: this many decode instances (disaggregation.decode's layout, else the scenario's)"),
  layerwiseTransfer: Flag.Boolean("layerwise-transfer").pipe(
    Flag.withDescription("Disaggregated: send each layer's KV as it is prefilled (default: the block's transfer.layerwise, else after the prefill)"),
    Flag.optional
  ),
  wideEp: Flag.Boolean("wide-ep").pipe(
    Flag.withDescription(
      "Serve as a wide expert-parallel deployment: steps priced by the large-EP model (DeepEP all-to-all, two-batch overlap, the scenario's deployment block) instead of the core layout's (default: each pool's wide_ep)"
    ),
    Flag.optional
  ),
  requests: Flag.String("requests").pipe(Flag.withDescription("Stream every request's outcome to FILE (JSON Lines)"), Flag.optional),
  compare: Flag.String("compare").pipe(
    Flag.withDescription("A measured result (vllm bench serve --save-result, sglang.bench_serving output): each field predicted vs measured"),
    Flag.optional
  ),
  format: Flag.Literals("format", ["table", "json", "html"]).pipe(
    Flag.withDescription("Output format: table, json (vLLM's keys), or html (a page with the latency CDFs, SLO lines and the run over time)"),
    Flag.withDefault("table" as const)
  ),
  out: Flag.String("out").pipe(Flag.withDescription("Write the result to FILE instead of stdout"), Flag.optional),
  progress: Flag.Boolean("progress").pipe(Flag.withDescription("Progress bar on stderr (default: when stderr is a terminal)"), Flag.optional)
}

/** Read and parse --compare's file before anything runs. */
const readMeasured = (file: string) =>
  Effect.gen(function* () {
    const r = readGuarded(file, 64 * 2 ** 20)
    if (!("bytes" in r))
      return yield* Effect.fail(
        new UsageError({ message: `--compare: cannot read ${file}: ${"refused" in r ? refusalText(r.refused) : (r.error.code ?? r.error.message)}` })
      )
    // The measured file is an input: a record replays only while its bytes are these.
    noteBytes(file, r.bytes)
    const text = r.bytes.toString("utf8")
    // sglang.bench_serving appends one JSON object per line: the last one is the latest run.
    const last = text.trim().split("\n").at(-1) ?? ""
    try {
      return JSON.parse(text.trim().startsWith("{") && !text.trim().includes("\n{") ? text : last) as unknown
    } catch (e) {
      return yield* Effect.fail(new UsageError({ message: `--compare: ${file} is not JSON: ${e instanceof Error ? e.message : String(e)}` }))
    }
  })

export const benchCommand = Command.make(
  "bench",
  {
    scenario: scenarioArg,
    ...benchFlags,
    ...servingRunFlags
  },
  Effect.fn(function* (a) {
    const run = servingRunOptions(a.scenario, a)
    yield* checkOutputs([
      ["--out", opt(a.out)],
      ["--requests", opt(a.requests)]
    ])
    const measured = Option.isSome(a.compare) ? yield* readMeasured(a.compare.value) : undefined
    const workload = workloadSpecOf(a, a.datasetName, a.requestRate)
    const showBar = opt(a.progress) ?? process.stderr.isTTY === true
    const bar = showBar ? (yield* Effect.promise(() => import("./progress.ts"))).progressBar("bench", "requests") : undefined
    // A run whose outputs a record cannot hold (a streamed --requests file, a trace read line by line, a bar on stderr) is never replayed.
    if (Option.isSome(a.requests) || a.datasetName === "trace" || bar !== undefined) taint()
    const requestsFile = opt(a.requests)
    const writer = requestsFile === undefined ? undefined : openAtomic(requestsFile)
    const options: BenchOptions = {
      run,
      ...some("engine", a.engine),
      engineFlags: engineOverridesOf(a),
      workload,
      ...some("tracePath", a.datasetPath),
      ...some("maxConcurrency", a.maxConcurrency),
      ...some("goodput", a.goodput),
      percentileMetrics: opt(a.percentileMetrics) ?? ["ttft", "tpot", "itl", "e2el"],
      metricPercentiles: opt(a.metricPercentiles) ?? [90, 99],
      ...some("mtpAcceptance", a.mtpAcceptance),
      ...some("prefillInstances", a.prefillInstances),
      ...some("decodeInstances", a.decodeInstances),
      ...some("layerwiseTransfer", a.layerwiseTransfer),
      ...some("wideEp", a.wideEp),
      ...(writer === undefined ? {} : { onOutcome: (o: RequestOutcome) => writer.write(`${JSON.stringify(o)}\n`) }),
      ...(bar === undefined ? {} : { onProgress: (done: number, total: number) => (done % 256 === 0 || done === total ? bar.update(done, total) : undefined) })
    }
    const out = yield* runBench(options).pipe(
      Effect.ensuring(Effect.sync(() => bar?.stop())),
      Effect.onError(() => Effect.sync(() => writer?.abort()))
    )
    if (writer !== undefined)
      yield* Effect.try({ try: () => writer.commit(), catch: (e) => new UsageError({ message: `--requests: cannot write ${requestsFile}: ${String(e)}` }) })
    let comparison: Comparison | undefined
    if (measured !== undefined) {
      const c = compareResults(out.bench.result as unknown as Record<string, unknown>, measured)
      if (!c.ok) return yield* Effect.fail(new UsageError({ message: `--compare: ${c.message}` }))
      comparison = c.comparison
    }
    // The page's charts (Vega) load only for html.
    const text =
      a.format === "html"
        ? yield* Effect.promise(async () => (await import("../report/html.ts")).renderBenchHtml(out, comparison))
        : a.format === "json"
          ? renderBenchJson(out, comparison)
          : renderBenchTable(out, comparison)
    yield* emit(text, opt(a.out))
  })
).pipe(
  documented("Serve a request stream on an engine model: vllm bench serve's metrics (TTFT, TPOT, ITL, E2E, throughput, goodput) simulated", [
    ["llmsim bench", "The default scenario on vLLM, 1000 random 1024/128 requests at max load"],
    [
      "llmsim bench configs/scenarios/llama_3_1_70b_h100.yaml --engine trtllm --random-input-len 1000 --random-output-len 1000 --num-prompts 3000",
      "TensorRT-LLM at max load, as trtllm-bench runs it"
    ],
    ["llmsim bench --request-rate 4 --goodput 'ttft:2000 tpot:50'", "Poisson arrivals at 4 req/s, goodput under SLOs"],
    ["llmsim bench --dataset-name trace --dataset-path data/traces/mooncake_sample.jsonl", "Replay a Mooncake trace with prefix caching"],
    ["llmsim bench --format json --out predicted.json --compare measured.json", "Predicted against a vllm bench serve --save-result file"]
  ])
)

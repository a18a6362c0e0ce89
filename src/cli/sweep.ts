/**
 * `llmsim sweep`: search layouts and runtimes for what to deploy (src/sweep), and
 * `llmsim sweep merge`: one answer from the JSON Lines of several shards.
 */
import { Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { SweepResult } from "../sweep/run.ts"
import { AXES, AXIS_KINDS, flagName, parseAxis, type AxisName } from "../sweep/axes.ts"
import { OBJECTIVES, type Objective } from "../sweep/judge.ts"
import { parseShard } from "../sweep/space.ts"
import { clusterFlag, documented, parsedWith, runtimeFlags, strategyFlag, toRunOptions } from "./flags.ts"
import { emit } from "./output.ts"
import { engineFlags, engineOverridesOf, priceFlag, sloPercentileFlag, workloadFlags, workloadSpecOf } from "./benchFlags.ts"
import { BENCH_OBJECTIVES, type BenchObjective } from "../sweep/judge.ts"
import { UsageError } from "../config/errors.ts"
import { scenarioArg } from "./run.ts"

// Checked when the flags are parsed, before anything is loaded; the text is kept and parsed again
// with the scenario's `sweep:` block (src/sweep/run.ts).
const axisFlags = Object.fromEntries(
  AXES.map((a) => [
    a,
    Flag.String(flagName(a)).pipe(
      Flag.withDescription(
        `Sweep axis ${a}: ${AXIS_KINDS[a].expected}; a list (a,b,c)${AXIS_KINDS[a].numeric ? " or a range (1..512:x2, 1024..8192:+1024)" : ""}`
      ),
      parsedWith(flagName(a), (t: string) => {
        const r = parseAxis(a, t)
        return r.ok ? Result.succeed(t) : Result.fail(r.message)
      }),
      Flag.optional
    )
  ])
) as Record<AxisName, Flag.Flag<Option.Option<string>>>

const positive = (name: string, what: string) =>
  Flag.Finite(name).pipe(
    Flag.withDescription(what),
    Flag.filter(
      (n) => n > 0,
      (n) => `--${name} must be > 0, got ${n}`
    ),
    Flag.optional
  )

const sweepFlags = {
  ...axisFlags,
  maxTtftMs: positive("max-ttft-ms", "Constraint: TTFT at most this many ms"),
  maxTpotMs: positive("max-tpot-ms", "Constraint: TPOT at most this many ms"),
  minTokensPerUser: positive("min-tokens-per-s-per-user", "Constraint: at least this many output tokens/s per user (1000 / TPOT)"),
  maxGpus: Flag.Int("max-gpus").pipe(
    Flag.withDescription("Constraint: at most this many GPUs"),
    Flag.filter(
      (n) => n >= 1,
      (n) => `--max-gpus must be >= 1, got ${n}`
    ),
    Flag.optional
  ),
  objective: Flag.Literals("objective", [...new Set([...Object.keys(OBJECTIVES), ...Object.keys(BENCH_OBJECTIVES)])] as ReadonlyArray<
    Objective | BenchObjective
  >).pipe(
    Flag.withDescription(
      `What the best point maximises (throughput) or minimises (cost); with --bench one of ${Object.keys(BENCH_OBJECTIVES).join(", ")} (default goodput_per_gpu)`
    ),
    Flag.optional
  ),
  by: Flag.Literals("by", AXES).pipe(
    Flag.withDescription("Also print the best point per value of this axis (default: hardware, when several are swept)"),
    Flag.optional
  ),
  price: priceFlag("USD per GPU-hour for every hardware of the sweep (else each hardware file's price_per_gpu_hour_usd)"),
  requireCalibrated: Flag.Boolean("require-calibrated").pipe(
    Flag.withDescription(
      "Refuse hardware whose timing constants are not all fitted or borrowed (a constant at its datasheet peak, or with no stated source; see its calibration: block)"
    ),
    Flag.withDefault(false)
  ),
  points: Flag.String("points").pipe(Flag.withDescription("Stream every point to FILE: .csv, else JSON Lines (what sweep merge reads)"), Flag.optional),
  workers: Flag.Int("workers").pipe(
    Flag.withDescription("Worker threads evaluating points (default 1)"),
    Flag.filter(
      (n) => n >= 1 && n <= 64,
      (n) => `--workers must be 1 to 64, got ${n}`
    ),
    Flag.withDefault(1)
  ),
  shard: Flag.String("shard").pipe(
    Flag.withDescription(
      "Evaluate shard k of n (k/n, from 1): contiguous slices of the points (with --bench, of the layouts), for CI matrices; merge with sweep merge (with --bench, a run without --shard replays the shards' searches from a shared store)"
    ),
    parsedWith("shard", (t: string) => {
      const s = parseShard(t)
      return s === undefined ? Result.fail(`expected k/n with 1 <= k <= n, got "${t}"`) : Result.succeed(s)
    }),
    Flag.optional
  ),
  format: Flag.Literals("format", ["table", "json", "html", "svg"]).pipe(
    Flag.withDescription("Output format of the answer: table, json, html (a page with the Pareto frontier chart) or svg (that chart)"),
    Flag.withDefault("table" as const)
  ),
  out: Flag.String("out").pipe(Flag.withDescription("Write the answer to FILE instead of stdout"), Flag.optional),
  phase: runtimeFlags.phase,
  estimator: runtimeFlags.estimator,
  model: runtimeFlags.model,
  efficiency: runtimeFlags.efficiency,
  cacheDir: runtimeFlags.cacheDir,
  remoteCache: runtimeFlags.remoteCache,
  cache: runtimeFlags.cache,
  strategy: strategyFlag,
  progress: Flag.Boolean("progress").pipe(Flag.withDescription("Progress bar on stderr (default: when stderr is a terminal)"), Flag.optional),
  bench: Flag.Boolean("bench").pipe(
    Flag.withDescription(
      "Plan under load: per layout, the largest request rate whose --slo-percentile TTFT/TPOT/E2E meet --goodput, simulated as llmsim bench (the workload and engine flags are bench's)"
    ),
    Flag.withDefault(false)
  ),
  benchDataset: Flag.Literals("dataset-name", ["random", "sharegpt"]).pipe(
    Flag.withDescription("--bench: the generated workload (random or sharegpt, as llmsim bench)"),
    Flag.withDefault("random" as const)
  ),
  sloPercentile: sloPercentileFlag("--bench: the percentile the --goodput SLOs hold at (default 99)"),
  cluster: clusterFlag(
    "--bench: the capacity searches are computed by the runners (llmsim worker) of the cluster at this PostgreSQL URL, the answer the same bytes (docs/cluster.md)"
  ).pipe(Flag.optional),
  ...engineFlags,
  ...workloadFlags
}

/** Flags that mean something only with --bench, and those that mean nothing with it. */
const BENCH_ONLY: ReadonlyArray<string> = [...Object.keys(engineFlags), ...Object.keys(workloadFlags), "sloPercentile", "cluster"]
const STEP_ONLY: Readonly<Record<string, string>> = {
  maxTtftMs: "--max-ttft-ms (use --goodput ttft:MS)",
  maxTpotMs: "--max-tpot-ms (use --goodput tpot:MS)",
  minTokensPerUser: "--min-tokens-per-s-per-user (use --goodput tpot:MS)",
  points: "--points",
  strategy: "--strategy (bench serves the core layout)",
  by: "--by",
  phase: "--phase"
}
const camelToFlag = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

// The sweep engine, its renderers and the progress bar load when a sweep runs, not on every
// llmsim start (they were ~50 ms of each command's start-up).

/** The answer in `format`; html and svg draw the frontier (Vega, loaded only then). */
const renderSweepAs = (result: SweepResult, format: "table" | "json" | "html" | "svg") =>
  Effect.promise(async () => {
    if (format === "html" || format === "svg") return (await import("../report/html.ts")).renderSweepVisual(result, format)
    const { renderSweepJson, renderSweepTable } = await import("../report/sweep.ts")
    return format === "json" ? renderSweepJson(result) : renderSweepTable(result)
  })

const mergeCommand = Command.make(
  "merge",
  {
    files: Argument.String("files").pipe(
      Argument.withDescription(
        "JSON Lines files written by sweep --shard k/n --points FILE (run in the project the shards ran in: merge rebuilds the sweep from its files)"
      ),
      Argument.variadic({ min: 1 })
    ),
    format: sweepFlags.format,
    out: sweepFlags.out,
    sample: Flag.Int("sample").pipe(
      Flag.withDescription("Points re-evaluated at random to check the shards, besides those the answer shows (default: 1024 or 1% of the points)"),
      Flag.filter(
        (n) => n >= 0,
        (n) => `--sample must be >= 0, got ${n}`
      ),
      Flag.optional
    ),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Seed of the sample (default 1): the same shards and seed check the same points"), Flag.optional)
  },
  Effect.fn(function* (a) {
    const { mergeShards } = yield* Effect.promise(() => import("../sweep/merge.ts"))
    const result = yield* mergeShards(a.files.map(String), process.cwd(), {
      ...(Option.isSome(a.sample) ? { sample: a.sample.value } : {}),
      ...(Option.isSome(a.seed) ? { seed: a.seed.value } : {})
    })
    yield* emit(yield* renderSweepAs(result, a.format), Option.getOrUndefined(a.out))
  })
).pipe(
  documented("Merge the JSON Lines of a sharded sweep into the answer one machine would give", [
    ["llmsim sweep merge shard-1.jsonl shard-2.jsonl", "Frontier and best points over both shards"]
  ])
)

/**
 * Run `body` with Ctrl-C and SIGTERM (and SIGHUP, which bin/llmsim.js turns into the same stop)
 * asking it to stop at its next chunk (`stopped()`); the runtime also interrupts the command, which
 * removes the partial points file and cache pack (exit 130, 143 or 129). The bar stops either way.
 */
const stoppable = <A, E, R>(body: (stopped: () => boolean) => Effect.Effect<A, E, R>, bar: { stop: () => void } | undefined) => {
  let stop = false
  const onSignal = () => void (stop = true)
  return Effect.acquireUseRelease(
    Effect.sync(() => {
      process.once("SIGINT", onSignal)
      process.once("SIGTERM", onSignal)
    }),
    () => body(() => stop),
    () =>
      Effect.sync(() => {
        process.removeListener("SIGINT", onSignal)
        process.removeListener("SIGTERM", onSignal)
        bar?.stop()
      })
  )
}

export const sweepCommand = Command.make(
  "sweep",
  { scenario: scenarioArg, ...sweepFlags },
  Effect.fn(function* (a) {
    const axes: Partial<Record<AxisName, string>> = {}
    for (const ax of AXES) {
      const v = (a as unknown as Record<AxisName, Option.Option<string>>)[ax]
      if (Option.isSome(v)) axes[ax] = v.value
    }
    const opt = <A>(o: Option.Option<A>) => Option.getOrUndefined(o)
    const stepRun = toRunOptions(a.scenario, {
      batch: Option.none(),
      seq: Option.none(),
      phase: a.phase,
      microBatch: Option.none(),
      tokensPerExpert: Option.none(),
      estimator: a.estimator,
      model: a.model,
      efficiency: a.efficiency,
      cacheDir: a.cacheDir,
      cache: a.cache,
      remoteCache: a.remoteCache
    })
    const run = Option.isSome(a.cluster) ? { ...stepRun, cluster: a.cluster.value } : stepRun
    const given = (k: string) => {
      const v = (a as unknown as Record<string, unknown>)[k]
      return Option.isOption(v) ? Option.isSome(v) : false
    }
    if (a.bench) {
      const refused = Object.keys(STEP_ONLY).find(given)
      if (refused !== undefined) return yield* Effect.fail(new UsageError({ message: `${STEP_ONLY[refused]}: not with --bench` }))
      if (a.workers !== 1) return yield* Effect.fail(new UsageError({ message: "--workers: sweep --bench runs in one thread" }))
      if (a.requireCalibrated) return yield* Effect.fail(new UsageError({ message: "--require-calibrated: not with --bench" }))
      if (a.format === "html" || a.format === "svg")
        return yield* Effect.fail(new UsageError({ message: `--format ${a.format}: sweep --bench prints table or json` }))
      if (Option.isSome(a.objective) && !(a.objective.value in BENCH_OBJECTIVES))
        return yield* Effect.fail(
          new UsageError({ message: `--objective ${a.objective.value}: with --bench one of ${Object.keys(BENCH_OBJECTIVES).join(", ")}` })
        )
      const showBar = opt(a.progress) ?? process.stderr.isTTY === true
      const bar = showBar ? (yield* Effect.promise(() => import("./progress.ts"))).progressBar("sweep --bench", "layouts") : undefined
      const { runBenchSweep } = yield* Effect.promise(() => import("../sweep/bench.ts"))
      const { renderBenchSweepJson, renderBenchSweepTable } = yield* Effect.promise(() => import("../report/benchSweep.ts"))
      const result = yield* stoppable(
        (stopped) =>
          runBenchSweep({
            run,
            axes,
            ...(Option.isSome(a.engine) ? { engine: a.engine.value } : {}),
            engineFlags: engineOverridesOf(a),
            workload: workloadSpecOf(a, a.benchDataset, Option.none()),
            ...(Option.isSome(a.goodput) ? { slo: a.goodput.value } : {}),
            ...(Option.isSome(a.sloPercentile) ? { percentile: a.sloPercentile.value } : {}),
            ...(Option.isSome(a.objective) ? { objective: a.objective.value as BenchObjective } : {}),
            ...(Option.isSome(a.price) ? { price_per_gpu_hour_usd: a.price.value } : {}),
            ...(Option.isSome(a.maxGpus) ? { max_gpus: a.maxGpus.value } : {}),
            ...(Option.isSome(a.mtpAcceptance) ? { mtpAcceptance: a.mtpAcceptance.value } : {}),
            ...(Option.isSome(a.shard) ? { shard: a.shard.value } : {}),
            ...(bar === undefined ? {} : { onProgress: bar.update }),
            stopped
          }),
        bar
      )
      return yield* emit(a.format === "json" ? renderBenchSweepJson(result) : renderBenchSweepTable(result), opt(a.out))
    }
    const benchFlag = [...BENCH_ONLY, "benchDataset"].find((k) => (k === "benchDataset" ? a.benchDataset !== "random" : given(k)))
    if (benchFlag !== undefined)
      return yield* Effect.fail(new UsageError({ message: `${camelToFlag(benchFlag === "benchDataset" ? "datasetName" : benchFlag)}: only with --bench` }))
    if (Option.isSome(a.objective) && !(a.objective.value in OBJECTIVES))
      return yield* Effect.fail(
        new UsageError({ message: `--objective ${a.objective.value}: only with --bench (step objectives: ${Object.keys(OBJECTIVES).join(", ")})` })
      )
    const showBar = opt(a.progress) ?? process.stderr.isTTY === true
    const bar = showBar ? (yield* Effect.promise(() => import("./progress.ts"))).progressBar() : undefined
    const { runSweepCommand } = yield* Effect.promise(() => import("../sweep/run.ts"))
    const result = yield* stoppable(
      (stopped) =>
        runSweepCommand({
          run,
          axes,
          constraints: {
            ...(Option.isSome(a.maxTtftMs) ? { ttft_ms_max: a.maxTtftMs.value } : {}),
            ...(Option.isSome(a.maxTpotMs) ? { tpot_ms_max: a.maxTpotMs.value } : {}),
            ...(Option.isSome(a.minTokensPerUser) ? { tokens_per_s_per_user_min: a.minTokensPerUser.value } : {}),
            ...(Option.isSome(a.maxGpus) ? { gpus_max: a.maxGpus.value } : {})
          },
          ...(Option.isSome(a.objective) ? { objective: a.objective.value as Objective } : {}),
          ...(Option.isSome(a.by) ? { by: a.by.value } : {}),
          ...(Option.isSome(a.strategy) ? { strategy: a.strategy.value } : {}),
          ...(Option.isSome(a.price) ? { price_per_gpu_hour_usd: a.price.value } : {}),
          ...(a.requireCalibrated ? { require_calibrated: true } : {}),
          ...(Option.isSome(a.points) ? { points_file: a.points.value } : {}),
          ...(Option.isSome(a.shard) ? { shard: a.shard.value } : {}),
          workers: a.workers,
          ...(bar === undefined ? {} : { onProgress: bar.update }),
          stopped
        }),
      bar
    )
    yield* emit(yield* renderSweepAs(result, a.format), opt(a.out))
  })
).pipe(
  Command.withSubcommands([mergeCommand]),
  documented("Search runtimes and layouts: the Pareto frontier and the best point per objective under HBM and latency constraints", [
    [
      "llmsim sweep --strategy two-batch-overlap --ep 16,32,64,128 --batch 1..512:x2 --phase decode --max-tpot-ms 50",
      "Which EP and batch maximise tokens/s per GPU within 50 ms TPOT"
    ],
    [
      "llmsim sweep configs/scenarios/llama_3_1_70b_h100.yaml --hardware configs/hardware/H100-SXM.yaml,configs/hardware/H200-SXM.yaml --batch 1..256:x2 --min-tokens-per-s-per-user 30 --objective cost_per_1m_output_tokens_usd",
      "Cheapest hardware at 30 tokens/s per user"
    ],
    [
      "llmsim sweep configs/scenarios/llama_3_1_70b_h100.yaml --bench --tp 2,4,8 --random-input-len 1000 --random-output-len 1000 --goodput 'ttft:2000 tpot:50'",
      "Per layout, the largest request rate whose P99 TTFT and TPOT meet the SLOs, with goodput per GPU and USD per 1M tokens"
    ],
    ["llmsim sweep --batch 1..512:x2 --points points.csv", "Every point to a CSV file"],
    ["llmsim sweep --batch 1..512:x2 --shard 1/4 --points s1.jsonl", "One of four CI shards; llmsim sweep merge s*.jsonl"]
  ])
)

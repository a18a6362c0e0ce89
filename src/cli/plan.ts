/**
 * `llmsim plan [scenario]`: what to deploy for this model on these GPUs under this traffic and
 * these SLOs: the best aggregated and disaggregated deployments side by side (src/sweep/plan.ts),
 * with why the others lost. The workload, SLO and engine flags are bench's.
 */
import { Effect, Option, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { taint } from "../launch/recording.ts"
import { engineFlags, engineOverridesOf, positiveInt, priceFlag, sloPercentileFlag, some, workloadFlags, workloadSpecOf } from "./benchFlags.ts"
import { clusterFlag, documented, parsedWith, servingRunFlags, servingRunOptions } from "./flags.ts"
import { emit } from "./output.ts"
import { scenarioArg } from "./run.ts"

const opt = Option.getOrUndefined

const planFlags = {
  hardware: Flag.String("hardware").pipe(
    Flag.withDescription("Candidate hardware files, comma separated, or all (every file under configs/hardware with a price); default the scenario's"),
    Flag.optional
  ),
  gpus: positiveInt("gpus", "GPU budget: the most GPUs a deployment may use (default: twice the scenario's layout, at least one node)"),
  requestRate: Flag.String("request-rate").pipe(
    Flag.withDescription("Requests per second to serve (default: as many as the budget allows)"),
    parsedWith("request-rate", (t: string) => {
      const x = Number(t.trim())
      return Number.isFinite(x) && x > 0 && t.trim() !== "" ? Result.succeed(x) : Result.fail(`expected a rate > 0 in requests/s, got "${t}"`)
    }),
    Flag.optional
  ),
  sloPercentile: sloPercentileFlag("The percentile the --goodput SLOs hold at (default 90)"),
  price: priceFlag("USD per GPU-hour for every hardware (else each hardware file's price_per_gpu_hour_usd)"),
  format: Flag.Literals("format", ["table", "json", "html"]).pipe(
    Flag.withDescription("Output format: table, json, or html (the answer and each mode's frontier)"),
    Flag.withDefault("table" as const)
  ),
  out: Flag.String("out").pipe(Flag.withDescription("Write the plan to FILE instead of stdout"), Flag.optional),
  progress: Flag.Boolean("progress").pipe(Flag.withDescription("Progress bar on stderr (default: when stderr is a terminal)"), Flag.optional),
  ...engineFlags,
  ...workloadFlags
}

export const planCommand = Command.make(
  "plan",
  {
    scenario: scenarioArg,
    ...planFlags,
    ...servingRunFlags,
    cluster: clusterFlag(
      "The capacity searches are computed by the runners (llmsim worker) of the cluster at this PostgreSQL URL, the answer the same bytes (docs/cluster.md)"
    ).pipe(Flag.optional)
  },
  Effect.fn(function* (a) {
    const run = Option.isSome(a.cluster) ? { ...servingRunOptions(a.scenario, a), cluster: a.cluster.value } : servingRunOptions(a.scenario, a)
    const showBar = opt(a.progress) ?? process.stderr.isTTY === true
    const bar = showBar ? (yield* Effect.promise(() => import("./progress.ts"))).progressBar("plan", "measurements") : undefined
    // `all` reads the hardware folder's listing, which a record cannot hold; a bar writes to the terminal.
    if (opt(a.hardware) === "all" || bar !== undefined) taint()
    const { runPlan } = yield* Effect.promise(() => import("../sweep/plan.ts"))
    const { renderPlanJson, renderPlanTable } = yield* Effect.promise(() => import("../report/plan.ts"))
    const result = yield* runPlan({
      run,
      ...some("hardware", a.hardware),
      ...some("budget", a.gpus),
      ...some("engine", a.engine),
      engineFlags: engineOverridesOf(a),
      workload: workloadSpecOf(a, "random", Option.none()),
      ...some("slo", a.goodput),
      ...some("percentile", a.sloPercentile),
      ...some("target_rate", a.requestRate),
      ...some("price_per_gpu_hour_usd", a.price),
      ...some("mtpAcceptance", a.mtpAcceptance),
      ...(bar === undefined ? {} : { onProgress: bar.update })
    }).pipe(Effect.ensuring(Effect.sync(() => bar?.stop())))
    const text =
      a.format === "html"
        ? yield* Effect.promise(async () => (await import("../report/html.ts")).renderPlanHtml(result))
        : a.format === "json"
          ? renderPlanJson(result)
          : renderPlanTable(result)
    yield* emit(text, opt(a.out))
  })
).pipe(
  documented("What to deploy: the best aggregated and prefill/decode-disaggregated deployments under SLOs within a GPU budget, simulated on an engine model", [
    ["llmsim plan", "The default scenario on its hardware, 1024/128 requests, P90 TTFT <= 2 s and TPOT <= 50 ms"],
    [
      "llmsim plan configs/scenarios/llama_3_1_70b_h100.yaml --hardware configs/hardware/H100-SXM.yaml,configs/hardware/H200-SXM.yaml --gpus 16 --goodput 'ttft:1000 tpot:40'",
      "Two hardware files, 16 GPUs, tighter SLOs"
    ],
    ["llmsim plan --request-rate 20 --format json", "The fewest GPUs for 20 requests/s, as JSON"]
  ])
)

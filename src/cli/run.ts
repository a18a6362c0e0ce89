/**
 * `llmsim run`: evaluate a scenario and print per-phase layer tables, totals, memory and the
 * serving summary.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadRunSummary, renderExplain, saveRunSummary } from "../graph/explain.ts"
import { renderRun } from "../report/run.ts"
import { runSimulation, type RunOutput } from "../app/session.ts"
import { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "../report/playbooks.ts"
import { runAfd, runLargeEp } from "../playbooks/run.ts"
import { documented, runtimeFlags, strategyFlag, toRunOptions } from "./flags.ts"
import type { RunResult } from "../kernel/records.ts"
import type { AfdResult, AfdSweep, LargeEpResult, LargeEpSweep } from "../playbooks/run.ts"
import { unfitSummary } from "../report/fit.ts"
import { checkOutputs, emit, exitCode, writeFileAtomic, writeStderr } from "./output.ts"
import { renderRunVisual, RUN_CHART_IDS } from "../report/html.ts"
import { timingHardware } from "../timing/roofline.ts"
import { UsageError } from "../config/errors.ts"
import { deploymentModelFor, isCoreStrategy } from "../deploy/registry.ts"
import type { RunOptions } from "../app/session.ts"
import type { StrategyName } from "../kernel/strategies.ts"

export const scenarioArg = Argument.String("scenario").pipe(
  Argument.withDescription("Scenario YAML (default: llmsim.config.ts defaultScenario)"),
  Argument.optional
)

export const outputFlags = {
  format: Flag.Literals("format", ["table", "json", "csv"]).pipe(Flag.withDescription("Output format"), Flag.withDefault("table" as const)),
  out: Flag.String("out").pipe(Flag.withDescription("Write the result to FILE instead of stdout"), Flag.optional),
  trace: Flag.String("trace").pipe(Flag.withDescription("Write the build-graph trace (JSON) to FILE"), Flag.optional),
  explain: Flag.Boolean("explain").pipe(Flag.withDescription("Print (to stderr) what was computed and why"), Flag.withDefault(false)),
  requireFit: Flag.Boolean("require-fit").pipe(
    Flag.withDescription("Exit 2 (after printing the result) when the configuration does not fit in HBM"),
    Flag.withDefault(false)
  )
}

/** The exit status of a result that does not fit in HBM under --require-fit (a finding, not an error). */
const NOT_FIT_EXIT = 2

export type EvaluatedResult = RunResult | LargeEpResult | LargeEpSweep | AfdResult | AfdSweep

/** What does not fit in HBM, for --require-fit's line on stderr; undefined when everything fits (every row of a sweep). */
export const unfitOf = (r: EvaluatedResult): string | undefined => {
  const rows =
    "ep_sweep" in r
      ? r.ep_sweep.map((x) => ({ label: `EP${x.ep}`, fits: x.serving.fits_in_hbm }))
      : "instance_sweep" in r
        ? r.instance_sweep.map((x) => ({ label: x.instances, fits: x.serving.fits_in_hbm }))
        : undefined
  if (rows === undefined) return unfitSummary((r as RunResult | LargeEpResult | AfdResult).serving)
  const unfit = rows.filter((x) => !x.fits).map((x) => x.label)
  return unfit.length === 0 ? undefined : `${unfit.join(", ")} of the sweep`
}

/**
 * The rendered result to --out or stdout, then the trace file, explanation and run summary:
 * how every evaluating command ends. With --require-fit, a result that does not fit in HBM then
 * exits 2, after everything was written, with one line on stderr.
 */
export const finishRun = (
  command: string,
  text: string,
  out: RunOutput,
  f: Omit<Command.Command.Config.Infer<typeof outputFlags>, "format">,
  result: EvaluatedResult
) =>
  Effect.gen(function* () {
    // Both targets first: a --trace that cannot be written must not follow a printed result.
    yield* checkOutputs([
      ["--out", Option.getOrUndefined(f.out)],
      ["--trace", Option.getOrUndefined(f.trace)]
    ])
    yield* emit(text, Option.getOrUndefined(f.out))
    const scope = `${command}:${out.loaded.file}`
    if (Option.isSome(f.trace)) {
      yield* writeFileAtomic(f.trace.value, JSON.stringify({ nodes: out.trace }, null, 2) + "\n", "--trace")
    }
    if (f.explain) {
      const previous = loadRunSummary(out.cacheDir, scope)
      yield* writeStderr(renderExplain(out.trace, out.materials, previous))
    }
    saveRunSummary(out.cacheDir, scope, out.materials)
    const unfit = unfitOf(result)
    if (f.requireFit && unfit !== undefined) {
      yield* writeStderr(`does not fit: ${result.scenario}: ${unfit} (--require-fit)\n`)
      yield* exitCode(NOT_FIT_EXIT)
    }
  })

/** `--layers`: the run screen's layer listing (src/report/run.ts LayerListing). */
export const layersFlag = Flag.Literals("layers", ["grouped", "all"]).pipe(
  Flag.withDescription("grouped: identical consecutive layers as one row with a count (L3-L60 moe_layer x58); all: one row per layer"),
  Flag.withDefault("grouped" as const)
)

/** `--format` of `run`: the table, JSON and CSV, and the HTML report or one chart as SVG (`llmsim report`). */
const runFormatFlag = Flag.Literals("format", ["table", "json", "csv", "html", "svg"]).pipe(
  Flag.withDescription("Output format: table, json, csv; html (the report page, as llmsim report) or svg (one chart, --chart)"),
  Flag.withDefault("table" as const)
)

/** `--chart`: the chart `--format svg` draws. */
export const chartFlag = Flag.Literals("chart", RUN_CHART_IDS).pipe(
  Flag.withDescription("The chart --format svg writes: roofline, layers-prefill, layers-decode or memory"),
  Flag.withDefault("roofline" as const)
)

/** A run as the HTML report or one SVG chart: `llmsim report` and `run --format html|svg`. */
export const reportRun = (
  options: RunOptions,
  strategy: StrategyName | undefined,
  format: "html" | "svg",
  chart: (typeof RUN_CHART_IDS)[number],
  f: Omit<Command.Command.Config.Infer<typeof outputFlags>, "format">
) =>
  Effect.gen(function* () {
    const out = yield* runSimulation({ ...options, ...(strategy === undefined ? {} : { strategy }) })
    if (out.result.phases[chart === "layers-prefill" ? "prefill" : "decode"] === undefined && chart.startsWith("layers-")) {
      return yield* Effect.fail(new UsageError({ message: `--chart ${chart}: the run has no ${chart.slice(7)} phase (--phase)` }))
    }
    const hw = timingHardware(out.loaded.hardware, options.efficiency)
    const text = yield* Effect.promise(() => renderRunVisual(out.result, hw, format, chart))
    yield* finishRun("report", text, out, f, out.result)
  })

export const runCommand = Command.make(
  "run",
  { scenario: scenarioArg, ...outputFlags, format: runFormatFlag, chart: chartFlag, ...runtimeFlags, strategy: strategyFlag, layers: layersFlag },
  Effect.fn(function* (a) {
    const options = toRunOptions(a.scenario, a)
    const strategy = Option.getOrUndefined(a.strategy)
    if (a.format === "html" || a.format === "svg") {
      if (!isCoreStrategy(strategy)) {
        return yield* Effect.fail(
          new UsageError({ message: `--format ${a.format}: the report covers the core strategies (serial, overlapped), not --strategy ${strategy}` })
        )
      }
      return yield* reportRun(options, strategy, a.format, a.chart, a)
    }
    const format = a.format
    // A deployment model's strategy is answered by that playbook, so `run` and the playbook agree.
    const model = deploymentModelFor(strategy)
    if (model === "large-ep") {
      const out = yield* runLargeEp({ run: options, eps: [], overrides: { two_batch_overlap: strategy === "two-batch-overlap" }, batch: { kind: "runtime" } })
      const r = out.result
      return yield* finishRun("run", "ep_sweep" in r ? renderLargeEpSweep(r, format) : renderLargeEp(r, format, { layers: a.layers }), out.run, a, r)
    }
    if (model === "afd") {
      const out = yield* runAfd({ run: options, instances: [], batch: { kind: "runtime" } })
      const r = out.result
      return yield* finishRun("run", "instance_sweep" in r ? renderAfdSweep(r, format) : renderAfd(r, format, { layers: a.layers }), out.run, a, r)
    }
    const out = yield* runSimulation({ ...options, ...(strategy === undefined ? {} : { strategy }) })
    yield* finishRun("run", renderRun(out.result, format, { layers: a.layers }), out, a, out.result)
  })
).pipe(
  documented("Evaluate a scenario: per-layer FLOPs, bytes and times, totals, memory, TTFT/TPOT/throughput", [
    ["llmsim run", "The default scenario (llmsim.config.ts)"],
    ["llmsim run configs/scenarios/deepseek_v3_h800.yaml --batch 8 --seq 4096", "Your batch and length"],
    ["llmsim run configs/scenarios/llama_3_1_70b_h100.yaml --phase decode --format json", "JSON for dashboards"],
    ["llmsim run --layers all", "Every layer on its own row"],
    ["llmsim run --strategy two-batch-overlap", "The large-EP deployment model's answer (as large-ep evaluate)"],
    ["llmsim run --batch 512 --require-fit", "Exit 2 when the batch does not fit in HBM (the result is still printed)"]
  ])
)

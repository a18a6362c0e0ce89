/**
 * `llmsim run`: evaluate a scenario and print per-phase layer tables, totals, memory and the
 * serving summary.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadRunSummary, renderExplain, saveRunSummary } from "../graph/explain.ts"
import { renderRun } from "../report/run.ts"
import { runSimulation, type RunOutput } from "../app/session.ts"
import { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "../playbooks/report.ts"
import { runAfd, runLargeEp } from "../playbooks/run.ts"
import { documented, runtimeFlags, strategyFlag, toRunOptions } from "./flags.ts"
import { emit, writeFileAtomic, writeStderr } from "./output.ts"

export const scenarioArg = Argument.String("scenario").pipe(
  Argument.withDescription("Scenario YAML (default: llmsim.config.ts defaultScenario)"),
  Argument.optional
)

export const outputFlags = {
  format: Flag.Literals("format", ["table", "json", "csv"]).pipe(Flag.withDescription("Output format"), Flag.withDefault("table" as const)),
  out: Flag.String("out").pipe(Flag.withDescription("Write the result to FILE instead of stdout"), Flag.optional),
  trace: Flag.String("trace").pipe(Flag.withDescription("Write the build-graph trace (JSON) to FILE"), Flag.optional),
  explain: Flag.Boolean("explain").pipe(Flag.withDescription("Print (to stderr) what was computed and why"), Flag.withDefault(false))
}

/**
 * The rendered result to --out or stdout, then the trace file, explanation and run summary:
 * how every evaluating command ends.
 */
export const finishRun = (command: string, text: string, out: RunOutput, f: Command.Command.Config.Infer<typeof outputFlags>) =>
  Effect.gen(function*() {
    yield* emit(text, Option.getOrUndefined(f.out))
    const scope = `${command}:${out.loaded.file}`
    if (Option.isSome(f.trace)) {
      yield* writeFileAtomic(f.trace.value, JSON.stringify({ nodes: out.trace }, null, 2) + "\n")
    }
    if (f.explain) {
      const previous = loadRunSummary(out.cacheDir, scope)
      yield* writeStderr(renderExplain(out.trace, out.materials, previous))
    }
    saveRunSummary(out.cacheDir, scope, out.materials)
  })

export const runCommand = Command.make(
  "run",
  { scenario: scenarioArg, ...outputFlags, ...runtimeFlags, strategy: strategyFlag },
  Effect.fn(function*(a) {
    const options = toRunOptions(a.scenario, a)
    const strategy = Option.getOrUndefined(a.strategy)
    // A deployment model's strategy is answered by that playbook, so `run` and the playbook agree.
    if (strategy === "two-batch-overlap" || strategy === "serial-micro-batches") {
      const out = yield* runLargeEp({ run: options, eps: [], overrides: { two_batch_overlap: strategy === "two-batch-overlap" }, batch: { kind: "runtime" } })
      const r = out.result
      return yield* finishRun("run", "ep_sweep" in r ? renderLargeEpSweep(r, a.format) : renderLargeEp(r, a.format), out.run, a)
    }
    if (strategy === "afd-pipeline") {
      const out = yield* runAfd({ run: options, instances: [], batch: { kind: "runtime" } })
      const r = out.result
      return yield* finishRun("run", "instance_sweep" in r ? renderAfdSweep(r, a.format) : renderAfd(r, a.format), out.run, a)
    }
    const out = yield* runSimulation({ ...options, ...(strategy === undefined ? {} : { strategy }) })
    yield* finishRun("run", renderRun(out.result, a.format), out, a)
  })
).pipe(documented("Evaluate a scenario: per-layer FLOPs, bytes and times, totals, memory, TTFT/TPOT/throughput", [
  ["llmsim run", "The default scenario (llmsim.config.ts)"],
  ["llmsim run configs/scenarios/deepseek_v3_h800.yaml --batch 8 --seq 4096", "Your batch and length"],
  ["llmsim run configs/scenarios/llama_3_1_70b_h100.yaml --phase decode --format json", "JSON for dashboards"],
  ["llmsim run --strategy two-batch-overlap", "The large-EP deployment model's answer (as large-ep evaluate)"]
]))

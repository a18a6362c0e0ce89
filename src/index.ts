/**
 * llmsim's programmatic API (package.json `exports`): the entry points the CLI commands call,
 * as promises, for a script or a service of your own. Each call resolves paths as the CLI does
 * from `cwd` (default: the process's current folder; README "Paths"), reads llmsim.config.ts of
 * the project around it, and uses the result store under `cache/` unless `noCache` is set.
 * Failures reject with a typed error: `ConfigError` (a bad file, with `file:line:col` and the
 * field in each issue) or `UsageError` (a bad option), as the CLI prints them. A scenario's
 * warnings (a missing lm_head) go to stderr once per call, as the CLI prints them.
 *
 * ```ts
 * import { simulate, sweep } from "llmsim"
 * const r = await simulate("configs/scenarios/llama_3_1_70b_h100.yaml", { runtime: { batch_size: 8, phase: "decode" } })
 * console.log(r.serving.tpot_ms)
 * ```
 *
 * Results are the JSON documents `llmsim run|large-ep evaluate|afd simulate|sweep --format json`
 * print, with their types exported below (field names carry units: `_ms`, `_bytes`,
 * `tokens_per_s`).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { runSimulation, withSession, type RunOptions } from "./app/session.ts"
import type { LoadedEntry } from "./config/load.ts"
import type { Issue } from "./config/errors.ts"
import type { ResolvedRuntime } from "./config/runtime.ts"
import type { HardwareSpec } from "./schema/hardware.ts"
import type { ScenarioSpec } from "./schema/scenario.ts"
import type { RuntimeOverrides } from "./config/runtime.ts"
import type { StrategyName } from "./kernel/strategies.ts"
import type { LoadImbalance } from "./schema/deployment.ts"
import { runAfd, runLargeEp, type AfdResult, type AfdSweep, type BatchPolicy, type LargeEpResult, type LargeEpSweep } from "./playbooks/run.ts"
import { runSweepCommand, type SweepResult } from "./sweep/run.ts"
import type { AxisName } from "./sweep/axes.ts"
import type { Constraints, Objective } from "./sweep/judge.ts"
import type { EfficiencyMode } from "./timing/roofline.ts"
import type { RunResult } from "./kernel/records.ts"

export { ConfigError, UsageError, type Issue } from "./config/errors.ts"
export type { LayerExecution, OpExecution, RunResult, ServingSummary, SimulationResult } from "./kernel/records.ts"
export type { AfdResult, AfdSweep, BatchPolicy, LargeEpResult, LargeEpSweep } from "./playbooks/run.ts"
export type { SweepResult } from "./sweep/run.ts"
export type { Constraints, Objective } from "./sweep/judge.ts"
export type { AxisName } from "./sweep/axes.ts"
export type { ResolvedRuntime, RuntimeOverrides } from "./config/runtime.ts"
/** The default export of llmsim.config.ts (`llmsim init` writes `satisfies ProjectConfig`). */
export type { ProjectConfig } from "./config/project.ts"
export type { LoadedEntry } from "./config/load.ts"
export type { HardwareSpec } from "./schema/hardware.ts"
export type { ScenarioSpec } from "./schema/scenario.ts"
export type { LayerTemplate } from "./schema/layer.ts"
export type { StrategyName } from "./kernel/strategies.ts"
export type { EfficiencyMode } from "./timing/roofline.ts"

/** What every call takes besides the scenario (the CLI's shared flags). */
export interface Options {
  /** Where relative paths start and the project is looked for (default: `process.cwd()`). */
  readonly cwd?: string
  /** `--batch`, `--seq`, `--phase`, `--micro-batch`, `--tokens-per-expert`, `--mtp-acceptance`. */
  readonly runtime?: RuntimeOverrides
  /** `--estimator`: `analytic` (default) or `ml`. */
  readonly estimator?: string
  /** `--model`: the ML estimator's model file. */
  readonly model?: string
  /** `--efficiency`: the hardware file's constants (default) or `none` (peak only). */
  readonly efficiency?: EfficiencyMode
  /** `--cache-dir`: the result store (from `cwd`). */
  readonly cacheDir?: string
  /** `--no-cache`: evaluate everything, store nothing. */
  readonly noCache?: boolean
}

const runOptions = (scenario: string | undefined, o: Options & { readonly strategy?: StrategyName }): RunOptions => ({
  cwd: o.cwd ?? process.cwd(),
  ...(scenario === undefined ? {} : { scenario }),
  runtime: o.runtime ?? {},
  estimator: o.estimator ?? "analytic",
  ...(o.model === undefined ? {} : { model: o.model }),
  efficiency: o.efficiency ?? "hardware",
  ...(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }),
  noCache: o.noCache ?? false,
  ...(o.strategy === undefined ? {} : { strategy: o.strategy })
})

/** Run an entry point with the Node services the CLI provides; its typed error rejects the promise. */
const run = <A, E>(effect: Effect.Effect<A, E, NodeServices.NodeServices>): Promise<A> => Effect.runPromise(effect.pipe(Effect.provide(NodeServices.layer)))

/** A scenario as llmsim reads it: the decoded file, its hardware, its layer templates, the runtime it runs at. */
export interface Scenario {
  /** The project root (where llmsim.config.ts is, else `cwd`). */
  readonly root: string
  /** Absolute paths of the scenario and its hardware file. */
  readonly file: string
  readonly hardwareFile: string
  readonly spec: ScenarioSpec
  readonly hardware: HardwareSpec
  /** One per `layers` entry, its template decoded. */
  readonly entries: ReadonlyArray<LoadedEntry>
  /** The runtime: options, else the scenario's `runtime`, else llmsim.config.ts's, else the defaults. */
  readonly runtime: ResolvedRuntime
  /** Findings that do not stop a run (a missing lm_head), as the CLI prints them as warnings. */
  readonly warnings: ReadonlyArray<Issue>
}

/** Load and check a scenario (path, or llmsim.config.ts's `defaultScenario` when undefined) without evaluating it. */
export const loadScenario = (scenario?: string, o: Options = {}): Promise<Scenario> =>
  run(
    withSession(runOptions(scenario, o), (s) =>
      Effect.succeed({
        root: s.loaded.root,
        file: s.loaded.file,
        hardwareFile: s.loaded.hardwareFile,
        spec: s.loaded.spec,
        hardware: s.loaded.hardware,
        entries: s.loaded.entries,
        runtime: s.runtime,
        warnings: s.loaded.warnings
      })
    )
  )

/**
 * `llmsim run`: a scenario (path, or llmsim.config.ts's `defaultScenario` when undefined) per
 * phase and layer, with its serving summary. `strategy` takes the core roll-up's `serial` or
 * `overlapped` (the deployment models' strategies are `largeEp` and `afd` below).
 */
export const simulate = (scenario?: string, o: Options & { readonly strategy?: "serial" | "overlapped" } = {}): Promise<RunResult> =>
  run(Effect.map(runSimulation(runOptions(scenario, o)), (out) => out.result))

/** `llmsim large-ep evaluate`: one EP size (a result) or several (`ep` with two or more values: a comparison). */
export const largeEp = (
  scenario?: string,
  o: Options & {
    readonly ep?: ReadonlyArray<number>
    readonly redundantExperts?: number
    readonly twoBatchOverlap?: boolean
    readonly loadImbalance?: LoadImbalance
    readonly batch?: BatchPolicy
  } = {}
): Promise<LargeEpResult | LargeEpSweep> =>
  run(
    Effect.map(
      runLargeEp({
        run: runOptions(scenario, o),
        eps: o.ep ?? [],
        overrides: {
          ...(o.redundantExperts === undefined ? {} : { redundant_experts: o.redundantExperts }),
          ...(o.twoBatchOverlap === undefined ? {} : { two_batch_overlap: o.twoBatchOverlap }),
          ...(o.loadImbalance === undefined ? {} : { load_imbalance: o.loadImbalance })
        },
        batch: o.batch ?? { kind: "runtime" }
      }),
      (out) => out.result
    )
  )

/** `llmsim afd simulate`: one attention/FFN split (a result) or several (`instances` with two or more: a comparison). */
export const afd = (
  scenario?: string,
  o: Options & { readonly instances?: ReadonlyArray<{ readonly attention: number; readonly ffn: number }>; readonly batch?: BatchPolicy } = {}
): Promise<AfdResult | AfdSweep> =>
  run(Effect.map(runAfd({ run: runOptions(scenario, o), instances: o.instances ?? [], batch: o.batch ?? { kind: "runtime" } }), (out) => out.result))

/**
 * `llmsim sweep`: axes as the CLI's flag texts (`{ batch: "1..512:x2", tp: "1,2,4" }`), the
 * constraints and objective; the Pareto frontier and the best point per objective. `pointsFile`
 * streams every point as `--points` does.
 */
export const sweep = (
  scenario?: string,
  o: Options & {
    readonly axes?: Partial<Record<AxisName, string>>
    readonly constraints?: Constraints
    readonly objective?: Objective
    readonly strategy?: StrategyName
    readonly pricePerGpuHourUsd?: number
    /** Refuse hardware not calibrated throughout, as `--require-calibrated`. */
    readonly requireCalibrated?: boolean
    readonly pointsFile?: string
    readonly workers?: number
  } = {}
): Promise<SweepResult> =>
  run(
    runSweepCommand({
      run: runOptions(scenario, o),
      axes: o.axes ?? {},
      constraints: o.constraints ?? {},
      ...(o.objective === undefined ? {} : { objective: o.objective }),
      ...(o.strategy === undefined ? {} : { strategy: o.strategy }),
      ...(o.pricePerGpuHourUsd === undefined ? {} : { price_per_gpu_hour_usd: o.pricePerGpuHourUsd }),
      ...(o.requireCalibrated === true ? { require_calibrated: true } : {}),
      ...(o.pointsFile === undefined ? {} : { points_file: o.pointsFile }),
      workers: o.workers ?? 1
    })
  )

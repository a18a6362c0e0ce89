/**
 * One simulation run: load the project and scenario, resolve the runtime, build the graph for
 * each phase, evaluate it through the store, and roll the phases into a serving summary.
 */
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, loadScenario, scenarioFieldError, type LoadedScenario } from "../config/load.ts"
import { loadProject, type Project } from "../config/project.ts"
import { makeEvaluator, type Evaluator, type NodeRecord } from "../graph/evaluator.ts"
import type { TraceEntry } from "../graph/node.ts"
import { diskStore, noStore, Store } from "../graph/store.ts"
import type { LayerContext } from "../module/context.ts"
import { validateLayout } from "../module/index.ts"
import { contextFor, resolveLayout, type Layout, type ScenarioBase } from "../kernel/layout.ts"
import { modelOf, type Model } from "../kernel/model.ts"
import { coreStrategy } from "../kernel/strategies.ts"
import { phasesOf, type Phase, type SinglePhase } from "../schema/runtime.ts"
import { ESTIMATORS } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { servingSummary } from "../kernel/step.ts"
import { scenarioNode } from "./plan.ts"
import type { RunResult, SimulationResult } from "../kernel/records.ts"

export interface RuntimeOverrides {
  readonly batch_size?: number
  readonly seq_len?: number
  readonly phase?: Phase
  readonly micro_batch?: number
  readonly tokens_per_expert?: number
}

export interface RunOptions {
  readonly cwd: string
  readonly scenario?: string
  readonly runtime: RuntimeOverrides
  readonly estimator: string
  readonly efficiency: EfficiencyMode
  readonly cacheDir?: string
  readonly noCache: boolean
}

export interface RunOutput {
  readonly result: RunResult
  readonly loaded: LoadedScenario
  readonly project: Project
  readonly trace: ReadonlyArray<TraceEntry>
  readonly materials: ReadonlyMap<string, NodeRecord>
  readonly cacheDir: string | undefined
}

export const DEFAULT_RUNTIME = { batch_size: 1, seq_len: 1024, phase: "both" as Phase }

/** `--cache-dir` is relative to the current directory (a flag); `cacheDir` in the config to the project root. */
export const resolveCacheDir = (project: Project, flag: string | undefined): string =>
  flag !== undefined ? path.resolve(flag) : path.resolve(project.root, project.config.cacheDir ?? "cache")

export const resolveScenarioPath = (project: Project, cwd: string, arg: string | undefined) =>
  Effect.gen(function*() {
    const given = arg ?? project.config.defaultScenario
    if (given === undefined) {
      return yield* Effect.fail(new UsageError({ message: "no scenario given and llmsim.config.ts names no defaultScenario" }))
    }
    const fromCwd = path.resolve(cwd, given)
    if (arg !== undefined && fs.existsSync(fromCwd)) return fromCwd
    const fromRoot = path.resolve(project.root, given)
    if (fs.existsSync(fromRoot)) return fromRoot
    return yield* Effect.fail(new UsageError({ message: `scenario file not found: ${given}` }))
  })

/** The kernel's model of a loaded scenario. */
export const scenarioModel = (loaded: LoadedScenario): Model => modelOf(loaded)

const baseOf = (loaded: LoadedScenario, model: Model): ScenarioBase => ({
  ...(loaded.spec.deployment === undefined ? {} : { deployment: loaded.spec.deployment }),
  ...(loaded.spec.parallelism === undefined ? {} : { parallelism: loaded.spec.parallelism }),
  ...(loaded.spec.runtime?.micro_batch === undefined ? {} : { micro_batch: loaded.spec.runtime.micro_batch }),
  precision: model.precision
})

/** The scenario's layout by the one layout rule (src/kernel/layout.ts), with a positioned error. */
export const scenarioLayout = (loaded: LoadedScenario): Effect.Effect<Layout, ConfigError> => {
  const r = resolveLayout(scenarioModel(loaded), loaded.hardware, baseOf(loaded, scenarioModel(loaded)))
  return r.ok
    ? Effect.succeed(r.value.layout)
    : Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
}

/** The defaulted context layer estimators see for one phase. */
export const layerContext = (loaded: LoadedScenario, runtime: RuntimeOverrides & { batch_size: number; seq_len: number }, phase: SinglePhase) =>
  Effect.map(scenarioLayout(loaded), (layout): LayerContext => contextFor(scenarioModel(loaded), layout, phase, runtime.batch_size, runtime.seq_len, runtime.tokens_per_expert))

/** Evaluate a loaded scenario for the given phases with an existing evaluator. */
export const evaluateScenario = (
  evaluator: Evaluator,
  loaded: LoadedScenario,
  scenarioText: string,
  runtime: Required<Omit<RuntimeOverrides, "micro_batch" | "tokens_per_expert">> & RuntimeOverrides,
  estimatorId: string,
  efficiency: EfficiencyMode
) =>
  Effect.gen(function*() {
    const estimator = ESTIMATORS[estimatorId]
    if (!estimator) return yield* Effect.fail(new UsageError({ message: `unknown estimator "${estimatorId}" (expected: ${Object.keys(ESTIMATORS).join(", ")})` }))
    const spec = loaded.spec
    const hw = loaded.hardware
    const model = scenarioModel(loaded)
    const layout = yield* scenarioLayout(loaded)
    const parallel = { tp: layout.tp, dp: layout.dp, ep: layout.ep }
    const timing = timingHardware(hw, efficiency)
    const composition = {
      overlap_efficiency: hw.overlap_efficiency,
      max_concurrency: hw.max_concurrency,
      micro_batch: runtime.micro_batch ?? 1
    }
    const phases: { prefill?: SimulationResult; decode?: SimulationResult } = {}
    for (const phase of phasesOf(runtime.phase) as ReadonlyArray<SinglePhase>) {
      const ctx = contextFor(model, layout, phase, runtime.batch_size, runtime.seq_len, runtime.tokens_per_expert)
      for (const e of loaded.entries) {
        const problem = validateLayout(e.template, ctx)
        if (problem !== undefined) {
          return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, scenarioText, spec.parallelism ? ["parallelism"] : ["layers", e.index, "config"], `${displayPath(loaded.root, e.file)}: ${problem}`))
        }
      }
      const node = scenarioNode({ model, phase, ctx, timing, estimator, composition })
      phases[phase] = (yield* evaluator.evaluate(node)).value
    }
    const result: RunResult = {
      scenario: displayPath(loaded.root, loaded.file),
      hardware: hw.name,
      runtime: {
        batch_size: runtime.batch_size,
        seq_len: runtime.seq_len,
        phase: runtime.phase,
        ...(runtime.micro_batch === undefined ? {} : { micro_batch: runtime.micro_batch }),
        ...(runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: runtime.tokens_per_expert })
      },
      parallelism: parallel,
      estimator: estimator.id,
      phases,
      serving: servingSummary(phases, runtime, parallel, hw.hbm_gb, coreStrategy(composition))
    }
    return result
  })

export const resolveRuntime = (project: Project, loaded: LoadedScenario, o: RuntimeOverrides) => {
  const s = loaded.spec.runtime ?? {}
  const pr = project.config.runtime ?? {}
  const pick = <K extends keyof RuntimeOverrides>(k: K) => o[k] ?? (s as RuntimeOverrides)[k] ?? (pr as RuntimeOverrides)[k]
  return {
    batch_size: pick("batch_size") ?? DEFAULT_RUNTIME.batch_size,
    seq_len: pick("seq_len") ?? DEFAULT_RUNTIME.seq_len,
    phase: pick("phase") ?? DEFAULT_RUNTIME.phase,
    ...(pick("micro_batch") === undefined ? {} : { micro_batch: pick("micro_batch") }),
    ...(pick("tokens_per_expert") === undefined ? {} : { tokens_per_expert: pick("tokens_per_expert") })
  }
}

export interface Session {
  readonly project: Project
  readonly loaded: LoadedScenario
  /** The scenario file's text (for positioned errors after decoding). */
  readonly text: string
  readonly runtime: ReturnType<typeof resolveRuntime>
  readonly evaluator: Evaluator
  readonly cacheDir: string | undefined
}

/**
 * Load the project and scenario through one evaluator and store, run `f`, then commit the
 * store writes (only when `f` succeeded).
 */
export const withSession = <A, E, R>(options: RunOptions, f: (s: Session) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const project = yield* Effect.promise(() => loadProject(options.cwd))
    if (project instanceof ConfigError) return yield* Effect.fail(project)
    const scenarioFile = yield* resolveScenarioPath(project, options.cwd, options.scenario)
    const cacheDir = options.noCache ? undefined : resolveCacheDir(project, options.cacheDir)
    const storeLayer = Layer.succeed(Store, cacheDir === undefined ? noStore : diskStore(cacheDir))
    return yield* Effect.gen(function*() {
      const evaluator = yield* makeEvaluator
      const loaded = yield* loadScenario(evaluator, project.root, scenarioFile)
      const runtime = resolveRuntime(project, loaded, options.runtime)
      const a = yield* f({ project, loaded, text: loaded.text, runtime, evaluator, cacheDir })
      yield* evaluator.commit()
      return a
    }).pipe(Effect.provide(storeLayer))
  })

/** Load, evaluate and commit: the whole `llmsim run`. */
export const runSimulation = (options: RunOptions) =>
  withSession(options, (s) =>
    Effect.gen(function*() {
      const result = yield* evaluateScenario(s.evaluator, s.loaded, s.text, s.runtime, options.estimator, options.efficiency)
      const out: RunOutput = {
        result,
        loaded: s.loaded,
        project: s.project,
        trace: s.evaluator.trace(),
        materials: s.evaluator.materials(),
        cacheDir: s.cacheDir
      }
      return out
    }))

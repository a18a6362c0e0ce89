/**
 * A session: one scenario loaded once through the command's evaluator, with its runtime
 * resolved. Every evaluating command (run, ops, large-ep, afd, watch) opens one here; store
 * writes are committed only after the command's work succeeded, so bad input writes nothing.
 */
import { Effect } from "effect"
import { UsageError } from "../config/errors.ts"
import { displayPath, loadScenario, warningLines, type LoadedScenario } from "../config/load.ts"
import { counted, progress } from "../base/debug.ts"
import type { ProjectShape } from "../config/project.ts"
import type { Evaluator as GraphEvaluator, NodeRecord } from "../graph/evaluator.ts"
import type { TraceEntry } from "../graph/node.ts"
import { Store } from "../graph/store.ts"
import type { RunResult } from "../kernel/records.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import { evaluateScenario } from "../sim/simulate.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { estimatorOf } from "./estimator.ts"
import { firstExisting, pathCandidates } from "../config/paths.ts"
import { checkedRuntime, type ResolvedRuntime, type RuntimeOverrides } from "../config/runtime.ts"
import { appLayer, Evaluator, Project } from "./services.ts"

export interface RunOptions {
  readonly cwd: string
  readonly scenario?: string
  readonly runtime: RuntimeOverrides
  readonly estimator: string
  /** `--model`: the ML estimator's model file (`--estimator ml`). */
  readonly model?: string
  readonly efficiency: EfficiencyMode
  readonly cacheDir?: string
  readonly noCache: boolean
  /** `--remote-cache URL` (src/app/services.ts). */
  readonly remoteCache?: string
  /** `--cluster URL`: capacity searches computed by the cluster's runners (docs/cluster.md). */
  readonly cluster?: string
  /** `--strategy`: how ops and layers compose in time (src/kernel/strategies.ts); default from the runtime. */
  readonly strategy?: StrategyName
}

export interface Session {
  readonly project: ProjectShape
  readonly loaded: LoadedScenario
  readonly runtime: ResolvedRuntime
  readonly evaluator: GraphEvaluator
  /** The store folder; undefined with --no-cache. */
  readonly cacheDir: string | undefined
}

export interface RunOutput {
  readonly result: RunResult
  readonly loaded: LoadedScenario
  readonly project: ProjectShape
  readonly trace: ReadonlyArray<TraceEntry>
  readonly materials: ReadonlyMap<string, NodeRecord>
  readonly cacheDir: string | undefined
}

/** The scenario named as an argument (current directory, then project root), else the config's defaultScenario (project root). */
export const resolveScenarioPath = (project: ProjectShape, arg: string | undefined) =>
  Effect.gen(function* () {
    const given = arg ?? project.config.defaultScenario
    if (given === undefined) {
      return yield* Effect.fail(new UsageError({ message: "no scenario given and llmsim.config.ts names no defaultScenario" }))
    }
    const found = yield* firstExisting(pathCandidates(arg === undefined ? "file" : "argument", given, project))
    if (found !== undefined) return found
    return yield* Effect.fail(new UsageError({ message: `scenario file not found: ${given}` }))
  })

/** Load `scenarioFile` (absolute) once through the Evaluator service and resolve the runtime. */
export const openSession = (scenarioFile: string, overrides: RuntimeOverrides) =>
  Effect.gen(function* () {
    const project = yield* Project
    const evaluator = yield* Evaluator
    const store = yield* Store
    const loaded = yield* loadScenario(evaluator, project.paths, scenarioFile)
    progress(() => `loaded ${displayPath(project.root, scenarioFile)}: ${counted(loaded.entries.length, "layer entry", "layer entries")}`)
    const session: Session = {
      project,
      loaded,
      runtime: yield* checkedRuntime(project, loaded, overrides),
      evaluator,
      cacheDir: store.dir
    }
    return session
  })

/** Resolve the scenario path, then open the session on it. */
const loadSession = (scenario: string | undefined, overrides: RuntimeOverrides) =>
  Effect.gen(function* () {
    const file = yield* resolveScenarioPath(yield* Project, scenario)
    return yield* openSession(file, overrides)
  })

/**
 * Store writes the CLI makes after a command has printed its output (src/cli/main.ts turns this
 * on and flushes them once the command succeeded): the answer is not kept waiting for the disk.
 * In-process callers (tests, tools) commit when their session ends, as before.
 */
let deferred: Array<Effect.Effect<void>> | undefined

/** From now on, sessions leave their store writes for `flushStoreWrites` (the CLI). */
export const deferStoreWrites = (): void => {
  deferred ??= []
}

/** Run the store writes sessions left (after the command's output; only on success). */
export const flushStoreWrites: Effect.Effect<void> = Effect.suspend(() => {
  const writes = deferred ?? []
  if (deferred !== undefined) deferred = []
  return Effect.forEach(writes, (w) => w, { discard: true })
})

/**
 * Build the services for `options`, open the session, run `f`, then commit the store writes
 * (only when `f` succeeded; deferred to after the output under the CLI).
 */
export const withSession = <A, E, R>(options: RunOptions, f: (s: Session) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const s = yield* loadSession(options.scenario, options.runtime)
    // Findings that do not stop the command (a missing lm_head), once, on stderr; watch, which
    // opens a session per save, does not repeat them on every save.
    for (const line of warningLines(s.loaded)) yield* Effect.sync(() => void process.stderr.write(`${line}\n`))
    const a = yield* f(s)
    if (deferred !== undefined) deferred.push(s.evaluator.commit())
    else yield* s.evaluator.commit()
    return a
  }).pipe(Effect.provide(appLayer(options)))

/** Load, evaluate and commit: the whole `llmsim run`. */
export const runSimulation = (options: RunOptions) =>
  withSession(options, (s) =>
    Effect.gen(function* () {
      const estimator = yield* estimatorOf(options, { cwd: options.cwd, root: s.project.root })
      const result = yield* evaluateScenario(s.evaluator, s.loaded, s.runtime, estimator, options.efficiency, options.strategy)
      const out: RunOutput = {
        result,
        loaded: s.loaded,
        project: s.project,
        trace: s.evaluator.trace(),
        materials: s.evaluator.materials(),
        cacheDir: s.cacheDir
      }
      return out
    })
  )

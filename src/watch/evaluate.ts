/**
 * One watch-mode evaluation: reload the project config, open a session (src/app/session.ts) on
 * the scenario through a fresh evaluator whose store is the session's memory store, evaluate
 * every phase, commit.
 *
 * A fresh evaluator per evaluation keeps its trace and L1 to this evaluation (so "computed"
 * means "not found in the session store"); the memory store is what carries results from one
 * save to the next. Every outcome, good or bad, comes back as a value together with the files
 * it read, because the files read decide what the watcher listens to next.
 */
import { Cause, Effect, Exit, FileSystem } from "effect"
import { Evaluator, Project } from "../app/services.ts"
import { estimatorOf } from "../app/estimator.ts"
import { openSession, type RunOptions } from "../app/session.ts"
import { ConfigError, type Issue } from "../config/errors.ts"
import { displayPath } from "../config/load.ts"
import type { ProjectShape } from "../config/project.ts"
import type { NodeRecord } from "../graph/evaluator.ts"
import type { TraceEntry } from "../graph/node.ts"
import { Store, type StoreShape } from "../graph/store.ts"
import { evaluateScenario } from "../sim/simulate.ts"
import type { RunResult } from "../kernel/records.ts"
import { layersRecomputed } from "./affected.ts"
import { reloadProject } from "./project.ts"
import { tracingFileSystem, type Reads } from "./reads.ts"
import type { HardwareSpec } from "../schema/hardware.ts"

export interface WatchTarget {
  /** The project as loaded at start-up: its config is reloaded on every evaluation. */
  readonly project: ProjectShape
  /** Absolute path of the scenario. */
  readonly scenarioFile: string
  /** Absolute path of `llmsim.config.ts` (it may not exist). */
  readonly configFile: string
  readonly options: RunOptions
  readonly store: StoreShape
}

interface Good {
  readonly _tag: "Good"
  readonly result: RunResult
  /** The scenario's hardware as read for this result (the live HTML report draws its roofs). */
  readonly hardware: HardwareSpec
  readonly computed: number
  readonly replayed: number
  readonly layersRecomputed: ReadonlyArray<string>
  readonly reads: Reads
  /** The evaluation's store writes, run after the result is printed. */
  readonly commit: Effect.Effect<void>
}

interface Bad {
  readonly _tag: "Bad"
  readonly issues: ReadonlyArray<Issue>
  readonly reads: Reads
}

export type Outcome = Good | Bad

const counts = (trace: ReadonlyArray<TraceEntry>) => {
  let computed = 0
  let replayed = 0
  for (const t of trace) {
    if (t.status === "computed") computed++
    else if (t.status === "replayed") replayed++
  }
  return { computed, replayed }
}

/** A failure as positioned issues; errors without a position point at the scenario. */
const issuesOf = (cause: Cause.Cause<unknown>, target: WatchTarget): ReadonlyArray<Issue> => {
  const error = Cause.squash(cause)
  if (error instanceof ConfigError) return error.issues
  const file = displayPath(target.project.root, target.scenarioFile)
  const message = error instanceof Error ? error.message : String(error)
  const internal = Cause.hasFails(cause) ? "" : "internal error: "
  return [{ file, line: 1, col: 1, path: "", message: internal + message }]
}

const evaluateOnce = (target: WatchTarget, reads: Reads) =>
  Effect.gen(function* () {
    const project = yield* reloadProject(target.project, target.configFile, reads)
    const s = yield* openSession(target.scenarioFile, target.options.runtime).pipe(Effect.provideService(Project, project))
    const estimator = yield* estimatorOf(target.options, { cwd: target.options.cwd, root: project.root })
    const result = yield* evaluateScenario(s.evaluator, s.loaded, s.runtime, estimator, target.options.efficiency)
    const trace = s.evaluator.trace()
    const materials: ReadonlyMap<string, NodeRecord> = s.evaluator.materials()
    return { result, hardware: s.loaded.hardware, ...counts(trace), layersRecomputed: layersRecomputed(trace, materials), commit: s.evaluator.commit() }
  }).pipe(Effect.provide(Evaluator.layer))

/** Evaluate once; never fails (bad input is a `Bad` outcome), but can be interrupted. */
export const evaluate = (target: WatchTarget): Effect.Effect<Outcome, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const reads: Reads = new Map()
    const inner = yield* FileSystem.FileSystem
    const exit = yield* Effect.exit(
      evaluateOnce(target, reads).pipe(
        Effect.provideService(Store, target.store),
        Effect.provideService(FileSystem.FileSystem, tracingFileSystem(inner, reads))
      )
    )
    if (Exit.isSuccess(exit)) return { _tag: "Good", ...exit.value, reads } satisfies Good
    if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
    return { _tag: "Bad", issues: issuesOf(exit.cause, target), reads } satisfies Bad
  })

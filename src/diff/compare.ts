/**
 * `llmsim diff` orchestration: set up the two sides, load and evaluate each scenario on both
 * through one evaluator and one store, and diff configs and results.
 *
 * Side A is evaluated first, then side B; nodes equal on both sides are computed for A and
 * replayed for B (the trace's `b:` entries say `replayed`). Store writes are committed only
 * after every scenario of both sides succeeded, as in `llmsim run`.
 */
import { Effect, FileSystem } from "effect"
import { ChildProcessSpawner } from "effect/process"
import * as path from "node:path"
import { firstExisting, pathCandidates, projectPaths, resolvePath } from "../config/paths.ts"
import { checkedRuntime } from "../config/runtime.ts"
import { appLayer, Evaluator, Project } from "../app/services.ts"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, loadScenario, type LoadedScenario } from "../config/load.ts"
import { findProjectRoot, type ProjectShape } from "../config/project.ts"
import type { Evaluator as GraphEvaluator } from "../graph/evaluator.ts"
import type { TraceEntry } from "../graph/node.ts"
import type { RunResult } from "../kernel/records.ts"
import { evaluateScenario } from "../sim/simulate.ts"
import type { DiffTarget } from "./args.ts"
import { diffConfigs, type ConfigSet, type TemplateFile } from "./configDiff.ts"
import { openRepo, resolveCommit } from "./git.ts"
import { diffLayers, diffPhases, findRegressions } from "./resultDiff.ts"
import { fileSide, folderSide, qualifyError, revisionSide, workingTreeSide, type Side } from "./side.ts"
import { prefixedEvaluator as prefixed } from "./sideEvaluator.ts"
import type { ScenarioDiff, SideInfo } from "./types.ts"
import { estimatorOf } from "../app/estimator.ts"
import type { RunOptions } from "../app/session.ts"
import type { Estimator } from "../timing/estimator.ts"

/**
 * A run's evaluation options (src/app/session.ts) and what a diff adds. `model` (the ML
 * estimator's file) is read from the working tree: both sides use it.
 */
export interface DiffOptions extends Pick<RunOptions, "cwd" | "runtime" | "estimator" | "model" | "efficiency" | "cacheDir" | "noCache"> {
  readonly target: DiffTarget
  readonly scenarios: ReadonlyArray<string>
  /** Gate threshold in percent; 0 flags any worsening. */
  readonly limitPct: number
}

/** What to diff, without how to build the services. */
export type DiffRequest = Omit<DiffOptions, "cacheDir" | "noCache">

interface DiffOutput {
  readonly diffs: ReadonlyArray<ScenarioDiff>
  /** Every node of both sides, ids prefixed with `a:` / `b:`. */
  readonly trace: ReadonlyArray<TraceEntry>
}

const gitSides = (project: ProjectShape, revA: string, revB: string | undefined) =>
  Effect.gen(function* () {
    const base = yield* FileSystem.FileSystem
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const repo = yield* openRepo(project.root)
    const commitA = yield* resolveCommit(repo, revA)
    const a = revisionSide("a", revA, commitA, repo, project, base, spawner)
    if (revB === undefined) return [a, workingTreeSide("b", project, base)] as const
    const commitB = yield* resolveCommit(repo, revB)
    return [a, revisionSide("b", revB, commitB, repo, project, base, spawner)] as const
  })

const pathSides = (project: ProjectShape, a: string, b: string, scenarios: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const base = yield* FileSystem.FileSystem
    // --a and --b are flags: relative to the current directory.
    const [pa, pb] = [resolvePath("flag", a, project), resolvePath("flag", b, project)]
    const kindOf = (flag: string, given: string, abs: string) =>
      base.stat(abs).pipe(
        Effect.map((s) => s.type),
        Effect.mapError(() => new UsageError({ message: `--${flag} ${given}: no such file or folder` }))
      )
    const [ka, kb] = [yield* kindOf("a", a, pa), yield* kindOf("b", b, pb)]
    if (ka === "Directory" && kb === "Directory") {
      return [folderSide("a", a, pa, base), folderSide("b", b, pb, base)] as const
    }
    if (ka === "File" && kb === "File") {
      if (scenarios.length > 0) {
        return yield* Effect.fail(new UsageError({ message: "scenario arguments apply to --a/--b folders; --a and --b are scenario files here" }))
      }
      // A scenario file's paths resolve against the project holding it, else the current one.
      const rootOf = (file: string) => {
        const found = findProjectRoot(path.dirname(file))
        return found.configFile === undefined ? project.root : found.root
      }
      return [fileSide("a", pa, rootOf(pa), base), fileSide("b", pb, rootOf(pb), base)] as const
    }
    return yield* Effect.fail(new UsageError({ message: `--a and --b must both be scenario files or both be config folders (got ${a}, ${b})` }))
  })

/** The scenario file on a side: a token by the path rule for arguments, else the default scenario at the side's root. */
const scenarioFileOn = (side: Side, project: ProjectShape, token: string | undefined) =>
  Effect.gen(function* () {
    if (side.scenarioFile !== undefined) return side.scenarioFile
    const given = token ?? project.config.defaultScenario
    if (given === undefined) {
      return yield* Effect.fail(new UsageError({ message: "no scenario given and llmsim.config.ts names no defaultScenario" }))
    }
    const found = yield* firstExisting(pathCandidates(token === undefined ? "file" : "argument", given, side.paths), side.fs)
    if (found !== undefined) return found
    return yield* Effect.fail(new UsageError({ message: `scenario not found ${side.where}: ${given}` }))
  })

const configSet = (loaded: LoadedScenario): ConfigSet => {
  const shown = (f: string) => displayPath(loaded.root, f)
  const templates = new Map<string, TemplateFile & { uses: Array<{ index: number; type: string }> }>()
  for (const e of loaded.entries) {
    // An inline template is part of the scenario's value: its changes show there, once.
    if (e.at !== undefined) continue
    const t = templates.get(e.file) ?? { file: shown(e.file), value: e.template.config, uses: [] }
    t.uses.push({ index: e.index, type: e.entry.type })
    templates.set(e.file, t)
  }
  return {
    scenario: { file: shown(loaded.file), value: loaded.spec },
    hardware: { file: shown(loaded.hardwareFile), value: loaded.hardware },
    templates: [...templates.values()]
  }
}

interface Evaluated {
  readonly loaded: LoadedScenario
  readonly result: RunResult
}

/** One side's scenario, loaded once through the shared evaluator from the side's FileSystem. */
const evaluateSide = (side: Side, evaluator: GraphEvaluator, project: ProjectShape, token: string | undefined, o: DiffRequest, estimator: Estimator) =>
  Effect.gen(function* () {
    const file = yield* scenarioFileOn(side, project, token)
    // allowPaths of the project the command runs in hold for a side in its root (a revision of it),
    // not for a folder side (another project, whose config is not loaded).
    const paths = path.resolve(side.root) === project.paths.root ? project.paths : projectPaths(side.root)
    const loaded = yield* loadScenario(evaluator, paths, file).pipe(Effect.provideService(FileSystem.FileSystem, side.fs))
    const runtime = yield* checkedRuntime(project, loaded, o.runtime)
    const result = yield* evaluateScenario(evaluator, loaded, runtime, estimator, o.efficiency)
    const out: Evaluated = { loaded, result }
    return out
  }).pipe(Effect.catchTag("ConfigError", (e: ConfigError) => Effect.fail(qualifyError(side, e))))

const sideInfo = (side: Side, e: Evaluated): SideInfo => {
  const shown = displayPath(e.loaded.root, e.loaded.file)
  return {
    rev: side.rev,
    commit: side.commit,
    scenario: side.commit === null ? side.qualify(shown) : shown,
    hardware: e.result.hardware,
    runtime: e.result.runtime
  }
}

/** The diff as a function of the app's services: both sides through the one Evaluator. */
export const diffWith = (o: DiffRequest) =>
  Effect.gen(function* () {
    const project = yield* Project
    const evaluator = yield* Evaluator
    const estimator = yield* estimatorOf(o, { cwd: o.cwd, root: project.root })
    const [sideA, sideB] =
      o.target.kind === "git" ? yield* gitSides(project, o.target.revA, o.target.revB) : yield* pathSides(project, o.target.a, o.target.b, o.scenarios)
    const tokens: ReadonlyArray<string | undefined> = o.scenarios.length === 0 ? [undefined] : o.scenarios
    const diffs: Array<ScenarioDiff> = []
    for (const [i, token] of tokens.entries()) {
      // With several scenarios, node ids also carry the scenario's position.
      const tag = tokens.length > 1 ? `${i}:` : ""
      const a = yield* evaluateSide(sideA, prefixed(evaluator, `a:${tag}`), project, token, o, estimator)
      const b = yield* evaluateSide(sideB, prefixed(evaluator, `b:${tag}`), project, token, o, estimator)
      const phases = diffPhases(a.result, b.result)
      const regressions = findRegressions(phases, o.limitPct)
      diffs.push({
        a: sideInfo(sideA, a),
        b: sideInfo(sideB, b),
        config_changes: diffConfigs(configSet(a.loaded), configSet(b.loaded)),
        phases,
        layers: diffLayers(a.result, b.result),
        regression: regressions.length > 0,
        limit_pct: o.limitPct,
        regressions
      })
    }
    yield* evaluator.commit()
    const out: DiffOutput = { diffs, trace: evaluator.trace() }
    return out
  })

/** `llmsim diff` with its own services (cwd, --cache-dir, --no-cache): the entry point tests call. */
export const runDiff = (o: DiffOptions) => diffWith(o).pipe(Effect.provide(appLayer(o)))

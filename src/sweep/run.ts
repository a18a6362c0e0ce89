/**
 * `llmsim sweep` as a function of the app services: open the scenario's session, build the point
 * space from the flags and the scenario's `sweep:` block (a flag replaces the block's key), load
 * every hardware file of the sweep, then run the loop (src/sweep/engine.ts) over this shard's
 * points with the point cache of the session's store. Rows stream to `--points`; the cache pack
 * and the points file are moved into place only when the whole sweep succeeded.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, loadHardwareFile, scenarioFieldError, scenarioPathCandidates, type LoadedScenario } from "../config/load.ts"
import { digest } from "../graph/canonical.ts"
import { CurrentToolchain } from "../graph/toolchain.ts"
import { modelOf } from "../kernel/model.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import { phasesOf, type SinglePhase } from "../schema/runtime.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { SweepSpec } from "../schema/sweep.ts"
import { scenarioBase } from "../sim/simulate.ts"
import { estimatorOf } from "../app/estimator.ts"
import { firstExisting, requireInsideProject, resolvePath } from "../config/paths.ts"
import { withSession, type RunOptions, type Session } from "../app/session.ts"
import { AXES, flagName, MAX_POINTS, parseAxis, type AxisName, type AxisValue } from "./axes.ts"
import { runSweep, SweepStopped, type SweepOutcome } from "./engine.ts"
import type { GroupBy } from "./frontier.ts"
import type { Constraints, Objective } from "./judge.ts"
import type { PointModel, SweepBase } from "./point.ts"
import { familyMaterial } from "./family.ts"
import { openPointCache } from "./pointCache.ts"
import { columnsFor, openRowWriter, type RowWriter } from "./rows.ts"
import { writeFailure } from "../base/atomicFile.js"
import { deploymentModelFor } from "../deploy/registry.ts"
import { makeSpace, shardRange, type Shard, type Space } from "./space.ts"

export interface SweepOptions {
  readonly run: RunOptions
  /** Axis texts from the command line (they replace the scenario's `sweep.axes` keys). */
  readonly axes: Partial<Record<AxisName, string>>
  readonly constraints: Constraints
  readonly objective?: Objective
  /** Best point per value of this axis (default: hardware, when swept). */
  readonly by?: AxisName
  readonly strategy?: StrategyName
  readonly price_per_gpu_hour_usd?: number
  readonly points_file?: string
  readonly workers: number
  readonly shard?: Shard
  readonly onProgress?: (done: number, total: number) => void
  readonly stopped?: () => boolean
}

export interface SweepHeader {
  readonly version: 1
  readonly scenario: string
  readonly model: PointModel
  readonly axes: Readonly<Partial<Record<AxisName, ReadonlyArray<AxisValue>>>>
  readonly constraints: Constraints
  readonly objective: Objective
  readonly group_by: GroupBy | null
  readonly phases: ReadonlyArray<SinglePhase>
  /** Hardware of the sweep whose files have no efficiency constants (peak-only times). */
  readonly uncalibrated_hardware: ReadonlyArray<string>
  /** Digest of everything above and the point family: shards of one sweep share it. */
  readonly sweep_digest: string
  readonly total_points: number
  readonly shard: string | null
  readonly first_index: number
  readonly end_index: number
}

export interface SweepResult {
  readonly header: SweepHeader
  readonly outcome: SweepOutcome
  readonly points_file: string | null
  /** `sweep merge`: how many shard files the answer came from (computed / replayed counts are the shards' own). */
  readonly merged_from?: number
}

const CONSTRAINT_KEYS: Readonly<Record<keyof NonNullable<SweepSpec["constraints"]>, keyof Constraints>> = {
  max_ttft_ms: "ttft_ms_max",
  max_tpot_ms: "tpot_ms_max",
  min_tokens_per_s_per_user: "tokens_per_s_per_user_min",
  max_gpus: "gpus_max"
}

/**
 * A hardware path of the scenario's sweep block: the first place it exists inside the project
 * (the scenario's folder, then the project root), as every path in a scenario; a path that
 * leaves the project is refused at the block's field (README "Paths").
 */
const blockPath = (loaded: LoadedScenario, given: string) =>
  Effect.gen(function* () {
    const { inside, outside } = scenarioPathCandidates(loaded.paths, loaded.file, given)
    const found = yield* firstExisting(inside)
    if (found !== undefined) return found
    if (outside.length > 0) {
      yield* requireInsideProject(outside[0]!, given, loaded.paths, () => {
        const at = scenarioFieldError(loaded.root, loaded.file, loaded.text, ["sweep", "axes", "hardware"], "").issues[0]!
        return { file: at.file, line: at.line, col: at.col, path: at.path }
      })
    }
    return inside[inside.length - 1] ?? resolvePath("file", given, { root: loaded.root })
  })

const parsedAxes = (s: Session, o: SweepOptions) =>
  Effect.gen(function* () {
    const block = s.loaded.spec.sweep?.axes ?? {}
    const values: Partial<Record<AxisName, ReadonlyArray<AxisValue>>> = {}
    for (const a of AXES) {
      const flag = o.axes[a]
      if (flag !== undefined) {
        const r = parseAxis(a, flag)
        if (!r.ok) return yield* Effect.fail(new UsageError({ message: `--${flagName(a)}: ${r.message}` }))
        values[a] = r.value
      } else if (block[a] !== undefined) {
        const raw = block[a]!
        const r = parseAxis(a, typeof raw === "number" ? String(raw) : raw)
        if (!r.ok) return yield* Effect.fail(scenarioFieldError(s.loaded.root, s.loaded.file, s.loaded.text, ["sweep", "axes", a], r.message))
        values[a] = r.value
      }
    }
    return values
  })

export const runSweepCommand = (o: SweepOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const block: SweepSpec = s.loaded.spec.sweep ?? {}
      const values = yield* parsedAxes(s, o)
      const space: Space = makeSpace(values)
      if (space.size > MAX_POINTS)
        return yield* Effect.fail(
          new UsageError({ message: `the sweep has ${space.size.toExponential(2)} points; at most 1e9 (a typo in a range? narrow an axis)` })
        )
      const strategy = o.strategy ?? block.strategy
      const model = modelOf(s.loaded)
      const pointModel = deploymentModelFor(
        strategy,
        space.axes.map((a) => a.name)
      )
      const estimator = yield* estimatorOf(
        { estimator: o.run.estimator, ...(o.run.model === undefined ? {} : { model: o.run.model }), efficiency: o.run.efficiency },
        { cwd: o.run.cwd, root: s.project.root }
      )
      const modelFile = o.run.model === undefined ? undefined : resolvePath("flag", o.run.model, { cwd: o.run.cwd, root: s.project.root })
      // Worker threads rebuild the estimator from its file; an ONNX session lives in this process only.
      if (modelFile !== undefined && modelFile.endsWith(".onnx") && o.workers > 1) {
        return yield* Effect.fail(
          new UsageError({ message: "--workers: an ONNX model runs in one thread (use --workers 1, or a model file from llmsim ml train)" })
        )
      }

      // Every hardware of the sweep, by its axis value (the scenario's own under its display path).
      const scenarioHw = displayPath(s.loaded.root, s.loaded.hardwareFile)
      const hardware: Record<string, HardwareSpec> = { [scenarioHw]: s.loaded.hardware }
      for (const v of values.hardware ?? []) {
        const given = String(v)
        // A flag value from the current directory; a value of the scenario's sweep block as any
        // path in the scenario (its folder, then the project root).
        const file = o.axes.hardware !== undefined ? resolvePath("flag", given, { cwd: o.run.cwd, root: s.loaded.root }) : yield* blockPath(s.loaded, given)
        hardware[given] = yield* loadHardwareFile(s.evaluator, s.loaded.root, file).pipe(
          Effect.mapError((e) =>
            e instanceof ConfigError && o.axes.hardware !== undefined
              ? new UsageError({ message: `--hardware: ${e.issues[0]?.message ?? "cannot load"} (${given})` })
              : e
          )
        )
      }
      const phases = phasesOf(s.runtime.phase) as ReadonlyArray<SinglePhase>
      const explicitMoe = s.loaded.spec.precision?.moe_experts
      const base: SweepBase = {
        model,
        base: scenarioBase(s.loaded, model),
        ...(explicitMoe === undefined ? {} : { explicit_moe_experts: explicitMoe }),
        hardware,
        scenario_hardware: scenarioHw,
        estimator_id: estimator.id,
        ...(modelFile === undefined || estimator.model === undefined ? {} : { estimator_model: { file: modelFile, digest: estimator.model } }),
        efficiency: o.run.efficiency,
        point_model: pointModel,
        ...(strategy === undefined ? {} : { strategy }),
        phases,
        defaults: {
          batch: s.runtime.batch_size,
          seq: s.runtime.seq_len,
          output: 0,
          ...(s.runtime.micro_batch === undefined ? {} : { micro_batches: s.runtime.micro_batch })
        }
      }
      if (strategy === "overlapped" && pointModel === "core" && Object.values(hardware).some((h) => h.max_concurrency < 2)) {
        return yield* Effect.fail(new UsageError({ message: "--strategy overlapped needs hardware with max_concurrency >= 2" }))
      }
      const constraints: Constraints = {
        ...Object.fromEntries(Object.entries(block.constraints ?? {}).map(([k, v]) => [CONSTRAINT_KEYS[k as keyof typeof CONSTRAINT_KEYS], v])),
        ...o.constraints
      }
      const price = o.price_per_gpu_hour_usd ?? block.price_per_gpu_hour_usd
      const prices = Object.fromEntries(Object.entries(hardware).map(([k, h]) => [k, price ?? h.price_per_gpu_hour_usd ?? null]))
      const objective: Objective = o.objective ?? block.objective ?? "tokens_per_s_per_gpu"
      const byAxis = o.by ?? (values.hardware !== undefined && values.hardware.length > 1 ? "hardware" : undefined)
      if (byAxis !== undefined && values[byAxis] === undefined)
        return yield* Effect.fail(
          new UsageError({ message: `--by ${byAxis}: not an axis of this sweep (swept: ${space.axes.map((a) => a.name).join(", ") || "none"})` })
        )
      const groupBy: GroupBy | undefined = byAxis === undefined ? undefined : { axis: byAxis, objective }
      const toolchain = yield* CurrentToolchain
      // What every point of the sweep is computed from besides its coordinates; its packs carry it.
      const material = familyMaterial(base, estimator, toolchain)
      const family = digest(material)
      const range = shardRange(space.size, o.shard)
      const headerCore = {
        version: 1 as const,
        scenario: displayPath(s.loaded.root, s.loaded.file),
        model: pointModel,
        axes: Object.fromEntries(space.axes.map((a) => [a.name, a.values])),
        constraints,
        objective,
        group_by: groupBy ?? null,
        phases,
        uncalibrated_hardware:
          o.run.efficiency === "none" ? [] : (values.hardware ?? [scenarioHw]).map(String).filter((k) => hardware[k].efficiency === undefined)
      }
      const header: SweepHeader = {
        ...headerCore,
        sweep_digest: digest({ ...headerCore, family, prices }),
        total_points: space.size,
        shard: o.shard === undefined ? null : `${o.shard.k}/${o.shard.n}`,
        first_index: range.from,
        end_index: range.to
      }
      const cache = openPointCache(s.cacheDir, family, material)
      const pointsFile = o.points_file === undefined ? undefined : path.resolve(o.run.cwd, o.points_file)
      let writer: RowWriter | undefined
      if (pointsFile !== undefined) {
        writer = yield* Effect.try({
          try: () => openRowWriter(pointsFile, columnsFor(space.axes.map((a) => a.name)), header),
          catch: (e) => new UsageError({ message: `--points: cannot write ${o.points_file}: ${writeFailure(e)}` })
        })
      }
      const outcome = yield* Effect.tryPromise({
        try: () =>
          runSweep(
            {
              base,
              space,
              family,
              constraints,
              prices,
              cached: cache.enabled,
              ...(groupBy === undefined ? {} : { group_by: groupBy }),
              ...(writer === undefined ? {} : { output: { format: writer.format, columns: writer.columns } })
            },
            estimator,
            {
              from: range.from,
              to: range.to,
              cache,
              ...(writer === undefined ? {} : { writer }),
              workers: o.workers,
              onProgress: (done) => o.onProgress?.(done, range.to - range.from),
              ...(o.stopped === undefined ? {} : { stopped: o.stopped })
            }
          ),
        catch: (e) => e
      }).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (exit._tag === "Success") {
              writer?.close()
              cache.commit()
            } else {
              writer?.abort()
              cache.abort()
            }
          })
        ),
        Effect.catch((e) => (e instanceof SweepStopped ? Effect.interrupt : Effect.die(e)))
      )
      const result: SweepResult = { header, outcome, points_file: o.points_file ?? null }
      return result
    })
  )

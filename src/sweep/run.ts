/**
 * `llmsim sweep` as a function of the app services: open the scenario's session, build the point
 * space from the flags and the scenario's `sweep:` block (a flag replaces the block's key), load
 * every hardware file of the sweep, then run the loop (src/sweep/engine.ts) over this shard's
 * points with the point cache of the session's store. Rows stream to `--points`; the cache pack
 * and the points file are moved into place only when the whole sweep succeeded. The setup
 * (prepareSweep) is the one `sweep merge` rebuilds a sharded sweep with, from its header.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, loadHardwareFile, scenarioBlockPath, scenarioFieldError } from "../config/load.ts"
import { digest } from "../graph/canonical.ts"
import { CurrentToolchain } from "../graph/toolchain.ts"
import { modelOf } from "../kernel/model.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import { phasesOf, type SinglePhase } from "../schema/runtime.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import { physicalProblem } from "../schema/physical.ts"
import type { SweepSpec } from "../schema/sweep.ts"
import { scenarioBase } from "../sim/simulate.ts"
import { estimatorOf, mlModelPath } from "../app/estimator.ts"
import { resolvePath } from "../config/paths.ts"
import { withSession, type RunOptions, type Session } from "../app/session.ts"
import { AXES, flagName, MAX_POINTS, parseAxis, type AxisName, type AxisValue } from "./axes.ts"
import { runSweep, SweepStopped, type SweepOutcome } from "./engine.ts"
import type { GroupBy } from "./frontier.ts"
import type { Constraints, Objective } from "./judge.ts"
import type { PointModel, SweepBase } from "./point.ts"
import { familyMaterial, type FamilyMaterial } from "./family.ts"
import { MAX_PACK_BYTES, openPointCache, pullPacks } from "./pointCache.ts"
import { readTextGuarded } from "../base/guardedRead.js"
import { Store } from "../graph/store.ts"
import { columnsFor, openRowWriter, type RowWriter } from "./rows.ts"
import { writeFailure } from "../base/atomicFile.js"
import { deploymentModelFor } from "../deploy/registry.ts"
import { makeSpace, shardRange, type Shard, type Space } from "./space.ts"
import type { SweepJob } from "./chunk.ts"
import type { RuntimeOverrides } from "../config/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import {
  calibrationDifferences,
  calibrationSummary,
  isCalibrated,
  unsourcedConstants,
  type CalibrationDifference,
  type CalibrationSummary
} from "../timing/calibration.ts"

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
  /** Refuse hardware whose calibration is not fitted or borrowed throughout (`--require-calibrated`). */
  readonly require_calibrated?: boolean
  readonly points_file?: string
  readonly workers: number
  readonly shard?: Shard
  readonly onProgress?: (done: number, total: number) => void
  readonly stopped?: () => boolean
}

/** The version of the shard header (`sweep --points FILE.jsonl`'s first line); `sweep merge` reads this one only. */
export const SWEEP_HEADER_VERSION = 2 as const

/**
 * What a sweep was built from besides the project's files (the scenario, its hardware, templates
 * and llmsim.config.ts): the command's own options. `sweep merge` rebuilds the sweep from them
 * with the same setup (prepareSweep) to re-evaluate the shards' points.
 */
export interface SweepInputs {
  /** The folder the command ran in, relative to the project root ("" at the root): flag paths resolve from it. */
  readonly cwd: string
  readonly runtime: RuntimeOverrides
  readonly estimator: string
  /** `--model`, relative to the project root. */
  readonly model: string | null
  readonly efficiency: EfficiencyMode
  /** The axis flags' texts (a scenario's `sweep:` block is read again from the scenario). */
  readonly axes: Readonly<Partial<Record<AxisName, string>>>
  readonly constraints: Constraints
  readonly objective: Objective | null
  readonly by: AxisName | null
  readonly strategy: StrategyName | null
  readonly price_per_gpu_hour_usd: number | null
  readonly require_calibrated: boolean
}

export interface SweepHeader {
  readonly version: typeof SWEEP_HEADER_VERSION
  /** The scenario file, relative to the project root. */
  readonly scenario: string
  readonly model: PointModel
  readonly axes: Readonly<Partial<Record<AxisName, ReadonlyArray<AxisValue>>>>
  readonly constraints: Constraints
  readonly objective: Objective
  readonly group_by: GroupBy | null
  readonly phases: ReadonlyArray<SinglePhase>
  /**
   * Hardware of the sweep that is not calibrated throughout: some constant runs at its datasheet
   * peak or has no stated source (calibration status partial, datasheet only or unstated;
   * src/timing/calibration.ts). Empty under --efficiency none (every hardware at its peak, on purpose).
   */
  readonly uncalibrated_hardware: ReadonlyArray<string>
  readonly inputs: SweepInputs
  /** The code that evaluated the points: llmsim and Node versions, and a digest of every code version and the toolchain. */
  readonly code: { readonly llmsim: string; readonly node: string; readonly digest: string }
  /** Digests of the sweep's parts, so a sweep that differs can say where: the scenario, each hardware file, the estimator. */
  readonly parts: {
    readonly scenario: string
    readonly hardware: Readonly<Record<string, string>>
    readonly estimator: string
  }
  /** USD per GPU-hour by hardware axis value (null: no price). */
  readonly prices: Readonly<Record<string, number | null>>
  /** Digest of the fields above `inputs`, the point family (scenario, hardware, estimator, code, toolchain) and the prices: shards of one sweep share it. */
  readonly sweep_digest: string
  readonly total_points: number
  readonly shard: string | null
  readonly first_index: number
  readonly end_index: number
  /** Each hardware's calibration (by its sweep value): status and every constant's source. */
  readonly calibration: Readonly<Record<string, CalibrationSummary>>
  /** Constants whose source differs between the compared hardware (fitted, borrowed, datasheet only; fits on other data). */
  readonly calibration_differences: ReadonlyArray<CalibrationDifference>
}

export interface SweepResult {
  readonly header: SweepHeader
  readonly outcome: SweepOutcome
  readonly points_file: string | null
  /** `sweep merge`: how many shard files the answer came from (computed / replayed counts are the shards' own). */
  readonly merged_from?: number
  /** `sweep merge`: the points re-evaluated to check the shards (a seeded sample, and the points the answer shows). */
  readonly checked?: { readonly sampled: number; readonly answer: number; readonly seed: number }
}

const CONSTRAINT_KEYS: Readonly<Record<keyof NonNullable<SweepSpec["constraints"]>, keyof Constraints>> = {
  max_ttft_ms: "ttft_ms_max",
  max_tpot_ms: "tpot_ms_max",
  min_tokens_per_s_per_user: "tokens_per_s_per_user_min",
  max_gpus: "gpus_max"
}

const RUNTIME_KEYS = ["batch_size", "seq_len", "phase", "micro_batch", "tokens_per_expert", "mtp_acceptance_rate"] as const satisfies ReadonlyArray<
  keyof RuntimeOverrides
>

/**
 * `o` with its keys in `order` (a header written from options and one rebuilt from a decoded
 * header then print the same bytes), keys without a value left out.
 */
const inOrder = <T extends object>(o: T, order: ReadonlyArray<keyof T>): T => {
  const out: Partial<T> = {}
  for (const k of order) if (o[k] !== undefined) out[k] = o[k]
  return out as T
}

/** A hardware spec as the points see it: its calibration block is provenance, not an input of any time. */
const withoutCalibration = (h: HardwareSpec): HardwareSpec => {
  const { calibration: _, ...spec } = h
  return spec
}

/** The axes' values: each flag's text, else the scenario's `sweep:` block's (positioned errors at the block). */
export const parsedAxes = (s: Session, o: Pick<SweepOptions, "axes">) =>
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

/**
 * Every hardware of a sweep by its axis value, the scenario's own under its display path: a flag
 * value resolves from the current directory, a value of the scenario's sweep block as any path
 * in the scenario (its folder, then the project root).
 */
export const sweepHardware = (s: Session, o: Pick<SweepOptions, "axes" | "run">, values: Partial<Record<AxisName, ReadonlyArray<AxisValue>>>) =>
  Effect.gen(function* () {
    const scenarioHw = displayPath(s.loaded.root, s.loaded.hardwareFile)
    const hardware: Record<string, HardwareSpec> = { [scenarioHw]: s.loaded.hardware }
    for (const v of values.hardware ?? []) {
      const given = String(v)
      const file =
        o.axes.hardware !== undefined
          ? resolvePath("flag", given, { cwd: o.run.cwd, root: s.loaded.root })
          : yield* scenarioBlockPath(s.loaded, given, ["sweep", "axes", "hardware"])
      hardware[given] = yield* loadHardwareFile(s.evaluator, s.loaded.root, file).pipe(
        // A file that cannot be read is the flag's error; a field error keeps its file:line:col.
        Effect.mapError((e) =>
          e instanceof ConfigError && o.axes.hardware !== undefined && (e.issues[0]?.path ?? "") === ""
            ? new UsageError({ message: `--hardware: ${e.issues[0]?.message ?? "cannot load"} (${given})` })
            : e
        )
      )
    }
    return hardware
  })

/** A sweep as built from its inputs and the project's files: what a run evaluates and what merge re-evaluates against. */
export interface PreparedSweep {
  readonly header: SweepHeader
  /** The job (src/sweep/chunk.ts) without how rows are written and whether the store is used. */
  readonly job: Omit<SweepJob, "cached" | "output"> & { readonly material: FamilyMaterial }
  readonly estimator: Estimator
  readonly range: { readonly from: number; readonly to: number }
}

/**
 * Build the sweep of `o` in session `s`: the point space from the flags and the scenario's
 * `sweep:` block (a flag replaces the block's key), every hardware file of the sweep, the
 * estimator, constraints, prices, the point family and the header naming it all. The one
 * setup: `llmsim sweep` runs what it returns and `sweep merge` rebuilds it from a shard's
 * header (`inputs`) to re-evaluate the shards' points.
 */
export const prepareSweep = (s: Session, o: SweepOptions) =>
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
    // The file the ML estimator was read from (its default without --model); none when it fell back to analytic.
    const modelFile = estimator.model === undefined ? undefined : mlModelPath(o.run.model, { cwd: o.run.cwd, root: s.project.root })
    // Worker threads rebuild the estimator from its file; an ONNX session lives in this process only.
    if (modelFile !== undefined && modelFile.endsWith(".onnx") && o.workers > 1) {
      return yield* Effect.fail(
        new UsageError({ message: "--workers: an ONNX model runs in one thread (use --workers 1, or a model file from llmsim ml train)" })
      )
    }

    const hardware = yield* sweepHardware(s, o, values)
    const scenarioHw = displayPath(s.loaded.root, s.loaded.hardwareFile)
    // What each compared hardware's constants rest on (src/timing/calibration.ts).
    const compared = (values.hardware ?? [scenarioHw]).map(String)
    const calibration = Object.fromEntries(compared.map((k) => [k, calibrationSummary(hardware[k]!, o.run.efficiency)]))
    if (o.require_calibrated === true) {
      if (o.run.efficiency === "none")
        return yield* Effect.fail(new UsageError({ message: "--require-calibrated: --efficiency none times every hardware at its datasheet peak" }))
      const refused = compared.filter((k) => !isCalibrated(calibration[k]!))
      if (refused.length > 0) {
        const what = refused.map((k) => {
          const c = calibration[k]!
          const names = unsourcedConstants(c)
          const unstated = names.filter((n) => c.constants?.[n].status === "unstated")
          const datasheet = names.filter((n) => c.constants?.[n].status !== "unstated")
          return `${k} is ${c.status}: ${[
            ...(datasheet.length > 0 ? [`${datasheet.join(", ")} datasheet only`] : []),
            ...(unstated.length > 0 ? [`${unstated.join(", ")} unstated`] : [])
          ].join("; ")}`
        })
        return yield* Effect.fail(
          new UsageError({
            message: `--require-calibrated: ${what.join("; ")} (fit them with llmsim calibrate, or state their source in the file's calibration: block)`
          })
        )
      }
    }
    const phases = phasesOf(s.runtime.phase) as ReadonlyArray<SinglePhase>
    const explicitMoe = s.loaded.spec.precision?.moe_experts
    const base: SweepBase = {
      model,
      base: scenarioBase(s.loaded, model),
      ...(explicitMoe === undefined ? {} : { explicit_moe_experts: explicitMoe }),
      // Points time with the specs; where a constant comes from changes no number (and no key).
      hardware: Object.fromEntries(Object.entries(hardware).map(([k, h]) => [k, withoutCalibration(h)])),
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
    const constraints = inOrder<Constraints>(
      {
        ...Object.fromEntries(Object.entries(block.constraints ?? {}).map(([k, v]) => [CONSTRAINT_KEYS[k as keyof typeof CONSTRAINT_KEYS], v])),
        ...o.constraints
      },
      Object.values(CONSTRAINT_KEYS)
    )
    const badPrice = o.price_per_gpu_hour_usd === undefined ? undefined : physicalProblem("usd_per_gpu_hour", o.price_per_gpu_hour_usd)
    if (badPrice !== undefined) return yield* Effect.fail(new UsageError({ message: `--price-per-gpu-hour: ${badPrice}` }))
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
    // The code alone (an ML model file is an input, named by parts.estimator, not code).
    const { model: _model, ...code } = material.code
    const range = shardRange(space.size, o.shard)
    const root = s.project.root
    const headerCore = {
      version: SWEEP_HEADER_VERSION,
      scenario: displayPath(root, s.loaded.file),
      model: pointModel,
      axes: Object.fromEntries(space.axes.map((a) => [a.name, a.values])),
      constraints,
      objective,
      group_by: groupBy ?? null,
      phases,
      uncalibrated_hardware: o.run.efficiency === "none" ? [] : compared.filter((k) => !isCalibrated(calibration[k]!))
    }
    const { hardware: _hardware, estimator_id, estimator_model, efficiency, ...scenarioPart } = base
    const header: SweepHeader = {
      ...headerCore,
      inputs: {
        cwd: path.relative(root, o.run.cwd),
        runtime: inOrder(o.run.runtime, RUNTIME_KEYS),
        estimator: o.run.estimator,
        model: modelFile === undefined ? null : displayPath(root, modelFile),
        efficiency: o.run.efficiency,
        axes: inOrder(o.axes, AXES),
        constraints: inOrder(o.constraints, Object.values(CONSTRAINT_KEYS)),
        objective: o.objective ?? null,
        by: o.by ?? null,
        strategy: o.strategy ?? null,
        price_per_gpu_hour_usd: o.price_per_gpu_hour_usd ?? null,
        require_calibrated: o.require_calibrated === true
      },
      code: { llmsim: toolchain.llmsim, node: toolchain.node, digest: digest({ code, toolchain }) },
      parts: {
        scenario: digest(scenarioPart),
        hardware: Object.fromEntries(Object.entries(hardware).map(([k, h]) => [k, digest(h)])),
        estimator: digest({ estimator_id, estimator_model: estimator_model?.digest ?? null, efficiency })
      },
      prices,
      sweep_digest: digest({ ...headerCore, family, prices }),
      total_points: space.size,
      shard: o.shard === undefined ? null : `${o.shard.k}/${o.shard.n}`,
      first_index: range.from,
      end_index: range.to,
      calibration,
      calibration_differences: calibrationDifferences(calibration)
    }
    const prepared: PreparedSweep = {
      header,
      job: { base, space, family, material, constraints, prices, ...(groupBy === undefined ? {} : { group_by: groupBy }) },
      estimator,
      range
    }
    return prepared
  })

export const runSweepCommand = (o: SweepOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const { header, job: prepared, estimator, range } = yield* prepareSweep(s, o)
      // The family's material goes into its packs, not to the workers (they hold its base already).
      const { material, ...job } = prepared
      // A remote cache behind the store (src/graph/remote.ts): the family's packs other runners stored come first.
      const remote = (yield* Store).remote
      if (remote !== undefined && s.cacheDir !== undefined) yield* pullPacks(s.cacheDir, job.family, remote, digest)
      const cache = openPointCache(s.cacheDir, job.family, material)
      const pointsFile = o.points_file === undefined ? undefined : path.resolve(o.run.cwd, o.points_file)
      let writer: RowWriter | undefined
      if (pointsFile !== undefined) {
        writer = yield* Effect.try({
          try: () => openRowWriter(pointsFile, columnsFor(job.space.axes.map((a) => a.name)), header),
          catch: (e) => new UsageError({ message: `--points: cannot write ${o.points_file}: ${writeFailure(e)}` })
        })
      }
      const outcome = yield* Effect.tryPromise({
        try: () =>
          runSweep(
            { ...job, cached: cache.enabled, ...(writer === undefined ? {} : { output: { format: writer.format, columns: writer.columns } }) },
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
          Effect.gen(function* () {
            if (exit._tag === "Success") {
              writer?.close()
              const pack = cache.commit()
              // The new pack for other runners; a pack that cannot be read back is simply not shared.
              const text = pack === undefined || remote === undefined ? undefined : readTextGuarded(pack, MAX_PACK_BYTES)
              if (text !== undefined) yield* remote!.putPack(job.family, text)
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

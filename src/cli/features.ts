/**
 * `llmsim features`: the feature rows of a scenario's fused ops and layers (src/ml/features.ts),
 * over sweep axes `--batch 1,8,64 --seq 1024,4096`, as CSV or JSON Lines; `--align FILE` joins a
 * measurement CSV to them (src/ml/align.ts) and writes the aligned CSV a model trains on,
 * listing on stderr each measurement it could not match and why; `--reference` writes the
 * aligned rows of the shipped reference data (the shipped models' training data).
 */
import { Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolvePath } from "../config/paths.ts"
import { appLayer, Project } from "../app/services.ts"
import { openSession, withSession } from "../app/session.ts"
import { parseCsv } from "../reference/csv.ts"
import { referenceCases } from "../accuracy/mlCases.ts"
import { loadValidationInputs, referenceDir } from "../accuracy/validate.ts"
import { alignedCsv, alignMeasurements, type AlignedRow } from "../ml/align.ts"
import { MeasurementError } from "../app/mlErrors.ts"
import { featuresCsv, featuresJsonl, type FeatureRow } from "../ml/features.ts"
import { Phase } from "../schema/runtime.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { scenarioFeatures } from "../sim/features.ts"
import { documented, listFlag, positiveInteger } from "./flags.ts"
import { emit, writeStderr } from "./output.ts"
import { scenarioArg } from "./run.ts"

/** The shipped reference data as aligned rows (sources are file:line in the reference folder). */
export const referenceRows = (dir: string) =>
  Effect.map(
    loadValidationInputs(dir),
    (inputs): ReadonlyArray<AlignedRow> => referenceCases(inputs.files, inputs.hardware).map((c) => ({ ...c.row, source: c.source }))
  )

export interface FeatureOptions {
  readonly cwd: string
  readonly scenario?: string
  /** Sweep axes: every batch size with every sequence length (default: the scenario's). */
  readonly batches?: ReadonlyArray<number>
  readonly seqs?: ReadonlyArray<number>
  readonly phase?: Phase
  readonly efficiency: EfficiencyMode
}

/** The feature rows of a scenario at every point of the sweep axes (one session, one load). */
export const collectFeatures = (o: FeatureOptions) => {
  const point = (b: number | undefined, q: number | undefined) => ({
    ...(b === undefined ? {} : { batch_size: b }),
    ...(q === undefined ? {} : { seq_len: q }),
    ...(o.phase === undefined ? {} : { phase: o.phase })
  })
  const batches = o.batches ?? [undefined]
  const seqs = o.seqs ?? [undefined]
  const options = {
    cwd: o.cwd,
    ...(o.scenario === undefined ? {} : { scenario: o.scenario }),
    runtime: point(batches[0], seqs[0]),
    estimator: "analytic",
    efficiency: o.efficiency,
    noCache: true
  }
  return withSession(options, (s) =>
    Effect.gen(function* () {
      const all: Array<FeatureRow> = []
      for (const b of batches) {
        for (const q of seqs) {
          const at = yield* openSession(s.loaded.file, point(b, q))
          all.push(...(yield* scenarioFeatures(at.loaded, at.runtime, o.efficiency)))
        }
      }
      return all
    })
  )
}

const features = Command.make(
  "features",
  {
    scenario: scenarioArg,
    batch: listFlag("batch", positiveInteger, "positive integers").pipe(
      Flag.withDescription("Sweep axis: sequences per DP group, comma separated (default: the scenario's)"),
      Flag.optional
    ),
    seq: listFlag("seq", positiveInteger, "positive integers").pipe(
      Flag.withDescription("Sweep axis: prompt / KV length, comma separated (default: the scenario's)"),
      Flag.optional
    ),
    phase: Flag.Literals("phase", Phase.literals).pipe(Flag.withDescription("prefill, decode or both (default both)"), Flag.optional),
    efficiency: Flag.Literals("efficiency", ["hardware", "none"]).pipe(
      Flag.withDescription("Analytic times with the hardware file's constants, or peak-only"),
      Flag.withDefault("hardware" as const)
    ),
    format: Flag.Literals("format", ["csv", "jsonl"]).pipe(
      Flag.withDescription("CSV (a # schema line, then a header) or JSON Lines"),
      Flag.withDefault("csv" as const)
    ),
    align: Flag.String("align").pipe(
      Flag.withDescription("Measurement CSV (kind, hardware, shape columns, measured_us) to join to the features: writes the aligned CSV"),
      Flag.optional
    ),
    reference: Flag.Boolean("reference").pipe(
      Flag.withDescription("Write the aligned rows of the reference data (data/reference) instead of a scenario's"),
      Flag.withDefault(false)
    ),
    out: Flag.String("out").pipe(Flag.withDescription("Write to FILE instead of stdout"), Flag.optional)
  },
  Effect.fn(
    function* (a) {
      const out = Option.getOrUndefined(a.out)
      const project = yield* Project
      if (a.reference) return yield* emit(alignedCsv(yield* referenceRows(referenceDir(project, undefined))), out)
      const rows = yield* collectFeatures({
        cwd: process.cwd(),
        ...Option.match(a.scenario, { onNone: () => ({}), onSome: (scenario) => ({ scenario }) }),
        ...Option.match(a.batch, { onNone: () => ({}), onSome: (batches) => ({ batches }) }),
        ...Option.match(a.seq, { onNone: () => ({}), onSome: (seqs) => ({ seqs }) }),
        ...Option.match(a.phase, { onNone: () => ({}), onSome: (phase) => ({ phase }) }),
        efficiency: a.efficiency
      })
      const alignFile = Option.getOrUndefined(a.align)
      if (alignFile === undefined) return yield* emit(a.format === "csv" ? featuresCsv(rows) : featuresJsonl(rows), out)
      const file = resolvePath("flag", alignFile, { cwd: process.cwd(), root: project.root })
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs
        .readFileString(file)
        .pipe(Effect.mapError(() => new MeasurementError({ message: `measurement file not found or unreadable: ${alignFile}` })))
      const joined = alignMeasurements(parseCsv(text), rows, alignFile)
      if (typeof joined === "string") return yield* Effect.fail(new MeasurementError({ message: joined }))
      for (const u of joined.unmatched) yield* writeStderr(`${alignFile}:${u.line}: not aligned: ${u.reason}\n`)
      if (joined.aligned.length === 0)
        return yield* Effect.fail(
          new MeasurementError({ message: `${alignFile}: no measurement matched an op of the scenario (${joined.unmatched.length} rows, reasons above)` })
        )
      yield* emit(alignedCsv(joined.aligned), out)
    },
    (effect) => Effect.provide(effect, appLayer({ cwd: process.cwd(), noCache: true }))
  )
).pipe(
  documented("Feature rows of every fused op and layer (shapes, FLOPs, bytes, analytic times, hardware specs) for ML training", [
    ["llmsim features configs/scenarios/deepseek_v3_h800.yaml --batch 1,16,64 --phase decode", "Decode ops at three batch sizes, as CSV"],
    ["llmsim features configs/scenarios/deepseek_v3_h800.yaml --align measured.csv --out aligned.csv", "Join measured kernel times to the ops"],
    ["llmsim features --reference --out aligned.csv", "The reference data as aligned rows (the shipped models' training data)"]
  ])
)

export const featuresCommand = features

/**
 * `llmsim ml train`: fit the ML estimator's correction model (src/ml/model.ts) on an aligned
 * CSV (`llmsim features --align`) or on the reference data (`--reference`), and write the model
 * file. The file records the training data's SHA-256 (of the aligned CSV as llmsim writes it),
 * the features, each head's envelope, the library version and the cross-validated error.
 * Training is seeded: the same data and seed give the same bytes.
 */
import { Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolvePath } from "../app/paths.ts"
import { sha256 } from "../app/estimator.ts"
import { appLayer, Project } from "../app/services.ts"
import { UsageError } from "../config/errors.ts"
import { parseCsv } from "../accuracy/csv.ts"
import { referenceDir } from "../accuracy/validate.ts"
import { alignedCsv, readAligned, type AlignedRow } from "../ml/align.ts"
import { MeasurementError } from "../app/mlErrors.ts"
import { DEFAULT_HYPERPARAMETERS, modelText, trainModel, type ModelFile } from "../ml/model.ts"
import { pct } from "../accuracy/text.ts"
import { referenceRows } from "./features.ts"
import { documented } from "./flags.ts"
import { writeFileAtomic, writeStdout } from "./output.ts"

/** One line per head: rows, hardware, cross-validated error beside the analytic error. */
export const trainingSummary = (m: ModelFile, out: string): string =>
  [
    `wrote ${out}: ${m.training_data.rows} rows (sha256 ${m.training_data.sha256.slice(0, 12)}), ${m.library.name} ${m.library.version}, seed ${m.hyperparameters.seed}`,
    ...m.heads.map((h) => {
      const cv = h.cross_validation
      const err = cv === null ? "not cross-validated (one shape family)" : `${cv.folds}-fold grouped CV median ${pct(cv.ml.median_ape)} (analytic ${pct(cv.analytic.median_ape)}), p90 ${pct(cv.ml.p90_ape)} (analytic ${pct(cv.analytic.p90_ape)})`
      return `  ${h.head}: ${h.rows} rows on ${h.hardware.join(", ")}; ${err}`
    })
  ].join("\n") + "\n"

/** What the shipped model's file says it was trained on. */
export const REFERENCE_DESCRIPTION = "data/reference kernel datasets (llmsim features --reference)"

/** Train on aligned rows; the data digest is the SHA-256 of their aligned CSV as llmsim writes it. */
export const trainOn = (rows: ReadonlyArray<AlignedRow>, description: string, seed: number = DEFAULT_HYPERPARAMETERS.seed): ModelFile =>
  trainModel(rows, { sha256: sha256(alignedCsv(rows)), description }, { ...DEFAULT_HYPERPARAMETERS, seed })

const train = Command.make("train", {
  data: Flag.String("data").pipe(Flag.withDescription("Aligned CSV (llmsim features --align) to train on"), Flag.optional),
  reference: Flag.Boolean("reference").pipe(Flag.withDescription("Train on the reference data (data/reference), as the shipped models are"), Flag.withDefault(false)),
  out: Flag.String("out").pipe(Flag.withDescription("Model file to write (e.g. models/NAME.json)")),
  seed: Flag.Int("seed").pipe(Flag.withDescription("Random seed of the forest (same data + seed = same file)"), Flag.withDefault(DEFAULT_HYPERPARAMETERS.seed))
}, Effect.fn(function*(a) {
  const project = yield* Project
  const dataFlag = Option.getOrUndefined(a.data)
  if ((dataFlag === undefined) === !a.reference) return yield* Effect.fail(new UsageError({ message: "give exactly one of --data FILE (an aligned CSV) and --reference" }))
  let rows: ReadonlyArray<AlignedRow>
  let description: string
  if (dataFlag !== undefined) {
    const file = resolvePath("flag", dataFlag, { cwd: process.cwd(), root: project.root })
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(Effect.mapError(() => new MeasurementError({ message: `--data file not found or unreadable: ${dataFlag}` })))
    const read = readAligned(parseCsv(text), dataFlag)
    if (typeof read === "string") return yield* Effect.fail(new MeasurementError({ message: read }))
    rows = read
    description = `aligned CSV ${dataFlag.split(/[\\/]/).pop()}`
  } else {
    rows = yield* referenceRows(referenceDir(project, undefined))
    description = REFERENCE_DESCRIPTION
  }
  const model = trainOn(rows, description, a.seed)
  if (model.heads.length === 0) return yield* Effect.fail(new MeasurementError({ message: `${dataFlag ?? "reference data"}: no row is of an op kind a head learns (linear, grouped_gemm, mla_attention_decode, gqa_attention_prefill)` }))
  yield* writeFileAtomic(a.out, modelText(model))
  yield* writeStdout(trainingSummary(model, a.out))
}, (effect) => Effect.provide(effect, appLayer({ cwd: process.cwd(), noCache: true })))).pipe(documented("Train the ML estimator's correction model and write the model file", [
  ["llmsim ml train --data aligned.csv --out models/mine.json", "Train on your aligned measurements"],
  ["llmsim ml train --reference --out models/reference.json", "Rebuild the shipped model from data/reference"]
]))

export const mlCommand = Command.make("ml").pipe(
  Command.withDescription("The ML estimator: train a latency-correction model (use it with --estimator ml --model FILE)"),
  Command.withSubcommands([train])
)

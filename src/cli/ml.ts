/**
 * `llmsim ml train`: fit the ML estimator's correction model (src/ml/model.ts) on an aligned
 * CSV (`llmsim features --align`) or on the reference data (`--reference`), and write the model
 * file. The file records the training data's SHA-256 (of the aligned CSV as llmsim writes it),
 * the features, each head's envelope, the library version and the cross-validated error.
 * Training is seeded: the same data and seed give the same bytes.
 */
import { Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolvePath } from "../config/paths.ts"
import { sha256 } from "../base/sha256.js"
import { appLayer, Project } from "../app/services.ts"
import { UsageError } from "../config/errors.ts"
import { parseCsv } from "../reference/csv.ts"
import { referenceDir } from "../accuracy/validate.ts"
import { alignedCsv, readAligned, type AlignedRow } from "../ml/align.ts"
import { MeasurementError } from "../app/mlErrors.ts"
import { DEFAULT_HYPERPARAMETERS, headMatrix, inputNames, modelText, sidecarModel, trainModel, type ModelFile } from "../ml/model.ts"
import { csvRecord } from "../base/csv.js"
import { HEADS, type Head } from "../ml/heads.ts"
import { pct } from "../accuracy/text.ts"
import { referenceRows } from "./features.ts"
import { documented } from "./flags.ts"
import { writeFileAtomic, writeStdout } from "./output.ts"

/** One line per head: rows, hardware, cross-validated error beside the analytic error. */
const trainingSummary = (m: ModelFile, out: string): string =>
  [
    `wrote ${out}: ${m.training_data.rows} rows (sha256 ${m.training_data.sha256.slice(0, 12)}), ${m.library.name} ${m.library.version}, seed ${m.hyperparameters.seed}`,
    ...m.heads.map((h) => {
      const cv = h.cross_validation
      const err =
        cv === null
          ? "not cross-validated (one shape family)"
          : `${cv.folds}-fold grouped CV median ${pct(cv.ml.median_ape)} (analytic ${pct(cv.analytic.median_ape)}), p90 ${pct(cv.ml.p90_ape)} (analytic ${pct(cv.analytic.p90_ape)})`
      return `  ${h.head}: ${h.rows} rows on ${h.hardware.join(", ")}; ${err}`
    })
  ].join("\n") + "\n"

/** What the shipped model's file says it was trained on. */
export const REFERENCE_DESCRIPTION = "data/reference kernel datasets (llmsim features --reference)"

/** Train on aligned rows; the data digest is the SHA-256 of their aligned CSV as llmsim writes it. */
export const trainOn = (rows: ReadonlyArray<AlignedRow>, description: string, seed: number = DEFAULT_HYPERPARAMETERS.seed): ModelFile =>
  trainModel(rows, { sha256: sha256(alignedCsv(rows)), description }, { ...DEFAULT_HYPERPARAMETERS, seed })

/** The aligned rows of `--data FILE` or of the reference data (`--reference`), exactly one of them. */
const trainingRows = (dataFlag: string | undefined, reference: boolean) =>
  Effect.gen(function* () {
    const project = yield* Project
    if ((dataFlag === undefined) === !reference)
      return yield* Effect.fail(new UsageError({ message: "give exactly one of --data FILE (an aligned CSV) and --reference" }))
    if (dataFlag === undefined) {
      const rows = yield* referenceRows(referenceDir(project, undefined))
      return { rows, description: REFERENCE_DESCRIPTION, name: "reference data" }
    }
    const file = resolvePath("flag", dataFlag, { cwd: process.cwd(), root: project.root })
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs
      .readFileString(file)
      .pipe(Effect.mapError(() => new MeasurementError({ message: `--data file not found or unreadable: ${dataFlag}` })))
    const rows = readAligned(parseCsv(text), dataFlag)
    if (typeof rows === "string") return yield* Effect.fail(new MeasurementError({ message: rows }))
    return { rows, description: `aligned CSV ${dataFlag.split(/[\\/]/).pop()}`, name: dataFlag }
  })

const dataFlags = {
  data: Flag.String("data").pipe(Flag.withDescription("Aligned CSV (llmsim features --align) to train on"), Flag.optional),
  reference: Flag.Boolean("reference").pipe(
    Flag.withDescription("Train on the reference data (data/reference), as the shipped models are"),
    Flag.withDefault(false)
  )
}

/** A head's design matrix as CSV: its inputs (log2 where the head says), the target, the shape family for grouped folds. */
const matrixCsv = (h: Head, rows: ReadonlyArray<AlignedRow>): string => {
  const columns = [...inputNames(h).map((n) => n.replace(" ", "_")), "target_ln", "family", "source"]
  return (
    csvRecord(columns) +
    headMatrix(h, rows)
      .map((m) => csvRecord([...m.x, m.y, m.family, rows[m.index].source]))
      .join("")
  )
}

const matrix = Command.make(
  "matrix",
  {
    ...dataFlags,
    head: Flag.Literals(
      "head",
      HEADS.map((h) => h.id)
    ).pipe(Flag.withDescription("The op family to export")),
    out: Flag.String("out").pipe(Flag.withDescription("Design matrix CSV to write (inputs, target_ln, family, source)")),
    sidecar: Flag.String("sidecar").pipe(Flag.withDescription("Also write the ONNX model's metadata sidecar (models/NAME.onnx.json)"), Flag.optional)
  },
  Effect.fn(
    function* (a) {
      const { rows, description, name } = yield* trainingRows(Option.getOrUndefined(a.data), a.reference)
      const h = HEADS.find((x) => x.id === a.head)!
      const meta = sidecarModel(h, rows, { sha256: sha256(alignedCsv(rows)), description })
      if (meta === undefined) return yield* Effect.fail(new MeasurementError({ message: `${name}: no row of ${h.kinds.join(" or ")} for the ${h.id} head` }))
      yield* writeFileAtomic(a.out, matrixCsv(h, rows), "--out")
      const sidecar = Option.getOrUndefined(a.sidecar)
      if (sidecar !== undefined) yield* writeFileAtomic(sidecar, modelText(meta))
      yield* writeStdout(
        `wrote ${a.out}: ${meta.training_data.rows} rows x ${h.features.length} inputs of the ${h.id} head${sidecar === undefined ? "" : `, and ${sidecar}`}\n`
      )
    },
    (effect) => Effect.provide(effect, appLayer({ cwd: process.cwd(), noCache: true }))
  )
).pipe(
  documented("Write a head's design matrix (and an ONNX sidecar) to train a model elsewhere, e.g. scikit-learn", [
    ["llmsim ml matrix --data aligned.csv --head gemm --out gemm.csv --sidecar models/gemm.onnx.json", "Inputs for scikit-learn; export to models/gemm.onnx"]
  ])
)

const train = Command.make(
  "train",
  {
    ...dataFlags,
    out: Flag.String("out").pipe(Flag.withDescription("Model file to write (e.g. models/NAME.json)")),
    seed: Flag.Int("seed").pipe(
      Flag.withDescription("Random seed of the forest (same data + seed = same file)"),
      Flag.withDefault(DEFAULT_HYPERPARAMETERS.seed)
    )
  },
  Effect.fn(
    function* (a) {
      const { rows, description, name } = yield* trainingRows(Option.getOrUndefined(a.data), a.reference)
      const model = trainOn(rows, description, a.seed)
      if (model.heads.length === 0)
        return yield* Effect.fail(
          new MeasurementError({ message: `${name}: no row is of an op kind a head learns (${HEADS.flatMap((h) => h.kinds).join(", ")})` })
        )
      yield* writeFileAtomic(a.out, modelText(model), "--out")
      yield* writeStdout(trainingSummary(model, a.out))
    },
    (effect) => Effect.provide(effect, appLayer({ cwd: process.cwd(), noCache: true }))
  )
).pipe(
  documented("Train the ML estimator's correction model and write the model file", [
    ["llmsim ml train --data aligned.csv --out models/mine.json", "Train on your aligned measurements"],
    ["llmsim ml train --reference --out models/reference.json", "Rebuild the shipped model from data/reference"]
  ])
)

export const mlCommand = Command.make("ml").pipe(
  Command.withDescription("The ML estimator: train a latency-correction model (use it with --estimator ml --model FILE)"),
  Command.withSubcommands([train, matrix])
)

/**
 * The estimator a command runs with: the analytic roofline by id, or the ML estimator of a
 * model file (`--estimator ml --model FILE`), read and decoded here once per command and
 * registered so its op nodes (keyed by the file's SHA-256) find it.
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"
import { UsageError } from "../config/errors.ts"
import { ModelFileError } from "./mlErrors.ts"
import { ML_ESTIMATOR_ID, mlEstimator } from "../ml/estimator.ts"
import { decodeMetadata, decodeModel, withPredictors, type LoadedModel } from "../ml/model.ts"
import { ONNX_PACKAGE, onnxRuntimeEntry, openOnnxSession } from "./onnxRuntime.ts"
import { analyticEstimator, ESTIMATORS, registerEstimator, type Estimator } from "../timing/estimator.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { resolvePath } from "../config/paths.ts"
import { sha256 } from "../base/sha256.js"

export interface EstimatorChoice {
  readonly estimator: string
  /** `--model`: the ML estimator's model file (a flag value: relative to `cwd`). */
  readonly model?: string
  /** The analytic times the ML correction multiplies must be the ones it was trained on. */
  readonly efficiency?: EfficiencyMode
}

/** Read and decode a model file; every failure is one ModelFileError line naming the file. */
export const loadModelFile = (file: string) =>
  Effect.gen(function* () {
    if (file.endsWith(".onnx")) return yield* loadOnnxModel(file)
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(Effect.mapError(() => new ModelFileError({ message: `model file not found or unreadable: ${file}` })))
    const model = decodeModel(text)
    if (typeof model === "string") return yield* Effect.fail(new ModelFileError({ message: `${file}: ${model}` }))
    const loaded: { readonly model: LoadedModel; readonly digest: string } = { model, digest: sha256(text) }
    return loaded
  })

/** ONNX sessions open in this process, by model file path. */
const onnxSessions = new Map<string, { readonly digest: string; readonly model: LoadedModel; readonly close: () => void }>()

/** The metadata sidecar of an ONNX model: `<file>.json`, the model file format without forests. */
export const sidecarOf = (onnxFile: string): string => `${onnxFile}.json`

/**
 * An ONNX model and its sidecar (one head: the op family the model was trained for). The digest
 * covers both files' bytes. Needs the optional onnxruntime-node (src/app/onnxRuntime.ts).
 */
const loadOnnxModel = (file: string) =>
  Effect.gen(function* () {
    const fail = (message: string) => Effect.fail(new ModelFileError({ message }))
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(file).pipe(Effect.mapError(() => new ModelFileError({ message: `model file not found or unreadable: ${file}` })))
    const sidecar = sidecarOf(file)
    const text = yield* fs
      .readFileString(sidecar)
      .pipe(
        Effect.mapError(
          () => new ModelFileError({ message: `${file}: its metadata sidecar ${sidecar} is missing or unreadable (llmsim ml matrix --sidecar writes it)` })
        )
      )
    const digest = sha256(`${sha256(bytes)} ${sha256(text)}`)
    // watch loads the model on every save: an unchanged model keeps its session, a changed one
    // replaces it (the old worker is closed), so sessions do not pile up.
    const open = onnxSessions.get(file)
    if (open?.digest === digest) return { model: open.model, digest }
    open?.close()
    onnxSessions.delete(file)
    const meta = decodeMetadata(text)
    if (typeof meta === "string") return yield* fail(`${sidecar}: ${meta}`)
    if (meta.heads.length !== 1) return yield* fail(`${sidecar}: an ONNX model times one op family; the sidecar lists ${meta.heads.length} heads`)
    const entry = onnxRuntimeEntry()
    if (entry === undefined) {
      return yield* fail(
        `${file}: ONNX models need the optional package ${ONNX_PACKAGE}: npm install ${ONNX_PACKAGE} --onnxruntime-node-install=skip (docs/ml-estimator.md)`
      )
    }
    const session = yield* Effect.promise(() => openOnnxSession(entry, file))
    if (typeof session === "string") return yield* fail(`${file}: ${session}`)
    const model = withPredictors(meta, () => (inputs) => {
      const out = session.predict(inputs)
      // A failure mid-run is a broken runtime, not bad input (the model answered the load probe).
      if (typeof out === "string") throw new Error(`ONNX model ${file}: ${out}`)
      return out
    })
    if (typeof model === "string") {
      session.close()
      return yield* fail(`${file}: ${model}`)
    }
    onnxSessions.set(file, { digest, model, close: session.close })
    const loaded: { readonly model: LoadedModel; readonly digest: string } = { model, digest }
    return loaded
  })

/** The project's default model file for `--estimator ml` without `--model` (the spec: "uses the project's models/ default"). */
const DEFAULT_MODEL_FILE = "models/reference.json"

/** The model file `--estimator ml` reads: `--model` from `cwd` (the project root as fallback), else the project's default. */
export const mlModelPath = (model: string | undefined, at: { readonly cwd?: string; readonly root: string }): string =>
  model === undefined ? path.join(at.root, DEFAULT_MODEL_FILE) : resolvePath("flag", model, at)

/**
 * The estimator of `choice`; paths are resolved from `cwd` with the project `root` as the fallback
 * base. `--estimator ml` without `--model` reads the project's DEFAULT_MODEL_FILE; a model file that
 * is missing, unreadable or not a model this version reads falls back to the analytic roofline with
 * one warning on stderr naming the reason (the run still answers, and says which estimator timed it).
 */
export const estimatorOf = (choice: EstimatorChoice, at: { readonly cwd?: string; readonly root: string }) =>
  Effect.gen(function* () {
    if (choice.estimator === ML_ESTIMATOR_ID) {
      if (choice.efficiency === "none") {
        return yield* Effect.fail(
          new UsageError({
            message: "--estimator ml corrects the analytic times with the hardware files' constants (what it was trained on); drop --efficiency none"
          })
        )
      }
      const file = mlModelPath(choice.model, at)
      const loaded = yield* Effect.result(loadModelFile(file))
      if (loaded._tag === "Failure") {
        const fallback = analyticEstimator
        yield* Effect.sync(() => void process.stderr.write(`warning: --estimator ml: ${loaded.failure.message}; timing with the analytic roofline instead\n`))
        return fallback
      }
      const { model, digest } = loaded.success
      const estimator = mlEstimator(model, digest)
      registerEstimator(estimator)
      return estimator
    }
    if (choice.model !== undefined)
      return yield* Effect.fail(new UsageError({ message: `--model is read by --estimator ml only (got --estimator ${choice.estimator})` }))
    const estimator: Estimator | undefined = Object.hasOwn(ESTIMATORS, choice.estimator) ? ESTIMATORS[choice.estimator] : undefined
    if (estimator === undefined) {
      return yield* Effect.fail(
        new UsageError({ message: `unknown estimator "${choice.estimator}" (expected: ${[...Object.keys(ESTIMATORS), ML_ESTIMATOR_ID].join(", ")})` })
      )
    }
    return estimator
  })

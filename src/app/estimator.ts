/**
 * The estimator a command runs with: the analytic roofline by id, or the ML estimator of a
 * model file (`--estimator ml --model FILE`), read and decoded here once per command and
 * registered so its op nodes (keyed by the file's SHA-256) find it.
 */
import { Effect, FileSystem } from "effect"
import { createHash } from "node:crypto"
import { UsageError } from "../config/errors.ts"
import { ModelFileError } from "./mlErrors.ts"
import { ML_ESTIMATOR_ID, mlEstimator } from "../ml/estimator.ts"
import { decodeModel, type LoadedModel } from "../ml/model.ts"
import { ESTIMATORS, registerEstimator, type Estimator } from "../timing/estimator.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { resolvePath } from "./paths.ts"

export interface EstimatorChoice {
  readonly estimator: string
  /** `--model`: the ML estimator's model file (a flag value: relative to `cwd`). */
  readonly model?: string
  /** The analytic times the ML correction multiplies must be the ones it was trained on. */
  readonly efficiency?: EfficiencyMode
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** Read and decode a model file; every failure is one ModelFileError line naming the file. */
export const loadModelFile = (file: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(Effect.mapError(() => new ModelFileError({ message: `model file not found or unreadable: ${file}` })))
    if (file.endsWith(".onnx")) {
      return yield* Effect.fail(new ModelFileError({ message: `${file}: ONNX models are not supported by this build (docs/ml-estimator.md "Models trained elsewhere"); train an in-process model with llmsim ml train` }))
    }
    const model = decodeModel(text)
    if (typeof model === "string") return yield* Effect.fail(new ModelFileError({ message: `${file}: ${model}` }))
    const loaded: { readonly model: LoadedModel; readonly digest: string } = { model, digest: sha256(text) }
    return loaded
  })

/** The estimator of `choice`; paths are resolved from `cwd` with the project `root` as the fallback base. */
export const estimatorOf = (choice: EstimatorChoice, at: { readonly cwd?: string; readonly root: string }) =>
  Effect.gen(function*() {
    if (choice.estimator === ML_ESTIMATOR_ID) {
      if (choice.model === undefined) return yield* Effect.fail(new UsageError({ message: "--estimator ml needs --model FILE (a model file from llmsim ml train, e.g. models/reference.json)" }))
      if (choice.efficiency === "none") {
        return yield* Effect.fail(new UsageError({ message: "--estimator ml corrects the analytic times with the hardware files' constants (what it was trained on); drop --efficiency none" }))
      }
      const { model, digest } = yield* loadModelFile(resolvePath("flag", choice.model, at))
      const estimator = mlEstimator(model, digest)
      registerEstimator(estimator)
      return estimator
    }
    if (choice.model !== undefined) return yield* Effect.fail(new UsageError({ message: `--model is read by --estimator ml only (got --estimator ${choice.estimator})` }))
    const estimator: Estimator | undefined = Object.hasOwn(ESTIMATORS, choice.estimator) ? ESTIMATORS[choice.estimator] : undefined
    if (estimator === undefined) {
      return yield* Effect.fail(new UsageError({ message: `unknown estimator "${choice.estimator}" (expected: ${[...Object.keys(ESTIMATORS), ML_ESTIMATOR_ID].join(", ")})` }))
    }
    return estimator
  })

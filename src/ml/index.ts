/**
 * src/ml: the ML estimator: features of an op, measurements aligned to them, per-family heads,
 * seeded training, the model file, the estimator (the model inside its envelope, analytic
 * outside).
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { alignedCsv, type AlignedRow, alignMeasurements, readAligned } from "./align.ts"
export { ML_ESTIMATOR_ID, mlEstimator } from "./estimator.ts"
export { type FeatureRow, featuresCsv, featuresJsonl, layerFeatureRow, NO_PLACE, opFeatureRow } from "./features.ts"
export { gemmSpec } from "./gemmSpec.ts"
export { type Head, HEADS } from "./heads.ts"
export {
  crossValidatedTimes,
  decodeMetadata,
  decodeModel,
  DEFAULT_HYPERPARAMETERS,
  headMatrix,
  inputNames,
  type LoadedModel,
  type ModelFile,
  modelText,
  sidecarModel,
  type TrainingRow,
  trainModel,
  withPredictors
} from "./model.ts"

/**
 * src/timing: op costs to milliseconds on a device: the roofline with its efficiency constants, tile and
 * wave models, the Estimator interface.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export {
  type CalibrationDifference,
  calibrationDifferences,
  calibrationLine,
  calibrationSummary,
  type CalibrationSummary,
  calibrationText,
  type ConstantSource,
  datasheetOnlyProblem,
  isCalibrated,
  unsourcedConstants
} from "./calibration.ts"
export { efficiencyLine, efficiencySummary, type EfficiencySummary } from "./efficiency.ts"
export { analyticEstimator, type Estimator, estimatorFor, ESTIMATORS, registerEstimator } from "./estimator.ts"
export { type Bound, type EfficiencyMode, isCommunication, type OpTiming, timeOp, timingHardware, type TimingHardware } from "./roofline.ts"

/**
 * src/accuracy: `validate` and `calibrate` against data/reference, and the reference rows as ML training
 * rows.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { GENERAL_ASSUMPTIONS, INTRO, TIMING_MODEL } from "./assumptions.ts"
export { calibrate, type CalibrationResult, DEFAULT_TILES, efficiencyBlock, type Fittable, FITTABLE, leaveOneOut } from "./calibrate.ts"
export { type AttentionCalibration, attentionRows, calibrateAttention } from "./calibrateAttention.ts"
export { calibrateOverlap, type OverlapCalibration } from "./calibrateOverlap.ts"
export { ATTENTION_FILE } from "./datasets/attention.ts"
export { FLASHMLA_FILE } from "./datasets/flashmla.ts"
export { gemmLabel, gemmMeasurements } from "./gemm.ts"
export { referenceCases } from "./mlCases.ts"
export { type MlValidation } from "./mlValidation.ts"
export { type DatasetReport, sampleText, type ValidationRow } from "./report.ts"
export { type ServingSummary, type ServingValidation } from "./serving.ts"
export { pct } from "./text.ts"
export { buildReport, loadValidationInputs, referenceDir, servingCheck, type ValidationReport } from "./validate.ts"

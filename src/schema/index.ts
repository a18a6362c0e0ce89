/**
 * src/schema: the Effect schemas of every config file (scenario, hardware, layer templates, deployment,
 * sweep) and the dtype table; their JSON Schema for editors.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { PositiveInt } from "./common.ts"
export { type AfdDeployment, type AfdLink, type AfdRegime, type DeploymentSpec, type KernelMode, type LinkDtype, type LoadImbalance } from "./deployment.ts"
export { DEFAULT_PRECISION, type Dtype, DTYPE_BYTES, DTYPES, gemmMathDtype } from "./dtypes.ts"
export { type EngineSpec } from "./engine.ts"
export { CALIBRATED_CONSTANTS, type CalibratedConstant, ConstantCalibration, type Efficiency, HardwareSpec } from "./hardware.ts"
export { jsonSchemaFiles } from "./jsonSchema.ts"
export {
  type AttnConfig,
  type CommConfig,
  type CommPattern,
  type FfnConfig,
  type GqaAttention,
  type LayerTemplate,
  LayerType,
  type LinearAttention,
  type MlaAttention,
  type MoeConfig,
  templateSchemaFor
} from "./layer.ts"
export { type Parallelism } from "./parallelism.ts"
export { type PhysicalKind, physicalProblem } from "./physical.ts"
export { Phase, phasesOf, type SinglePhase } from "./runtime.ts"
export { type LayerEntry, type LmHead, type Precision, type ScenarioFileSpec, ScenarioSpec } from "./scenario.ts"
export { type SweepSpec } from "./sweep.ts"

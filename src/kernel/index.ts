/**
 * src/kernel: the one step kernel: the model, the layout rule and the context, op timing, layer
 * composition under the strategies, the roll-up, the serving arithmetic, the batch search, the
 * delta rule and the figure lists the screens share.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type AfdBound, afdLayerTime, type AfdStages, afdStepMs, type ResolvedRegime } from "./afdPipeline.ts"
export { delta, type Delta } from "./delta.ts"
export { contextFor, type ContextLayout, fail, type Layout, ok, type Problem, type Resolved, resolveLayout, scaleUpGpus, type ScenarioBase } from "./layout.ts"
export { instanceNames, type Model, type ModelEntry, modelOf, moeConfigs, resolvePrecision } from "./model.ts"
export { ATTENTION_STAGE, FFN_STAGE, smSlowdown, sumMs, timeSpec, timeSpecs } from "./opTiming.ts"
export {
  LAYER_FIGURES,
  type LayerExecution,
  type LayerSummary,
  type OpExecution,
  type RunResult,
  SERVING_FIGURES,
  type ServingFigure,
  type ServingSummary,
  type SimulationResult
} from "./records.ts"
export { largestSatisfying, largestWithinCapacity } from "./search.ts"
export { servingRates, type ServingRates, servingSummary } from "./serving.ts"
export { composeLayer, type Instance, instancesOf, type LayerMemory, type LayerPlan, modelPlans, phaseMemory, rollUp, simulatePhase } from "./step.ts"
export { type Composition, coreStrategy, type CoreStrategyName, hiddenCommMs, planCore, STRATEGIES, type StrategyName } from "./strategies.ts"
export { boundOf, type LargeEpBound, serialLayer, tboLayer } from "./twoBatchOverlap.ts"

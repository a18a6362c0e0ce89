/**
 * src/sim: the scenario as build-graph nodes (op, layer, scenario) and its evaluation.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { CapacityNode, type DeploymentRecipe, instanceRecipe, type InstanceRecipe, searchCapacity, searchesAreNodes } from "./capacityNode.ts"
export { scenarioFeatures } from "./features.ts"
export { COMPOSE_CODE_VERSION, LayerNode, OpNode, scenarioNode, ScenarioNode, type ScenarioParams, TIMING_CODE_VERSION } from "./plan.ts"
export {
  afdInstance,
  type EngineOverrides,
  instanceDeployment,
  modelLayers,
  pairDeployment,
  requestKvBytesPerToken,
  scenarioVariant,
  servingInstance,
  type ServingInstance,
  transferLink,
  wideEpOverrides,
  workloadMisfit
} from "./serving.ts"
export { evaluateScenario, layerContext, scenarioBase } from "./simulate.ts"

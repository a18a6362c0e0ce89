/**
 * src/deploy: the deployment models on the kernel (large EP with DeepEP all-to-all, AFD), their memory
 * and serving objects, and the registry that says which model answers a strategy.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { afdBatchForTpot, type AfdLayer, afdMaxBatch, afdMemory, type AfdPhase, afdStep } from "./afd.ts"
export { epNodes, nodesPerToken } from "./alltoall.ts"
export {
  type AfdOverrides,
  type AfdPlan,
  DEFAULT_A2A_LATENCY_US,
  type LargeEpDeployment,
  type LargeEpOverrides,
  parseInstances,
  resolveAfd,
  resolveLargeEp
} from "./deployment.ts"
export { parseExpertLoad } from "./expertLoad.ts"
export { type ImbalanceSource, type MeasuredExpertLoad } from "./imbalance.ts"
export {
  a2aCall,
  capacityBytes,
  largeEpBatchForTpot,
  largeEpDecode,
  type LargeEpLayer,
  largeEpMaxBatch,
  largeEpMemory,
  largeEpPhase,
  type LargeEpPhase,
  largeEpStepTotals,
  type PlaybookInput
} from "./largeEp.ts"
export { type MemoryParts, totalBytes, weightBytes } from "./memory.ts"
export { afdNotes, expertParallelNotes, withNotes } from "./notes.ts"
export { type Deployment, DEPLOYMENT_MODELS, type DeploymentMemory, deploymentModelFor, type DeploymentModelName, isCoreStrategy } from "./registry.ts"
export { afdServing, type AfdServing, largeEpServing, type LargeEpServing, type ServingRun } from "./serving.ts"

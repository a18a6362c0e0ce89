/** src/serve: the names other folders import from it. */
export { type BenchmarkRun, runBenchmark } from "./benchmark.ts"
export { compareResults, type Comparison } from "./compare.ts"
export { type PoolInput } from "./disaggregate.ts"
export { type EngineSettings, stepWallMs } from "./engine.ts"
export { trtllmBenchFinetune, trtllmBenchMaxNumTokens, trtllmCudaGraphBatchSizes } from "./engineDefaults.ts"
export { ENGINE_NAMES, type EngineContext, type EngineModel, ENGINES } from "./engines.ts"
export { type TransferLink } from "./kvTransfer.ts"
export { deviceMemoryBytes, type KvBudget, type MemoryInputs } from "./memory.ts"
export {
  formatSummary,
  type GoodputSlo,
  parseGoodput,
  parseMetricPercentiles,
  parsePercentileMetrics,
  type PercentileMetric,
  percentileWord
} from "./metrics.ts"
export { type RateProbe, searchRate } from "./rateSearch.ts"
export { serve, type StepPricer, StuckError } from "./simulate.ts"
export { type RankStep, StepCost } from "./stepCost.ts"
export { readTrace, type TraceFormat } from "./trace.ts"
export { type RequestOutcome, type ServeRequest } from "./types.ts"
export { HASH_BLOCK_TOKENS, longestRequest, requests, typicalContext, validateWorkload, type Workload, type WorkloadSpec } from "./workload.ts"

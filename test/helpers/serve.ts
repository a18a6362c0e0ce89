/**
 * Hand-worked engines for the discrete-event cores' tests: a step pricer with fixed step times
 * (10 ms for a step with a prefill chunk, 2 ms for a decode-only step), so every timestamp is a
 * sum a reader can check, and engine settings with no host time, no CUDA graphs and 1-token blocks.
 */
import type { EngineSettings } from "../../src/serve/engine.ts"
import type { StepPricer } from "../../src/serve/simulate.ts"
import type { RankStep } from "../../src/serve/stepCost.ts"

export const stubPricer: StepPricer = {
  queriesPerDecode: 1,
  stepMs: (ranks: ReadonlyArray<RankStep>) => (ranks.some((r) => r.chunkLens.length > 0) ? 10 : 2)
}

export const testSettings = (o: Partial<EngineSettings> = {}): EngineSettings => ({
  engine: "test",
  version: "0",
  max_running: 4,
  max_step_tokens: 1000,
  chunked_prefill: true,
  mixed_steps: true,
  memory_fraction: 0.9,
  block_size: 1,
  cuda_graph_sizes: [],
  host_step_ms: 0,
  host_per_seq_ms: 0,
  host_source: "test",
  admission: "on-demand",
  prefix_caching: false,
  ...o
})

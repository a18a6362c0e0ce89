/**
 * EngineSpec: the `engine` block of a scenario, read by `llmsim bench` (and `sweep --bench`): which
 * serving engine runs the model and any setting that overrides that engine's defaults
 * (src/serve/engines.ts; docs/bench.md lists each default with its source). Flags override the
 * block. Names are engine-neutral; each field says the engine flags it stands for.
 *
 *   engine:
 *     name: trtllm                # vllm (default), sglang or trtllm
 *     max_model_len: 163840       # context limit, tokens: longer requests are refused
 *     max_running: 384            # --max-num-seqs | --max-running-requests | max_batch_size
 *     max_step_tokens: 8192       # --max-num-batched-tokens | --chunked-prefill-size | max_num_tokens
 *     memory_fraction: 0.85       # --gpu-memory-utilization | --mem-fraction-static | free_gpu_memory_fraction
 */
import { Schema } from "effect"
import { NonNegative, PositiveInt } from "./common.ts"

const EngineName = Schema.Literals(["vllm", "sglang", "trtllm"])

export const EngineSpec = Schema.Struct({
  name: Schema.optionalKey(EngineName),
  /** Longest prompt + output the engine accepts, tokens (vLLM --max-model-len). */
  max_model_len: Schema.optionalKey(PositiveInt),
  max_running: Schema.optionalKey(PositiveInt),
  max_step_tokens: Schema.optionalKey(PositiveInt),
  /** In (0, 1]. */
  memory_fraction: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1))),
  block_size: Schema.optionalKey(PositiveInt),
  chunked_prefill: Schema.optionalKey(Schema.Boolean),
  prefix_caching: Schema.optionalKey(Schema.Boolean),
  /** Largest decode batch captured as a CUDA graph (0: no graphs). */
  cuda_graph_max_bs: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Host time a step waits for, ms (default: the engine's fitted value). */
  host_step_ms: Schema.optionalKey(NonNegative),
  /** Host time a step waits for per scheduled sequence, ms. */
  host_per_seq_ms: Schema.optionalKey(NonNegative)
})
export type EngineSpec = typeof EngineSpec.Type

/**
 * What an engine model is to the simulator: the settings one engine instance runs with, resolved
 * from the engine's defaults (engines.ts, each sourced) and the user's overrides. The one
 * in-flight batching scheduler (scheduler.ts) reads only these; an engine differs from another
 * by its values and by the policies named here, never by a code path of its own.
 */

/** How a request gets KV-cache space. */
type Admission =
  /** Blocks as the sequence grows; when none is left, the newest running request is preempted and recomputed later (vLLM V1). */
  | "on-demand"
  /** The whole prompt + output is reserved when admitted, so nothing is ever evicted (TensorRT-LLM GUARANTEED_NO_EVICT). */
  | "reserve-full"
  /** Admitted when the prompt plus an estimate of every running request's remaining output fits (SGLang's new_token_ratio), retracting when the estimate was short. */
  | "estimated"

export interface EngineSettings {
  /** Registry name: vllm, sglang or trtllm. */
  readonly engine: string
  /** The engine release the defaults were read from. */
  readonly version: string
  /** Most sequences running on one attention-DP rank (max_num_seqs, max_running_requests, max_batch_size). */
  readonly max_running: number
  /** Token budget of one step (max_num_batched_tokens, chunked_prefill_size, max_num_tokens). */
  readonly max_step_tokens: number
  /** Long prompts are split over steps; without it a prompt must fit the step budget whole. */
  readonly chunked_prefill: boolean
  /** Prefill chunks and decodes share a step (vLLM, TensorRT-LLM); else a step is one or the other (SGLang). */
  readonly mixed_steps: boolean
  /** The memory fraction the engine's memory rule applies (engines.ts says to what). */
  readonly memory_fraction: number
  /** Tokens per KV-cache block (allocation granularity). */
  readonly block_size: number
  /** Decode-only steps run a CUDA graph padded up to the next of these batch sizes (empty: no graphs). */
  readonly cuda_graph_sizes: ReadonlyArray<number>
  /**
   * Host time the GPU waits for in each step (scheduling, input preparation, sampling,
   * detokenization: what the engine's overlap or async scheduler does not hide), ms. Fitted on
   * published serving measurements (engines.ts HOST_TIME says from which rows, or that it is borrowed).
   */
  readonly host_step_ms: number
  /** Exposed host time per scheduled sequence, ms. */
  readonly host_per_seq_ms: number
  /** Where the host-time constants come from, in one line. */
  readonly host_source: string
  readonly admission: Admission
  /**
   * SGLang's admission estimate: each running request's remaining output (clipped to `clip`
   * tokens) times a ratio that starts at `init`, decays by `decay` a decode step to `min`, and
   * after a retraction is reset from the requests left (with `retract_steps` decode steps of slack).
   */
  readonly new_token_ratio?: {
    readonly init: number
    readonly min: number
    readonly decay: number
    readonly clip: number
    readonly retract_steps: number
  }
  /** Reuse cached prompt prefixes (blocks hashed by content). */
  readonly prefix_caching: boolean
}

/** The padded batch a CUDA graph runs for `decodes` sequences (the decodes themselves above the largest graph). */
export const paddedBatch = (sizes: ReadonlyArray<number>, decodes: number): number => {
  for (const s of sizes) if (s >= decodes) return s
  return decodes
}

/**
 * Wall time of a step: GPU time plus the host time it waits for. `sequences` is the busiest
 * attention-DP rank's: each rank schedules in its own process (SGLang's data_parallel_controller
 * starts a scheduler per DP rank, vLLM an EngineCore per DP rank, TensorRT-LLM's attention DP an
 * executor per rank), so the ranks' host work runs side by side.
 */
export const stepWallMs = (s: EngineSettings, gpuMs: number, sequences: number): number => gpuMs + s.host_step_ms + s.host_per_seq_ms * sequences

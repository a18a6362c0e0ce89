/**
 * The shapes a served workload is made of: a request as it arrives, and what became of it.
 * Times are milliseconds from the start of the benchmark; lengths are tokens.
 */

/** One request of a workload (a generated one or a trace line). */
export interface ServeRequest {
  /** 0-based, in arrival order. */
  readonly id: number
  /** When the request reaches the engine, ms from the start. */
  readonly arrival_ms: number
  /** Prompt tokens. */
  readonly input_len: number
  /** Tokens to generate (the benchmark forces exactly this many, as `--ignore-eos` does). */
  readonly output_len: number
  /**
   * Prefix-cache block hashes of the prompt, one per block (Mooncake traces: 512-token blocks);
   * a request reuses the cached KV of its longest prefix of blocks already seen.
   */
  readonly prefix_hashes?: ReadonlyArray<number>
}

/** What happened to one request: the fields `vllm bench serve --save-result` keeps per request. */
export interface RequestOutcome {
  readonly id: number
  readonly arrival_ms: number
  readonly input_len: number
  readonly output_len: number
  /** Prompt tokens served from the prefix cache (not recomputed). */
  readonly cached_tokens: number
  /** Time to first token, ms (first token time - arrival). */
  readonly ttft_ms: number
  /** Gaps between successive output-token deliveries after the first, ms (one per step that emitted tokens). */
  readonly itls_ms: ReadonlyArray<number>
  /** End-to-end latency, ms (last token time - arrival). */
  readonly e2el_ms: number
  /** Times the engine preempted the request (its KV dropped and recomputed). */
  readonly preemptions: number
}

/**
 * The runtime: the knobs a user turns on the command line, in a scenario or in llmsim.config.ts.
 *
 * - prefill: `batch_size` prompts of `seq_len` tokens each, causal attention.
 * - decode: one new token for each of `batch_size` sequences whose KV cache holds `seq_len`
 *   tokens.
 */
import { Schema } from "effect"
import { Fraction, NonNegative, PositiveInt } from "./common.ts"

export const Phase = Schema.Literals(["prefill", "decode", "both"])
export type Phase = typeof Phase.Type
export type SinglePhase = "prefill" | "decode"

/**
 * The runtime block a scenario may carry; every field optional (the command line, then the
 * scenario, then llmsim.config.ts, then the defaults fill it).
 */
export const RuntimeDefaults = Schema.Struct({
  /** Sequences per attention data-parallel group. */
  batch_size: Schema.optionalKey(PositiveInt),
  /** Prompt length (prefill) or KV-cache length (decode), tokens. */
  seq_len: Schema.optionalKey(PositiveInt),
  phase: Schema.optionalKey(Phase),
  /** Micro-batches a batch is split into (two-batch overlap, AFD pipelines). */
  micro_batch: Schema.optionalKey(PositiveInt),
  /** Override: routed tokens per local expert (else uniform routing is assumed). */
  tokens_per_expert: Schema.optionalKey(NonNegative),
  /**
   * With MTP layers in the scenario (layer entries with `mtp: true`): the chance that each draft
   * token is accepted, independently (DeepSeek-V3 tech report arXiv 2412.19437 section 5.4.3:
   * 85-90% for its one MTP token). Decode then emits 1 + a + ... + a^k tokens per step.
   */
  mtp_acceptance_rate: Schema.optionalKey(Fraction)
})
export type RuntimeDefaults = typeof RuntimeDefaults.Type

export const phasesOf = (phase: Phase): ReadonlyArray<SinglePhase> => (phase === "both" ? ["prefill", "decode"] : [phase])

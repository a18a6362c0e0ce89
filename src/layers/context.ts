/**
 * What a layer estimator knows about the run: phase, token counts, precision and the
 * parallel layout, already defaulted. Shapes are per GPU unless a name says otherwise.
 */
import type { LayerTemplate } from "../schema/layer.ts"
import type { Precision } from "../schema/scenario.ts"
import type { SinglePhase } from "../schema/runtime.ts"

export interface ParallelLayout {
  readonly tp: number
  readonly dp: number
  readonly ep: number
}

export interface LayerContext {
  readonly phase: SinglePhase
  /** Sequences per attention data-parallel group. */
  readonly batch_size: number
  /** Prompt length (prefill) or KV-cache length (decode), tokens. */
  readonly seq_len: number
  readonly precision: Required<Precision>
  readonly parallel: ParallelLayout
  /** GPUs in one scale-up (NVLink) domain. */
  readonly gpus_per_node: number
  /** Override of routed tokens per local expert. */
  readonly tokens_per_expert?: number
  /**
   * Redundant routed-expert replicas spread over the EP group (DeepSeek's EPLB: 32 redundant
   * experts in both its EP32 prefill and EP144 decode units, deepseek_inference_overview.yaml).
   * Each GPU then holds (n_routed_experts + redundant_experts) / ep expert slots. Absent = 0.
   */
  readonly redundant_experts?: number
  /**
   * Decode with MTP speculative decoding: tokens each sequence feeds the main stack per step
   * (1 + draft tokens, verified together); absent = 1. MTP layers themselves run at 1.
   */
  readonly decode_tokens_per_seq?: number
}

/** Tokens one attention data-parallel group processes in this step. */
export const tokensPerStep = (ctx: LayerContext): number =>
  ctx.phase === "prefill" ? ctx.batch_size * ctx.seq_len : ctx.batch_size * (ctx.decode_tokens_per_seq ?? 1)

/** Query tokens per sequence in a decode step (1, or 1 + MTP drafts being verified). */
export const decodeQueriesPerSeq = (ctx: LayerContext): number => (ctx.phase === "decode" ? (ctx.decode_tokens_per_seq ?? 1) : 1)

/** A decode attention op's `queries` param when MTP verification feeds more than one token per sequence. */
export const queriesParam = (ctx: LayerContext): Record<string, number> => {
  const q = decodeQueriesPerSeq(ctx)
  return q > 1 ? { queries: q } : {}
}

/** `ctx` with the template's per-layer precision (a scenario entry's `precision`) applied. */
export const layerContext = (template: LayerTemplate, ctx: LayerContext): LayerContext => {
  const precise = template.precision === undefined ? ctx : { ...ctx, precision: { ...ctx.precision, ...template.precision } }
  if (template.mtp !== true || precise.decode_tokens_per_seq === undefined) return precise
  // An MTP layer drafts one token per sequence at a time.
  const { decode_tokens_per_seq: _, ...single } = precise
  return single
}

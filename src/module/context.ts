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
}

/** Tokens one attention data-parallel group processes in this step. */
export const tokensPerStep = (ctx: LayerContext): number =>
  ctx.phase === "prefill" ? ctx.batch_size * ctx.seq_len : ctx.batch_size

/** `ctx` with the template's per-layer precision (a scenario entry's `precision`) applied. */
export const layerContext = (template: LayerTemplate, ctx: LayerContext): LayerContext =>
  template.precision === undefined ? ctx : { ...ctx, precision: { ...ctx.precision, ...template.precision } }

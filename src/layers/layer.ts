/**
 * Layer estimators: a template and a context in, op specs and per-GPU memory figures out.
 *
 *   ffn_layer:  attn_norm, attention ops, [attn_all_reduce], ffn_norm, ffn, [ffn_all_reduce]
 *   moe_layer:  attn_norm, attention ops, [attn_all_reduce], ffn_norm, router, [shared_experts],
 *               [dispatch], experts, [combine], [moe_all_reduce]
 *   comm_layer: one collective
 *
 * Precision: `weights` for attention projections, dense FFN and shared experts; `moe_experts` for
 * routed experts; `activations` for activations, attention math, norms and the router;
 * `kv_cache` for the cache; a template's per-layer `precision` (a scenario entry's) replaces
 * these for its layers (context.ts layerContext). Tokens T = tokensPerStep(ctx) per attention DP group.
 * See attention.ts, ffn.ts, moe.ts and layout.ts for the per-block semantics.
 */
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { AttnConfig, LayerTemplate } from "../schema/layer.ts"
import { layerContext, tokensPerStep, type LayerContext } from "./context.ts"
import { attentionActivationElements, attentionKvBytesPerToken, attentionWeightBytes, planAttention } from "./attention.ts"
import { commPayloadBytes, planComm } from "./comm.ts"
import { ffnActivationElements, ffnWeightBytes, planFfn } from "./ffn.ts"
import { validateLayout } from "./layout.ts"
import { moeActivationElements, moeWeightBytes, planMoe } from "./moe.ts"
import { linearOp, rmsnormOp } from "./spec.ts"

/**
 * An MTP layer's input (DeepSeek-V3 tech report section 2.2): the previous depth's hidden state
 * and the next token's embedding, each RMSNormed, concatenated and projected 2d -> d (eh_proj).
 */
const mtpInput = (d: number, ctx: LayerContext): ReadonlyArray<OpSpec> => [
  rmsnormOp("mtp_hnorm", "other", tokensPerStep(ctx), d, ctx.precision.activations),
  rmsnormOp("mtp_enorm", "other", tokensPerStep(ctx), d, ctx.precision.activations),
  linearOp("mtp_eh_proj", "other", tokensPerStep(ctx), 2 * d, d, ctx.precision.weights, ctx.precision.activations)
]

const attentionHalf = (a: AttnConfig, ctx: LayerContext, mtp: boolean): ReadonlyArray<OpSpec> => [
  ...(mtp ? mtpInput(a.d_model, ctx) : []),
  rmsnormOp("attn_norm", "other", tokensPerStep(ctx), a.d_model, ctx.precision.activations),
  ...planAttention(a, ctx),
  rmsnormOp("ffn_norm", "other", tokensPerStep(ctx), a.d_model, ctx.precision.activations)
]

/**
 * A decoder layer's ops come in two halves, in execution order: the attention half (norm,
 * attention, the FFN norm) and the MLP half (dense FFN, or router, experts and their
 * communication); a comm layer is all MLP half. The attention half reads only the phase, batch,
 * sequence length, tp and precision of `ctx`; the MLP half only the step's tokens, the parallel
 * layout, redundant experts, tokens per expert and precision: a sweep shares each half across
 * the points that agree on those (src/deploy/largeEp.ts). Neither checks the layout.
 */
export const planAttentionHalf = (template: LayerTemplate, ctx: LayerContext): ReadonlyArray<OpSpec> =>
  template.type === "comm_layer" ? [] : attentionHalf(template.config.attn_config, layerContext(template, ctx), template.mtp === true)

export const planMlpHalf = (template: LayerTemplate, layoutCtx: LayerContext): ReadonlyArray<OpSpec> => {
  const ctx = layerContext(template, layoutCtx)
  switch (template.type) {
    case "comm_layer":
      return planComm(template.config.comm_config, ctx)
    case "ffn_layer":
      return planFfn(template.config.ffn_config, ctx)
    case "moe_layer":
      return planMoe(template.config.moe_config, ctx)
  }
}

/** Ops of one layer in execution order; throws when the layout cannot run the template. */
export const planLayer = (template: LayerTemplate, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const problem = validateLayout(template, ctx)
  if (problem !== undefined) throw new Error(`invalid parallel layout for ${template.type}: ${problem}`)
  const attention = planAttentionHalf(template, ctx)
  const mlp = planMlpHalf(template, ctx)
  return attention.length === 0 ? mlp : [...attention, ...mlp]
}

/** Weights resident on one GPU, including the two norm gammas (activations dtype). */
export const layerWeightBytesPerGpu = (template: LayerTemplate, layoutCtx: LayerContext): number => {
  if (template.type === "comm_layer") return 0
  const ctx = layerContext(template, layoutCtx)
  const a = template.config.attn_config
  // An MTP layer adds eh_proj (2d x d) and its two norms (mtpInput).
  const norms =
    (template.mtp === true ? 4 : 2) * a.d_model * DTYPE_BYTES[ctx.precision.activations] +
    (template.mtp === true ? 2 * a.d_model * a.d_model * DTYPE_BYTES[ctx.precision.weights] : 0)
  const mlp = template.type === "ffn_layer" ? ffnWeightBytes(template.config.ffn_config, ctx) : moeWeightBytes(template.config.moe_config, ctx)
  return attentionWeightBytes(a, ctx) + norms + mlp
}

export const kvBytesPerTokenPerGpu = (template: LayerTemplate, ctx: LayerContext): number =>
  template.type === "comm_layer" ? 0 : attentionKvBytesPerToken(template.config.attn_config, layerContext(template, ctx))

/**
 * Peak live activation bytes inside the layer for this step, an upper-bound style estimate:
 * the residual stream and the block's normalised input (2 * T * d_model), plus every intermediate
 * of the wider of the two blocks (attention, or FFN / MoE) held at once, all in the activations
 * dtype (FP8 copies of GEMM inputs are ignored). A comm layer holds its payload.
 * The KV cache is counted separately (kvBytesPerTokenPerGpu).
 */
export const activationBytesPerGpu = (template: LayerTemplate, layoutCtx: LayerContext): number => {
  if (template.type === "comm_layer") return commPayloadBytes(template.config.comm_config)
  const ctx = layerContext(template, layoutCtx)
  const a = template.config.attn_config
  const mlp = template.type === "ffn_layer" ? ffnActivationElements(template.config.ffn_config, ctx) : moeActivationElements(template.config.moe_config, ctx)
  const elements = 2 * tokensPerStep(ctx) * a.d_model + Math.max(attentionActivationElements(a, ctx), mlp)
  return elements * DTYPE_BYTES[ctx.precision.activations]
}

/**
 * Dense FFN estimator: one `ffn` op (gate_up, activation, down) with d_ff / tp per GPU in the
 * `weights` dtype, then a ring all-reduce of T * d_model activations when tp > 1 (Megatron-LM
 * row-parallel down projection, Shoeybi et al. arXiv 1909.08053).
 */
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { FfnConfig } from "../schema/layer.ts"
import { tokensPerStep, type LayerContext } from "./context.ts"
import { linkFor } from "./layout.ts"
import { collectiveOp, op } from "./spec.ts"

const isGated = (f: FfnConfig): boolean => f.gated ?? true

export const planFfn = (f: FfnConfig, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const t = tokensPerStep(ctx)
  const tp = ctx.parallel.tp
  const ops: Array<OpSpec> = [
    op("ffn", "ffn", "ffn", {
      tokens: t,
      d_model: f.d_model,
      intermediate: f.d_ff / tp,
      gated: isGated(f),
      weight_dtype: ctx.precision.weights,
      act_dtype: ctx.precision.activations
    })
  ]
  if (tp > 1) ops.push(collectiveOp("ffn_all_reduce", "all_reduce", t * f.d_model * DTYPE_BYTES[ctx.precision.activations], tp, linkFor(tp, ctx)))
  return ops
}

export const ffnWeightBytes = (f: FfnConfig, ctx: LayerContext): number =>
  (isGated(f) ? 3 : 2) * f.d_model * (f.d_ff / ctx.parallel.tp) * DTYPE_BYTES[ctx.precision.weights]

/** Up-projection output, activation output and down output live at once. */
export const ffnActivationElements = (f: FfnConfig, ctx: LayerContext): number => {
  const i = f.d_ff / ctx.parallel.tp
  return tokensPerStep(ctx) * ((isGated(f) ? 2 : 1) * i + i + f.d_model)
}

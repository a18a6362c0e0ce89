/**
 * Linear-attention block estimator (attn_config type `linear`; the op formulas and sources are
 * in src/ops/linearAttention.ts). Value heads are split by tp; key heads as GQA KV heads
 * (max(1, heads / tp)).
 *
 * gated_deltanet (HF transformers modeling_qwen3_next.py `Qwen3NextGatedDeltaNet`):
 *   in_proj_qkvz d -> 2*Hk*dk + 2*Hv*dv (q, k, v and the output gate z), in_proj_ba d -> 2*Hv
 *   (beta and the decay alpha), the recurrence with its conv1d, a gated RMSNorm over each value
 *   head (RMSNormGated, one dv gamma), out_proj Hv*dv -> d. Per-head A_log and dt_bias are 2*Hv.
 * lightning (HF transformers modeling_minimax.py `MiniMaxLightningAttention`):
 *   qkv_proj d -> 3*H*hd, output_gate d -> H*hd, the recurrence, an RMSNorm over H*hd, out_proj.
 * The state (linearStateBytes, in the `kv_cache` dtype) is per sequence and does not grow with
 * the context; kvBytesPerToken reports it spread over the step's seq_len tokens, as a sliding
 * window is (attention.ts), so per-token x tokens is the real cache.
 */
import { LIGHTNING_BLOCK, LINEAR_ATTENTION_CHUNK, linearStateBytes } from "../ops/linearAttention.ts"
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { LinearAttention } from "../schema/layer.ts"
import { queriesParam, tokensPerStep, type LayerContext } from "./context.ts"
import { kvHeadsPerGpu, qHeadsPerGpu } from "./layout.ts"
import { linearOp, op, rmsnormOp } from "./spec.ts"

const heads = (a: LinearAttention, ctx: LayerContext) => ({ hv: qHeadsPerGpu(a, ctx), hk: kvHeadsPerGpu(a.num_key_heads, ctx) })

const isDelta = (a: LinearAttention): boolean => a.variant === "gated_deltanet"

const convOf = (a: LinearAttention): number => a.conv_kernel_dim ?? 0

/** Output widths of the input projections per GPU: [name, features]. */
const projections = (a: LinearAttention, ctx: LayerContext): ReadonlyArray<readonly [string, number]> => {
  const { hv, hk } = heads(a, ctx)
  const qk = 2 * hk * a.key_head_dim
  const v = hv * a.value_head_dim
  return isDelta(a)
    ? [
        ["in_proj_qkvz", qk + 2 * v],
        ["in_proj_ba", 2 * hv]
      ]
    : [
        ["qkv_proj", qk + v],
        ["output_gate", v]
      ]
}

const shapeParams = (a: LinearAttention, ctx: LayerContext) => {
  const { hv, hk } = heads(a, ctx)
  return {
    variant: a.variant,
    heads: hv,
    key_heads: hk,
    key_head_dim: a.key_head_dim,
    value_head_dim: a.value_head_dim,
    conv_kernel_dim: convOf(a),
    act_dtype: ctx.precision.activations,
    state_dtype: ctx.precision.kv_cache
  }
}

export const planLinearAttention = (a: LinearAttention, ctx: LayerContext): Array<OpSpec> => {
  const t = tokensPerStep(ctx)
  const { weights: w, activations: act } = ctx.precision
  const { hv } = heads(a, ctx)
  const core =
    ctx.phase === "prefill"
      ? op("linear_attention_prefill", "linear_attention", "attention_core", {
          ...shapeParams(a, ctx),
          batch: ctx.batch_size,
          seq_len: ctx.seq_len,
          chunk: isDelta(a) ? LINEAR_ATTENTION_CHUNK : LIGHTNING_BLOCK
        })
      : op("linear_attention_decode", "linear_attention", "attention_core", { ...shapeParams(a, ctx), batch: ctx.batch_size, ...queriesParam(ctx) })
  return [
    ...projections(a, ctx).map(([name, n]) => linearOp(name, "attention_linear", t, a.d_model, n, w, act)),
    core,
    // Gated RMSNorm per value head (delta rule) or over the whole output (lightning).
    isDelta(a) ? rmsnormOp("out_norm", "other", t * hv, a.value_head_dim, act) : rmsnormOp("out_norm", "other", t, hv * a.value_head_dim, act),
    linearOp("o_proj", "attention_linear", t, hv * a.value_head_dim, a.d_model, w, act)
  ]
}

export const linearAttentionWeightBytes = (a: LinearAttention, ctx: LayerContext): number => {
  const { hv, hk } = heads(a, ctx)
  const proj = projections(a, ctx).reduce((sum, [, n]) => sum + a.d_model * n, 0)
  const out = hv * a.value_head_dim * a.d_model
  const conv = convOf(a) * (2 * hk * a.key_head_dim + hv * a.value_head_dim)
  // Norm gamma (dv per head shared, or the whole width) and the per-head A_log / dt_bias.
  const small = isDelta(a) ? a.value_head_dim + 2 * hv : hv * a.value_head_dim
  return (proj + out) * DTYPE_BYTES[ctx.precision.weights] + (conv + small) * DTYPE_BYTES[ctx.precision.activations]
}

/** The fixed state of one sequence, spread over the step's seq_len tokens. */
export const linearAttentionKvBytesPerToken = (a: LinearAttention, ctx: LayerContext): number => {
  const p = shapeParams(a, ctx)
  const state = linearStateBytes({
    v: a.variant,
    hv: p.heads,
    hk: p.key_heads,
    dk: a.key_head_dim,
    dv: a.value_head_dim,
    conv: p.conv_kernel_dim,
    act: DTYPE_BYTES[ctx.precision.activations],
    state: DTYPE_BYTES[ctx.precision.kv_cache]
  })
  return state / ctx.seq_len
}

/** Projection outputs, the core's output and o_proj's output live at once. */
export const linearAttentionActivationElements = (a: LinearAttention, ctx: LayerContext): number => {
  const t = tokensPerStep(ctx)
  const proj = projections(a, ctx).reduce((sum, [, n]) => sum + n, 0)
  return t * (proj + qHeadsPerGpu(a, ctx) * a.value_head_dim + a.d_model)
}

/**
 * Memory per GPU, by part, and the largest batch that fits in HBM.
 *
 * Weights come from the layer estimators' own byte counts (src/module): attention projections
 * (replicated on every attention DP rank, split by tp), dense FFNs, routed expert slots
 * (redundant replicas included), shared experts, router, the two norm gammas per layer, and the
 * input embedding + LM head. KV cache = sequences x tokens x the per-token bytes of every layer
 * (MLA: (kv_lora_rank + rope) x dtype, replicated on TP ranks). Activations = the widest layer's
 * live activations at the micro-batch size, times the micro-batches in flight at once (two with
 * two-batch overlap), or the batch's FP32 logits if larger (as the core roll-up counts them).
 * Communication buffers come from the playbook (DeepEP or AFD transfer buffers).
 *
 * Capacity = hbm_gb x 1e9 - reserved. The largest batch that fits: src/kernel/search.ts.
 */
import { activationBytesPerGpu, kvBytesPerTokenPerGpu } from "../layers/layer.ts"
import { attentionWeightBytes } from "../layers/attention.ts"
import type { LayerContext } from "../layers/context.ts"
import { ffnWeightBytes } from "../layers/ffn.ts"
import { lmHeadWeightBytesPerGpu } from "../layers/lmHead.ts"
import { routedExpertWeightBytes, routerWeightBytes, sharedExpertWeightBytes } from "../layers/moe.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { Model } from "../kernel/model.ts"

export interface MemoryParts {
  readonly attention_weights_bytes: number
  readonly dense_ffn_weights_bytes: number
  readonly routed_expert_weights_bytes: number
  readonly shared_expert_weights_bytes: number
  readonly router_weights_bytes: number
  readonly norm_weights_bytes: number
  readonly embedding_lm_head_weights_bytes: number
  readonly kv_cache_bytes: number
  readonly activation_bytes: number
  readonly comm_buffer_bytes: number
}

const ZERO_PARTS: MemoryParts = {
  attention_weights_bytes: 0,
  dense_ffn_weights_bytes: 0,
  routed_expert_weights_bytes: 0,
  shared_expert_weights_bytes: 0,
  router_weights_bytes: 0,
  norm_weights_bytes: 0,
  embedding_lm_head_weights_bytes: 0,
  kv_cache_bytes: 0,
  activation_bytes: 0,
  comm_buffer_bytes: 0
}

export const totalBytes = (p: MemoryParts): number => Object.values(p).reduce((a: number, b: number) => a + b, 0)

/** Every weight part, summed (in the parts' order). */
export const weightBytes = (p: MemoryParts): number =>
  p.attention_weights_bytes +
  p.dense_ffn_weights_bytes +
  p.routed_expert_weights_bytes +
  p.shared_expert_weights_bytes +
  p.router_weights_bytes +
  p.norm_weights_bytes +
  p.embedding_lm_head_weights_bytes

export const addParts = (a: MemoryParts, b: Partial<MemoryParts>): MemoryParts => {
  const out: Record<string, number> = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + (v ?? 0)
  return out as unknown as MemoryParts
}

/** Which parts of a layer a GPU holds (attention side, FFN side, or both in a colocated deployment). */
export interface Holds {
  readonly attention: boolean
  readonly ffn: boolean
  /** The router sits with attention in AFD and with the experts' layer in a colocated layer. */
  readonly router: boolean
  readonly lm_head: boolean
}

const HOLDS_ALL: Holds = { attention: true, ffn: true, router: true, lm_head: true }

/** Weight parts of one GPU under `ctx` (its parallel layout and precision). */
export const weightParts = (model: Model, ctx: LayerContext, holds: Holds = HOLDS_ALL): MemoryParts => {
  let parts = ZERO_PARTS
  for (const e of model.entries) {
    const t = e.template
    if (t.type === "comm_layer") continue
    const a = t.config.attn_config
    const r = e.repeat
    if (holds.attention) {
      parts = addParts(parts, {
        attention_weights_bytes: r * attentionWeightBytes(a, ctx),
        norm_weights_bytes: r * 2 * a.d_model * DTYPE_BYTES[ctx.precision.activations]
      })
    }
    if (t.type === "ffn_layer") {
      if (holds.ffn) parts = addParts(parts, { dense_ffn_weights_bytes: r * ffnWeightBytes(t.config.ffn_config, ctx) })
    } else {
      const m = t.config.moe_config
      if (holds.ffn) {
        parts = addParts(parts, {
          routed_expert_weights_bytes: r * routedExpertWeightBytes(m, ctx),
          shared_expert_weights_bytes: r * sharedExpertWeightBytes(m, ctx)
        })
      }
      if (holds.router) parts = addParts(parts, { router_weights_bytes: r * routerWeightBytes(m, ctx) })
    }
  }
  if (holds.lm_head && model.lm_head) parts = addParts(parts, { embedding_lm_head_weights_bytes: lmHeadWeightBytesPerGpu(model.lm_head, ctx) })
  return parts
}

/** KV-cache bytes per sequence of `ctx.seq_len` tokens on one GPU (every layer). */
export const kvBytesPerSequence = (model: Model, ctx: LayerContext): number =>
  ctx.seq_len * model.entries.reduce((a, e) => a + e.repeat * kvBytesPerTokenPerGpu(e.template, ctx), 0)

/** Live activations of the widest layer under `ctx` (the micro-batch), times `inFlight`, or the FP32 logits of `logitsRows` rows. */
export const activationBytes = (model: Model, ctx: LayerContext, inFlight: number, logitsRows: number): number => {
  const layer = model.entries.reduce((a, e) => Math.max(a, activationBytesPerGpu(e.template, ctx)), 0)
  // FP32 logits of the batch, as the core roll-up counts the LM head's activations (src/kernel/step.ts lmHeadPlan).
  const logits = model.lm_head ? logitsRows * model.lm_head.vocab_size * 4 : 0
  return Math.max(layer * inFlight, logits)
}

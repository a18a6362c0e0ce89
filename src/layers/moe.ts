/**
 * MoE block estimator. Layout (see layout.ts): E_local = (n_routed_experts + redundant_experts) / ep
 * expert slots per GPU, each with moe_intermediate_size / moe_tp columns, moe_tp = tp * dp / ep.
 *
 * Ops in order:
 *  - router: T tokens x d_model x E on every GPU, activations dtype (moe.ts in src/ops).
 *  - shared_experts (n_shared_experts > 0): one `ffn` of n_shared * shared size / tp on the T
 *    tokens of the DP group, `weights` dtype (ISM and SHS model shared experts the same way).
 *  - dispatch (ep > 1): each GPU sends its T / tp tokens' top-k copies, FP8 when `weights` is
 *    fp8 (DeepSeek dispatches in FP8, combines in BF16: DeepSeek-V3 tech report, arXiv 2412.19437,
 *    section 3.3), else in the activations dtype. When ep > gpus_per_node the traffic is
 *    split: (ep - gpus_per_node) / ep of the pairs go to other nodes on the NIC, (gpus_per_node
 *    - 1) / ep stay on NVLink.
 *  - experts: grouped SwiGLU GEMMs in the `moe_experts` dtype over T * dp * k / ep pairs
 *    (uniform routing) or tokens_per_expert * E_local pairs (override), tokens routed = T * dp.
 *  - combine (ep > 1): as dispatch, activations dtype.
 *  - moe_all_reduce: over r = max(tp, moe_tp) ranks when r > 1, payload T * r / tp tokens of
 *    d_model activations. With moe_tp > 1 it sums the experts' partial outputs (column/row split
 *    of each expert); with tp > 1 it also sums the tp-split shared experts and restores the
 *    replicated hidden state after combine (reduce-scatter + all-gather, the same ring bytes).
 */
import { expertLoad } from "../ops/moe.ts"
import type { OpParams, OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES, type Dtype } from "../schema/dtypes.ts"
import type { MoeConfig } from "../schema/layer.ts"
import { tokensPerStep, type LayerContext } from "./context.ts"
import { linkFor, moeTp } from "./layout.ts"
import { collectiveOp, op } from "./spec.ts"

const sharedIntermediate = (m: MoeConfig): number => (m.n_shared_experts ?? 0) * (m.shared_expert_intermediate_size ?? m.moe_intermediate_size)

/**
 * Expert slots in the EP group: routed experts plus redundant replicas (ctx.redundant_experts).
 * With replicas, uniform routing spreads a token's top_k choices over the slots, so the
 * `moe_experts` op sees n_experts = slots: E_local = slots / ep, touched slots =
 * E_local * (1 - (1 - top_k/slots)^tokens); the routed pairs per GPU stay tokens * top_k / ep.
 */
const expertSlots = (m: MoeConfig, ctx: LayerContext): number => m.n_routed_experts + (ctx.redundant_experts ?? 0)

/** The params of the `moe_experts` op: exactly what its formula reads. */
export const expertParams = (m: MoeConfig, ctx: LayerContext): OpParams => {
  const base = {
    d_model: m.d_model,
    intermediate: m.moe_intermediate_size / moeTp(ctx),
    n_experts: expertSlots(m, ctx),
    ep: ctx.parallel.ep,
    weight_dtype: ctx.precision.moe_experts,
    act_dtype: ctx.precision.activations,
    // DeepGEMM's layouts: contiguous in prefill (DeepEP normal dispatch), masked in decode (low-latency dispatch).
    layout: ctx.phase === "decode" ? "masked" : "contiguous"
  }
  return ctx.tokens_per_expert === undefined
    ? { ...base, tokens: tokensPerStep(ctx) * ctx.parallel.dp, top_k: m.num_experts_per_tok }
    : { ...base, tokens_per_expert: ctx.tokens_per_expert }
}

/** Dispatch or combine, split by link when the EP group spans nodes. */
const allToAll = (name: string, m: MoeConfig, ctx: LayerContext, dtype: Dtype): ReadonlyArray<OpSpec> => {
  const ep = ctx.parallel.ep
  const gpn = ctx.gpus_per_node
  const base = { tokens: tokensPerStep(ctx) / ctx.parallel.tp, top_k: m.num_experts_per_tok, d_model: m.d_model, dtype, ep }
  if (ep <= gpn) return [op("ep_all_to_all", name, "comm", { ...base, peers: ep - 1, link: "interconnect" })]
  const nic = op("ep_all_to_all", `${name}_nic`, "comm", { ...base, peers: ep - gpn, link: "nic" })
  // One GPU per node has no NVLink peers.
  return gpn > 1 ? [nic, op("ep_all_to_all", `${name}_nvlink`, "comm", { ...base, peers: gpn - 1, link: "interconnect" })] : [nic]
}

const reduceRanks = (ctx: LayerContext): number => Math.max(ctx.parallel.tp, moeTp(ctx))

export const planMoe = (m: MoeConfig, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const t = tokensPerStep(ctx)
  const { weights: w, activations: act } = ctx.precision
  const ops: Array<OpSpec> = [
    op("moe_router", "router", "moe_router", { tokens: t, d_model: m.d_model, n_experts: m.n_routed_experts, top_k: m.num_experts_per_tok, act_dtype: act })
  ]
  const shared = sharedIntermediate(m)
  if (shared > 0) {
    ops.push(
      op("ffn", "shared_experts", "moe_shared", {
        tokens: t,
        d_model: m.d_model,
        intermediate: shared / ctx.parallel.tp,
        gated: true,
        weight_dtype: w,
        act_dtype: act
      })
    )
  }
  const ep = ctx.parallel.ep
  if (ep > 1) ops.push(...allToAll("dispatch", m, ctx, w === "fp8" ? "fp8" : act))
  ops.push(op("moe_experts", "experts", "moe_experts", expertParams(m, ctx)))
  if (ep > 1) ops.push(...allToAll("combine", m, ctx, act))
  const r = reduceRanks(ctx)
  if (r > 1) {
    const payload = ((t * r) / ctx.parallel.tp) * m.d_model * DTYPE_BYTES[act]
    ops.push(collectiveOp("moe_all_reduce", "all_reduce", payload, r, linkFor(r, ctx)))
  }
  return ops
}

/** Local routed expert slots (all of them, redundant replicas included), `moe_experts` dtype. */
export const routedExpertWeightBytes = (m: MoeConfig, ctx: LayerContext): number =>
  (expertSlots(m, ctx) / ctx.parallel.ep) * 3 * m.d_model * (m.moe_intermediate_size / moeTp(ctx)) * DTYPE_BYTES[ctx.precision.moe_experts]

/** Router (gate) weights, activations dtype, full on every GPU. */
export const routerWeightBytes = (m: MoeConfig, ctx: LayerContext): number => m.n_routed_experts * m.d_model * DTYPE_BYTES[ctx.precision.activations]

/** Shared experts, `weights` dtype, split by tp. */
export const sharedExpertWeightBytes = (m: MoeConfig, ctx: LayerContext): number =>
  3 * m.d_model * (sharedIntermediate(m) / ctx.parallel.tp) * DTYPE_BYTES[ctx.precision.weights]

/** Local routed experts + router + shared experts. */
export const moeWeightBytes = (m: MoeConfig, ctx: LayerContext): number =>
  routedExpertWeightBytes(m, ctx) + routerWeightBytes(m, ctx) + sharedExpertWeightBytes(m, ctx)

/**
 * Elements live at the MoE block's widest point: router scores, shared-expert intermediates and
 * output, the dispatched token copies, the experts' gate_up / activation / down outputs, and the
 * combined output.
 */
export const moeActivationElements = (m: MoeConfig, ctx: LayerContext): number => {
  const t = tokensPerStep(ctx)
  const pairs = expertLoad(expertParams(m, ctx)).pairs
  const i = m.moe_intermediate_size / moeTp(ctx)
  const s = sharedIntermediate(m) / ctx.parallel.tp
  return t * m.n_routed_experts + t * (3 * s + m.d_model) + pairs * (m.d_model + 3 * i + m.d_model) + t * m.d_model
}

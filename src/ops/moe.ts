/**
 * Mixture-of-experts compute: router and routed-expert grouped GEMMs (shared experts are a plain
 * `ffn` op). Peer formulas: AIC's MoE speed-of-light model (ai-dynamo/aiconfigurator
 * aic-core/rust/aiconfigurator-core/src/operators/moe.rs) and InferSim's (alibaba/InferSim layers/moe.py).
 *
 * Routing is uniform unless a tokens-per-expert override is given. On a GPU holding
 * E_local = n_experts / ep experts, with `tokens` tokens routed over the EP group, each
 * picking top_k of E experts:
 *   (token, expert) pairs on the GPU = tokens * top_k / ep
 *   experts touched (weights read)   = E_local * (1 - (1 - top_k/E)^tokens)
 * (each expert is missed by a token with probability 1 - k/E, independently per token). This is
 * tighter than the min(E_local, tokens*k/ep) cap AIC uses and reaches E_local for large batches.
 *
 * Op kinds:
 *  - `moe_router`: tokens, d_model, n_experts, top_k, act_dtype. Gate GEMM tokens x d x E in the
 *    activations dtype (DeepSeek's reference gate is FP32, deepseek-ai/DeepSeek-V3
 *    inference/model.py `Gate`; we keep it in BF16 for simplicity) + a top-k kernel.
 *  - `moe_experts`: d_model, intermediate (per GPU), n_experts, ep, weight_dtype, act_dtype, and
 *    either tokens + top_k (uniform routing) or tokens_per_expert (override). SwiGLU experts:
 *    gate_up grouped GEMM (n = 2I), SiLU*mul, down grouped GEMM. Optional `layout`
 *    (`contiguous`, the default, for prefill; `masked` for decode): the grouped GEMMs' layout,
 *    whose per-expert padding timing/waves.ts charges; under uniform routing the per-expert
 *    count is a routed mean (the spread is padded too), under the override it is exact.
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { ffnBlockCost } from "./ffn.ts"
import { gemmTotals } from "./gemm.ts"
import { dtype, num } from "./params.ts"
import type { GemmLayout, GemmShape, OpCost, OpParams } from "./types.ts"

/** Expected distinct experts among `local` of `experts` hit by `tokens` tokens choosing top_k each. */
export const expectedTouchedExperts = (local: number, topK: number, experts: number, tokens: number): number =>
  local * (1 - Math.pow(1 - topK / experts, tokens))

export interface ExpertLoad {
  readonly local_experts: number
  readonly pairs: number
  readonly touched: number
}

/** Local experts, routed pairs and touched experts on one GPU, from an op's params. */
export const expertLoad = (p: OpParams): ExpertLoad => {
  const experts = num(p, "n_experts")
  const local = experts / num(p, "ep")
  if (p.tokens_per_expert !== undefined) {
    const tpe = num(p, "tokens_per_expert")
    return { local_experts: local, pairs: tpe * local, touched: tpe > 0 ? local : 0 }
  }
  const tokens = num(p, "tokens")
  const k = num(p, "top_k")
  return { local_experts: local, pairs: (tokens * k) / num(p, "ep"), touched: expectedTouchedExperts(local, k, experts, tokens) }
}

export const moeRouter = (p: OpParams): OpCost => {
  const t = num(p, "tokens")
  const e = num(p, "n_experts")
  const act = dtype(p, "act_dtype")
  const g = { m: t, n: e, k: num(p, "d_model"), groups: 1 }
  const gemm = gemmTotals(g, act, act)
  return {
    flops: gemm.flops,
    // Gate GEMM, then top-k reads the scores and writes an int32 id + fp32 weight per choice.
    bytes_read: gemm.weight_bytes + gemm.input_bytes + t * e * DTYPE_BYTES[act],
    bytes_written: gemm.output_bytes + t * num(p, "top_k") * 8,
    comm_bytes: 0,
    math_dtype: act,
    kernels: 2,
    gemms: [g],
    notes: "gate GEMM 2*tokens*d*E (BF16, full E on each GPU) + top-k selection"
  }
}

export const moeExperts = (p: OpParams): OpCost => {
  const load = expertLoad(p)
  const d = num(p, "d_model")
  const i = num(p, "intermediate")
  const groups = Math.ceil(load.touched)
  const layout: GemmLayout = p.layout === "masked" ? "masked" : "contiguous"
  const routed = p.tokens_per_expert === undefined
  const gemms: ReadonlyArray<GemmShape> =
    load.pairs > 0 && groups > 0
      ? [
          { m: load.pairs / groups, n: 2 * i, k: d, groups, layout, routed },
          { m: load.pairs / groups, n: d, k: i, groups, layout, routed }
        ]
      : []
  return ffnBlockCost(
    {
      rows: load.pairs,
      d_model: d,
      intermediate: i,
      gated: true,
      weight: dtype(p, "weight_dtype"),
      activation: dtype(p, "act_dtype"),
      weight_sets: load.touched
    },
    gemms,
    `${layout} grouped SwiGLU GEMMs over ${round2(load.pairs)} pairs; weights of ${round2(load.touched)} of ${load.local_experts} local experts read`
  )
}

const round2 = (x: number): number => Math.round(x * 100) / 100

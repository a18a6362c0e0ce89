/** Small builders for op specs, so every estimator spells params the same way. */
import type { Link, OpCategory, OpParams, OpSpec } from "../ops/types.ts"
import type { CommPattern } from "../schema/layer.ts"
import type { Dtype } from "../schema/dtypes.ts"

export const op = (kind: string, name: string, category: OpCategory, params: OpParams): OpSpec => ({ kind, name, category, params })

export const linearOp = (name: string, category: OpCategory, tokens: number, inFeatures: number, outFeatures: number, weight: Dtype, act: Dtype): OpSpec =>
  op("linear", name, category, { tokens, in_features: inFeatures, out_features: outFeatures, weight_dtype: weight, act_dtype: act })

export const rmsnormOp = (name: string, category: OpCategory, tokens: number, hidden: number, act: Dtype): OpSpec =>
  op("rmsnorm", name, category, { tokens, hidden, act_dtype: act })

/** A collective; p2p carries no rank count (its formula does not read one). */
export const collectiveOp = (name: string, pattern: CommPattern, payloadBytes: number, ranks: number, link: Link): OpSpec =>
  op("collective", name, "comm", pattern === "p2p" ? { pattern, payload_bytes: payloadBytes, link } : { pattern, payload_bytes: payloadBytes, ranks, link })

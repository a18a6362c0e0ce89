/**
 * Op kind -> formula. Bump a formula's `version` whenever its output changes for some input
 * (test/graph/golden.test.ts enforces it); the version is part of every op node's cache key.
 */
import { gqaAttentionDecode, gqaAttentionPrefill } from "./attention.ts"
import { collective, epAllToAll } from "./comm.ts"
import { dsaIndexerDecode, dsaIndexerPrefill } from "./dsa.ts"
import { ffn } from "./ffn.ts"
import { linearAttentionDecode, linearAttentionPrefill } from "./linearAttention.ts"
import { linear } from "./gemm.ts"
import { embedding, rmsnorm } from "./misc.ts"
import { mlaAbsorbedBmm, mlaAttentionDecode, mlaAttentionPrefill } from "./mla.ts"
import { moeExperts, moeRouter } from "./moe.ts"
import type { OpCost, OpFormula, OpSpec } from "./types.ts"

export const OP_FORMULAS: Record<string, OpFormula> = {
  linear: { version: 2, cost: linear },
  // v2: optional `chunk` (chunked local attention) and `sinks` params; v1 specs cost the same.
  gqa_attention_prefill: { version: 3, cost: gqaAttentionPrefill },
  gqa_attention_decode: { version: 3, cost: gqaAttentionDecode },
  mla_absorbed_bmm: { version: 2, cost: mlaAbsorbedBmm },
  // v2: optional `topk` (DSA selected keys); v1 specs cost the same.
  mla_attention_prefill: { version: 3, cost: mlaAttentionPrefill },
  mla_attention_decode: { version: 3, cost: mlaAttentionDecode },
  dsa_indexer_prefill: { version: 1, cost: dsaIndexerPrefill },
  dsa_indexer_decode: { version: 1, cost: dsaIndexerDecode },
  linear_attention_prefill: { version: 2, cost: linearAttentionPrefill },
  linear_attention_decode: { version: 2, cost: linearAttentionDecode },
  ffn: { version: 2, cost: ffn },
  moe_router: { version: 2, cost: moeRouter },
  moe_experts: { version: 3, cost: moeExperts },
  collective: { version: 1, cost: collective },
  ep_all_to_all: { version: 2, cost: epAllToAll },
  rmsnorm: { version: 2, cost: rmsnorm },
  embedding: { version: 2, cost: embedding }
}

/** Cost of one op; an unknown kind is a programming error in a layer estimator. */
export const evaluateOpCost = (spec: OpSpec): OpCost => {
  if (!Object.hasOwn(OP_FORMULAS, spec.kind)) throw new Error(`unknown op kind: ${spec.kind} (op ${spec.name})`)
  return OP_FORMULAS[spec.kind].cost(spec.params)
}

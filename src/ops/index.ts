/**
 * src/ops: one exact FLOP / byte formula per fused op kind (OP_FORMULAS, versioned), and the op types
 * every timing and layer estimator speaks.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { causalPairs, chunkedDecodeKeys, decodeKeys } from "./attention.ts"
export { indexKeyBytes } from "./dsa.ts"
export { gemmCost, wgradGemmCost } from "./gemm.ts"
export { LIGHTNING_BLOCK, LINEAR_ATTENTION_CHUNK, linearStateBytes } from "./linearAttention.ts"
export { expertLoad } from "./moe.ts"
export { dtype } from "./params.ts"
export { evaluateOpCost, OP_FORMULAS } from "./registry.ts"
export { type GemmShape, type Link, type OpCategory, type OpCost, type OpParams, type OpSpec } from "./types.ts"

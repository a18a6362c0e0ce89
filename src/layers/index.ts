/**
 * src/layers: layer estimators: a layer template and a context to op specs, weights, KV cache and
 * activations per GPU, and the layout checks of a template.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { attentionActivationElements, attentionWeightBytes, planAttention } from "./attention.ts"
export { planComm } from "./comm.ts"
export { layerContext, type LayerContext, tokensPerStep } from "./context.ts"
export { ffnActivationElements, ffnWeightBytes, planFfn } from "./ffn.ts"
export { activationBytesPerGpu, kvBytesPerTokenPerGpu, layerWeightBytesPerGpu, planAttentionHalf, planLayer, planMlpHalf } from "./layer.ts"
export { attentionLayoutProblem, validateLayout } from "./layout.ts"
export { lmHeadWeightBytesPerGpu, planLmHead } from "./lmHead.ts"
export { moeActivationElements, planMoe, routedExpertWeightBytes, routerWeightBytes, sharedExpertWeightBytes } from "./moe.ts"
export { expectedTokensPerStep } from "./mtp.ts"
export { modelParams } from "./params.ts"
export { collectiveOp, rmsnormOp } from "./spec.ts"

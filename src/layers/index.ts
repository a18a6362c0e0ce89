/** Layer estimators: the module's public surface (semantics in layer.ts and its siblings). */
export { activationBytesPerGpu, kvBytesPerTokenPerGpu, layerWeightBytesPerGpu, planLayer } from "./layer.ts"
export { lmHeadWeightBytesPerGpu, planLmHead } from "./lmHead.ts"
export { validateLayout } from "./layout.ts"
export { modelParams } from "./params.ts"

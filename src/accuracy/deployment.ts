/**
 * One serving step of a whole model on one GPU, through the core simulator's pure pieces: layer
 * estimators (src/module) -> op formulas and timing (computeOp) -> layer composition
 * (composeLayer) -> the sum over layer instances, plus the LM head; and the GPU's memory
 * (weights + KV cache + the largest layer's activations). The same numbers `llmsim run` gives
 * for the same scenario, without the result store, so a solver can call it many times.
 */
import {
  activationBytesPerGpu,
  kvBytesPerTokenPerGpu,
  layerWeightBytesPerGpu,
  lmHeadWeightBytesPerGpu,
  planLayer,
  planLmHead
} from "../module/index.ts"
import type { LayerContext } from "../module/context.ts"
import type { OpSpec } from "../ops/types.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import type { LmHead, Precision } from "../schema/scenario.ts"
import { composeLayer, type Composition } from "../sim/compose.ts"
import { computeOp } from "../sim/plan.ts"
import type { TimingHardware } from "../timing/roofline.ts"

export interface ModelUnderTest {
  readonly layers: ReadonlyArray<{ readonly template: LayerTemplate; readonly repeat: number }>
  readonly lm_head?: LmHead
  readonly precision: Required<Precision>
}

export interface StepResult {
  /** Latency of one step (all layers and the LM head), ms. */
  readonly step_ms: number
  readonly weights_bytes: number
  readonly kv_cache_bytes: number
  readonly activation_bytes: number
  readonly peak_memory_bytes: number
}

const NO_MEMORY = { weight_bytes: 0, kv_cache_bytes_per_token: 0, activation_bytes: 0 }

const composedMs = (layerType: string, specs: ReadonlyArray<OpSpec>, timing: TimingHardware, composition: Composition): number => {
  const rows = specs.map((spec) => computeOp({ spec, hw: timing, estimator: "analytic" }))
  return composeLayer(layerType, rows, composition, NO_MEMORY, {}).dominant_latency_ms
}

export const modelStep = (model: ModelUnderTest, ctx: LayerContext, timing: TimingHardware, composition: Composition): StepResult => {
  let step = 0
  let weights = 0
  let kvPerToken = 0
  let activation = 0
  for (const { template, repeat } of model.layers) {
    step += repeat * composedMs(template.type, planLayer(template, ctx), timing, composition)
    weights += repeat * layerWeightBytesPerGpu(template, ctx)
    kvPerToken += repeat * kvBytesPerTokenPerGpu(template, ctx)
    activation = Math.max(activation, activationBytesPerGpu(template, ctx))
  }
  if (model.lm_head) {
    step += composedMs("lm_head", planLmHead(model.lm_head, ctx), timing, composition)
    weights += lmHeadWeightBytesPerGpu(model.lm_head, ctx)
  }
  const kv = kvPerToken * ctx.batch_size * ctx.seq_len
  return { step_ms: step, weights_bytes: weights, kv_cache_bytes: kv, activation_bytes: activation, peak_memory_bytes: weights + kv + activation }
}

/** Largest integer x in [1, hi] with ok(x) (ok is monotone: true then false), or 0 when ok(1) fails. */
export const largestSatisfying = (ok: (x: number) => boolean, hi: number): number => {
  if (!ok(1)) return 0
  let lo = 1
  let top = hi
  while (lo < top) {
    const mid = Math.ceil((lo + top) / 2)
    if (ok(mid)) lo = mid
    else top = mid - 1
  }
  return lo
}

/**
 * The estimator interface: turns an op's analytic cost into times. The analytic roofline is
 * the default; an ML estimator trained on profiled latencies can implement the same interface
 * and fall back to the analytic one outside its training envelope.
 */
import type { OpCost, OpSpec } from "../ops/types.ts"
import { timeOp, type OpTiming, type TimingHardware } from "./roofline.ts"

export interface Estimator {
  readonly id: string
  /** Part of every op node's cache key. */
  readonly version: number
  /** SHA-256 of a learned estimator's model file: part of its op nodes' params (so their keys). */
  readonly model?: string
  readonly time: (spec: OpSpec, cost: OpCost, hw: TimingHardware) => OpTiming
}

export const analyticEstimator: Estimator = {
  id: "analytic",
  version: 2,
  time: (spec, cost, hw) => timeOp(cost, hw, spec)
}

export const ESTIMATORS: Readonly<Record<string, Estimator>> = { analytic: analyticEstimator }

/**
 * Learned estimators loaded in this process, by id and model digest. An op node names its
 * estimator by id and digest only (JSON params), so its pure computation finds the loaded model
 * here; the digest fixes the model, so the lookup is as pure as ESTIMATORS.
 */
const loaded = new Map<string, Estimator>()

const loadedKey = (id: string, model: string): string => `${id}@${model}`

/** Make a learned estimator findable by its op nodes (src/app loads the model file, then registers it). */
export const registerEstimator = (e: Estimator): void => {
  if (e.model !== undefined) loaded.set(loadedKey(e.id, e.model), e)
}

/** The estimator an op node names: a built-in one by id, a learned one by id and model digest. */
export const estimatorFor = (id: string, model?: string): Estimator | undefined =>
  model === undefined ? (Object.hasOwn(ESTIMATORS, id) ? ESTIMATORS[id] : undefined) : loaded.get(loadedKey(id, model))

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
  readonly time: (spec: OpSpec, cost: OpCost, hw: TimingHardware) => OpTiming
}

export const analyticEstimator: Estimator = {
  id: "analytic",
  version: 1,
  time: (_spec, cost, hw) => timeOp(cost, hw)
}

export const ESTIMATORS: Readonly<Record<string, Estimator>> = { analytic: analyticEstimator }

/**
 * The ML estimator: the analytic roofline, corrected by a learned model where the model knows
 * the op. Per op:
 *
 *   - a head covers the op's kind and every feature lies inside that head's training envelope
 *     ([min, max] of its training rows): times = analytic times * exp(predicted correction),
 *     recorded as `estimator: ml` with the factor;
 *   - otherwise the analytic times, recorded as `estimator: analytic-fallback` with the reason
 *     (no head for the kind, a communication op, or the first feature outside its range).
 *
 * Compute, memory and dominant times are scaled by the same factor, so the bound and the SM
 * slowdown arithmetic of src/kernel/opTiming.ts keep their meaning. Pure.
 */
import type { OpCost, OpSpec } from "../ops/types.ts"
import type { Estimator } from "../timing/estimator.ts"
import { isCommunication, timeOp, type OpTiming, type TimingHardware } from "../timing/roofline.ts"
import { NO_PLACE, opFeatureRow } from "./features.ts"
import { modelInputs, rawFeatures } from "./heads.ts"
import { shrink, type LoadedModel } from "./model.ts"

export const ML_ESTIMATOR_ID = "ml"
/** Part of every ML op node's code version: bump when the correction's application changes. */
const ML_ESTIMATOR_VERSION = 1

/** Relative slack on the envelope bounds, so a value equal to a bound up to float rounding is inside. */
const ENVELOPE_SLACK = 1e-9

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4))

const fallback = (t: OpTiming, note: string): OpTiming => ({ ...t, estimate: { estimator: "analytic-fallback", note } })

/** The ML estimator of a decoded model whose file has SHA-256 `digest`. */
export const mlEstimator = (model: LoadedModel, digest: string): Estimator => ({
  id: ML_ESTIMATOR_ID,
  version: ML_ESTIMATOR_VERSION,
  model: digest,
  time: (spec: OpSpec, cost: OpCost, hw: TimingHardware): OpTiming => {
    const t = timeOp(cost, hw, spec)
    if (isCommunication(cost)) return fallback(t, "communication op (the model times compute kernels)")
    const loaded = model.heads.find((h) => h.head.kinds.includes(spec.kind))
    if (loaded === undefined) return fallback(t, `op kind ${spec.kind} is not in the model`)
    // The hardware name is not a feature (its specs are), so it is left empty here.
    const row = opFeatureRow(NO_PLACE, spec, cost, "", hw)
    const raw = rawFeatures(loaded.head, row)
    if (typeof raw === "string") return fallback(t, `feature ${raw} is not defined for this op`)
    for (const [i, f] of loaded.head.features.entries()) {
      const [lo, hi] = loaded.model.envelope[f.name]
      const v = raw[i]
      if (v < lo - Math.abs(lo) * ENVELOPE_SLACK || v > hi + Math.abs(hi) * ENVELOPE_SLACK) {
        return fallback(t, `${f.name} = ${fmt(v)} is outside the training envelope [${fmt(lo)}, ${fmt(hi)}]`)
      }
    }
    const base = loaded.head.baseline(row)
    if (base === undefined || !(base > 0) || !(t.dominant_latency_ms > 0)) return fallback(t, "no baseline time for this op")
    const r = shrink(loaded.predict([modelInputs(loaded.head, raw)])[0], model.file.noise_floor_ln)
    const factor = (base * Math.exp(r)) / (t.dominant_latency_ms * 1e3)
    return {
      compute_time_ms: t.compute_time_ms * factor,
      memory_time_ms: t.memory_time_ms * factor,
      comm_time_ms: t.comm_time_ms,
      dominant_latency_ms: t.dominant_latency_ms * factor,
      bound: t.bound,
      estimate: { estimator: "ml", note: `${loaded.head.id} head: analytic x ${factor.toFixed(4)}` }
    }
  }
})

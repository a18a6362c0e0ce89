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
 * Fused ops made of GEMMs (COMPOSITE: an MoE layer's routed experts, a dense FFN) are timed
 * through their GEMMs: each GEMM of the op's cost becomes the op its measured twin is
 * (src/ml/gemmSpec.ts: `linear` or `grouped_gemm`), its head corrects that GEMM's analytic time,
 * and the op's analytic times are scaled by (sum of corrected GEMM times) / (sum of analytic GEMM
 * times): the activation between the GEMMs keeps its analytic share. If any GEMM lies outside
 * its head's envelope the whole op falls back, with that GEMM's reason.
 *
 * Compute, memory and dominant times are scaled by the same factor, so the bound and the SM
 * slowdown arithmetic of src/kernel/opTiming.ts keep their meaning. Pure.
 */
import { gemmCost } from "../ops/gemm.ts"
import type { OpCost, OpSpec } from "../ops/types.ts"
import { dtype } from "../ops/params.ts"
import type { Estimator } from "../timing/estimator.ts"
import { isCommunication, timeOp, type OpTiming, type TimingHardware } from "../timing/roofline.ts"
import { NO_PLACE, opFeatureRow } from "./features.ts"
import { gemmSpec } from "./gemmSpec.ts"
import { modelInputs, rawFeatures } from "./heads.ts"
import { shrink, type LoadedModel } from "./model.ts"

export const ML_ESTIMATOR_ID = "ml"
/** Part of every ML op node's code version: bump when the correction's application changes. */
const ML_ESTIMATOR_VERSION = 2

/** Op kinds timed through their GEMMs (header). */
const COMPOSITE: ReadonlySet<string> = new Set(["moe_experts", "ffn"])

/** Relative slack on the envelope bounds, so a value equal to a bound up to float rounding is inside. */
const ENVELOPE_SLACK = 1e-9

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4))

const fallback = (t: OpTiming, note: string): OpTiming => ({ ...t, estimate: { estimator: "analytic-fallback", note } })

/** One op's corrected time by its head, us, with its analytic time; or why the model does not time it. */
type Corrected = { readonly head: string; readonly analytic_us: number; readonly ml_us: number } | string

const correct = (model: LoadedModel, spec: OpSpec, cost: OpCost, hw: TimingHardware, analyticUs: number): Corrected => {
  const loaded = model.heads.find((h) => h.head.kinds.includes(spec.kind))
  if (loaded === undefined) return `op kind ${spec.kind} is not in the model`
  // The hardware name is not a feature (its specs are), so it is left empty here.
  const row = opFeatureRow(NO_PLACE, spec, cost, "", hw)
  const raw = rawFeatures(loaded.head, row)
  if (typeof raw === "string") return `feature ${raw} is not defined for this op`
  for (const [i, f] of loaded.head.features.entries()) {
    const [lo, hi] = loaded.model.envelope[f.name]
    const v = raw[i]
    if (v < lo - Math.abs(lo) * ENVELOPE_SLACK || v > hi + Math.abs(hi) * ENVELOPE_SLACK) {
      return `${f.name} = ${fmt(v)} is outside the training envelope [${fmt(lo)}, ${fmt(hi)}]`
    }
  }
  const base = loaded.head.baseline(row)
  if (base === undefined || !(base > 0) || !(analyticUs > 0)) return "no baseline time for this op"
  const r = shrink(loaded.predict([modelInputs(loaded.head, raw)])[0], model.file.noise_floor_ln)
  return { head: loaded.head.id, analytic_us: analyticUs, ml_us: base * Math.exp(r) }
}

/** A fused op's GEMMs, each corrected by its head (header), or the first GEMM's reason not to. */
const correctGemms = (model: LoadedModel, spec: OpSpec, cost: OpCost, hw: TimingHardware): ReadonlyArray<Exclude<Corrected, string>> | string => {
  const gemms = cost.gemms ?? []
  if (gemms.length === 0) return `op kind ${spec.kind} has no GEMMs here`
  // Both fused kinds carry these params (src/ops/ffn.ts, src/ops/moe.ts).
  const weight = dtype(spec.params, "weight_dtype")
  const activation = dtype(spec.params, "act_dtype")
  const out: Array<Exclude<Corrected, string>> = []
  for (const [i, g] of gemms.entries()) {
    const gSpec = gemmSpec(g, weight, activation)
    const gCost = gemmCost(g, weight, activation, `GEMM ${i + 1} of ${spec.kind}`)
    const c = correct(model, gSpec, gCost, hw, timeOp(gCost, hw, gSpec).dominant_latency_ms * 1e3)
    if (typeof c === "string") return `GEMM ${i + 1} of ${gemms.length} (${gSpec.kind}): ${c}`
    out.push(c)
  }
  return out
}

const scaled = (t: OpTiming, factor: number, note: string): OpTiming => ({
  compute_time_ms: t.compute_time_ms * factor,
  memory_time_ms: t.memory_time_ms * factor,
  comm_time_ms: t.comm_time_ms,
  dominant_latency_ms: t.dominant_latency_ms * factor,
  bound: t.bound,
  estimate: { estimator: "ml", note }
})

/** The ML estimator of a decoded model whose file has SHA-256 `digest`. */
export const mlEstimator = (model: LoadedModel, digest: string): Estimator => ({
  id: ML_ESTIMATOR_ID,
  version: ML_ESTIMATOR_VERSION,
  model: digest,
  time: (spec: OpSpec, cost: OpCost, hw: TimingHardware): OpTiming => {
    const t = timeOp(cost, hw, spec)
    if (isCommunication(cost)) return fallback(t, "communication op (the model times compute kernels)")
    if (COMPOSITE.has(spec.kind)) {
      const parts = correctGemms(model, spec, cost, hw)
      if (typeof parts === "string") return fallback(t, parts)
      const analytic = parts.reduce((a, p) => a + p.analytic_us, 0)
      if (!(analytic > 0) || !(t.dominant_latency_ms > 0)) return fallback(t, "no baseline time for this op")
      const factor = parts.reduce((a, p) => a + p.ml_us, 0) / analytic
      const heads = [...new Set(parts.map((p) => p.head))].join(", ")
      return scaled(t, factor, `${heads} head over ${parts.length} GEMMs: analytic x ${factor.toFixed(4)}`)
    }
    const c = correct(model, spec, cost, hw, t.dominant_latency_ms * 1e3)
    if (typeof c === "string") return fallback(t, c)
    const factor = c.ml_us / c.analytic_us
    return scaled(t, factor, `${c.head} head: analytic x ${factor.toFixed(4)}`)
  }
})

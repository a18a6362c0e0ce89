/**
 * Calibration of a hardware file's `overlap_efficiency` (src/kernel/twoBatchOverlap.ts) on
 * measured serving throughput: DeepSeek-V3's profiled decode and prefill on H800
 * (deepseek_profile_serving.yaml), each predicted exactly as `llmsim validate` predicts it (the
 * large-EP deployment model at the profile's published settings), with the candidate value in
 * the hardware file.
 *
 * Why these rows: they are the only saturated serving measurements with published settings,
 * and both phases run two-batch overlap in very different regimes (decode: 0.1 ms stages,
 * low-latency all-to-all on no SMs; prefill: 5-8 ms stages, normal kernels on 24 SMs), so one
 * constant that fits both is a property of the GPU's concurrent execution, not of one shape.
 * DeepSeek's production decode average (deepseek_inference_overview.yaml) is not fitted: it is
 * reported beside as a held-out check (its operating point is derived from 24-hour averages).
 *
 * Objective: least squares on log throughput, one constant in [0, 1], golden-section search to
 * 1e-4, printed to 3 decimals (errors "after" are those of the rounded value). Leave-one-out:
 * each fitted row predicted with the value fitted on the other.
 */
import type { HardwareSpec } from "../schema/hardware.ts"
import type { ValidationRow } from "./report.ts"
import { ape, logSquaredError, summarise, type ErrorSummary } from "../reference/stats.ts"
import { systemDatasetsOn, type ValidationInputs } from "./validate.ts"

interface OverlapRow {
  readonly case: string
  readonly source: string
  readonly unit: string
  readonly measured: number
  readonly before: number
  readonly after: number
  /** Held out: reported, not fitted. */
  readonly held_out: boolean
}

export interface OverlapCalibration {
  readonly before: number
  readonly after: number
  readonly rows: ReadonlyArray<OverlapRow>
  readonly before_summary: ErrorSummary
  readonly after_summary: ErrorSummary
  readonly leave_one_out?: ErrorSummary
}

const withOverlap = (hw: HardwareSpec, e: number): HardwareSpec => ({ ...hw, overlap_efficiency: e })

/** The fitted rows (the profile's) and the held-out production decode at one overlap_efficiency. */
const rowsAt = (
  inputs: ValidationInputs,
  hw: HardwareSpec,
  e: number
): { readonly fitted: ReadonlyArray<ValidationRow>; readonly held: ReadonlyArray<ValidationRow> } => {
  const d = systemDatasetsOn(inputs, withOverlap(hw, e))
  return {
    fitted: d.profile?.rows ?? [],
    held: (d.production?.rows ?? []).filter((r) => r.case.startsWith("decode"))
  }
}

/** Only the profile rows (the objective's inner loop: no production roll-up). */
const profileAt = (inputs: ValidationInputs, hw: HardwareSpec, e: number): ReadonlyArray<ValidationRow> =>
  systemDatasetsOn(inputs, withOverlap(hw, e), { production: false }).profile?.rows ?? []

const PROFILE_ROWS_MISSING = "the project ships no DeepSeek decode / prefill units (configs/scenarios/deepseek_v3_h800_*_ep*.yaml)"

const GOLDEN = (Math.sqrt(5) - 1) / 2

/** Minimise f on [lo, hi] (unimodal) by golden-section search to `tol`. */
export const goldenSection = (f: (x: number) => number, lo: number, hi: number, tol = 1e-4): number => {
  let a = lo
  let b = hi
  let c = b - GOLDEN * (b - a)
  let d = a + GOLDEN * (b - a)
  let fc = f(c)
  let fd = f(d)
  while (b - a > tol) {
    if (fc <= fd) {
      b = d
      d = c
      fd = fc
      c = b - GOLDEN * (b - a)
      fc = f(c)
    } else {
      a = c
      c = d
      fc = fd
      d = a + GOLDEN * (b - a)
      fd = f(d)
    }
  }
  return (a + b) / 2
}

/** overlap_efficiency fitting the profile rows `keep` (indices), rounded to 3 decimals. */
const fit = (inputs: ValidationInputs, hw: HardwareSpec, keep: ReadonlyArray<number>): number => {
  const loss = (e: number) => logSquaredError(profileAt(inputs, hw, e).filter((_, i) => keep.includes(i)))
  const best = goldenSection(loss, 0, 1)
  // The search brackets the optimum inside (0, 1); an end point is kept when it is better.
  const scored = [Number(best.toFixed(3)), 0, 1].map((e) => ({ e, loss: loss(e) }))
  return scored.reduce((x, y) => (y.loss < x.loss ? y : x)).e
}

/** Fit overlap_efficiency of `hw` (the DeepSeek scenarios' hardware) on the profile's rows. */
export const calibrateOverlap = (inputs: ValidationInputs, hw: HardwareSpec, loo = false): OverlapCalibration | string => {
  const before = rowsAt(inputs, hw, hw.overlap_efficiency)
  const n = before.fitted.length
  if (n === 0) return `no profiled serving rows: ${PROFILE_ROWS_MISSING}`
  const all = Array.from({ length: n }, (_, i) => i)
  const after = fit(inputs, hw, all)
  const fitted = rowsAt(inputs, hw, after)
  const row = (b: ValidationRow, a: ValidationRow, held: boolean): OverlapRow => ({
    case: a.case,
    source: a.source,
    unit: a.unit,
    measured: a.measured,
    before: b.predicted,
    after: a.predicted,
    held_out: held
  })
  const rows = [...fitted.fitted.map((a, i) => row(before.fitted[i], a, false)), ...fitted.held.map((a, i) => row(before.held[i], a, true))]
  const inFit = rows.filter((r) => !r.held_out)
  return {
    before: hw.overlap_efficiency,
    after,
    rows,
    before_summary: summarise(inFit.map((r) => ape(r.before, r.measured))),
    after_summary: summarise(inFit.map((r) => ape(r.after, r.measured))),
    ...(loo && n >= 2
      ? {
          leave_one_out: summarise(
            all.map((i) => {
              const e = fit(
                inputs,
                hw,
                all.filter((j) => j !== i)
              )
              const r = profileAt(inputs, hw, e)[i]
              return ape(r.predicted, r.measured)
            })
          )
        }
      : {})
  }
}

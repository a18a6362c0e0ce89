/**
 * Calibration of a hardware file's attention-kernel constants (`attention_compute`,
 * `attention_memory`, src/timing/attention.ts) on the attention rows of the reference folder
 * that ran on that hardware: FlashMLA decoding (flashmla.yaml) and FlashAttention-3 prefill
 * (attention_kernels_measured.csv), each predicted exactly as `llmsim validate` predicts it.
 *
 * Objective, as the GEMM calibration (calibrate.ts): least squares on log time over the rows,
 * both fractions searched through a logistic map from fixed starts with Nelder-Mead, printed to 3
 * decimals (errors "after" are those of the rounded values). A fraction the rows cannot identify
 * (every row bound by the other roof) stays where the search leaves it and is reported with the
 * rows' bound counts, so the reader can tell.
 */
import { evaluateOpCost } from "../ops/registry.ts"
import type { OpSpec } from "../ops/types.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import { timeOp, timingHardware } from "../timing/roofline.ts"
import { parseCsv } from "../reference/csv.ts"
import { ATTENTION_FILE, fa3Measurements } from "./datasets/attention.ts"
import { flashMlaMeasurements, FLASHMLA_FILE, mlaDecodeSpec } from "./datasets/flashmla.ts"
import type { HardwareSet } from "../reference/hardware.ts"
import { nelderMead } from "./nelderMead.ts"
import { ape, logSquaredError, summarise, type ErrorSummary } from "../reference/stats.ts"

export interface AttentionRow {
  readonly label: string
  readonly source: string
  readonly spec: OpSpec
  readonly measured_us: number
}

interface AttentionConstants {
  readonly attention_compute: number
  readonly attention_memory: number
}

export interface AttentionCalibration {
  readonly before: AttentionConstants
  readonly after: AttentionConstants
  readonly rows: ReadonlyArray<AttentionRow & { readonly before_us: number; readonly after_us: number; readonly bound: string }>
  readonly before_summary: ErrorSummary
  readonly after_summary: ErrorSummary
  readonly leave_one_out?: ErrorSummary
}

/** The FlashMLA and FA3 rows of the reference files that ran on hardware file `name`. */
export const attentionRows = (files: Readonly<Record<string, string>>, hardware: HardwareSet, name: string): Array<AttentionRow> => [
  ...flashMlaMeasurements(files[FLASHMLA_FILE], hardware)
    .rows.filter((m) => m.hardware === name)
    .map((m) => ({ label: `FlashMLA ${m.label}`, source: m.source, spec: mlaDecodeSpec(m.case), measured_us: m.measured_us })),
  ...fa3Measurements(parseCsv(files[ATTENTION_FILE]), hardware)
    .rows.filter((m) => m.hardware === name)
    .map((m) => ({ label: `FA3 ${m.label}`, source: m.source, spec: m.spec, measured_us: m.measured_us }))
]

const attentionConstantsOf = (hw: HardwareSpec): AttentionConstants => {
  const t = timingHardware(hw)
  return { attention_compute: t.attention_compute_efficiency, attention_memory: t.attention_memory_efficiency }
}

const withAttention = (hw: HardwareSpec, c: AttentionConstants): HardwareSpec => ({ ...hw, efficiency: { ...hw.efficiency, ...c } })

const predictUs = (hw: HardwareSpec, r: AttentionRow, c: AttentionConstants) => timeOp(evaluateOpCost(r.spec), timingHardware(withAttention(hw, c)), r.spec)

const logistic = (x: number): number => 1 / (1 + Math.exp(-x))
const logit = (p: number): number => {
  const q = Math.min(0.99, Math.max(0.01, p))
  return Math.log(q / (1 - q))
}

const fit = (hw: HardwareSpec, rows: ReadonlyArray<AttentionRow>): AttentionConstants => {
  const decode = (x: ReadonlyArray<number>): AttentionConstants => ({ attention_compute: logistic(x[0]), attention_memory: logistic(x[1]) })
  const loss = (x: ReadonlyArray<number>) =>
    logSquaredError(rows.map((r) => ({ predicted: predictUs(hw, r, decode(x)).dominant_latency_ms, measured: r.measured_us / 1e3 })))
  const start = attentionConstantsOf(hw)
  let best: { x: ReadonlyArray<number>; value: number } | undefined
  // The file's values, then a typical Hopper point and a pessimistic one (as calibrate.ts).
  for (const s of [
    [start.attention_compute, start.attention_memory],
    [0.8, 0.85],
    [0.6, 0.7]
  ]) {
    const r = nelderMead(loss, s.map(logit), { step: 0.5 })
    const r2 = nelderMead(loss, r.x, { step: 0.1 })
    if (best === undefined || r2.value < best.value) best = r2
  }
  const c = decode(best!.x)
  return { attention_compute: Number(c.attention_compute.toFixed(3)), attention_memory: Number(c.attention_memory.toFixed(3)) }
}

/** Fit both fractions on `rows`; with `loo`, also each row predicted by constants fitted without it. */
export const calibrateAttention = (hw: HardwareSpec, rows: ReadonlyArray<AttentionRow>, loo = false): AttentionCalibration => {
  const before = attentionConstantsOf(hw)
  const after = fit(hw, rows)
  const timed = rows.map((r) => {
    const a = predictUs(hw, r, after)
    return { ...r, before_us: predictUs(hw, r, before).dominant_latency_ms * 1e3, after_us: a.dominant_latency_ms * 1e3, bound: a.bound }
  })
  return {
    before,
    after,
    rows: timed,
    before_summary: summarise(timed.map((r) => ape(r.before_us, r.measured_us))),
    after_summary: summarise(timed.map((r) => ape(r.after_us, r.measured_us))),
    ...(loo && rows.length > 2
      ? {
          leave_one_out: summarise(
            rows.map((held, i) =>
              ape(
                predictUs(
                  hw,
                  held,
                  fit(
                    hw,
                    rows.filter((_, j) => j !== i)
                  )
                ).dominant_latency_ms * 1e3,
                held.measured_us
              )
            )
          )
        }
      : {})
  }
}

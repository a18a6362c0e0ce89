/**
 * DeepEP low-latency kernels (deepep_low_latency.csv, the current table: H800, CX7 400 Gb/s, 128
 * tokens a rank, hidden 7,168, top-8, FP8 dispatch, BF16 combine): the time of one dispatch or
 * combine call by EP size, against the large-EP model's call (src/deploy/largeEp.ts a2aCall,
 * low-latency kernels): every token's top-k copies spread evenly over the EP group, the copies
 * to GPUs of the same node over NVLink and the rest over the NIC, the two links at once,
 *     time = max(NVLink ms, NIC ms) + the per-call latency of the low-latency kernel.
 *
 * The per-call latency is the one constant these rows identify (the link rates are the hardware
 * file's, fitted elsewhere): lowLatencyFit finds the value that minimizes the squared log error
 * over the current rows, and its leave-one-out error (each row predicted by a fit on the others),
 * which is what DEFAULT_A2A_LATENCY_US.low_latency ships (src/deploy/deployment.ts).
 */
import { DEFAULT_A2A_LATENCY_US } from "../../deploy/deployment.ts"
import { a2aCall } from "../../deploy/largeEp.ts"
import { numberField, type CsvRecord, type CsvTable } from "../../reference/csv.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import type { HardwareSpec } from "../../schema/hardware.ts"
import { analyticEstimator } from "../../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"

export const DEEPEP_LL_FILE = "deepep_low_latency.csv"

/** DeepEP's tests ran on H800 nodes of 8 GPUs, one CX7 NIC each. */
const GPUS_PER_NODE = 8
/** Routed experts: the low-latency bytes do not depend on them (copies spread evenly over the group). */
const EXPERTS = 256

interface Case {
  readonly record: CsvRecord
  readonly kernel: "dispatch" | "combine"
  readonly ep: number
  readonly measured_us: number
  readonly tokens: number
  readonly hidden: number
  readonly top_k: number
  readonly dtype: "fp8" | "bf16"
  readonly hardware: string
  readonly spec: HardwareSpec
}

const skipReason = (r: CsvRecord): string | undefined => {
  if (!r.values.status.startsWith("current")) return "superseded value (pure RDMA inside a node, before DeepEP PR #173)"
  if (!r.values.arch.includes("SM90")) return "not Hopper"
  return undefined
}

const casesOf = (table: CsvTable, hardware: HardwareSet): { cases: Array<Case>; skipped: Array<string> } => {
  const cases: Array<Case> = []
  const skipped: Array<string> = []
  for (const r of table.rows) {
    const why = skipReason(r)
    if (why !== undefined) {
      skipped.push(why)
      continue
    }
    const name = hardwareFileFor(r.values.arch)
    const spec = name === undefined ? undefined : hardware.get(name)
    if (name === undefined || spec === undefined) {
      skipped.push(`no hardware file for "${r.values.arch}"`)
      continue
    }
    cases.push({
      record: r,
      kernel: r.values.kernel === "combine" ? "combine" : "dispatch",
      ep: numberField(r, "ep") ?? 0,
      measured_us: numberField(r, "latency_us") ?? 0,
      tokens: numberField(r, "tokens_per_batch") ?? 128,
      hidden: numberField(r, "hidden") ?? 7168,
      top_k: numberField(r, "topk_experts") ?? 8,
      dtype: r.values.dtype === "FP8" ? "fp8" : "bf16",
      hardware: name,
      spec
    })
  }
  return { cases, skipped }
}

/** Predicted time of one call, us, with a per-call latency of `latencyUs`. */
const predictedUs = (c: Case, latencyUs: number, mode: EfficiencyMode): number =>
  a2aCall(
    "low_latency",
    { n_routed_experts: EXPERTS, num_experts_per_tok: c.top_k, d_model: c.hidden },
    { ep: c.ep, gpus_per_node: GPUS_PER_NODE, a2a_latency_us: { ...DEFAULT_A2A_LATENCY_US, low_latency: latencyUs } },
    c.dtype,
    c.tokens,
    timingHardware(c.spec, mode),
    analyticEstimator
  ).time_ms * 1e3

/** The per-call latency (0.1 us steps over 0..500 us) minimizing the squared log error over `cases`. */
const bestLatency = (cases: ReadonlyArray<Case>, mode: EfficiencyMode): number => {
  // The link part does not depend on the latency: compute it once per case.
  const link = cases.map((c) => predictedUs(c, 0, mode))
  let best = 0
  let bestErr = Number.POSITIVE_INFINITY
  for (let k = 0; k <= 5000; k++) {
    const l = k / 10
    let err = 0
    for (let i = 0; i < cases.length; i++) err += Math.log((link[i]! + l) / cases[i]!.measured_us) ** 2
    if (err < bestErr - 1e-15) {
      bestErr = err
      best = l
    }
  }
  return best
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export interface LowLatencyFit {
  /** The fitted per-call latency, us. */
  readonly latency_us: number
  readonly rows: number
  /** Absolute percentage errors at the fitted value (in sample). */
  readonly in_sample: { readonly median_pct: number; readonly max_pct: number }
  /** Each row predicted by a fit on the others (held out). */
  readonly leave_one_out: { readonly median_pct: number; readonly max_pct: number }
}

/** Fit the low-latency kernels' per-call latency on the current rows, with its leave-one-out error. */
export const lowLatencyFit = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode = "hardware"): LowLatencyFit => {
  const { cases } = casesOf(table, hardware)
  const fitted = bestLatency(cases, mode)
  const ape = (c: Case, l: number) => Math.abs(predictedUs(c, l, mode) / c.measured_us - 1) * 100
  const inSample = cases.map((c) => ape(c, fitted))
  const loo = cases.map((c, i) => ape(c, bestLatency([...cases.slice(0, i), ...cases.slice(i + 1)], mode)))
  return {
    latency_us: fitted,
    rows: cases.length,
    in_sample: { median_pct: median(inSample), max_pct: Math.max(...inSample) },
    leave_one_out: { median_pct: median(loo), max_pct: Math.max(...loo) }
  }
}

/** Each current row at the shipped per-call latency (DEFAULT_A2A_LATENCY_US.low_latency). */
export const deepEpLowLatency = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const { cases, skipped } = casesOf(table, hardware)
  const rows: Array<ValidationRow> = cases.map((c) =>
    row({
      case: `${c.kernel} EP${c.ep} (${c.dtype}, ${c.ep <= GPUS_PER_NODE ? "NVLink" : "NVLink + RDMA"})`,
      hardware: c.hardware,
      unit: "us",
      predicted: predictedUs(c, DEFAULT_A2A_LATENCY_US.low_latency, mode),
      measured: c.measured_us,
      source: `${DEEPEP_LL_FILE}:${c.record.line}`,
      note: `${c.tokens} tokens, hidden ${c.hidden}, top-${c.top_k}; ${c.record.values.commit}`
    })
  )
  return dataset(
    {
      id: "deepep-low-latency",
      title: "DeepEP low-latency kernels: dispatch / combine time by EP size (H800, 128 tokens a rank)",
      file: DEEPEP_LL_FILE,
      method:
        "Each row at the test's setting through the large-EP model's low-latency call: top-k copies spread evenly over the group, " +
        "same-node copies over NVLink and the rest over the NIC at once, plus the per-call latency fitted on these rows " +
        "(in sample; the leave-one-out error is reported beside it).",
      rows
    },
    skipped
  )
}

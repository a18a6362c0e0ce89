/**
 * GEMM kernel measurements (DeepGEMM tables, community per-shape timings, any CSV with the same
 * columns) and their predictions through llmsim's own op formulas and timing model.
 *
 * A measurement is `groups` independent (m x k) * (k x n) products (groups = 1 for a dense GEMM;
 * m is per group). Its time is the row's `time_us`, or, where the row gives TFLOPS (every
 * DeepGEMM README row, and more precise than the community's integer microseconds), the time
 * those TFLOPS imply under DeepGEMM's own definition (tests/test_core.py):
 *
 *   t = 2 * groups * m * n * k / TFLOPS
 *
 * Prediction: the op cost from src/ops (a dense row is a `linear` op with tokens = m,
 * in_features = k, out_features = n; a grouped row is the same GEMM with `groups` weight sets,
 * gemmCost), with FP8 weights and inputs at 1 byte and a BF16 output at 2 bytes, exactly the
 * bytes DeepGEMM's GB/s counts; BF16 rows use BF16 throughout. A kgrouped_wgrad row (training
 * weight gradient, K = the groups' average) is the kernel it measures: FP8 A and B with 1x128
 * scales on both, an FP32 D read and written, the 1D1D promotion's extra FMUL per accumulator per
 * 128-K block, one kernel per group (wgradGemmCost). Then timeOp on the hardware.
 */
import { gemmCost, wgradGemmCost } from "../ops/gemm.ts"
import { evaluateOpCost } from "../ops/registry.ts"
import type { OpCost, OpSpec } from "../ops/types.ts"
import type { Dtype } from "../schema/dtypes.ts"
import { timeOp, type TimingHardware } from "../timing/roofline.ts"
import { gemmSpec } from "../ml/gemmSpec.ts"
import { numberField, type CsvRecord, type CsvTable } from "../reference/csv.ts"
import { physicalProblem, type PhysicalKind } from "../schema/physical.ts"

const GEMM_KINDS = ["dense_fp8", "dense_bf16", "grouped_contiguous", "grouped_masked", "kgrouped_wgrad"] as const
type GemmKind = (typeof GEMM_KINDS)[number]

export interface GemmMeasurement {
  /** 1-based line in the source file. */
  readonly line: number
  readonly kind: GemmKind
  readonly groups: number
  readonly m: number
  readonly n: number
  readonly k: number
  /** The row's hardware text, as written in the file (mapped to a hardware file elsewhere). */
  readonly hardware: string
  readonly measured_us: number
  readonly measured_from: "tflops" | "time_us"
  /** A short label of the kernel variant or source, when the file gives one. */
  readonly variant: string
}

export interface Skipped {
  readonly line: number
  readonly reason: string
}

export const gemmLabel = (g: Pick<GemmMeasurement, "groups" | "m" | "n" | "k">): string =>
  g.groups > 1 ? `${g.groups} x ${g.m}x${g.n}x${g.k}` : `${g.m}x${g.n}x${g.k}`

const usefulFlops = (g: Pick<GemmMeasurement, "groups" | "m" | "n" | "k">): number => 2 * g.groups * g.m * g.n * g.k

const weightDtype = (kind: GemmKind): Dtype => (kind === "dense_bf16" ? "bf16" : "fp8")

const isDense = (g: Pick<GemmMeasurement, "kind" | "groups">): boolean => g.groups === 1 && (g.kind === "dense_fp8" || g.kind === "dense_bf16")

/**
 * The op of one measured GEMM, as the ML heads see it (src/ml/gemmSpec.ts): a `linear` op spec
 * for a dense row; for a grouped row the measurement kind `grouped_gemm` with its layout (no
 * scenario op is a bare grouped GEMM: moe_experts fuses two with the activation, and the ML
 * estimator times each through this same kind). The training kernel's rows (k-grouped weight
 * gradients, FP32 accumulate) are their own kind, which no head reads: no inference op runs it.
 */
export const gemmOp = (g: Pick<GemmMeasurement, "kind" | "groups" | "m" | "n" | "k">): OpSpec => {
  const w = weightDtype(g.kind)
  if (g.kind === "kgrouped_wgrad")
    return { kind: "kgrouped_wgrad", name: "kgrouped_wgrad", category: "other", params: { m: g.m, n: g.n, k: g.k, groups: g.groups, weight_dtype: w } }
  return gemmSpec({ m: g.m, n: g.n, k: g.k, groups: g.groups, ...(isDense(g) ? {} : layoutOf(g.kind)) }, w, "bf16")
}

/** The op cost llmsim's formulas give one measured GEMM. */
export const gemmOpCost = (g: Pick<GemmMeasurement, "kind" | "groups" | "m" | "n" | "k">): OpCost =>
  g.kind === "kgrouped_wgrad"
    ? kGroupedWgradCost(g)
    : isDense(g)
      ? evaluateOpCost(gemmOp(g))
      : gemmCost({ m: g.m, n: g.n, k: g.k, groups: g.groups, ...layoutOf(g.kind) }, weightDtype(g.kind), "bf16", "grouped GEMM")

/**
 * The measured k-grouped weight-gradient kernel (DeepGEMM @ 78d8362, the commit of issue #107's
 * rows): k_grouped_wgrad_gemm_fp8_fp8_fp32_nt loops over the groups and launches one
 * wgrad_gemm_fp8_fp8_fp32_nt kernel per group (jit_kernels/wgrad_gemm.py), each its own grid of
 * tiles; the test sums the kernels' times. So: groups kernels, each group's waves on its own.
 */
const kGroupedWgradCost = (g: Pick<GemmMeasurement, "groups" | "m" | "n" | "k">): OpCost => ({
  ...wgradGemmCost({ m: g.m, n: g.n, k: g.k, groups: g.groups }, "k-grouped FP8 weight-gradient GEMM, FP32 accumulate, one kernel per group"),
  kernels: g.groups,
  gemms: Array.from({ length: g.groups }, () => ({ m: g.m, n: g.n, k: g.k, groups: 1 }))
})

/** The grouped layout of a measured kind (exact per-group m: the rows give it, no routing spread). */
const layoutOf = (kind: GemmKind): { readonly layout?: "contiguous" | "masked" } =>
  kind === "grouped_contiguous" ? { layout: "contiguous" } : kind === "grouped_masked" ? { layout: "masked" } : {}

/** Predicted kernel time, microseconds. */
export const predictGemmUs = (cost: OpCost, hw: TimingHardware): number => timeOp(cost, hw).dominant_latency_ms * 1e3

/** The measured columns of a GEMM table and their physical kinds. */
const MEASURED_COLUMNS: ReadonlyArray<readonly [string, PhysicalKind]> = [
  ["tflops", "tflops"],
  ["mamf_tflops", "tflops"],
  ["time_us", "kernel_us"]
]

/** Kind of a row: the `kind` column when present, else grouped when the file has m_per_group. */
const kindOf = (r: CsvRecord, table: CsvTable): GemmKind | string => {
  const k = r.values.kind
  if (k !== undefined && k !== "") return k
  // The MAMF table (mamf_matmul_measured.csv): torch.matmul in its `dtype` column.
  if (r.values.dtype !== undefined && table.columns.includes("best_shape_MxNxK")) return r.values.dtype.startsWith("fp8") ? "dense_fp8" : "dense_bf16"
  return table.columns.includes("m_per_group") ? "grouped_contiguous" : "dense_fp8"
}

/**
 * Rows of a GEMM table. Columns (the reference files' names): `m` or `m_per_group`, `n`, `k`,
 * `num_groups` (default 1), `tflops` and/or `time_us`, optional `kind` (one of GEMM_KINDS,
 * default dense_fp8, or grouped_contiguous for a file with m_per_group), `hardware`, `variant`.
 * The MAMF table's columns are read too (best_shape_MxNxK as M x N x K, mamf_tflops, dtype,
 * accelerator as the hardware), so `llmsim calibrate --data mamf_matmul_measured.csv` fits a
 * part whose only GEMM data is its best-shape row. `where` keeps rows whose columns equal the
 * given values.
 */
export const gemmMeasurements = (
  table: CsvTable,
  where: ReadonlyArray<readonly [string, string]> = []
): {
  readonly rows: ReadonlyArray<GemmMeasurement>
  readonly skipped: ReadonlyArray<Skipped>
  /** Measured values outside their physical range (src/schema/physical.ts): `line:col column: Expected ...`, first per row. */
  readonly invalid: ReadonlyArray<string>
} => {
  const rows: Array<GemmMeasurement> = []
  const skipped: Array<Skipped> = []
  const invalid: Array<string> = []
  for (const r of table.rows) {
    if (!where.every(([c, v]) => r.values[c] === v)) continue
    const kind = kindOf(r, table)
    if (!(GEMM_KINDS as ReadonlyArray<string>).includes(kind)) {
      skipped.push({ line: r.line, reason: `kind ${kind} is not a GEMM llmsim models` })
      continue
    }
    const best = (r.values.best_shape_MxNxK ?? "").split("x").map(Number)
    const mnk = best.length === 3 && best.every((x) => Number.isFinite(x) && x > 0) ? best : undefined
    const m = numberField(r, "m") ?? numberField(r, "m_per_group") ?? mnk?.[0]
    const n = numberField(r, "n") ?? mnk?.[1]
    const k = numberField(r, "k") ?? mnk?.[2]
    const groups = numberField(r, "num_groups") ?? 1
    if (m === undefined || n === undefined || k === undefined || m <= 0 || n <= 0 || k <= 0 || groups <= 0) {
      skipped.push({ line: r.line, reason: "shape (m, n, k) incomplete" })
      continue
    }
    const shape = { groups, m, n, k }
    // A measured rate or time outside its physical range is an error, never a row to fit.
    const bad = MEASURED_COLUMNS.flatMap(([c, kind]) => {
      const text = r.values[c]
      const problem = text === undefined || text === "" ? undefined : physicalProblem(kind, Number(text), false, JSON.stringify(text))
      return problem === undefined ? [] : [`${r.line}:${r.cols?.[c] ?? 1} ${c}: ${problem}`]
    })
    if (bad.length > 0) {
      invalid.push(bad[0]!)
      continue
    }
    const tflops = numberField(r, "tflops") ?? numberField(r, "mamf_tflops")
    const time = numberField(r, "time_us")
    let measured_us: number
    let measured_from: "tflops" | "time_us"
    if (tflops !== undefined && tflops > 0) {
      measured_us = (usefulFlops(shape) / (tflops * 1e12)) * 1e6
      measured_from = "tflops"
    } else if (time !== undefined && time > 0) {
      measured_us = time
      measured_from = "time_us"
    } else {
      skipped.push({ line: r.line, reason: "neither tflops nor time_us given" })
      continue
    }
    rows.push({
      line: r.line,
      kind: kind as GemmKind,
      ...shape,
      hardware: r.values.hardware ?? r.values.accelerator ?? "",
      measured_us,
      measured_from,
      variant: r.values.variant ?? r.values.version_note ?? ""
    })
  }
  return { rows, skipped, invalid }
}

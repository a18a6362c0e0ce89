/**
 * Calibration: fit a hardware file's GEMM timing constants to measured kernel times.
 *
 * Objective (least squares on log time, so a 10 % miss on a 6 us kernel weighs as much as on a
 * 600 us one):
 *
 *   L(c) = sum over rows of (log t_pred(row; c) - log t_meas(row))^2
 *
 * over the constants named in `fit`: `compute` and `memory` (fractions, searched through a
 * logistic map so they stay in (0, 1)), `kernel_latency_us` and `sm_load_gbps` (searched as x^2
 * so they stay >= 0) and `tile` (tile_m x tile_n, discrete: every candidate tile is tried and
 * the best kept; meaningless under `tile_choice: waves`, where each GEMM picks its block).
 * Constants not fitted keep the file's values. The continuous constants are found with
 * Nelder-Mead from a few fixed starts (deterministic), and the printed values are rounded
 * (fractions to 3 decimals, latency to 0.01 us); errors "after" are those of the rounded values.
 */
import type { Efficiency, HardwareSpec } from "../schema/hardware.ts"
import { timingHardware } from "../timing/roofline.ts"
import { gemmOpCost, predictGemmUs, type GemmMeasurement } from "./gemm.ts"
import { nelderMead } from "./nelderMead.ts"
import { ape, logSquaredError, summarise, type ErrorSummary } from "../reference/stats.ts"

export const FITTABLE = ["compute", "memory", "kernel_latency_us", "sm_load_gbps", "tile"] as const
export type Fittable = (typeof FITTABLE)[number]

/**
 * Candidate tiles: DeepGEMM's block sizes on Hopper (BLOCK_M 64 or 128, one or two WGMMA m64
 * rows per warpgroup; BLOCK_N 64 to 256 in its heuristics, deep_gemm/jit_kernels/gemm.py), and
 * the 128 x 128 / 128 x 256 tiles of CUTLASS's default SM90 configurations.
 */
export const DEFAULT_TILES: ReadonlyArray<readonly [number, number]> = [
  [64, 64],
  [64, 128],
  [64, 256],
  [128, 64],
  [128, 128],
  [128, 160],
  [128, 256]
]

export interface Constants {
  readonly compute: number
  readonly memory: number
  readonly kernel_latency_us: number
  readonly sm_load_gbps: number
  readonly tile_m: number
  readonly tile_n: number
}

interface RowFit {
  readonly row: GemmMeasurement
  readonly before_us: number
  readonly after_us: number
}

interface TileScore {
  readonly tile_m: number
  readonly tile_n: number
  readonly loss: number
}

export interface CalibrationResult {
  readonly before: Constants
  readonly after: Constants
  readonly before_summary: ErrorSummary
  readonly after_summary: ErrorSummary
  readonly before_loss: number
  readonly after_loss: number
  readonly rows: ReadonlyArray<RowFit>
  /** Loss of each candidate tile with its own best continuous constants (when the tile is fitted). */
  readonly tiles: ReadonlyArray<TileScore>
  readonly fit: ReadonlyArray<Fittable>
}

const constantsOf = (hw: HardwareSpec): Constants => {
  const e = hw.efficiency ?? {}
  return {
    compute: e.compute ?? 1,
    memory: e.memory ?? 1,
    kernel_latency_us: e.kernel_latency_us ?? 0,
    sm_load_gbps: e.sm_load_gbps ?? 0,
    tile_m: e.tile_m ?? 0,
    tile_n: e.tile_n ?? 0
  }
}

export const withConstants = (hw: HardwareSpec, c: Constants): HardwareSpec => ({
  ...hw,
  efficiency: {
    ...hw.efficiency,
    compute: c.compute,
    memory: c.memory,
    kernel_latency_us: c.kernel_latency_us,
    ...(c.sm_load_gbps > 0 ? { sm_load_gbps: c.sm_load_gbps } : {}),
    // A file without a tile (tile_choice: waves) keeps none.
    ...(c.tile_m > 0 || c.tile_n > 0 ? { tile_m: c.tile_m, tile_n: c.tile_n } : {})
  }
})

interface Prepared {
  readonly row: GemmMeasurement
  readonly cost: ReturnType<typeof gemmOpCost>
}

const predictAll = (hw: HardwareSpec, prepared: ReadonlyArray<Prepared>, c: Constants): Array<number> => {
  const t = timingHardware(withConstants(hw, c))
  return prepared.map((p) => predictGemmUs(p.cost, t))
}

const lossOf = (hw: HardwareSpec, prepared: ReadonlyArray<Prepared>, c: Constants): number => {
  const pred = predictAll(hw, prepared, c)
  return logSquaredError(pred.map((p, i) => ({ predicted: p, measured: prepared[i].row.measured_us })))
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x))
const logit = (p: number): number => {
  const q = Math.min(0.99, Math.max(0.01, p))
  return Math.log(q / (1 - q))
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits))

/** Best continuous constants for a fixed tile, from fixed starts. */
const fitContinuous = (hw: HardwareSpec, prepared: ReadonlyArray<Prepared>, start: Constants, fit: ReadonlyArray<Fittable>): Constants => {
  const names = (["compute", "memory", "kernel_latency_us", "sm_load_gbps"] as const).filter((n) => fit.includes(n))
  const positive = (n: (typeof names)[number]): boolean => n === "kernel_latency_us" || n === "sm_load_gbps"
  if (names.length === 0) return start
  const decode = (x: ReadonlyArray<number>): Constants => {
    const c: { -readonly [K in keyof Constants]: number } = { ...start }
    names.forEach((n, i) => {
      c[n] = positive(n) ? x[i] * x[i] : logistic(x[i])
    })
    return c
  }
  const encode = (c: Constants): Array<number> => names.map((n) => (positive(n) ? Math.sqrt(c[n]) : logit(c[n])))
  const f = (x: ReadonlyArray<number>) => lossOf(hw, prepared, decode(x))
  // Starts: the file's values, then a typical Hopper point (80 % compute, 85 % HBM, 2 us) and a
  // pessimistic one (60 %, 70 %, 5 us), so a speed-of-light file does not trap the search at 1.
  // sm_load_gbps starts at the file's value, else 64 GB/s (about 36 B per clock at Hopper's
  // 1.755 GHz boost), so a file without it does not start from an infinite load time.
  const load = start.sm_load_gbps > 0 ? start.sm_load_gbps : 64
  const starts: Array<Constants> = [
    { ...start, sm_load_gbps: fit.includes("sm_load_gbps") ? load : start.sm_load_gbps },
    { ...start, compute: 0.8, memory: 0.85, kernel_latency_us: 2, sm_load_gbps: fit.includes("sm_load_gbps") ? load : start.sm_load_gbps },
    { ...start, compute: 0.6, memory: 0.7, kernel_latency_us: 5, sm_load_gbps: fit.includes("sm_load_gbps") ? 2 * load : start.sm_load_gbps }
  ]
  let best: { x: ReadonlyArray<number>; value: number } | undefined
  for (const s of starts) {
    const r = nelderMead(f, encode(s), { step: 0.5 })
    // One restart from the optimum guards against a collapsed simplex.
    const r2 = nelderMead(f, r.x, { step: 0.1 })
    if (best === undefined || r2.value < best.value) best = r2
  }
  const c = decode(best!.x)
  return {
    ...c,
    compute: round(c.compute, 3),
    memory: round(c.memory, 3),
    kernel_latency_us: round(c.kernel_latency_us, 2),
    sm_load_gbps: round(c.sm_load_gbps, 1)
  }
}

export const calibrate = (
  hw: HardwareSpec,
  rows: ReadonlyArray<GemmMeasurement>,
  fit: ReadonlyArray<Fittable>,
  tiles: ReadonlyArray<readonly [number, number]> = DEFAULT_TILES
): CalibrationResult => {
  const prepared = rows.map((row) => ({ row, cost: gemmOpCost(row) }))
  const before = constantsOf(hw)
  // Under tile_choice: waves each GEMM picks its own block: there is no tile to fit.
  const fitTile = fit.includes("tile") && hw.efficiency?.tile_choice !== "waves"
  const candidates: ReadonlyArray<readonly [number, number]> = fitTile ? tiles : [[before.tile_m, before.tile_n]]
  const scores: Array<TileScore> = []
  let after: Constants | undefined
  let afterLoss = Number.POSITIVE_INFINITY
  for (const [tile_m, tile_n] of candidates) {
    const c = fitContinuous(hw, prepared, { ...before, tile_m, tile_n }, fit)
    const loss = lossOf(hw, prepared, c)
    scores.push({ tile_m, tile_n, loss })
    if (loss < afterLoss) {
      after = c
      afterLoss = loss
    }
  }
  const beforePred = predictAll(hw, prepared, before)
  const afterPred = predictAll(hw, prepared, after!)
  return {
    before,
    after: after!,
    before_summary: summarise(beforePred.map((p, i) => ape(p, rows[i].measured_us))),
    after_summary: summarise(afterPred.map((p, i) => ape(p, rows[i].measured_us))),
    before_loss: lossOf(hw, prepared, before),
    after_loss: afterLoss,
    rows: rows.map((row, i) => ({ row, before_us: beforePred[i], after_us: afterPred[i] })),
    tiles: fitTile ? scores : [],
    fit: fitTile ? fit : fit.filter((f) => f !== "tile")
  }
}

/** The `efficiency:` block with the fitted constants (other keys of the file's block kept). */
export const efficiencyBlock = (hw: HardwareSpec, r: CalibrationResult, provenance: string): string => {
  const e: Efficiency = { ...hw.efficiency, ...r.after }
  const fitted = new Set<string>(r.fit.flatMap((f) => (f === "tile" ? ["tile_m", "tile_n"] : [f])))
  const order = [
    "compute",
    "memory",
    "kernel_latency_us",
    "sm_load_gbps",
    "tile_m",
    "tile_n",
    "tile_choice",
    "interconnect",
    "nic",
    "link_latency_us",
    "attention_compute",
    "attention_memory"
  ] as const
  const lines = ["efficiency:"]
  for (const k of order) {
    const v = e[k]
    // 0 is off for these (no load lane; no fixed tile under tile_choice: waves): not written.
    if (v === undefined || ((k === "sm_load_gbps" || k === "tile_m" || k === "tile_n") && v === 0)) continue
    const note = fitted.has(k) ? `fitted: ${provenance}` : "kept from the hardware file"
    lines.push(`  ${`${k}: ${v}`.padEnd(28)} # ${note}`)
  }
  return lines.join("\n") + "\n"
}

/**
 * Leave-one-out error: for each row, fit on the other rows and predict the held-out one with
 * those constants. An out-of-sample estimate of the fitted model's error on new shapes.
 */
export const leaveOneOut = (
  hw: HardwareSpec,
  rows: ReadonlyArray<GemmMeasurement>,
  fit: ReadonlyArray<Fittable>,
  tiles: ReadonlyArray<readonly [number, number]> = DEFAULT_TILES
): ErrorSummary =>
  summarise(
    rows.map((held, i) => {
      const c = calibrate(
        hw,
        rows.filter((_, j) => j !== i),
        fit,
        tiles
      ).after
      return ape(predictGemmUs(gemmOpCost(held), timingHardware(withConstants(hw, c))), held.measured_us)
    })
  )

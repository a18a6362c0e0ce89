/**
 * Result differences between two runs, pure: per-phase totals with deltas, per-layer times
 * matched by `layer_name`, and the regression gate.
 *
 * The simulator is deterministic, so exact equality is meaningful: a layer is `unchanged` only
 * when its time is bit-for-bit equal on both sides.
 *
 * Every figure is a `Delta` from side A (before) to side B (after), with the zero and missing
 * baseline rule of src/kernel/delta.ts; the JSON contract names them in src/diff/types.ts.
 */
import { delta as metric, type Delta } from "../kernel/delta.ts"
import type { RunResult, SimulationResult } from "../kernel/records.ts"
import type { SinglePhase } from "../schema/runtime.ts"

/** Whether each side's phase fits in HBM; null for a side that did not evaluate the phase. */
export interface FitPair {
  readonly a: boolean | null
  readonly b: boolean | null
}

/** Per-phase totals. `tokens_per_s` is prompt tokens/s in prefill and output tokens/s in decode. */
export interface PhaseDiff {
  readonly total_latency_ms: Delta
  readonly total_flops: Delta
  readonly total_bytes: Delta
  readonly total_comm_bytes: Delta
  readonly peak_memory_bytes: Delta
  /** HBM capacity per GPU of each side's hardware. */
  readonly hbm_bytes_per_gpu: Delta
  /** The phase's peak memory per GPU within that HBM (the rule of `llmsim run`). */
  readonly fits_in_hbm: FitPair
  readonly ttft_ms?: Delta
  readonly tpot_ms?: Delta
  readonly tokens_per_s: Delta
}

/** The figures of a PhaseDiff that are changes of a number (all but the fit pair). */
export type PhaseMetric = Exclude<keyof PhaseDiff, "fits_in_hbm">

export const PHASES: ReadonlyArray<SinglePhase> = ["prefill", "decode"]

const phaseDiff = (phase: SinglePhase, a: RunResult, b: RunResult): PhaseDiff => {
  const pa: SimulationResult | undefined = a.phases[phase]
  const pb: SimulationResult | undefined = b.phases[phase]
  const common = {
    total_latency_ms: metric(pa?.total_latency_ms, pb?.total_latency_ms),
    total_flops: metric(pa?.total_flops, pb?.total_flops),
    total_bytes: metric(pa?.total_bytes, pb?.total_bytes),
    total_comm_bytes: metric(pa?.total_comm_bytes, pb?.total_comm_bytes),
    peak_memory_bytes: metric(pa?.peak_memory_bytes, pb?.peak_memory_bytes),
    hbm_bytes_per_gpu: metric(pa ? a.serving.hbm_bytes_per_gpu : null, pb ? b.serving.hbm_bytes_per_gpu : null),
    fits_in_hbm: {
      a: pa ? pa.peak_memory_bytes <= a.serving.hbm_bytes_per_gpu : null,
      b: pb ? pb.peak_memory_bytes <= b.serving.hbm_bytes_per_gpu : null
    }
  }
  // Serving figures exist only for a phase the side evaluated.
  const s = (r: RunResult, has: boolean, f: (x: RunResult["serving"]) => number | null) => (has ? f(r.serving) : null)
  return phase === "prefill"
    ? {
        ...common,
        ttft_ms: metric(
          s(a, !!pa, (x) => x.ttft_ms),
          s(b, !!pb, (x) => x.ttft_ms)
        ),
        tokens_per_s: metric(
          s(a, !!pa, (x) => x.prefill_throughput_tokens_per_s),
          s(b, !!pb, (x) => x.prefill_throughput_tokens_per_s)
        )
      }
    : {
        ...common,
        tpot_ms: metric(
          s(a, !!pa, (x) => x.tpot_ms),
          s(b, !!pb, (x) => x.tpot_ms)
        ),
        tokens_per_s: metric(
          s(a, !!pa, (x) => x.throughput_tokens_per_s),
          s(b, !!pb, (x) => x.throughput_tokens_per_s)
        )
      }
}

/** Totals for every phase either side evaluated. */
export const diffPhases = (a: RunResult, b: RunResult): Partial<Record<SinglePhase, PhaseDiff>> => {
  const out: Partial<Record<SinglePhase, PhaseDiff>> = {}
  for (const phase of PHASES) if (a.phases[phase] || b.phases[phase]) out[phase] = phaseDiff(phase, a, b)
  return out
}

type LayerStatus = "changed" | "unchanged" | "added" | "removed"

export interface LayerDiff {
  readonly phase: SinglePhase
  readonly layer_name: string
  readonly layer_type: string
  /** Layer latency (dominant_latency_ms) from A to B; a side is null when the layer is only on the other. */
  readonly latency: Delta
  readonly status: LayerStatus
}

const layerIndex = (name: string): number => {
  const m = /^L(\d+)\./.exec(name)
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER
}

/** Layers of every phase, matched by name, in layer order (a removed layer before an added one). */
export const diffLayers = (a: RunResult, b: RunResult): Array<LayerDiff> =>
  PHASES.flatMap((phase) => {
    const la = a.phases[phase]?.layers ?? []
    const lb = b.phases[phase]?.layers ?? []
    const byName = new Map(lb.map((l) => [l.layer_name, l]))
    const inA = new Set(la.map((l) => l.layer_name))
    const rows: Array<LayerDiff> = la.map((x) => {
      const y = byName.get(x.layer_name)
      const latency = metric(x.dominant_latency_ms, y?.dominant_latency_ms)
      return {
        phase,
        layer_name: x.layer_name,
        layer_type: y?.layer_type ?? x.layer_type,
        latency,
        status: y === undefined ? "removed" : latency.abs === 0 ? "unchanged" : "changed"
      }
    })
    for (const y of lb) {
      if (inA.has(y.layer_name)) continue
      rows.push({ phase, layer_name: y.layer_name, layer_type: y.layer_type, latency: metric(null, y.dominant_latency_ms), status: "added" })
    }
    // Stable sort: equal indexes keep A's rows first.
    return rows
      .map((r, i) => ({ r, i }))
      .sort((x, y) => layerIndex(x.r.layer_name) - layerIndex(y.r.layer_name) || x.i - y.i)
      .map((x) => x.r)
  })

export interface Regression {
  readonly phase: SinglePhase
  /** `fits_in_hbm`: A fit in HBM and B does not; `a` and `b` are then the peak memory bytes per GPU. */
  readonly metric: "total_latency_ms" | "tpot_ms" | "tokens_per_s" | "fits_in_hbm"
  readonly a: number
  readonly b: number
  /** Signed change relative to A; null when A is 0. */
  readonly delta_pct: number | null
  readonly limit_pct: number
  /** B's HBM per GPU, for `fits_in_hbm`. */
  readonly hbm_bytes_per_gpu?: number
}

/**
 * Metrics that got worse by more than `limitPct` percent: total latency or TPOT up, tokens/s
 * down; and a phase that fit in HBM on A and does not on B, whatever the limit (a revision that
 * cannot run is worse than any slowdown, and its times are not achievable). A metric missing on
 * either side (a phase evaluated on one side only) is not compared.
 */
export const findRegressions = (phases: Partial<Record<SinglePhase, PhaseDiff>>, limitPct: number): Array<Regression> => {
  const out: Array<Regression> = []
  for (const phase of PHASES) {
    const p = phases[phase]
    if (!p) continue
    const mem = p.peak_memory_bytes
    if (p.fits_in_hbm.a === true && p.fits_in_hbm.b === false && mem.before !== null && mem.after !== null && p.hbm_bytes_per_gpu.after !== null) {
      out.push({
        phase,
        metric: "fits_in_hbm",
        a: mem.before,
        b: mem.after,
        delta_pct: mem.pct,
        limit_pct: limitPct,
        hbm_bytes_per_gpu: p.hbm_bytes_per_gpu.after
      })
    }
    const gated: ReadonlyArray<[Regression["metric"], Delta | undefined, 1 | -1]> = [
      ["total_latency_ms", p.total_latency_ms, 1],
      ["tpot_ms", p.tpot_ms, 1],
      ["tokens_per_s", p.tokens_per_s, -1]
    ]
    for (const [name, m, sign] of gated) {
      if (!m || m.before === null || m.after === null) continue
      // Worse by: the change in the bad direction, in percent of A (infinite from a zero A).
      const worse = m.pct === null ? (sign * (m.after - m.before) > 0 ? Infinity : 0) : sign * m.pct
      if (worse > limitPct) out.push({ phase, metric: name, a: m.before, b: m.after, delta_pct: m.pct, limit_pct: limitPct })
    }
  }
  return out
}

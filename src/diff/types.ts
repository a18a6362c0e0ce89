/**
 * The diff result, and its JSON contract (`llmsim diff --format json`, one object per
 * scenario): each figure's `Delta` is written as { a, b, delta, delta_pct }, a phase's
 * `fits_in_hbm` as { a, b } (booleans, null for a side without the phase) and a layer's
 * latency as flat a_ms / b_ms / delta_ms / delta_pct fields.
 */
import type { Delta } from "../kernel/delta.ts"
import type { RunResult } from "../kernel/records.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { ConfigChange } from "./configDiff.ts"
import type { LayerDiff, PhaseDiff, Regression } from "./resultDiff.ts"

export interface SideInfo {
  /** The revision as given, `working tree`, or null for a --a/--b path. */
  readonly rev: string | null
  /** Full commit id at a revision, else null. */
  readonly commit: string | null
  /** Scenario path (relative to the project root; with --a/--b as given). */
  readonly scenario: string
  readonly hardware: string
  readonly runtime: RunResult["runtime"]
}

export interface ScenarioDiff {
  readonly a: SideInfo
  readonly b: SideInfo
  readonly config_changes: ReadonlyArray<ConfigChange>
  readonly phases: Partial<Record<SinglePhase, PhaseDiff>>
  readonly layers: ReadonlyArray<LayerDiff>
  /** True when some gated metric got worse by more than `limit_pct` percent. */
  readonly regression: boolean
  /** --fail-on-regression PCT, else 0 (any worsening counts). */
  readonly limit_pct: number
  readonly regressions: ReadonlyArray<Regression>
}

/** A figure in the JSON: A, B, B - A, and 100 * (B - A) / A (the rule of src/kernel/delta.ts). */
export interface MetricJson {
  readonly a: number | null
  readonly b: number | null
  readonly delta: number | null
  readonly delta_pct: number | null
}

const metricJson = (d: Delta): MetricJson => ({ a: d.before, b: d.after, delta: d.abs, delta_pct: d.pct })

const layerJson = (l: LayerDiff) => ({
  phase: l.phase,
  layer_name: l.layer_name,
  layer_type: l.layer_type,
  a_ms: l.latency.before,
  b_ms: l.latency.after,
  delta_ms: l.latency.abs,
  delta_pct: l.latency.pct,
  status: l.status
})

/** The JSON object of one scenario's diff (keys in contract order). */
export const diffJson = (d: ScenarioDiff) => ({
  a: d.a,
  b: d.b,
  config_changes: d.config_changes,
  phases: Object.fromEntries(
    Object.entries(d.phases).map(([phase, p]) => [
      phase,
      Object.fromEntries(Object.entries(p).map(([k, m]) => [k, k === "fits_in_hbm" ? m : metricJson(m as Delta)]))
    ])
  ),
  layers: d.layers.map(layerJson),
  regression: d.regression,
  limit_pct: d.limit_pct,
  regressions: d.regressions
})

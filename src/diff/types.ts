/**
 * The diff result (the JSON contract of `llmsim diff --format json`, one object per scenario).
 */
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

/**
 * A result compared with the previous good one: per layer (matched by `layer_name`), per phase
 * total and for the serving summary, each a `Delta` (src/kernel/delta.ts: the rule for a zero or
 * missing baseline). Pure; both the screen and the JSON events render it.
 */
import { delta, type Delta } from "../kernel/delta.ts"
import { LAYER_FIGURES, SERVING_FIGURES, type LayerExecution, type RunResult, type ServingFigure, type SimulationResult } from "../kernel/records.ts"
import type { SinglePhase } from "../schema/runtime.ts"

/** `same`: equal to the previous result (or no previous result); `changed`: any figure moved. */
type RowStatus = "same" | "changed" | "new"

interface LayerRow {
  readonly layer: LayerExecution
  readonly latency: Delta
  readonly status: RowStatus
}

export interface PhaseComparison {
  readonly phase: SinglePhase
  readonly result: SimulationResult
  readonly rows: ReadonlyArray<LayerRow>
  /** Layer names in the previous result that are gone. */
  readonly removed: ReadonlyArray<string>
  readonly total_latency_ms: Delta
  readonly total_flops: Delta
  readonly total_bytes: Delta
  readonly total_comm_bytes: Delta
  readonly peak_memory_bytes: Delta
}

export interface Comparison {
  readonly result: RunResult
  readonly first: boolean
  readonly phases: ReadonlyArray<PhaseComparison>
  readonly serving: Readonly<Record<ServingFigure, Delta>>
}

/** The figures a layer row is compared on (what the table shows, and what feeds them). */
const COMPARED = [...LAYER_FIGURES, "weight_bytes", "kv_cache_bytes_per_token", "activation_bytes"] as const satisfies ReadonlyArray<keyof LayerExecution>

const comparePhase = (phase: SinglePhase, now: SimulationResult, before: SimulationResult | undefined, first: boolean): PhaseComparison => {
  const previous = new Map((before?.layers ?? []).map((l) => [l.layer_name, l]))
  const rows = now.layers.map((layer): LayerRow => {
    const old = previous.get(layer.layer_name)
    const status: RowStatus = first ? "same" : old === undefined ? "new" : COMPARED.some((k) => layer[k] !== old[k]) ? "changed" : "same"
    return { layer, latency: delta(old?.dominant_latency_ms, layer.dominant_latency_ms), status }
  })
  const current = new Set(now.layers.map((l) => l.layer_name))
  return {
    phase,
    result: now,
    rows,
    removed: [...previous.keys()].filter((n) => !current.has(n)),
    total_latency_ms: delta(before?.total_latency_ms, now.total_latency_ms),
    total_flops: delta(before?.total_flops, now.total_flops),
    total_bytes: delta(before?.total_bytes, now.total_bytes),
    total_comm_bytes: delta(before?.total_comm_bytes, now.total_comm_bytes),
    peak_memory_bytes: delta(before?.peak_memory_bytes, now.peak_memory_bytes)
  }
}

export const compare = (now: RunResult, before: RunResult | undefined): Comparison => {
  const phases: Array<PhaseComparison> = []
  for (const phase of ["prefill", "decode"] as const) {
    const r = now.phases[phase]
    if (r !== undefined) phases.push(comparePhase(phase, r, before?.phases[phase], before === undefined))
  }
  const serving = Object.fromEntries(SERVING_FIGURES.map((k) => [k, delta(before?.serving[k], now.serving[k])])) as Record<ServingFigure, Delta>
  return { result: now, first: before === undefined, phases, serving }
}

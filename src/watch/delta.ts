/**
 * A result compared with the previous good one: per layer (matched by `layer_name`), per phase
 * total and for the serving summary. Pure; both the screen and the JSON events render it.
 */
import type { LayerExecution, RunResult, ServingSummary, SimulationResult } from "../kernel/records.ts"
import type { SinglePhase } from "../schema/runtime.ts"

export interface Change {
  readonly now: number | null
  /** Undefined on the first result of a session, or for a layer or phase that is new. */
  readonly before: number | null | undefined
  /** now - before; undefined when either side is missing. */
  readonly delta: number | undefined
  /** Relative change in percent; undefined when before is missing or 0. */
  readonly percent: number | undefined
}

export const change = (now: number | null, before: number | null | undefined): Change => {
  const comparable = now !== null && before !== null && before !== undefined
  const delta = comparable ? now - before : undefined
  return { now, before, delta, percent: comparable && before !== 0 ? (100 * (delta as number)) / before : undefined }
}

/** `same`: equal to the previous result (or no previous result); `changed`: any figure moved. */
export type RowStatus = "same" | "changed" | "new"

export interface LayerRow {
  readonly layer: LayerExecution
  readonly latency: Change
  readonly status: RowStatus
}

export interface PhaseComparison {
  readonly phase: SinglePhase
  readonly result: SimulationResult
  readonly rows: ReadonlyArray<LayerRow>
  /** Layer names in the previous result that are gone. */
  readonly removed: ReadonlyArray<string>
  readonly total_latency_ms: Change
  readonly total_flops: Change
  readonly total_bytes: Change
  readonly total_comm_bytes: Change
  readonly peak_memory_bytes: Change
}

export const SERVING_FIGURES = [
  "ttft_ms",
  "tpot_ms",
  "throughput_tokens_per_s",
  "throughput_tokens_per_s_per_gpu",
  "prefill_throughput_tokens_per_s",
  "peak_memory_bytes"
] as const satisfies ReadonlyArray<keyof ServingSummary>

export type ServingFigure = typeof SERVING_FIGURES[number]

export interface Comparison {
  readonly result: RunResult
  readonly first: boolean
  readonly phases: ReadonlyArray<PhaseComparison>
  readonly serving: Readonly<Record<ServingFigure, Change>>
}

/** The figures a layer row is compared on (what the table shows, and what feeds them). */
const LAYER_FIGURES = [
  "flops",
  "bytes_read",
  "bytes_written",
  "comm_bytes",
  "compute_time_ms",
  "memory_time_ms",
  "comm_time_ms",
  "dominant_latency_ms",
  "weight_bytes",
  "kv_cache_bytes_per_token",
  "activation_bytes"
] as const satisfies ReadonlyArray<keyof LayerExecution>

const comparePhase = (phase: SinglePhase, now: SimulationResult, before: SimulationResult | undefined, first: boolean): PhaseComparison => {
  const previous = new Map((before?.layers ?? []).map((l) => [l.layer_name, l]))
  const rows = now.layers.map((layer): LayerRow => {
    const old = previous.get(layer.layer_name)
    const status: RowStatus = first ? "same" : old === undefined ? "new" : LAYER_FIGURES.some((k) => layer[k] !== old[k]) ? "changed" : "same"
    return { layer, latency: change(layer.dominant_latency_ms, old?.dominant_latency_ms), status }
  })
  const current = new Set(now.layers.map((l) => l.layer_name))
  return {
    phase,
    result: now,
    rows,
    removed: [...previous.keys()].filter((n) => !current.has(n)),
    total_latency_ms: change(now.total_latency_ms, before?.total_latency_ms),
    total_flops: change(now.total_flops, before?.total_flops),
    total_bytes: change(now.total_bytes, before?.total_bytes),
    total_comm_bytes: change(now.total_comm_bytes, before?.total_comm_bytes),
    peak_memory_bytes: change(now.peak_memory_bytes, before?.peak_memory_bytes)
  }
}

export const compare = (now: RunResult, before: RunResult | undefined): Comparison => {
  const phases: Array<PhaseComparison> = []
  for (const phase of ["prefill", "decode"] as const) {
    const r = now.phases[phase]
    if (r !== undefined) phases.push(comparePhase(phase, r, before?.phases[phase], before === undefined))
  }
  const serving = Object.fromEntries(
    SERVING_FIGURES.map((k) => [k, change(now.serving[k], before?.serving[k])])
  ) as Record<ServingFigure, Change>
  return { result: now, first: before === undefined, phases, serving }
}

/**
 * What a phase looks like at a glance: runs of identical consecutive layers (61 MoE layers of
 * one template are one row with a count) and the share of op time per part of the model
 * (attention, FFN/MoE, communication, LM head). Pure; the run screen and the HTML report use it.
 */
import type { LayerExecution, OpExecution, SimulationResult } from "../kernel/records.ts"
import type { OpCategory } from "../ops/types.ts"

/** A run of consecutive layers with identical figures (`L3-L60 moe_layer x58`). */
export interface LayerGroup {
  /** `L3-L60`, or `L61` for one layer. */
  readonly label: string
  readonly count: number
  /** The first layer of the run; every layer of it has the same figures. */
  readonly layer: LayerExecution
}

/** The figures that must agree for two layers to share a row (what the table shows of a layer). */
const sameFigures = (a: LayerExecution, b: LayerExecution): boolean =>
  a.layer_type === b.layer_type &&
  a.bound === b.bound &&
  a.flops === b.flops &&
  a.bytes_read === b.bytes_read &&
  a.bytes_written === b.bytes_written &&
  a.comm_bytes === b.comm_bytes &&
  a.compute_time_ms === b.compute_time_ms &&
  a.memory_time_ms === b.memory_time_ms &&
  a.comm_time_ms === b.comm_time_ms &&
  a.dominant_latency_ms === b.dominant_latency_ms

/** The `L<index>` prefix of a layer name (`L17.moe_layer` -> `L17`); the whole name otherwise. */
const indexOf = (name: string): string => name.match(/^L\d+/)?.[0] ?? name

export const groupLayers = (layers: ReadonlyArray<LayerExecution>): Array<LayerGroup> => {
  const runs: Array<{ first: LayerExecution; last: LayerExecution; count: number }> = []
  for (const l of layers) {
    const run = runs.at(-1)
    if (run !== undefined && sameFigures(run.first, l)) {
      run.last = l
      run.count++
    } else runs.push({ first: l, last: l, count: 1 })
  }
  return runs.map((r) => ({
    label: r.count === 1 ? indexOf(r.first.layer_name) : `${indexOf(r.first.layer_name)}-${indexOf(r.last.layer_name)}`,
    count: r.count,
    layer: r.first
  }))
}

const PARTS = ["attention", "FFN/MoE", "communication", "LM head", "other"] as const
export type Part = (typeof PARTS)[number]

const PART_OF: Readonly<Record<OpCategory, Part>> = {
  attention_linear: "attention",
  attention_core: "attention",
  ffn: "FFN/MoE",
  moe_router: "FFN/MoE",
  moe_experts: "FFN/MoE",
  moe_shared: "FFN/MoE",
  comm: "communication",
  lm_head: "LM head",
  other: "other"
}

const partOf = (o: OpExecution): Part => PART_OF[o.category]

/**
 * Op time (each op's dominant latency, summed over every layer) per part, in ms. Under overlap
 * a layer takes less than its ops' sum, so these are shares of op time, not of the phase latency.
 */
export const partTimes = (r: SimulationResult): Record<Part, number> => {
  const t: Record<Part, number> = { attention: 0, "FFN/MoE": 0, communication: 0, "LM head": 0, other: 0 }
  for (const l of r.layers) for (const o of l.breakdown) t[partOf(o)] += o.dominant_latency_ms
  return t
}

/** `op time: attention 12.3%  FFN/MoE 20.1%  ...` (parts with no time left out). */
export const partShareLine = (r: SimulationResult): string => {
  const t = partTimes(r)
  const total = PARTS.reduce((a, p) => a + t[p], 0)
  const shares = PARTS.filter((p) => t[p] > 0).map((p) => `${p} ${(total > 0 ? (100 * t[p]) / total : 0).toFixed(1)}%`)
  return `op time share: ${shares.join("  ")}`
}

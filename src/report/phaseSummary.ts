/**
 * What a phase looks like at a glance: runs of identical consecutive layers (61 MoE layers of
 * one template are one row with a count) and the share of op time per part of the model
 * (attention, FFN/MoE, communication, LM head). Pure; the run screen and the HTML report use it.
 */
import type { LayerExecution, OpExecution, SimulationResult } from "../kernel/records.ts"
import type { OpCategory } from "../ops/types.ts"
import { groupLayers as groupRuns, type LayerGroup } from "./layerTable.ts"

/** What the run table shows of a layer (a LayerExecution is one; so is the TOTAL row). */
export type PhaseLine = Pick<
  LayerExecution,
  | "layer_name"
  | "layer_type"
  | "flops"
  | "bytes_read"
  | "bytes_written"
  | "comm_bytes"
  | "compute_time_ms"
  | "memory_time_ms"
  | "comm_time_ms"
  | "dominant_latency_ms"
> & { readonly bound: string }

/** The figures the run table shows of a layer: layers whose figures are equal share a grouped row. */
export const phaseLineFigures = (l: PhaseLine): ReadonlyArray<unknown> => [
  l.bound,
  l.flops,
  l.bytes_read,
  l.bytes_written,
  l.comm_bytes,
  l.compute_time_ms,
  l.memory_time_ms,
  l.comm_time_ms,
  l.dominant_latency_ms
]

/** Runs of identical consecutive layers (`L3-L60 moe_layer x58`), as the run table groups them. */
export const groupLayers = (layers: ReadonlyArray<LayerExecution>): Array<LayerGroup<LayerExecution>> => groupRuns(layers, phaseLineFigures)

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

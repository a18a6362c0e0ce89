/** Layer runs and op time shares of a phase, on hand-made layers. */
import { describe, expect, it } from "vitest"
import type { LayerExecution, OpExecution, SimulationResult } from "../../src/kernel/records.ts"
import { groupLayers, partShareLine, partTimes } from "../../src/report/phaseSummary.ts"

const op = (category: OpExecution["category"], ms: number): OpExecution => ({
  op: category,
  kind: category,
  category,
  flops: 0,
  bytes_read: 0,
  bytes_written: 0,
  comm_bytes: 0,
  link: null,
  math_dtype: null,
  compute_time_ms: 0,
  memory_time_ms: 0,
  comm_time_ms: 0,
  dominant_latency_ms: ms,
  bound: "memory",
  notes: ""
})
const layer = (i: number, type: string, ms: number, breakdown: ReadonlyArray<OpExecution>): LayerExecution => ({
  layer_name: `L${i}.${type}`,
  layer_type: type,
  flops: ms,
  bytes_read: 0,
  bytes_written: 0,
  comm_bytes: 0,
  compute_time_ms: 0,
  memory_time_ms: 0,
  comm_time_ms: 0,
  dominant_latency_ms: ms,
  estimated_execution_time_ms: ms,
  bound: "memory",
  weight_bytes: 0,
  kv_cache_bytes_per_token: 0,
  activation_bytes: 0,
  features: {},
  breakdown
})

describe("phase summary", () => {
  const moe = [op("attention_core", 1), op("moe_experts", 2), op("comm", 1)]
  const layers = [
    layer(0, "ffn_layer", 3, [op("attention_linear", 1), op("ffn", 2)]),
    layer(1, "moe_layer", 4, moe),
    layer(2, "moe_layer", 4, moe),
    layer(3, "moe_layer", 4, moe),
    layer(4, "lm_head", 1, [op("lm_head", 1)])
  ]
  it("collapses identical consecutive layers into one row with a count", () => {
    expect(groupLayers(layers).map((g) => [g.label, g.count, g.layer.layer_type])).toEqual([
      ["L0", 1, "ffn_layer"],
      ["L1-L3", 3, "moe_layer"],
      ["L4", 1, "lm_head"]
    ])
    // A layer that differs splits the run.
    const split = [layers[1], layer(2, "moe_layer", 5, moe), layers[3]]
    expect(groupLayers(split).map((g) => g.label)).toEqual(["L1", "L2", "L3"])
  })
  it("shares op time by part: attention 1+3, FFN/MoE 2+6, comm 3, LM head 1 of 16 ms", () => {
    const r = { layers } as unknown as SimulationResult
    expect(partTimes(r)).toEqual({ attention: 4, "FFN/MoE": 8, communication: 3, "LM head": 1, other: 0 })
    expect(partShareLine(r)).toBe("op time share: attention 25.0%  FFN/MoE 50.0%  communication 18.8%  LM head 6.3%")
  })
})

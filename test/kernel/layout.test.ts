/**
 * Layout checks that keep a wrong number out (src/kernel/layout.ts resolveLayout): an --ep unit
 * that does not tile a node, ep above the GPUs of a dense model, a collective over more ranks
 * than the unit has. Each names the flag or the scenario field it came from.
 */
import { describe, expect, it } from "vitest"
import { resolveLayout, type ScenarioBase } from "../../src/kernel/layout.ts"
import { resolvePrecision, type Model } from "../../src/kernel/model.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"

const HW: HardwareSpec = {
  name: "X",
  peak_tflops: 989,
  memory_bandwidth_gbps: 3350,
  hbm_gb: 80,
  interconnect_gbps: 450,
  max_concurrency: 2,
  overlap_efficiency: 1,
  gpus_per_node: 8
}
const attn = { type: "GQA", d_model: 4096, num_attention_heads: 32, num_key_value_heads: 8 } as const
const dense: LayerTemplate = { type: "ffn_layer", config: { attn_config: attn, ffn_config: { d_model: 4096, d_ff: 14336, hidden_act: "silu" } } }
const moe: LayerTemplate = {
  type: "moe_layer",
  config: { attn_config: attn, moe_config: { d_model: 4096, n_routed_experts: 256, num_experts_per_tok: 8, moe_intermediate_size: 2048 } }
}
const comm = (num_ranks: number): LayerTemplate => ({ type: "comm_layer", config: { comm_config: { payload_mb: 1, pattern: "all_reduce", num_ranks } } })

const model = (...templates: Array<LayerTemplate>): Model => ({
  entries: templates.map((template, index) => ({ index, label: template.type, template, repeat: 1 })),
  precision: resolvePrecision(undefined)
})
const base = (parallelism: ScenarioBase["parallelism"] | undefined): ScenarioBase => ({
  ...(parallelism === undefined ? {} : { parallelism }),
  precision: resolvePrecision(undefined)
})

describe("resolveLayout refuses", () => {
  it("--ep 7 on 8-GPU nodes (a unit inside a node divides it); --ep 4 and 8 are fine", () => {
    const r = resolveLayout(model(moe), HW, base({}), { ep: 7 })
    expect(r).toEqual({
      ok: false,
      problem: { flag: "--ep", path: [], message: "ep 7 does not divide the 8 GPUs of a node (an EP group inside one node is a divisor of gpus_per_node 8)" }
    })
    expect(resolveLayout(model(moe), HW, base({}), { ep: 4 }).ok).toBe(true)
    expect(resolveLayout(model(moe), HW, base({}), { ep: 8 }).ok).toBe(true)
  })

  it("ep above tp x dp on a dense model, at parallelism.ep", () => {
    const r = resolveLayout(model(dense), HW, base({ tp: 8, ep: 16 }))
    expect(r.ok || r.problem).toEqual({ path: ["parallelism", "ep"], message: "ep 16 does not divide the 8 GPUs (attention tp 8 x dp 1)" })
  })

  it("a comm layer over more ranks than the unit's GPUs, at its layers entry", () => {
    expect(resolveLayout(model(dense, comm(8)), HW, base({ tp: 8 })).ok).toBe(true)
    const r = resolveLayout(model(dense, comm(16)), HW, base({ tp: 8 }))
    expect(r.ok || r.problem).toEqual({
      path: ["layers", 1, "config"],
      message: "layers.1 (comm_layer): comm_config.num_ranks 16 is more than the 8 GPUs of the unit (attention tp 8 x dp 1)"
    })
  })
})

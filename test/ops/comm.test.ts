import { describe, expect, it } from "vitest"
import { planLayer } from "../../src/layers/index.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { OpSpec } from "../../src/ops/types.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { BF16, ctxOf, deepseekLike, llamaLike } from "../layers/hf.ts"

const ds = deepseekLike("deepseek-v3")
const byName = (specs: ReadonlyArray<OpSpec>) => Object.fromEntries(specs.map((s) => [s.name, evaluateOpCost(s)]))

describe("EP all-to-all (DeepSeek-V3 decode, d 7168, top-8)", () => {
  it("ep = 16 over 8-GPU nodes: NIC share (16-8)/16, NVLink share (8-1)/16", () => {
    // DP attention: tp 1, dp 16, ep 16, batch 32 per group -> 32 tokens dispatched per GPU.
    const ops = byName(planLayer(ds.moe, ctxOf({ batch_size: 32, parallel: { dp: 16, ep: 16 } })))
    // 32 * 8 * 7168 = 1,835,008 elements; FP8 dispatch (1 B)
    // NIC: 1,835,008 * 8/16 = 917,504; NVLink: 1,835,008 * 7/16 = 802,816
    expect(ops.dispatch_nic.comm_bytes).toBe(917_504)
    expect(ops.dispatch_nic.link).toBe("nic")
    expect(ops.dispatch_nvlink.comm_bytes).toBe(802_816)
    expect(ops.dispatch_nvlink.link).toBe("interconnect")
    // together (ep-1)/ep: 1,835,008 * 15/16 = 1,720,320
    expect(ops.dispatch_nic.comm_bytes + ops.dispatch_nvlink.comm_bytes).toBe(1_720_320)
    // BF16 combine: twice the bytes
    expect(ops.combine_nic.comm_bytes).toBe(1_835_008)
    expect(ops.combine_nvlink.comm_bytes).toBe(1_605_632)
  })

  it("ep within a node: one op per direction on NVLink, (ep-1)/ep of the pairs", () => {
    const ops = byName(planLayer(ds.moe, ctxOf({ batch_size: 32, parallel: { dp: 8, ep: 8 } })))
    // 1,835,008 * 7/8 = 1,605,632
    expect(ops.dispatch.comm_bytes).toBe(1_605_632)
    expect(ops.dispatch.link).toBe("interconnect")
    expect(ops.dispatch_nic).toBeUndefined()
  })

  it("tp > 1: each TP rank dispatches T / tp tokens; BF16 weights dispatch in BF16", () => {
    // tp 8, ep 8, batch 32: 4 tokens per rank; 4 * 8 * 7168 * 2 B * 7/8 = 401,408
    const ops = byName(planLayer(ds.moe, ctxOf({ batch_size: 32, precision: BF16, parallel: { tp: 8, ep: 8 } })))
    expect(ops.dispatch.comm_bytes).toBe(401_408)
  })
})

describe("collectives", () => {
  const comm = (cfg: Record<string, unknown>, tp = 1) =>
    byName(planLayer({ type: "comm_layer", config: { comm_config: cfg } } as LayerTemplate, ctxOf({ parallel: { tp } })))

  it("ring all-reduce sends 2(n-1)/n of the payload", () => {
    // 16 MB over 8 ranks: 2 * 7/8 * 16e6 = 28e6
    const c = comm({ payload_mb: 16, pattern: "all_reduce", num_ranks: 8 }).all_reduce
    expect(c.comm_bytes).toBe(28_000_000)
    expect(c.link).toBe("interconnect")
  })

  it("all-gather / reduce-scatter / all-to-all send (n-1)/n; p2p the payload", () => {
    // 4 MB over 32 ranks: 31/32 * 4e6 = 3,875,000; 32 ranks > 8 per node -> NIC
    const ag = comm({ payload_mb: 4, pattern: "all_gather", num_ranks: 32 }).all_gather
    expect(ag.comm_bytes).toBe(3_875_000)
    expect(ag.link).toBe("nic")
    expect(comm({ payload_mb: 4, pattern: "reduce_scatter", num_ranks: 32 }).reduce_scatter.comm_bytes).toBe(3_875_000)
    expect(comm({ payload_mb: 4, pattern: "all_to_all", num_ranks: 32, link: "interconnect" }).all_to_all.link).toBe("interconnect")
    expect(comm({ payload_mb: 2, pattern: "p2p" }).p2p.comm_bytes).toBe(2_000_000)
  })

  it("num_ranks defaults to tp", () => {
    // 1 MB over tp = 4: 2 * 3/4 * 1e6 = 1.5e6
    expect(comm({ payload_mb: 1, pattern: "all_reduce" }, 4).all_reduce.comm_bytes).toBe(1_500_000)
  })

  it("TP all-reduces after o_proj and the dense FFN: T * d_model * 2 B payload", () => {
    // Llama-3.1-70B, tp 8, batch 4 decode: payload 4 * 8192 * 2 = 65,536; 2 * 7/8 * 65,536 = 114,688
    const ops = byName(planLayer(llamaLike("llama-3.1-70b").layer, ctxOf({ batch_size: 4, precision: BF16, parallel: { tp: 8 } })))
    expect(ops.attn_all_reduce.comm_bytes).toBe(114_688)
    expect(ops.ffn_all_reduce.comm_bytes).toBe(114_688)
  })

  it("communication ops have zero FLOPs and zero HBM bytes, one message each", () => {
    const specs = [
      ...planLayer(ds.moe, ctxOf({ batch_size: 32, parallel: { tp: 2, dp: 8, ep: 16 } })),
      ...planLayer({ type: "comm_layer", config: { comm_config: { payload_mb: 3, pattern: "p2p" } } }, ctxOf())
    ].filter((s) => s.category === "comm")
    expect(specs.length).toBeGreaterThan(4)
    for (const s of specs) {
      const c = evaluateOpCost(s)
      expect([c.flops, c.bytes_read, c.bytes_written]).toEqual([0, 0, 0])
      expect(c.comm_bytes).toBeGreaterThan(0)
      expect(c.link).toBeDefined()
      expect(c.messages).toBe(1)
    }
  })
})

/**
 * `llmsim ops`: every fused op of a layer entry with its shapes, FLOPs and bytes.
 */
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

describe("llmsim ops", () => {
  const dir = makeProject()

  it("lists the MoE layer's ops with shapes and exact FLOPs (JSON)", () => {
    const r = runCli(
      ["ops", "configs/scenarios/deepseek_v3_h800.yaml", "--layer", "moe_layer", "--phase", "decode", "--batch", "1", "--seq", "1", "--format", "json"],
      dir
    )
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.layers).toHaveLength(1)
    const ops = j.layers[0].ops
    const byName = Object.fromEntries(ops.map((o: any) => [o.op, o]))
    // q_down: one token, 7168 -> 1536: 2 x 7168 x 1536 FLOPs.
    expect(byName.q_down_proj.flops).toBe(2 * 7168 * 1536)
    expect(byName.q_down_proj.params).toMatchObject({ tokens: 1, in_features: 7168, out_features: 1536, weight_dtype: "fp8" })
    // Routed experts: dp 16 ranks x 1 token x top-8 over ep 16 = 8 (token, expert) pairs per GPU,
    // each 3 GEMMs of 7168 x 2048: 8 x 2 x 3 x 7168 x 2048 FLOPs.
    expect(byName.experts.flops).toBe(8 * 2 * 3 * 7168 * 2048)
    // Comm ops move bytes on a link, none through HBM.
    for (const o of ops.filter((x: any) => x.category === "comm")) {
      expect(o.flops).toBe(0)
      expect(o.bytes_read + o.bytes_written).toBe(0)
      expect(o.comm_bytes).toBeGreaterThan(0)
    }
  })

  it("prints a table per layer entry and phase, and rejects an unknown --layer", () => {
    const t = runCli(["ops", "configs/scenarios/deepseek_v3_h800.yaml"], dir)
    expect(t.status).toBe(0)
    for (const h of ["== prefill / 0.ffn_layer ==", "== decode / 1.moe_layer ==", "== decode / lm_head ==", "GFLOP", "shape"]) expect(t.stdout).toContain(h)
    const bad = runCli(["ops", "configs/scenarios/deepseek_v3_h800.yaml", "--layer", "nope"], dir)
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/no layer entry matches --layer nope/)
  })
})

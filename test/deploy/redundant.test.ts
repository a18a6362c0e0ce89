/**
 * Redundant expert slots in the layer estimators (the additive LayerContext.redundant_experts the
 * playbooks use): layout check, weights and the `moe_experts` op.
 */
import { describe, expect, it } from "vitest"
import { validateLayout } from "../../src/layers/layout.ts"
import { expertParams, moeWeightBytes, routedExpertWeightBytes } from "../../src/layers/moe.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { MoeConfig } from "../../src/schema/layer.ts"
import { DEEPSEEK, MOE } from "./fixtures.ts"

const M = (MOE.config as { moe_config: MoeConfig }).moe_config
const ctx = (ep: number, redundant?: number, batch = 64): LayerContext => ({
  phase: "decode",
  batch_size: batch,
  seq_len: 1,
  precision: DEEPSEEK.precision,
  parallel: { tp: 1, dp: ep, ep },
  gpus_per_node: 8,
  ...(redundant === undefined ? {} : { redundant_experts: redundant })
})

describe("redundant expert slots", () => {
  it("EP144 needs them: 256 is not divisible by 144, 256 + 32 = 288 is", () => {
    expect(validateLayout(MOE, ctx(144))).toMatch(/n_routed_experts 256 is not divisible by ep 144/)
    expect(validateLayout(MOE, ctx(144, 32))).toBeUndefined()
    expect(validateLayout(MOE, ctx(144, 33))).toMatch(/256 \+ redundant_experts 33 = 289 expert slots are not divisible by ep 144/)
  })

  it("weights: 2 slots per GPU; without redundancy the op params are unchanged", () => {
    // 288 / 144 * 44,040,192 = 88,080,384 B
    expect(routedExpertWeightBytes(M, ctx(144, 32))).toBe(88_080_384)
    // router 256 * 7168 * 2 = 3,670,016; shared 44,040,192
    expect(moeWeightBytes(M, ctx(144, 32))).toBe(88_080_384 + 3_670_016 + 44_040_192)
    expect(expertParams(M, ctx(32))).toEqual(expertParams(M, { ...ctx(32), redundant_experts: 0 }))
    expect(expertParams(M, ctx(32)).n_experts).toBe(256)
    expect(expertParams(M, ctx(32, 32)).n_experts).toBe(288)
  })

  it("routed copies per GPU stay tokens * k / ep; touched slots use the slot count", () => {
    // 64 sequences * 144 ranks = 9,216 tokens * 8 / 144 = 512 copies per GPU
    const cost = evaluateOpCost({ kind: "moe_experts", name: "e", category: "moe_experts", params: expertParams(M, ctx(144, 32)) })
    // FLOPs 2 * 512 * 7168 * 2048 * 3 = 45,097,156,608
    expect(cost.flops).toBe(45_097_156_608)
    // both slots are touched (1 - (1 - 8/288)^9216 ~ 1): weights 2 * 44,040,192 B read
    expect(cost.bytes_read).toBeGreaterThan(88_080_384)
  })
})

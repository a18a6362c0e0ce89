import { describe, expect, it } from "vitest"
import { planLayer } from "../../src/layers/index.ts"
import { expectedTouchedExperts } from "../../src/ops/moe.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { ctxOf, deepseekLike } from "../layers/hf.ts"

// DeepSeek-V3: E = 256 routed experts, top-8, expert d 7168 x I 2048, FP8 experts.
const ds = deepseekLike("deepseek-v3")
const expertsOp = (ctx: LayerContext) => {
  const spec = planLayer(ds.moe, ctx).find((s) => s.name === "experts")
  if (!spec) throw new Error("no experts op")
  return { spec, cost: evaluateOpCost(spec) }
}
// One expert's weights: 3 * 7168 * 2048 * 1 B = 44,040,192 B.
const EXPERT_BYTES = 44_040_192
// Activation bytes per routed pair: gate_up input 7168 * 1 (FP8) + SiLU*mul input 2 * 2048 * 2
// + down input 2048 * 1 (FP8) = 7,168 + 8,192 + 2,048 = 17,408.
const PAIR_READ_BYTES = 17_408
const expertWeightBytes = (ctx: LayerContext, pairs: number) => expertsOp(ctx).cost.bytes_read - pairs * PAIR_READ_BYTES

describe("expected touched experts E_local * (1 - (1 - k/E)^T)", () => {
  it("T = 1 touches exactly k experts", () => {
    // 256 * (1 - 248/256) = 256 * 8/256 = 8
    expect(expectedTouchedExperts(256, 8, 256, 1)).toBe(8)
  })
  it("T = 2: 256 * (1 - (248/256)^2) = 256 * 4032/65536 = 15.75", () => {
    expect(expectedTouchedExperts(256, 8, 256, 2)).toBe(15.75)
  })
  it("T = 64 and T = 4096 (bc -l: 256*(1-(248/256)^64) = 222.44248768551...)", () => {
    expect(expectedTouchedExperts(256, 8, 256, 64)).toBeCloseTo(222.4424876855104, 9)
    // (248/256)^4096 = exp(4096 * ln 0.96875) = exp(-130.04) ~ 4e-57
    expect(expectedTouchedExperts(256, 8, 256, 4096)).toBeCloseTo(256, 9)
  })
})

describe("routed expert weight traffic (decode, tp = dp = ep = 1)", () => {
  it("T = 1: 8 experts' weights + per-pair activations, exactly", () => {
    const { cost } = expertsOp(ctxOf())
    // 8 * 44,040,192 = 352,321,536 + 8 pairs * 17,408 = 139,264
    expect(cost.bytes_read).toBe(352_321_536 + 139_264)
    // 2 * 8 pairs * 7168 * 2048 * 3 = 704,643,072
    expect(cost.flops).toBe(704_643_072)
    expect(cost.math_dtype).toBe("fp8")
  })

  it("weights follow E_local * (1 - (1 - k/E)^T) * 3*d*I*bytes and stay under E*w and T*k*w", () => {
    for (const [t, touched] of [
      [2, 15.75],
      [16, 101.9621623213895],
      [64, 222.4424876855104]
    ] as const) {
      const w = expertWeightBytes(ctxOf({ batch_size: t }), t * 8)
      expect(w / EXPERT_BYTES).toBeCloseTo(touched, 6)
      expect(w).toBeLessThan(256 * EXPERT_BYTES)
      expect(w).toBeLessThan(t * 8 * EXPERT_BYTES)
    }
  })

  it("T = 4096 reads (nearly) all 256 experts", () => {
    const w = expertWeightBytes(ctxOf({ batch_size: 4096 }), 4096 * 8)
    expect(w / EXPERT_BYTES).toBeCloseTo(256, 6)
  })
})

describe("expert parallelism and overrides", () => {
  it("dp = ep = 8: tokens routed = batch * dp, pairs per GPU = T*dp*k/ep, touched of 32 local", () => {
    // batch 8 per DP group, 8 groups: 64 tokens; pairs 64 * 8 / 8 = 64 per GPU;
    // touched = 32 * (1 - (248/256)^64) = 27.80531096068879 (bc -l)
    const ctx = ctxOf({ batch_size: 8, parallel: { dp: 8, ep: 8 } })
    const { spec, cost } = expertsOp(ctx)
    expect(spec.params.tokens).toBe(64)
    expect(cost.flops).toBe(2 * 64 * 7168 * 2048 * 3)
    expect(expertWeightBytes(ctx, 64) / EXPERT_BYTES).toBeCloseTo(27.80531096068879, 6)
  })

  it("tokens_per_expert override: pairs = tpe * E_local, all local experts touched, no top_k in params", () => {
    // ep = 8: 32 local experts; 100 tokens each -> 3,200 pairs
    const { spec, cost } = expertsOp(ctxOf({ tokens_per_expert: 100, parallel: { dp: 8, ep: 8 } }))
    expect(spec.params.top_k).toBeUndefined()
    expect(spec.params.tokens).toBeUndefined()
    // 2 * 3200 * 7168 * 2048 * 3 = 281,857,228,800
    expect(cost.flops).toBe(281_857_228_800)
    // 32 * 44,040,192 = 1,409,286,144 + 3200 * 17,408 = 55,705,600
    expect(cost.bytes_read).toBe(1_409_286_144 + 55_705_600)
    expect(cost.gemms).toEqual([
      { m: 100, n: 4096, k: 7168, groups: 32, layout: "masked", routed: false },
      { m: 100, n: 7168, k: 2048, groups: 32, layout: "masked", routed: false }
    ])
  })

  it("tokens_per_expert = 0: no work, no weights read", () => {
    const { cost } = expertsOp(ctxOf({ tokens_per_expert: 0 }))
    expect(cost.flops).toBe(0)
    expect(cost.bytes_read).toBe(0)
    expect(cost.gemms).toEqual([])
  })

  it("router: 2 * T * d * E in BF16 on every GPU", () => {
    const spec = planLayer(ds.moe, ctxOf({ batch_size: 4 })).find((s) => s.name === "router")!
    const c = evaluateOpCost(spec)
    // 2 * 4 * 7168 * 256 = 14,680,064
    expect(c.flops).toBe(14_680_064)
    expect(c.math_dtype).toBe("bf16")
  })

  it("shared expert: one 7168 x 2048 SwiGLU on the DP group's tokens, split by tp", () => {
    const spec = planLayer(ds.moe, ctxOf({ batch_size: 4, parallel: { tp: 8, ep: 8 } })).find((s) => s.name === "shared_experts")!
    expect(spec.category).toBe("moe_shared")
    expect(spec.params.intermediate).toBe(256)
    // 2 * 4 * 7168 * 256 * 3 = 44,040,192
    expect(evaluateOpCost(spec).flops).toBe(44_040_192)
  })
})

describe("grouped GEMM layout of the expert GEMMs", () => {
  it("decode runs masked grouped GEMMs, prefill contiguous ones; uniform routing marks m as a routed mean", () => {
    const decode = expertsOp(ctxOf({ batch_size: 64 })).cost.gemms ?? []
    expect(decode.map((g) => g.layout)).toEqual(["masked", "masked"])
    expect(decode.every((g) => g.routed === true)).toBe(true)
    const prefill = expertsOp(ctxOf({ phase: "prefill", batch_size: 1, seq_len: 4096 })).cost.gemms ?? []
    expect(prefill.map((g) => g.layout)).toEqual(["contiguous", "contiguous"])
    // gate_up n = 2 * 2048, down k = 2048; 4096 tokens * 8 pairs over 256 touched experts = 128 rows each
    expect(prefill[0]).toMatchObject({ m: 128, n: 4096, k: 7168, groups: 256 })
  })

  it("a tokens_per_expert override gives exact per-expert rows (no routing spread)", () => {
    const gemms = expertsOp(ctxOf({ tokens_per_expert: 96 })).cost.gemms ?? []
    expect(gemms.every((g) => g.routed === false && g.m === 96)).toBe(true)
  })
})

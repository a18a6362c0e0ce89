import { describe, expect, it } from "vitest"
import { planLayer } from "../../src/layers/index.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { ctxOf, deepseekLike, FP8 } from "../layers/hf.ts"

// DeepSeek-V3: 128 heads, kv_lora_rank 512, qk_rope 64 (latent 576), qk_nope 128, v 128, q_lora 1536.
const ds = deepseekLike("deepseek-v3")
const opOf = (name: string, ctx: LayerContext) => {
  const spec = planLayer(ds.moe, ctx).find((s) => s.name === name)
  if (!spec) throw new Error(`no op ${name}`)
  return evaluateOpCost(spec)
}

describe("MLA absorbed decode (DeepSeek-V3)", () => {
  it("bytes_read = latent KV cache read + absorbed Q read, exactly (BF16 cache)", () => {
    const c = opOf("attention", ctxOf({ batch_size: 2, seq_len: 4096 }))
    // cache: 2 * 4096 * 576 * 2 B = 9,437,184; Q: 2 * 128 * 576 * 2 B = 294,912
    expect(c.bytes_read).toBe(9_437_184 + 294_912)
    // O latent: 2 * 128 * 512 * 2 = 262,144; new latent entries: 2 * 576 * 2 = 2,304
    expect(c.bytes_written).toBe(262_144 + 2_304)
    // per sequence 2*128*4096*576 = 603,979,776 + 2*128*4096*512 = 536,870,912 -> 1,140,850,688; x2
    expect(c.flops).toBe(2_281_701_376)
  })

  it("an FP8 cache halves the cache read", () => {
    const c = opOf("attention", ctxOf({ batch_size: 2, seq_len: 4096, precision: { ...FP8, kv_cache: "fp8" } }))
    expect(c.bytes_read).toBe(4_718_592 + 294_912)
  })

  it("W_UK / W_UV absorbed BMMs: 2 * tokens * heads * 128 * 512 each, FP8 weights", () => {
    const uk = opOf("uk_absorb", ctxOf())
    const uv = opOf("uv_absorb", ctxOf())
    // 2 * 1 * 128 * 128 * 512 = 16,777,216
    expect(uk.flops).toBe(16_777_216)
    expect(uv.flops).toBe(16_777_216)
    // weights 128 * 128 * 512 * 1 B = 8,388,608; input 128 heads * 128 * 1 B (FP8) = 16,384
    expect(uk.bytes_read).toBe(8_388_608 + 16_384)
    expect(uk.math_dtype).toBe("fp8")
    expect(uk.gemms).toEqual([{ m: 1, n: 512, k: 128, groups: 128 }])
  })

  it("decode has no kv_up; prefill has no absorbed BMMs", () => {
    const dec = planLayer(ds.moe, ctxOf()).map((s) => s.name)
    const pre = planLayer(ds.moe, ctxOf({ phase: "prefill", seq_len: 16 })).map((s) => s.name)
    expect(dec).toContain("uk_absorb")
    expect(dec).not.toContain("kv_up_proj")
    expect(pre).toContain("kv_up_proj")
    expect(pre).not.toContain("uk_absorb")
  })
})

describe("MLA prefill (non-absorbed)", () => {
  it("FLOPs = 2*h*pairs*(nope+rope) + 2*h*pairs*v per sequence", () => {
    // S = 8: pairs 36; 2*128*36*192 + 2*128*36*128 = 256*36*320 = 2,949,120
    expect(opOf("attention", ctxOf({ phase: "prefill", seq_len: 8 })).flops).toBe(2_949_120)
    // S = 4096, batch 1: 256 * 8,390,656 * 320 = 687,362,539,520
    expect(opOf("attention", ctxOf({ phase: "prefill", seq_len: 4096 })).flops).toBe(687_362_539_520)
  })

  it("reads Q, K (192 per head) and V (128 per head) once; writes O and the latent cache", () => {
    const c = opOf("attention", ctxOf({ phase: "prefill", seq_len: 8, parallel: { tp: 8, ep: 8 } }))
    // tp = 8: 16 heads. T = 8: read 8 * 16 * (192 + 192 + 128) * 2 = 131,072
    expect(c.bytes_read).toBe(131_072)
    // O 8 * 16 * 128 * 2 = 32,768; latent 8 * 576 * 2 = 9,216 (one copy per TP rank)
    expect(c.bytes_written).toBe(32_768 + 9_216)
  })

  it("q_down and kv_down are replicated on every TP rank; q_up, kv_up, o_proj split by heads", () => {
    const ctx = ctxOf({ phase: "prefill", seq_len: 8, parallel: { tp: 8, ep: 8 } })
    const p = Object.fromEntries(planLayer(ds.moe, ctx).map((s) => [s.name, s.params]))
    expect(p.q_down_proj.out_features).toBe(1536)
    expect(p.kv_down_proj.out_features).toBe(576)
    expect(p.q_up_proj.out_features).toBe(16 * 192)
    expect(p.kv_up_proj.out_features).toBe(16 * 256)
    expect(p.o_proj.in_features).toBe(16 * 128)
  })
})

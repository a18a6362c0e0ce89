/**
 * MTP speculative decoding, hand-worked: expected tokens per step, the verification of 1 + k
 * tokens per sequence in the attention ops and the main stack, one token per sequence in the
 * MTP layer, and TPOT = step time / expected tokens.
 */
import { describe, expect, it } from "vitest"
import { contextFor } from "../../src/kernel/layout.ts"
import { modelOf } from "../../src/kernel/model.ts"
import { servingSummary } from "../../src/kernel/serving.ts"
import type { SimulationResult } from "../../src/kernel/records.ts"
import { planLayer, planLmHead } from "../../src/layers/index.ts"
import { expectedTokensPerStep } from "../../src/layers/mtp.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { deepseekLike } from "./hf.ts"

const cost = (kind: string, params: Record<string, number | string | boolean>) => evaluateOpCost({ kind, name: kind, category: "attention_core", params })

describe("expected tokens per decode step", () => {
  it("1 + a + ... + a^k", () => {
    expect(expectedTokensPerStep(0, 0.9)).toBe(1)
    expect(expectedTokensPerStep(1, 0.85)).toBeCloseTo(1.85, 12)
    // 1 + 0.5 + 0.25
    expect(expectedTokensPerStep(2, 0.5)).toBe(1.75)
  })
})

describe("verifying 1 + k tokens: per-query work, the cache read once", () => {
  it("GQA decode, 2 queries per sequence (batch 3, kv 1000, 8 Q / 1 KV heads of 128)", () => {
    const p = { batch: 3, kv_len: 1000, q_heads: 8, kv_heads: 1, head_dim: 128, window: 0, act_dtype: "bf16", kv_dtype: "bf16" }
    const c = cost("gqa_attention_decode", { ...p, queries: 2 })
    // FLOPs 3 * 2 * 2*8*1000*128*2 = 24,576,000
    expect(c.flops).toBe(24_576_000)
    // KV once: 3*1000*2*1*128*2 = 1,536,000; Q per query 3*2*8*128*2 = 12,288
    expect(c.bytes_read).toBe(1_548_288)
    // O 12,288 + new KV 3*2*2*128*2 = 3,072
    expect(c.bytes_written).toBe(15_360)
  })

  it("MLA decode, 2 queries per sequence: the latent cache once, the scores per query", () => {
    const c = cost("mla_attention_decode", {
      batch: 1,
      kv_len: 100,
      heads: 16,
      kv_lora_rank: 512,
      qk_rope_head_dim: 64,
      act_dtype: "bf16",
      kv_dtype: "bf16",
      queries: 2
    })
    // 2 * (2*16*100*576 + 2*16*100*512) = 6,963,200
    expect(c.flops).toBe(6_963_200)
    // 100*576*2 + 2*16*576*2 = 115,200 + 36,864
    expect(c.bytes_read).toBe(152_064)
  })
})

describe("a scenario with one MTP layer (DeepSeek-V3 shapes)", () => {
  const ds = deepseekLike("deepseek-v3")
  const model = modelOf({
    spec: { lm_head: ds.lm, precision: { weights: "fp8", activations: "bf16", kv_cache: "bf16" } },
    entries: [
      { index: 0, entry: { type: "moe_layer", config: "m.yaml", repeat: 58 }, template: ds.moe },
      { index: 1, entry: { type: "moe_layer", config: "m.yaml", name: "mtp", mtp: true }, template: ds.moe }
    ]
  })
  const ctx = contextFor(model, { tp: 1, dp: 1, ep: 1, redundant_experts: 0, gpus_per_node: 8 }, "decode", 4, 2048)

  it("the main stack sees 4 x 2 tokens, the MTP layer 4 and its eh_proj 2d -> d; the LM head 8 rows", () => {
    expect(model.mtp_draft_tokens).toBe(1)
    const main = planLayer(model.entries[0].template, ctx)
    const mtp = planLayer(model.entries[1].template, ctx)
    expect(main.find((s) => s.name === "q_down_proj")!.params.tokens).toBe(8)
    expect(main.find((s) => s.name === "attention")!.params.queries).toBe(2)
    expect(mtp.find((s) => s.name === "q_down_proj")!.params.tokens).toBe(4)
    expect(mtp.find((s) => s.name === "attention")!.params.queries).toBeUndefined()
    const eh = mtp.find((s) => s.name === "mtp_eh_proj")!.params
    expect([eh.tokens, eh.in_features, eh.out_features]).toEqual([4, 2 * 7168, 7168])
    expect(planLmHead(ds.lm, ctx).find((s) => s.name === "lm_head")!.params.tokens).toBe(8)
    // the drafts' own head pass: 4 sequences x 1 draft
    expect(planLmHead(ds.lm, ctx).find((s) => s.name === "mtp_lm_head")!.params.tokens).toBe(4)
  })

  it("TPOT = decode step / (1 + a): 30 ms at a = 0.5 -> 20 ms; without MTP entries the step itself", () => {
    const decode = { total_latency_ms: 30 } as SimulationResult
    const s = servingSummary({ decode }, { batch_size: 4, seq_len: 2048, mtp_draft_tokens: 1, mtp_acceptance_rate: 0.5 }, { tp: 1, dp: 1 }, 80, "serial")
    expect(s.tpot_ms).toBe(20)
    // 4 sequences x 1.5 tokens per 30 ms step = 200 tokens/s
    expect(s.throughput_tokens_per_s).toBeCloseTo(200, 9)
    expect(servingSummary({ decode }, { batch_size: 4, seq_len: 2048 }, { tp: 1, dp: 1 }, 80, "serial").tpot_ms).toBe(30)
  })
})

/**
 * Attention kernel terms (src/timing/attention.ts): softmax exponentials on the special-function
 * units and FlashMLA's 64-row query tiles, worked by hand.
 */
import { describe, expect, it } from "vitest"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { OpSpec } from "../../src/ops/types.ts"
import { attentionExps, attentionPadding, EXP_PER_SM_PER_S } from "../../src/timing/attention.ts"
import { timeOp, type TimingHardware } from "../../src/timing/roofline.ts"

const prefill = (window = 0): OpSpec => ({
  kind: "gqa_attention_prefill",
  name: "a",
  category: "attention_core",
  params: { batch: 2, seq_len: 4, q_heads: 8, kv_heads: 2, head_dim: 64, window, act_dtype: "bf16", kv_dtype: "bf16" }
})
const mla = (heads: number): OpSpec => ({
  kind: "mla_attention_decode",
  name: "m",
  category: "attention_core",
  params: { batch: 1, kv_len: 100, heads, kv_lora_rank: 512, qk_rope_head_dim: 64, act_dtype: "bf16", kv_dtype: "bf16" }
})

// A part with 100 TFLOPS BF16, 1 TB/s, 10 SMs: exp rate 10 x 3.9e12 / 132.
const HW: TimingHardware = {
  tflops: { bf16: 100, fp16: 100, fp8: 200, fp32: 100, tf32: 100, int8: 200, fp4: 100, mxfp4: 100, int4: 100 },
  memory_bandwidth_gbps: 1000,
  interconnect_gbps: 100,
  nic_gbps: 50,
  compute_efficiency: 1,
  memory_efficiency: 1,
  interconnect_efficiency: 1,
  nic_efficiency: 1,
  kernel_latency_us: 0,
  link_latency_us: 0,
  tile_m: 0,
  tile_n: 0,
  tile_choice: "fixed",
  sm_count: 10,
  sm_load_gbps: 0,
  exp_per_s: 10 * EXP_PER_SM_PER_S,
  attention_compute_efficiency: 1,
  attention_memory_efficiency: 1
}

describe("softmax exponentials", () => {
  it("one per (query head, key) score: causal pairs for prefill, keys for decode", () => {
    // Causal over 4 tokens: 1 + 2 + 3 + 4 = 10 pairs; x 8 query heads (GQA: query heads) x batch 2.
    expect(attentionExps(prefill())).toBe(160)
    // Window 2: pairs 1 + 2 + 2 + 2 = 7.
    expect(attentionExps(prefill(2))).toBe(112)
    expect(attentionExps(mla(16))).toBe(1600)
    expect(attentionExps({ kind: "linear", params: {} })).toBe(0)
  })

  it("adds exps / (SMs x 3.9e12 / 132) to compute, not overlapped", () => {
    const spec = prefill()
    const cost = evaluateOpCost(spec)
    // FLOPs 2 x (4 x 8 x 10 x 64) = 40,960 at 1e14/s = 4.096e-7 ms; 160 exps at 10 x 3.9e12 / 132 /s.
    const expMs = (160 / ((10 * 3.9e12) / 132)) * 1e3
    const t = timeOp(cost, HW, spec)
    expect(t.compute_time_ms).toBeCloseTo((40960 / 1e14) * 1e3 + expMs, 15)
    expect(timeOp(cost, HW).compute_time_ms).toBeCloseTo((40960 / 1e14) * 1e3, 15)
    expect(timeOp(cost, { ...HW, exp_per_s: 0 }, spec).compute_time_ms).toBe(timeOp(cost, HW).compute_time_ms)
  })
})

describe("FlashMLA query tiles", () => {
  it("pads h_q x s_q query rows to whole 64-row tiles", () => {
    expect(attentionPadding(mla(16))).toBe(4)
    expect(attentionPadding(mla(64))).toBe(1)
    expect(attentionPadding(mla(80))).toBe(128 / 80)
    expect(attentionPadding(prefill())).toBe(1)
    // 16 rows cost the tensor cores as much as 64 rows (exps follow the real rows).
    const t16 = timeOp(evaluateOpCost(mla(16)), HW, mla(16))
    const t64 = timeOp(evaluateOpCost(mla(64)), HW, mla(64))
    const exp = (rows: number) => ((rows * 100) / HW.exp_per_s) * 1e3
    expect(t16.compute_time_ms - exp(16)).toBeCloseTo(t64.compute_time_ms - exp(64), 12)
  })
})

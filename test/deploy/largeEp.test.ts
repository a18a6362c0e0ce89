/**
 * The large-EP model (src/deploy/largeEp.ts, memory.ts) on DeepSeek-V3 and a peak-only H800:
 * expert bytes per GPU, KV bytes per request, link bytes, the all-to-all call time and the layer
 * composition, worked by hand.
 */
import { describe, expect, it } from "vitest"
import { tokensPerStep } from "../../src/layers/context.ts"
import { layerWeightBytesPerGpu } from "../../src/layers/layer.ts"
import { lmHeadWeightBytesPerGpu } from "../../src/layers/lmHead.ts"
import { planLayer } from "../../src/layers/layer.ts"
import { resolveLargeEp, type LargeEpDeployment } from "../../src/deploy/deployment.ts"
import { contextFor } from "../../src/kernel/layout.ts"
import { a2aCall, largeEpBatchForTpot, largeEpDecode, largeEpMaxBatch, largeEpMemory, largeEpStep, capacityBytes } from "../../src/deploy/largeEp.ts"
import { kvBytesPerSequence, totalBytes, weightParts } from "../../src/deploy/memory.ts"
import { ATTENTION_STAGE, FFN_STAGE, smSlowdown, timeSpec } from "../../src/kernel/opTiming.ts"
import { tboLayer } from "../../src/kernel/twoBatchOverlap.ts"
import type { MoeConfig } from "../../src/schema/layer.ts"
import { DEEPSEEK, H800, INPUT, MOE } from "./fixtures.ts"

const deployment = (spec: object, o = {}): LargeEpDeployment => {
  const r = resolveLargeEp(DEEPSEEK, H800, { deployment: spec, precision: DEEPSEEK.precision }, o)
  if (!r.ok) throw new Error(r.problem.message)
  return r.value
}
const EP144 = deployment({ nodes: 18, ep: 144, redundant_experts: 32, two_batch_overlap: true, micro_batches: 2 })
const EP32 = deployment({ nodes: 4, ep: 32, redundant_experts: 32, two_batch_overlap: true, micro_batches: 2 })
const M = (MOE.config as { moe_config: MoeConfig }).moe_config

describe("memory per GPU", () => {
  it("EP144 with 32 redundant experts: 2 expert slots per GPU = 5,108,662,272 B of routed experts", () => {
    // (256 + 32) / 144 = 2 slots; one expert = 3 * 7168 * 2048 * 1 B (FP8) = 44,040,192 B
    // per layer 2 * 44,040,192 = 88,080,384 B; 58 MoE layers: 5,108,662,272 B
    expect(largeEpMemory(DEEPSEEK, EP144, "decode", 88, 4989).routed_expert_weights_bytes).toBe(5_108_662_272)
    // EP32 prefill unit: 288 / 32 = 9 slots: 9 * 44,040,192 * 58 = 22,988,980,224 B
    expect(largeEpMemory(DEEPSEEK, EP32, "prefill", 2, 4096).routed_expert_weights_bytes).toBe(22_988_980_224)
  })

  it("more EP means fewer expert bytes per GPU", () => {
    // no redundancy: 256 / ep slots * 44,040,192 * 58: EP8 81.7 GB ... EP256 2.55 GB
    const bytes = [8, 16, 32, 64, 128, 256].map(
      (ep) => largeEpMemory(DEEPSEEK, deployment({ nodes: Math.max(1, ep / 8), ep }), "decode", 1, 1).routed_expert_weights_bytes
    )
    expect(bytes[0]).toBe(32 * 44_040_192 * 58)
    expect(bytes[5]).toBe(1 * 44_040_192 * 58)
    for (let i = 1; i < bytes.length; i++) expect(bytes[i]).toBeLessThan(bytes[i - 1])
    // the --ep sweep keeps at least 32 redundant experts: 36, 18, 9, 5, 2, 2 slots per GPU (never more with more EP)
    const swept = [8, 16, 32, 64, 144, 256].map(
      (ep) =>
        largeEpMemory(DEEPSEEK, deployment({ nodes: 18, ep: 144, redundant_experts: 32 }, { ep }), "decode", 1, 1).routed_expert_weights_bytes /
        (44_040_192 * 58)
    )
    expect(swept).toEqual([36, 18, 9, 5, 2, 2])
  })

  it("KV cache per request at DeepSeek's average 4,989 tokens: 350,587,008 B", () => {
    // MLA latent (512 + 64) * 2 B = 1,152 B per token per layer; 61 layers = 70,272 B per token
    // (ISCA'25 Table 1: 70.272 KB); 4,989 tokens * 70,272 = 350,587,008 B
    expect(kvBytesPerSequence(DEEPSEEK, contextFor(DEEPSEEK, EP144, "decode", 1, 4989))).toBe(350_587_008)
    expect(largeEpMemory(DEEPSEEK, EP144, "decode", 88, 4989).kv_cache_bytes).toBe(88 * 350_587_008)
  })

  it("replicated parts: attention 11,413,671,936 B; embedding + LM head 3,706,730,496 B; parts add up to the layer estimators", () => {
    const ctx = contextFor(DEEPSEEK, EP144, "decode", 88, 4989)
    const w = weightParts(DEEPSEEK, ctx)
    // MLA per layer: 187,105,280 FP8 params + q/kv norm gammas (1536 + 512) * 2 B = 187,109,376 B; * 61
    expect(w.attention_weights_bytes).toBe(11_413_671_936)
    // 2 * 129,280 * 7,168 * 2 B (embedding + head, BF16) + final norm 7,168 * 2 B
    expect(w.embedding_lm_head_weights_bytes).toBe(3_706_730_496)
    const fromModule =
      3 * layerWeightBytesPerGpu(DEEPSEEK.entries[0].template, ctx) + 58 * layerWeightBytesPerGpu(MOE, ctx) + lmHeadWeightBytesPerGpu(DEEPSEEK.lm_head!, ctx)
    expect(totalBytes(w)).toBe(fromModule)
  })

  it("the largest batch that fits: the next one does not", () => {
    const max = largeEpMaxBatch(DEEPSEEK, H800, EP144, "decode", 4989)
    const cap = capacityBytes(H800, 0)
    expect(totalBytes(largeEpMemory(DEEPSEEK, EP144, "decode", max, 4989))).toBeLessThanOrEqual(cap)
    expect(totalBytes(largeEpMemory(DEEPSEEK, EP144, "decode", max + 1, 4989))).toBeGreaterThan(cap)
    // fixed ~24 GB of weights + ~0.35 GB of KV per sequence: between 140 and 160 sequences
    expect(max).toBeGreaterThan(140)
    expect(max).toBeLessThan(160)
  })
})

describe("all-to-all call time", () => {
  it("EP16 low-latency dispatch of 64 FP8 tokens on a peak-only H800 = 0.04170016 ms", () => {
    const d = deployment({ nodes: 2, ep: 16 })
    const call = a2aCall("low_latency", M, d, "fp8", 64, INPUT.timing, INPUT.estimator)
    // NIC: 64 * 8 * 7168 * 8/16 = 1,835,008 B / 50 GB/s = 0.03670016 ms
    // NVLink: 64 * 8 * 7168 * 7/16 = 1,605,632 B / 200 GB/s = 0.00802816 ms (concurrent)
    // + 5 us call latency: 0.03670016 + 0.005 = 0.04170016 ms
    expect(call.nic_bytes).toBe(1_835_008)
    expect(call.nvlink_bytes).toBe(1_605_632)
    expect(call.nic_ms).toBeCloseTo(0.03670016, 12)
    expect(call.nvlink_ms).toBeCloseTo(0.00802816, 12)
    expect(call.time_ms).toBeCloseTo(0.04170016, 12)
  })

  it("link time never enters HBM: the op carries only link bytes", () => {
    const d = deployment({ nodes: 2, ep: 16 })
    const call = a2aCall("low_latency", M, d, "bf16", 64, INPUT.timing, INPUT.estimator)
    // BF16 doubles the bytes: NIC 3,670,016 B / 50 GB/s = 0.07340032 ms + 0.005
    expect(call.time_ms).toBeCloseTo(0.07840032, 12)
  })
})

describe("a decode step of DeepSeek's EP144 unit (peak-only H800, balanced experts)", () => {
  const step = largeEpStep(INPUT, EP144, { phase: "decode", batch_size: 88, seq_len: 4989 })
  const moe = step.layers.find((l) => l.layer_type === "moe_layer")!

  it("link bytes per GPU per step: 88 tokens x 8 copies x 7168 x 17/18 on the NIC, FP8 out + BF16 back", () => {
    // 88 * 8 * 7168 * (136/144) * (1 + 2) = 14,297,770.67 B NIC; NVLink 88 * 8 * 7168 * 7/144 * 3 = 735,914.67 B
    expect(moe.nic_bytes).toBeCloseTo((88 * 8 * 7168 * 136 * 3) / 144, 6)
    expect(moe.nvlink_bytes).toBeCloseTo((88 * 8 * 7168 * 7 * 3) / 144, 6)
    expect(moe.load_imbalance).toBe(1)
  })

  it("stages are the estimator's ops; the layer is the TBO formula of their micro-batch times", () => {
    const ctx = contextFor(DEEPSEEK, EP144, "decode", 44, 4989)
    let a = 0
    let f = 0
    for (const s of planLayer(MOE, ctx)) {
      if (s.category === "comm") continue
      const ms = timeSpec(s, INPUT.timing, INPUT.estimator).dominant_latency_ms
      if (ATTENTION_STAGE.has(s.category)) a += ms
      else if (FFN_STAGE.has(s.category)) f += ms
    }
    const disp = a2aCall("low_latency", M, EP144, "fp8", tokensPerStep(ctx), INPUT.timing, INPUT.estimator).time_ms
    const comb = a2aCall("low_latency", M, EP144, "bf16", tokensPerStep(ctx), INPUT.timing, INPUT.estimator).time_ms
    expect(moe.attention_ms).toBeCloseTo(2 * a, 12)
    expect(moe.ffn_ms).toBeCloseTo(2 * f, 12)
    expect(moe.dispatch_ms).toBeCloseTo(2 * disp, 12)
    expect(moe.combine_ms).toBeCloseTo(2 * comb, 12)
    // at the hardware file's overlap_efficiency
    expect(moe.layer_ms).toBeCloseTo(tboLayer({ a, d: disp, f, c: comb }, INPUT.hardware.overlap_efficiency).layer_ms, 12)
    expect(moe.exposed_comm_ms).toBeCloseTo(moe.layer_ms - 2 * a - 2 * f, 12)
    // the step is the sum of its 61 layers and the LM head
    expect(step.layers).toHaveLength(62)
    expect(step.step_ms).toBeCloseTo(
      step.layers.reduce((s, l) => s + l.layer_ms, 0),
      9
    )
  })

  it("TPOT and tokens/s: batch x dp / TPOT over 144 GPUs; per node x 8", () => {
    const r = largeEpDecode(INPUT, EP144, { batch_size: 88, kv_len: 4989 })
    expect(r.tpot_ms).toBe(step.step_ms)
    expect(r.tokens_per_s_per_request).toBeCloseTo(1000 / r.tpot_ms, 12)
    expect(r.tokens_per_s_per_gpu).toBeCloseTo((88 * 1000) / r.tpot_ms, 9)
    expect(r.tokens_per_s_per_node).toBeCloseTo(8 * r.tokens_per_s_per_gpu, 9)
    expect(r.fits_in_hbm).toBe(true)
  })

  it("a declared imbalance of 1.5 scales the hottest GPU's link bytes by 1.5", () => {
    const hot = largeEpStep(INPUT, { ...EP144, load_imbalance: 1.5 }, { phase: "decode", batch_size: 88, seq_len: 4989 })
    const l = hot.layers.find((x) => x.layer_type === "moe_layer")!
    expect(l.nic_bytes).toBeCloseTo(1.5 * moe.nic_bytes, 6)
    expect(l.ffn_ms).toBeGreaterThan(moe.ffn_ms)
    expect(l.attention_ms).toBeCloseTo(moe.attention_ms, 12)
  })

  it("the batch for a TPOT target: TPOT(b) <= target < TPOT(b + 1)", () => {
    const target = 30
    const b = largeEpBatchForTpot(INPUT, EP144, 4989, target)
    const tpot = (n: number) => largeEpStep(INPUT, EP144, { phase: "decode", batch_size: n, seq_len: 4989 }).step_ms
    expect(b).toBeGreaterThan(0)
    expect(tpot(b)).toBeLessThanOrEqual(target)
    expect(tpot(b + 1)).toBeGreaterThan(target)
  })
})

describe("prefill with high-throughput kernels", () => {
  it("overlapped communication kernels take 20 of 132 SMs: compute x 132/112", () => {
    expect(smSlowdown(132, 20)).toBeCloseTo(132 / 112, 15)
    expect(smSlowdown(132, 0)).toBe(1)
    // a compute-bound GEMM: 4096 x 2048 x 7168 FP8 = 120.26 GFLOP / 1980 TFLOPS = 0.0607 ms
    const spec = {
      kind: "linear",
      name: "g",
      category: "ffn" as const,
      params: { tokens: 4096, in_features: 7168, out_features: 2048, weight_dtype: "fp8", act_dtype: "bf16" }
    }
    const plain = timeSpec(spec, INPUT.timing, INPUT.estimator)
    const slowed = timeSpec(spec, INPUT.timing, INPUT.estimator, 132 / 112)
    expect(plain.compute_time_ms).toBeCloseTo(((2 * 4096 * 2048 * 7168) / 1980e12) * 1e3, 12)
    expect(slowed.compute_time_ms).toBeCloseTo((plain.compute_time_ms * 132) / 112, 12)
    expect(slowed.memory_time_ms).toBe(plain.memory_time_ms)
  })

  it("EP32 prefill takes longer when communication kernels hold SMs", () => {
    const run = { phase: "prefill" as const, batch_size: 2, seq_len: 4096 }
    const withSms = largeEpStep(INPUT, EP32, run)
    const without = largeEpStep(INPUT, { ...EP32, comm_sms: 0 }, run)
    expect(withSms.kernel_mode).toBe("high_throughput")
    expect(withSms.step_ms).toBeGreaterThan(without.step_ms)
    expect(withSms.layers.find((l) => l.layer_type === "moe_layer")!.nic_bytes).toBeGreaterThan(0)
  })

  it("names the all-to-all split and the SM slowdown per layer", () => {
    const run = { phase: "prefill" as const, batch_size: 2, seq_len: 4096 }
    const moe = largeEpStep(INPUT, EP32, run).layers.find((l) => l.layer_type === "moe_layer")!
    // 20 of 132 SMs lent to the high-throughput kernels under two-batch overlap.
    expect(moe.compute_slowdown).toBeCloseTo(132 / 112, 12)
    // Two micro-batches x (dispatch + combine), 50 us per call.
    expect(moe.a2a_latency_ms).toBeCloseTo(2 * 2 * 0.05, 12)
    // Each call is max(NVLink, NIC) + latency: the calls' sum lies between these bounds.
    const calls = moe.dispatch_ms + moe.combine_ms
    expect(calls).toBeGreaterThanOrEqual(Math.max(moe.a2a_nvlink_ms, moe.a2a_nic_ms) + moe.a2a_latency_ms - 1e-12)
    expect(calls).toBeLessThanOrEqual(moe.a2a_nvlink_ms + moe.a2a_nic_ms + moe.a2a_latency_ms + 1e-12)
    // Low-latency decode kernels take no SMs.
    expect(largeEpStep(INPUT, EP32, { phase: "decode", batch_size: 8, seq_len: 1024 }).layers.every((l) => l.compute_slowdown === 1)).toBe(true)
  })
})

/**
 * The AFD model (src/deploy/afd.ts) on DeepSeek-V3 and a peak-only H800: transfer bytes per
 * layer, memory per role and the pipeline step, worked by hand.
 */
import { describe, expect, it } from "vitest"
import { afdMemory, afdPhase, afdStep } from "../../src/deploy/afd.ts"
import { afdLayerTime } from "../../src/kernel/afdPipeline.ts"
import { resolveAfd, type AfdPlan } from "../../src/deploy/deployment.ts"
import { afdServing } from "../../src/deploy/serving.ts"
import { DEEPSEEK, H800, INPUT } from "./fixtures.ts"

const plan = (a: number, f: number): AfdPlan => {
  const r = resolveAfd(
    DEEPSEEK,
    H800,
    { deployment: { afd: { attention: { instances: a }, ffn: { instances: f }, micro_batches: 3 } }, precision: DEEPSEEK.precision },
    {}
  )
  if (!r.ok) throw new Error(r.problem.message)
  return r.value
}
const run = { phase: "decode" as const, batch_size: 96, seq_len: 4989 }

describe("transfers per layer", () => {
  const p22 = afdStep(INPUT, plan(2, 2), run)
  const p32 = afdStep(INPUT, plan(3, 2), run)
  const moe22 = p22.layers.find((l) => l.layer_type === "moe_layer")!
  const moe32 = p32.layers.find((l) => l.layer_type === "moe_layer")!

  it("MoE layer, 2A2F: a token goes to D = 16 (1 - C(240,8)/C(256,8)) = 6.5233 of the 16 FFN GPUs", () => {
    // per micro-batch an attention GPU sends 32 tokens * 6.5232795335 * 7168 B (FP8) = 1,496,288.28 B;
    // 3 micro-batches per step; F -> A returns the same copies in BF16 (x 2)
    const perMicro = 32 * 6.5232795335 * 7168
    expect(moe22.a2f_bytes_per_attention_gpu).toBeCloseTo(3 * perMicro, 0)
    expect(moe22.f2a_bytes_per_attention_gpu).toBeCloseTo(2 * 3 * perMicro, 0)
    // 16 attention GPUs x 32 tokens spread over 16 FFN GPUs: an FFN GPU receives what an attention GPU sends
    expect(moe22.a2f_bytes_per_ffn_gpu).toBeCloseTo(moe22.a2f_bytes_per_attention_gpu, 3)
  })

  it("3A2F: each FFN GPU receives 24/16 = 1.5 x what one attention GPU sends", () => {
    expect(moe32.a2f_bytes_per_attention_gpu).toBeCloseTo(moe22.a2f_bytes_per_attention_gpu, 3)
    expect(moe32.a2f_bytes_per_ffn_gpu).toBeCloseTo(1.5 * moe32.a2f_bytes_per_attention_gpu, 3)
    // more tokens per FFN GPU: the FFN stage grows, the attention stage does not
    expect(moe32.stage_ms.ffn).toBeGreaterThan(moe22.stage_ms.ffn)
    expect(moe32.stage_ms.attention).toBeCloseTo(moe22.stage_ms.attention, 12)
  })

  it("dense layer: each token to one FFN GPU, 32 * 7168 = 229,376 B per micro-batch", () => {
    const dense = p22.layers[0]
    expect(dense.layer_type).toBe("ffn_layer")
    expect(dense.a2f_bytes_per_attention_gpu).toBe(3 * 229_376)
  })

  it("transfer time: the slower end of the link, plus the 5 us call latency", () => {
    // 2A2F: both ends carry 1,496,288.28 B over a 50 GB/s NIC = 0.0299258 ms + 0.005 ms
    expect(moe22.stage_ms.a2f).toBeCloseTo(((32 * 6.5232795335 * 7168) / 50e9) * 1e3 + 0.005, 8)
    // 3A2F: the FFN end receives 1.5x: 0.0448886 ms + 0.005 ms
    expect(moe32.stage_ms.a2f).toBeCloseTo(((1.5 * 32 * 6.5232795335 * 7168) / 50e9) * 1e3 + 0.005, 8)
  })

  it("the step: layers at micro_batches x cycle, one pipeline fill, then the LM head", () => {
    const t = afdLayerTime("cyclic", 3, moe32.stage_ms)
    expect(moe32.regime).toBe(t.regime)
    expect(moe32.layer_ms).toBeCloseTo(3 * t.cycle_ms, 12)
    const lm = p32.layers.at(-1)!
    expect(lm.layer_type).toBe("lm_head")
    expect(p32.step_ms).toBeCloseTo(p32.layers.reduce((s, l) => s + l.layer_ms, 0) + p32.fill_ms, 9)
    expect(p32.fill_ms).toBeCloseTo(
      Math.max(...p32.layers.slice(0, -1).map((l) => l.stage_ms.attention + l.stage_ms.a2f + l.stage_ms.ffn + l.stage_ms.f2a - l.cycle_ms)),
      12
    )
  })
})

describe("memory per role", () => {
  const mem = afdMemory(INPUT, plan(3, 2), "decode", 96, 4989)

  it("attention GPUs hold the KV cache and no experts; FFN GPUs hold 16 experts each and no KV", () => {
    // 96 sequences * 350,587,008 B = 33,656,352,768 B
    expect(mem.attention_gpu.kv_cache_bytes).toBe(33_656_352_768)
    expect(mem.attention_gpu.routed_expert_weights_bytes).toBe(0)
    // 256 / 16 = 16 experts * 44,040,192 B * 58 layers = 40,869,298,176 B
    expect(mem.ffn_gpu.routed_expert_weights_bytes).toBe(40_869_298_176)
    expect(mem.ffn_gpu.kv_cache_bytes).toBe(0)
    // dense FFN replicated on each FFN GPU: 3 layers * 3 * 7168 * 18432 * 1 B = 1,189,085,184 B
    expect(mem.ffn_gpu.dense_ffn_weights_bytes).toBe(1_189_085_184)
    expect(mem.ffn_gpu.attention_weights_bytes).toBe(0)
    expect(mem.attention_gpu.attention_weights_bytes).toBe(11_413_671_936)
  })

  it("serving: tokens/s over attention + FFN GPUs; memory per GPU is the larger role", () => {
    const s = afdServing(INPUT, plan(3, 2), { phases: ["decode"], batch_size: 96, seq_len: 4989 })
    const p = afdPhase(INPUT, plan(3, 2), run)
    // 96 sequences * 24 attention ranks per TPOT, over 40 GPUs
    expect(s.throughput_tokens_per_s_per_gpu).toBeCloseTo((96 * 24 * 1000) / p.step_ms / 40, 9)
    expect(s.instances).toBe("3A2F")
    expect(s.memory_per_gpu_bytes).toBe(
      Math.max(
        Object.values(mem.attention_gpu).reduce((a, b) => a + b, 0),
        Object.values(mem.ffn_gpu).reduce((a, b) => a + b, 0)
      )
    )
    expect(s.fits_in_hbm).toBe(true)
  })
})

import { describe, expect, it } from "vitest"
import { planLayer } from "../../src/layers/index.ts"
import { causalPairs, decodeKeys } from "../../src/ops/attention.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { OpSpec } from "../../src/ops/types.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { BF16, ctxOf, gptOssSliding, llamaLike } from "../layers/hf.ts"

const core = (t: LayerTemplate, ctx: LayerContext): OpSpec => {
  const spec = planLayer(t, ctx).find((s) => s.category === "attention_core")
  if (!spec) throw new Error("no attention core")
  return spec
}

describe("causal pair count", () => {
  it("matches a brute-force loop over (query, key <= query) pairs, full and sliding", () => {
    for (let s = 1; s <= 40; s++) {
      for (const w of [0, 1, 3, 7, 16, 64]) {
        let count = 0
        for (let q = 0; q < s; q++) for (let k = 0; k <= q; k++) if (w === 0 || q - k < w) count++
        expect(causalPairs(s, w)).toBe(count)
      }
    }
  })

  it("closed form S(S+1)/2 for full attention", () => {
    // 4096 * 4097 / 2 = 2048 * 4097 = 8,390,656
    expect(causalPairs(4096)).toBe(8_390_656)
  })

  it("sliding window: w(w+1)/2 + (S - w) * w", () => {
    // w = 128, S = 1000: 128*129/2 = 8,256; (1000 - 128) * 128 = 111,616; sum 119,872
    expect(causalPairs(1000, 128)).toBe(119_872)
    expect(decodeKeys(1000, 128)).toBe(128)
    expect(decodeKeys(100, 128)).toBe(100)
  })
})

describe("GQA attention core (Llama-3.1-70B: 64 Q heads, 8 KV heads, head_dim 8192/64 = 128)", () => {
  const llama = llamaLike("llama-3.1-70b")

  it("prefill FLOPs follow the causal count; bytes read Q,K,V once and write O + new KV", () => {
    // tp = 8: 8 Q heads and 8/8 = 1 KV head per GPU. batch 2, S 1024.
    const c = evaluateOpCost(core(llama.layer, ctxOf({ phase: "prefill", batch_size: 2, seq_len: 1024, precision: BF16, parallel: { tp: 8 } })))
    // pairs = 1024*1025/2 = 524,800; per sequence 2*8*pairs*128 (QK) + 2*8*pairs*128 (PV)
    // = 32 * 524,800 * 128 = 2,149,580,800; x 2 sequences = 4,299,161,600
    expect(c.flops).toBe(4_299_161_600)
    // T = 2048 tokens: Q + K + V = 2048 * (8 + 2*1) * 128 * 2 B = 5,242,880
    expect(c.bytes_read).toBe(5_242_880)
    // O 2048*8*128*2 = 4,194,304 + new KV 2048*2*1*128*2 = 1,048,576 -> 5,242,880
    expect(c.bytes_written).toBe(5_242_880)
    expect(c.math_dtype).toBe("bf16")
  })

  it("decode bytes_read = KV cache read + Q read, exactly", () => {
    // tp = 1, batch 4, KV length 1000.
    const c = evaluateOpCost(core(llama.layer, ctxOf({ batch_size: 4, seq_len: 1000, precision: BF16 })))
    // KV: 4 * 1000 * 2 (K,V) * 8 heads * 128 * 2 B = 16,384,000; Q: 4 * 64 * 128 * 2 B = 65,536
    expect(c.bytes_read).toBe(16_384_000 + 65_536)
    // O: 65,536; new KV entry: 4 * 2 * 8 * 128 * 2 = 16,384
    expect(c.bytes_written).toBe(65_536 + 16_384)
    // 4 * (2*64*1000*128) * 2 (QK and PV) = 131,072,000
    expect(c.flops).toBe(131_072_000)
  })

  it("FP8 KV cache halves the cache bytes, not the Q bytes", () => {
    const c = evaluateOpCost(core(llama.layer, ctxOf({ batch_size: 4, seq_len: 1000, precision: { ...BF16, kv_cache: "fp8" } })))
    expect(c.bytes_read).toBe(8_192_000 + 65_536)
  })
})

describe("sliding-window attention (gpt-oss-120b even layers: window 128, 64 Q / 8 KV heads of 64)", () => {
  const t = gptOssSliding("gpt-oss-120b")

  it("decode reads only the last 128 cached tokens", () => {
    const c = evaluateOpCost(core(t, ctxOf({ batch_size: 1, seq_len: 1000, precision: BF16 })))
    // KV: 128 * 2 * 8 * 64 * 2 B = 262,144; Q: 64 * 64 * 2 B = 8,192
    expect(c.bytes_read).toBe(262_144 + 8_192)
    // 2 * 64 * 128 * 64 * 2 = 2,097,152
    expect(c.flops).toBe(2_097_152)
  })

  it("prefill counts sum(min(i, 128)) pairs", () => {
    const c = evaluateOpCost(core(t, ctxOf({ phase: "prefill", batch_size: 1, seq_len: 1000, precision: BF16 })))
    // 119,872 pairs (above) * 4 * 64 heads * 64 = 1,963,982,848
    expect(c.flops).toBe(119_872 * 4 * 64 * 64)
    expect(c.flops).toBe(1_963_982_848)
  })
})

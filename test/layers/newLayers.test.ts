/**
 * Layer estimators of the 2025 variants, hand-worked: the state of linear attention instead of a
 * KV cache, the chunked layer's cache, DSA's indexer keys, and per-layer precision overrides.
 */
import { describe, expect, it } from "vitest"
import { modelOf } from "../../src/kernel/model.ts"
import { kvBytesPerTokenPerGpu, layerWeightBytesPerGpu, planLayer } from "../../src/layers/index.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { BF16, ctxOf, deepseekLike } from "./hf.ts"

// Qwen3-Next linear-attention layer (config values in data/reference/hf-configs/qwen3-next-80b-a3b.json).
const linear: LayerTemplate = {
  type: "ffn_layer",
  config: {
    attn_config: {
      type: "linear",
      variant: "gated_deltanet",
      d_model: 2048,
      num_attention_heads: 32,
      num_key_heads: 16,
      key_head_dim: 128,
      value_head_dim: 128,
      conv_kernel_dim: 4
    },
    ffn_config: { d_model: 2048, d_ff: 5120, hidden_act: "silu" }
  }
}

describe("linear attention: a fixed state, not a growing cache", () => {
  it("per-token KV figure x tokens = the state per sequence, whatever the length (tp 4)", () => {
    for (const seq of [1000, 16384]) {
      const ctx = ctxOf({ precision: { ...BF16, kv_cache: "fp32" }, seq_len: seq, parallel: { tp: 4 } })
      // per GPU: 8 value heads x 128 x 128 x 4 B = 524,288; conv (4-1) x (2*4*128 + 8*128) x 2 B = 12,288
      expect(kvBytesPerTokenPerGpu(linear, ctx) * seq).toBeCloseTo(536_576, 6)
    }
  })

  it("ops: in_proj_qkvz, in_proj_ba, the recurrence, the gated norm, o_proj (tp 4)", () => {
    const specs = planLayer(linear, ctxOf({ precision: BF16, parallel: { tp: 4 } }))
    expect(specs.map((s) => s.name).slice(0, 6)).toEqual(["attn_norm", "in_proj_qkvz", "in_proj_ba", "linear_attention", "out_norm", "o_proj"])
    // in_proj_qkvz per GPU: 2*4*128 + 2*8*128 = 3,072 outputs
    expect(specs[1].params.out_features).toBe(3072)
  })

  it("weights per GPU (tp 1, BF16): projections, conv, A_log/dt_bias, norm, o_proj, the FFN and two norms", () => {
    // in_proj 2048*(4096 + 8192) + 2048*64 = 25,296,896; o 4096*2048 = 8,388,608; conv 4*8192 = 32,768;
    // norm 128 + A_log/dt_bias 64; FFN 3*2048*5120 = 31,457,280; layer norms 2*2048 = 4,096 -> 65,179,840 x 2 B
    expect(layerWeightBytesPerGpu(linear, ctxOf({ precision: BF16 }))).toBe(2 * 65_179_840)
  })
})

describe("chunked local attention keeps one chunk of cache", () => {
  const chunked: LayerTemplate = {
    type: "ffn_layer",
    config: {
      attn_config: { type: "GQA", d_model: 5120, num_attention_heads: 40, num_key_value_heads: 8, head_dim: 128, attention_chunk_size: 8192 },
      ffn_config: { d_model: 5120, d_ff: 16384, hidden_act: "silu" }
    }
  }
  it("at 20000 tokens the cache holds the last 3616 (20000 - 2 x 8192) tokens' K and V", () => {
    const ctx = ctxOf({ precision: BF16, seq_len: 20000 })
    // 2 x 8 heads x 128 x 2 B = 4,096 B per token, x 3,616 tokens
    expect(kvBytesPerTokenPerGpu(chunked, ctx) * 20000).toBeCloseTo(4096 * 3616, 6)
  })
})

describe("DSA keeps the indexer key beside the MLA latent", () => {
  it("DeepSeek-V3.2: 576 x 2 B latent + 128 FP8 + one FP32 scale = 1,284 B per token per layer", () => {
    const ds = deepseekLike("deepseek-v3")
    const t: LayerTemplate = {
      type: "ffn_layer",
      config: { ...ds.dense.config, attn_config: { ...ds.attn, index_n_heads: 64, index_head_dim: 128, index_topk: 2048 } } as any
    }
    expect(kvBytesPerTokenPerGpu(t, ctxOf({ precision: BF16 }))).toBe(1284)
  })
})

describe("per-layer precision (a scenario entry's precision)", () => {
  const gqa: LayerTemplate = {
    type: "ffn_layer",
    config: {
      attn_config: { type: "GQA", d_model: 4096, num_attention_heads: 32, num_key_value_heads: 8 },
      ffn_config: { d_model: 4096, d_ff: 14336, hidden_act: "silu" }
    }
  }
  const model = modelOf({
    spec: { precision: { weights: "bf16", activations: "bf16", kv_cache: "fp8" } },
    entries: [
      { index: 0, entry: { type: "ffn_layer", config: "a.yaml", repeat: 3, name: "local" }, template: gqa },
      { index: 1, entry: { type: "ffn_layer", config: "a.yaml", name: "global", precision: { kv_cache: "bf16" } }, template: gqa }
    ]
  })
  const ctx = ctxOf({ precision: model.precision })

  it("BF16 KV only on the overridden entry: 2 x 8 x 128 x 2 B = 4,096 B vs 2,048 B per token", () => {
    expect(kvBytesPerTokenPerGpu(model.entries[0].template, ctx)).toBe(2048)
    expect(kvBytesPerTokenPerGpu(model.entries[1].template, ctx)).toBe(4096)
  })

  it("the override reaches the op specs (the attention core's kv_dtype), other fields stay", () => {
    const core = (i: number) => planLayer(model.entries[i].template, ctx).find((s) => s.category === "attention_core")!.params
    expect(core(0).kv_dtype).toBe("fp8")
    expect(core(1).kv_dtype).toBe("bf16")
    expect(core(1).act_dtype).toBe("bf16")
  })
})

import { describe, expect, it } from "vitest"
import { activationBytesPerGpu, kvBytesPerTokenPerGpu, layerWeightBytesPerGpu, lmHeadWeightBytesPerGpu, planLayer, planLmHead } from "../../src/layers/index.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { evaluateOpCost, OP_FORMULAS } from "../../src/ops/registry.ts"
import type { OpParams, OpSpec } from "../../src/ops/types.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { BF16, ctxOf, deepseekLike, FP8, gptOssSliding, llamaLike } from "./hf.ts"

const ds = deepseekLike("deepseek-v3")
const llama70 = llamaLike("llama-3.1-70b")
const llama405 = llamaLike("llama-3.1-405b")

const flopsOf = (specs: ReadonlyArray<OpSpec>) => specs.reduce((sum, s) => sum + evaluateOpCost(s).flops, 0)

describe("whole-model decode FLOPs at batch 1, KV length 1 = 2 x active params (no input embedding)", () => {
  it("DeepSeek-V3, FP8 weights, tp = dp = ep = 1: 73.25 GFLOP", () => {
    const ctx = ctxOf({ precision: FP8 })
    const total = ds.nDense * flopsOf(planLayer(ds.dense, ctx)) + ds.nMoe * flopsOf(planLayer(ds.moe, ctx)) + flopsOf(planLmHead(ds.lm, ctx))
    // Active params: per layer MLA 7168*1536 + 1536*128*192 + 7168*576 + 512*128*256 + 128*128*7168
    //   = 11,010,048 + 37,748,736 + 4,128,768 + 16,777,216 + 117,440,512 = 187,105,280 (x 61)
    // dense FFN 3*7168*18432 = 396,361,728 (x 3); MoE (8+1)*3*7168*2048 + 7168*256 = 398,196,736 (x 58)
    // LM head 7168*129280 = 926,679,040. Sum 36,624,596,992; x 2 = 73,249,193,984 FLOP.
    expect(ds.nDense).toBe(3)
    expect(ds.nMoe).toBe(58)
    expect(Math.abs(total / 73_249_193_984 - 1)).toBeLessThan(0.005)
  })

  it("Llama-3.1-70B, BF16: 139.0 GFLOP", () => {
    const ctx = ctxOf({ precision: BF16 })
    const total = llama70.nLayers * flopsOf(planLayer(llama70.layer, ctx)) + flopsOf(planLmHead(llama70.lm, ctx))
    // per layer: QKV 8192*(8192 + 2*1024) = 83,886,080; o 8192*8192 = 67,108,864; FFN 3*8192*28672
    //   = 704,643,072 -> 855,638,016 (x 80); LM head 8192*128256 = 1,050,673,152.
    // Sum 69,501,714,432; x 2 = 139,003,428,864 FLOP.
    expect(Math.abs(total / 139_003_428_864 - 1)).toBeLessThan(0.005)
  })
})

describe("KV cache bytes per token per layer", () => {
  it("DeepSeek-V3 BF16: (512 + 64) * 2 = 1152 B/layer, 61 layers = 70,272 B (ISCA'25 Table 1: 70.272 KB)", () => {
    const ctx = ctxOf({ precision: BF16 })
    expect(kvBytesPerTokenPerGpu(ds.moe, ctx)).toBe(1152)
    expect(ds.nDense * kvBytesPerTokenPerGpu(ds.dense, ctx) + ds.nMoe * kvBytesPerTokenPerGpu(ds.moe, ctx)).toBe(70_272)
    // MLA latent is replicated on every TP rank, not split.
    expect(kvBytesPerTokenPerGpu(ds.moe, ctxOf({ precision: BF16, parallel: { tp: 8, ep: 8 } }))).toBe(1152)
    expect(kvBytesPerTokenPerGpu(ds.moe, ctxOf({ precision: { ...BF16, kv_cache: "fp8" } }))).toBe(576)
  })

  it("Llama-3.1-405B: 2 * 8 * 128 * 2 B * 126 layers = 516,096 B (ISCA'25 Table 1: 516.096 KB)", () => {
    expect(kvBytesPerTokenPerGpu(llama405.layer, ctxOf({ precision: BF16 })) * llama405.nLayers).toBe(516_096)
    // tp 8: 8 KV heads / 8 = 1 per GPU -> 2 * 1 * 128 * 2 = 512
    expect(kvBytesPerTokenPerGpu(llama405.layer, ctxOf({ precision: BF16, parallel: { tp: 8 } }))).toBe(512)
    // tp 16 > 8 KV heads: replicated, still 1 head per GPU
    expect(kvBytesPerTokenPerGpu(llama405.layer, ctxOf({ precision: BF16, parallel: { tp: 16 } }))).toBe(512)
  })

  it("sliding window: per-token bytes averaged over seq_len (cache holds min(seq_len, window) tokens)", () => {
    // gpt-oss-120b sliding layer: 2 * 8 * 64 * 2 = 2048 B/token at full length; window 128 of 1024
    const t = gptOssSliding("gpt-oss-120b")
    expect(kvBytesPerTokenPerGpu(t, ctxOf({ precision: BF16, seq_len: 1024 }))).toBe(256)
    expect(kvBytesPerTokenPerGpu(t, ctxOf({ precision: BF16, seq_len: 100 }))).toBe(2048)
  })

  it("comm layers hold no KV", () => {
    expect(kvBytesPerTokenPerGpu({ type: "comm_layer", config: { comm_config: { payload_mb: 1, pattern: "p2p" } } }, ctxOf())).toBe(0)
  })
})

describe("weights per GPU", () => {
  it("DeepSeek-V3 all-BF16 on one GPU: 2 B x (671,025,397,760 params + 1,006,592 norm weights)", () => {
    const ctx = ctxOf({ precision: BF16 })
    const total = ds.nDense * layerWeightBytesPerGpu(ds.dense, ctx) + ds.nMoe * layerWeightBytesPerGpu(ds.moe, ctx) + lmHeadWeightBytesPerGpu(ds.lm, ctx)
    // params: 61 * 187,105,280 (MLA) + 3 * 396,361,728 (dense FFN)
    //   + 58 * (256 * 44,040,192 routed + 44,040,192 shared + 7168*256 router = 11,320,164,352)
    //   + 2 * 926,679,040 (embedding + LM head) = 671,025,397,760 (data/reference/README.md: 671.0B)
    // norms: 61 * (2*7168 + 1536 + 512) + 7168 final = 1,006,592
    expect(total).toBe(2 * (671_025_397_760 + 1_006_592))
  })

  it("Llama-3.1-70B layer at tp 8, BF16", () => {
    // QKV 8192 * (8 + 2*1) * 128 = 10,485,760; o 8*128*8192 = 8,388,608; FFN 3*8192*3584 = 88,080,384
    // (10,485,760 + 8,388,608 + 88,080,384) * 2 B = 213,909,504; norms 2 * 8192 * 2 = 32,768
    expect(layerWeightBytesPerGpu(llama70.layer, ctxOf({ precision: BF16, parallel: { tp: 8 } }))).toBe(213_909_504 + 32_768)
  })

  it("DeepSeek-V3 MoE layer at dp = ep = 32, FP8: 8 local experts, full router, replicated shared expert", () => {
    const ctx = ctxOf({ precision: FP8, parallel: { dp: 32, ep: 32 } })
    // attention: 187,105,280 * 1 B + q/kv norm gammas (1536 + 512) * 2 = 4,096; layer norms 2*7168*2 = 28,672
    // experts 8 * 44,040,192 = 352,321,536; router 256 * 7168 * 2 = 3,670,016; shared 44,040,192
    expect(layerWeightBytesPerGpu(ds.moe, ctx)).toBe(187_105_280 + 4_096 + 28_672 + 352_321_536 + 3_670_016 + 44_040_192)
  })

  it("LM head + input embedding split by tp, in the lm_head dtype", () => {
    // DeepSeek-V3 tp 8: 129280 / 8 = 16,160 rows; 2 tables * 16,160 * 7168 * 2 B = 463,339,520; final norm 7168 * 2
    expect(lmHeadWeightBytesPerGpu(ds.lm, ctxOf({ parallel: { tp: 8 } }))).toBe(463_339_520 + 14_336)
  })
})

describe("activation bytes", () => {
  it("Llama-3.1-70B decode, batch 1: residual + normed input + the wider block's intermediates", () => {
    // residual + norm output: 2 * 8192 = 16,384 elements
    // attention: QKV (64 + 16) * 128 = 10,240 + O 64 * 128 = 8,192 -> 18,432
    // FFN: gate_up 2 * 28672 + act 28672 + down out 8192 = 94,208 (wider)
    // (16,384 + 94,208) * 2 B = 221,184
    const ctx = ctxOf({ precision: BF16 })
    expect(activationBytesPerGpu(llama70.layer, ctx)).toBe(221_184)
    // prefill of 100 tokens: 100x
    expect(activationBytesPerGpu(llama70.layer, ctxOf({ precision: BF16, phase: "prefill", seq_len: 100 }))).toBe(22_118_400)
  })

  it("MoE: grows with routed pairs; comm layer holds its payload", () => {
    const small = activationBytesPerGpu(ds.moe, ctxOf({ batch_size: 1 }))
    const big = activationBytesPerGpu(ds.moe, ctxOf({ batch_size: 64 }))
    expect(big).toBeGreaterThan(small)
    expect(activationBytesPerGpu({ type: "comm_layer", config: { comm_config: { payload_mb: 3, pattern: "all_reduce" } } }, ctxOf())).toBe(3e6)
  })
})

describe("op spec contract", () => {
  const templates: Array<LayerTemplate> = [
    ds.dense,
    ds.moe,
    llama70.layer,
    gptOssSliding("gpt-oss-120b"),
    {
      type: "ffn_layer",
      config: {
        attn_config: { type: "GQA", d_model: 1024, num_attention_heads: 8, qk_norm: true },
        ffn_config: { d_model: 1024, d_ff: 4096, hidden_act: "gelu", gated: false }
      }
    },
    { type: "moe_layer", config: { attn_config: { ...ds.attn, q_lora_rank: 0 }, moe_config: ds.moeConfig } },
    // DeepSeek-V3.2 DSA; Step-3 low-rank query; Llama-4 chunked + gpt-oss sinks + Qwen3-Next gate.
    { type: "moe_layer", config: { attn_config: { ...ds.attn, index_n_heads: 64, index_head_dim: 128, index_topk: 2048 }, moe_config: ds.moeConfig } },
    {
      type: "ffn_layer",
      config: {
        attn_config: {
          type: "GQA",
          d_model: 1024,
          num_attention_heads: 8,
          num_key_value_heads: 1,
          head_dim: 128,
          q_lora_rank: 256,
          attention_chunk_size: 128,
          attention_sinks: true,
          output_gate: true
        },
        ffn_config: { d_model: 1024, d_ff: 4096, hidden_act: "silu" }
      }
    },
    {
      type: "ffn_layer",
      config: {
        attn_config: {
          type: "linear",
          variant: "gated_deltanet",
          d_model: 1024,
          num_attention_heads: 32,
          num_key_heads: 16,
          key_head_dim: 128,
          value_head_dim: 128,
          conv_kernel_dim: 4
        },
        ffn_config: { d_model: 1024, d_ff: 4096, hidden_act: "silu" }
      }
    },
    {
      type: "ffn_layer",
      config: {
        attn_config: { type: "linear", variant: "lightning", d_model: 1024, num_attention_heads: 8, num_key_heads: 8, key_head_dim: 128, value_head_dim: 128 },
        ffn_config: { d_model: 1024, d_ff: 4096, hidden_act: "silu" }
      }
    },
    { type: "comm_layer", config: { comm_config: { payload_mb: 2, pattern: "p2p" } } },
    { type: "comm_layer", config: { comm_config: { payload_mb: 2, pattern: "all_gather", num_ranks: 16 } } }
  ]
  const contexts: Array<LayerContext> = [
    ctxOf({ phase: "prefill", batch_size: 2, seq_len: 300 }),
    ctxOf({ batch_size: 16, seq_len: 3000, parallel: { dp: 16, ep: 16 } }),
    ctxOf({ batch_size: 3, seq_len: 777, precision: { ...BF16, moe_experts: "mxfp4" }, parallel: { tp: 8, ep: 8 } }),
    ctxOf({ phase: "prefill", seq_len: 512, parallel: { tp: 4, dp: 8, ep: 32 }, tokens_per_expert: 100 }),
    ctxOf({ batch_size: 5, seq_len: 10, parallel: { tp: 8, ep: 1 } })
  ]
  const all = (): Array<OpSpec> => {
    const out: Array<OpSpec> = []
    for (const ctx of contexts) {
      for (const t of templates) out.push(...planLayer(t, ctx))
      out.push(...planLmHead(ds.lm, ctx))
    }
    return out
  }

  it("op names are unique within each layer", () => {
    for (const ctx of contexts) {
      for (const t of templates) {
        const names = planLayer(t, ctx).map((s) => s.name)
        expect(new Set(names).size).toBe(names.length)
      }
      const names = planLmHead(ds.lm, ctx).map((s) => s.name)
      expect(new Set(names).size).toBe(names.length)
    }
  })

  it("every op's params are exactly the keys its formula reads", () => {
    for (const spec of all()) {
      const read = new Set<string>()
      const params = new Proxy(spec.params, {
        get: (target, key) => {
          if (typeof key === "string") read.add(key)
          return Reflect.get(target, key)
        }
      }) as OpParams
      OP_FORMULAS[spec.kind].cost(params)
      expect([...Object.keys(spec.params)].sort(), `${spec.kind}:${spec.name}`).toEqual([...Object.keys(spec.params)].filter((k) => read.has(k)).sort())
    }
  })

  it("every op sets kernels and notes; compute ops a math dtype; comm ops a link; GEMM-like ops shapes", () => {
    const kinds = new Set<string>()
    for (const spec of all()) {
      kinds.add(spec.kind)
      const c = evaluateOpCost(spec)
      expect(c.kernels).toBeGreaterThanOrEqual(1)
      expect(c.notes.length).toBeGreaterThan(0)
      for (const v of [c.flops, c.bytes_read, c.bytes_written, c.comm_bytes]) expect(Number.isFinite(v) && v >= 0).toBe(true)
      if (spec.category === "comm") expect(c.link).toBeDefined()
      else expect(c.math_dtype).toBeDefined()
      if (["linear", "mla_absorbed_bmm", "ffn", "moe_router"].includes(spec.kind)) expect(c.gemms?.length).toBeGreaterThan(0)
    }
    // The samples exercise every registered formula.
    expect([...kinds].sort()).toEqual(Object.keys(OP_FORMULAS).sort())
  })

  it("attention op params do not change when num_experts_per_tok changes", () => {
    const other: LayerTemplate = { type: "moe_layer", config: { attn_config: ds.attn, moe_config: { ...ds.moeConfig, num_experts_per_tok: 6 } } }
    for (const ctx of contexts) {
      const attn = (t: LayerTemplate) =>
        planLayer(t, ctx)
          .filter((s) => s.category === "attention_linear" || s.category === "attention_core")
          .map((s) => [s.name, s.params])
      expect(attn(other)).toEqual(attn(ds.moe))
      expect(attn(ds.moe).length).toBeGreaterThan(4)
      // ...while the router's params do change.
      const router = (t: LayerTemplate) => planLayer(t, ctx).find((s) => s.name === "router")?.params
      expect(router(other)).not.toEqual(router(ds.moe))
    }
  })

  it("ops come in execution order with the pre-attention and pre-FFN norms", () => {
    expect(planLayer(llama70.layer, ctxOf({ parallel: { tp: 2 } })).map((s) => s.name)).toEqual([
      "attn_norm",
      "qkv_proj",
      "attention",
      "o_proj",
      "attn_all_reduce",
      "ffn_norm",
      "ffn",
      "ffn_all_reduce"
    ])
    expect(planLayer(ds.moe, ctxOf({ parallel: { dp: 16, ep: 16 } })).map((s) => s.name)).toEqual([
      "attn_norm",
      "q_down_proj",
      "q_norm",
      "q_up_proj",
      "kv_down_proj",
      "kv_norm",
      "uk_absorb",
      "attention",
      "uv_absorb",
      "o_proj",
      "ffn_norm",
      "router",
      "shared_experts",
      "dispatch_nic",
      "dispatch_nvlink",
      "experts",
      "combine_nic",
      "combine_nvlink"
    ])
  })
})

describe("MoE reductions", () => {
  it("pure TP experts (tp 8, ep 1): moe_tp = 8, one all-reduce of T * d_model after the MoE", () => {
    // DeepSeek-V3 MoE, experts TP-split 8 ways: batch 4 -> payload 4 * 7168 * 2 = 57,344; 2 * 7/8 * 57,344 = 100,352
    const specs = planLayer(ds.moe, ctxOf({ batch_size: 4, parallel: { tp: 8, ep: 1 } }))
    const ar = specs.find((s) => s.name === "moe_all_reduce")!
    expect(ar.params).toEqual({ pattern: "all_reduce", payload_bytes: 57_344, ranks: 8, link: "interconnect" })
    expect(evaluateOpCost(ar).comm_bytes).toBe(100_352)
    // expert intermediate 2048 / 8 = 256 per GPU, all 256 experts local
    expect(specs.find((s) => s.name === "experts")!.params.intermediate).toBe(256)
  })

  it("DP attention + EP (tp 1, moe_tp 1): no all-reduce", () => {
    expect(planLayer(ds.moe, ctxOf({ parallel: { dp: 8, ep: 8 } })).some((s) => s.name === "moe_all_reduce")).toBe(false)
  })
})

describe("LM head", () => {
  it("embedding and final norm on all T tokens, vocab GEMM on batch_size tokens only", () => {
    const specs = planLmHead(ds.lm, ctxOf({ phase: "prefill", batch_size: 2, seq_len: 100, parallel: { tp: 8, ep: 8 } }))
    const p = Object.fromEntries(specs.map((s) => [s.name, s]))
    expect(specs.every((s) => s.category === "lm_head" || s.category === "comm")).toBe(true)
    expect(p.embedding.params.tokens).toBe(200)
    expect(p.final_norm.params.tokens).toBe(200)
    expect(p.lm_head.params).toEqual({ tokens: 2, in_features: 7168, out_features: 16_160, weight_dtype: "bf16", act_dtype: "bf16" })
    // 2 * 2 * 7168 * 16160 = 463,339,520
    expect(evaluateOpCost(p.lm_head).flops).toBe(463_339_520)
    expect(evaluateOpCost(p.embedding).flops).toBe(0)
    expect(p.logits_all_gather.params.payload_bytes).toBe(2 * 129_280 * 2)
  })
})

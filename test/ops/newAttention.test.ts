/**
 * The 2025 attention variants' op formulas, hand-worked: chunked local attention (Llama-4),
 * attention sinks (gpt-oss), DSA's lightning indexer and top-k MLA (DeepSeek-V3.2), and linear
 * attention with a fixed-size state (Qwen3-Next gated DeltaNet, MiniMax lightning).
 */
import { describe, expect, it } from "vitest"
import { chunkedDecodeKeys, chunkedPairs } from "../../src/ops/attention.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { OpParams } from "../../src/ops/types.ts"

const cost = (kind: string, params: OpParams) => evaluateOpCost({ kind, name: kind, category: "attention_core", params })

describe("chunked local attention (Llama-4 attention_chunk_size)", () => {
  it("pair count matches a brute-force loop over (query, key) in the same chunk, key <= query", () => {
    for (let s = 1; s <= 40; s++) {
      for (const c of [1, 3, 7, 16]) {
        let count = 0
        for (let q = 0; q < s; q++) for (let k = 0; k <= q; k++) if (Math.floor(q / c) === Math.floor(k / c)) count++
        expect(chunkedPairs(s, c)).toBe(count)
      }
    }
  })

  it("S = 20000, chunk 8192: two full chunks of 8192*8193/2 and a last one of 3616", () => {
    // 2 * 33,558,528 = 67,117,056; 3616 * 3617 / 2 = 6,539,536; sum 73,656,592
    expect(chunkedPairs(20000, 8192)).toBe(73_656_592)
    // decode: the query is token 20000, its chunk starts after 16384: 3616 keys
    expect(chunkedDecodeKeys(20000, 8192)).toBe(3616)
    expect(chunkedDecodeKeys(8192, 8192)).toBe(8192)
    expect(chunkedDecodeKeys(8193, 8192)).toBe(1)
  })

  it("prefill FLOPs use the chunked pairs: 4 * h * pairs * head_dim", () => {
    const c = cost("gqa_attention_prefill", {
      batch: 1,
      seq_len: 20000,
      q_heads: 5,
      kv_heads: 1,
      head_dim: 128,
      window: 0,
      act_dtype: "bf16",
      kv_dtype: "bf16",
      chunk: 8192
    })
    // 4 * 5 * 73,656,592 * 128 = 188,560,875,520
    expect(c.flops).toBe(188_560_875_520)
  })
})

describe("attention sinks (gpt-oss)", () => {
  const base = { batch: 4, kv_len: 1000, q_heads: 64, kv_heads: 8, head_dim: 64, window: 128, act_dtype: "bf16", kv_dtype: "bf16" }
  it("decode: +2 FLOPs per (query, head) and the 64 sink logits read once", () => {
    const plain = cost("gqa_attention_decode", base)
    const sinks = cost("gqa_attention_decode", { ...base, sinks: true })
    // plain: 4 * 2 * 64 * 128 keys * 64 * 2 = 8,388,608 FLOPs
    expect(plain.flops).toBe(8_388_608)
    // sinks: + 2 * 4 queries * 64 heads = 512
    expect(sinks.flops).toBe(8_389_120)
    // plain reads 4 * 128 * 2 * 8 * 64 * 2 B (KV) + 4 * 64 * 64 * 2 B (Q) = 1,048,576 + 32,768; sinks + 64 * 2 B
    expect(plain.bytes_read).toBe(1_081_344)
    expect(sinks.bytes_read).toBe(1_081_472)
    expect(sinks.bytes_written).toBe(plain.bytes_written)
  })
})

describe("DeepSeek sparse attention (DeepSeek-V3.2: 64 indexer heads of 128, top-2048)", () => {
  it("indexer decode: (2HD + 3H) FLOPs per cached key, FP8 keys + FP32 scales, FP32 logits", () => {
    const c = cost("dsa_indexer_decode", { batch: 2, kv_len: 4096, index_heads: 64, index_head_dim: 128, topk: 2048 })
    // per pair 2*64*128 + 3*64 = 16,576; x 2 * 4096 = 135,790,592
    expect(c.flops).toBe(135_790_592)
    // key cache 2*4096*(128 + 4) = 1,081,344; q 2*64*128 = 16,384; weights 2*64*4 = 512; logits 2*4096*4 = 32,768
    expect(c.bytes_read).toBe(1_131_008)
    // logits 32,768 + new keys 2*132 = 264 + indices 2*2048*4 = 16,384
    expect(c.bytes_written).toBe(49_416)
    expect(c.math_dtype).toBe("fp8")
  })

  it("indexer prefill: causal pairs of the prompt; indices min(i, topk) per query", () => {
    const c = cost("dsa_indexer_prefill", { batch: 1, seq_len: 10, index_heads: 2, index_head_dim: 4, topk: 3 })
    // pairs 10*11/2 = 55; per pair 2*2*4 + 3*2 = 22: 1,210 FLOPs
    expect(c.flops).toBe(1210)
    // key bytes 4 + 4*ceil(4/128) = 8; read: q 10*2*4 = 80, k 10*8 = 80, w 10*2*4 = 80, logits 55*4 = 220
    expect(c.bytes_read).toBe(460)
    // written: logits 220, keys 80, indices (1+2+3*8 = 27) * 4 = 108
    expect(c.bytes_written).toBe(408)
  })

  it("MLA decode with topk reads only the selected latent rows", () => {
    const p = { batch: 1, kv_len: 4096, heads: 128, kv_lora_rank: 512, qk_rope_head_dim: 64, act_dtype: "bf16", kv_dtype: "bf16" }
    const dense = cost("mla_attention_decode", p)
    const sparse = cost("mla_attention_decode", { ...p, topk: 2048 })
    // 2*128*2048*(576 + 512) = 570,425,344 (half the dense 1,140,850,688)
    expect(sparse.flops).toBe(570_425_344)
    expect(dense.flops).toBe(1_140_850_688)
    // 2048 * 576 * 2 B + 128 * 576 * 2 B = 2,359,296 + 147,456
    expect(sparse.bytes_read).toBe(2_506_752)
  })
})

describe("linear attention with a fixed-size state (Qwen3-Next gated DeltaNet, tp 1)", () => {
  // 32 value heads, 16 key heads, dk = dv = 128, conv width 4, fp32 state.
  const shape = {
    variant: "gated_deltanet",
    heads: 32,
    key_heads: 16,
    key_head_dim: 128,
    value_head_dim: 128,
    conv_kernel_dim: 4,
    act_dtype: "bf16",
    state_dtype: "fp32"
  }

  it("decode: 7*dk*dv per head + the conv; reads and writes the whole state once", () => {
    const c = cost("linear_attention_decode", { ...shape, batch: 1 })
    // 32 * 7 * 16,384 = 3,670,016; conv channels 2*16*128 + 32*128 = 8,192: 2*4*8,192 = 65,536
    expect(c.flops).toBe(3_735_552)
    // state 32*128*128*4 = 2,097,152 + conv state 3*8,192*2 = 49,152 -> 2,146,304
    // inputs (4,096 + 4,096 + 64 gates) * 2 = 16,512; conv reads (1 + 4) * 8,192 * 2 = 81,920
    expect(c.bytes_read).toBe(16_512 + 2_146_304 + 81_920)
    // O 4,096 * 2 = 8,192; state; conv output 8,192 * 2 = 16,384
    expect(c.bytes_written).toBe(8_192 + 2_146_304 + 16_384)
  })

  it("decode cost does not grow with the context (no kv_len param at all)", () => {
    const c = cost("linear_attention_decode", { ...shape, batch: 3 })
    expect(c.flops).toBe(3 * 3_735_552)
  })

  it("prefill: chunkwise over ceil(s/64) chunks", () => {
    const c = cost("linear_attention_prefill", { ...shape, batch: 1, seq_len: 100, chunk: 64 })
    // per chunk and head: 6*64^2*128 = 3,145,728; 4*64^2*128 = 2,097,152; 64*63*62/3 = 83,328;
    // 6*64*128*128 = 6,291,456; 128*128 = 16,384: 11,634,048. x 2 chunks x 32 heads = 744,579,072
    // conv 2*4*8,192*100 = 6,553,600
    expect(c.flops).toBe(751_132_672)
  })

  it("lightning prefill: 2 blocks of 256 for 300 tokens", () => {
    const c = cost("linear_attention_prefill", {
      variant: "lightning",
      heads: 1,
      key_heads: 1,
      key_head_dim: 128,
      value_head_dim: 128,
      conv_kernel_dim: 0,
      act_dtype: "bf16",
      state_dtype: "bf16",
      batch: 1,
      seq_len: 300,
      chunk: 256
    })
    // per block 2*256^2*128 + 2*256^2*128 = 33,554,432; 4*256*128*128 = 16,777,216; 128*128 = 16,384
    // = 50,348,032; x 2 blocks
    expect(c.flops).toBe(100_696_064)
  })

  it("lightning decode: 5*dk*dv per head, no conv", () => {
    const c = cost("linear_attention_decode", {
      variant: "lightning",
      heads: 64,
      key_heads: 64,
      key_head_dim: 128,
      value_head_dim: 128,
      conv_kernel_dim: 0,
      act_dtype: "bf16",
      state_dtype: "bf16",
      batch: 1
    })
    // 64 * 5 * 16,384 = 5,242,880
    expect(c.flops).toBe(5_242_880)
    // state 64*128*128*2 = 2,097,152; q, k, v in 3*64*128*2 = 49,152
    expect(c.bytes_read).toBe(2_097_152 + 49_152)
  })
})

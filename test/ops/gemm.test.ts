import { describe, expect, it } from "vitest"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { mathDtype, wgradGemmCost } from "../../src/ops/gemm.ts"

const linear = (weight: string, tokens = 4) =>
  evaluateOpCost({
    kind: "linear",
    name: "q_down_proj",
    category: "attention_linear",
    params: { tokens, in_features: 7168, out_features: 1536, weight_dtype: weight, act_dtype: "bf16" }
  })

describe("linear GEMM", () => {
  it("FP8 weights: fp8 math, FP8 input bytes, BF16 output", () => {
    const c = linear("fp8")
    // 2 * 4 * 7168 * 1536 = 88,080,384
    expect(c.flops).toBe(88_080_384)
    // weights 7168 * 1536 * 1 = 11,010,048; input 4 * 7168 * 1 = 28,672
    expect(c.bytes_read).toBe(11_010_048 + 28_672)
    // output 4 * 1536 * 2 = 12,288
    expect(c.bytes_written).toBe(12_288)
    expect(c.math_dtype).toBe("fp8")
    expect(c.gemms).toEqual([{ m: 4, n: 1536, k: 7168, groups: 1 }])
    expect(c.kernels).toBe(1)
  })

  it("BF16 weights: bf16 math, 2-byte input", () => {
    const c = linear("bf16")
    // 7168 * 1536 * 2 = 22,020,096; input 4 * 7168 * 2 = 57,344
    expect(c.bytes_read).toBe(22_020_096 + 57_344)
    expect(c.math_dtype).toBe("bf16")
  })

  it("MXFP4 weights are dequantized: activation-dtype math, 4.25 bits per weight", () => {
    const c = linear("mxfp4")
    // 11,010,048 * 4.25 / 8 = 344,064 * 17 = 5,849,088; input BF16 57,344
    expect(c.bytes_read).toBe(5_849_088 + 57_344)
    expect(c.math_dtype).toBe("bf16")
  })

  it("math dtype from dtypes alone", () => {
    expect(mathDtype("fp8", "bf16")).toBe("fp8")
    expect(mathDtype("int8", "bf16")).toBe("int8")
    expect(mathDtype("fp4", "bf16")).toBe("bf16")
    expect(mathDtype("int4", "fp16")).toBe("fp16")
    expect(mathDtype("bf16", "bf16")).toBe("bf16")
  })
})

describe("ffn op (dense gated FFN, Llama-3.1-70B d 8192, d_ff 28672 / tp 8 = 3584)", () => {
  it("6 * tokens * d * I FLOPs, 3 weight matrices, 3 kernels", () => {
    const c = evaluateOpCost({
      kind: "ffn",
      name: "ffn",
      category: "ffn",
      params: { tokens: 2, d_model: 8192, intermediate: 3584, gated: true, weight_dtype: "bf16", act_dtype: "bf16" }
    })
    // 2 * 2 * 8192 * 3584 * 3 = 352,321,536
    expect(c.flops).toBe(352_321_536)
    // weights 3 * 8192 * 3584 * 2 = 176,160,768; gate_up input 2*8192*2 = 32,768;
    // SiLU*mul input 2 * 7168 * 2 = 28,672; down input 2 * 3584 * 2 = 14,336
    expect(c.bytes_read).toBe(176_160_768 + 32_768 + 28_672 + 14_336)
    // gate_up out 28,672 + act out 14,336 + down out 2 * 8192 * 2 = 32,768
    expect(c.bytes_written).toBe(28_672 + 14_336 + 32_768)
    expect(c.kernels).toBe(3)
    expect(c.gemms).toEqual([
      { m: 2, n: 7168, k: 8192, groups: 1 },
      { m: 2, n: 8192, k: 3584, groups: 1 }
    ])
  })

  it("not gated: 2 weight matrices", () => {
    const c = evaluateOpCost({
      kind: "ffn",
      name: "ffn",
      category: "ffn",
      params: { tokens: 1, d_model: 1024, intermediate: 4096, gated: false, weight_dtype: "bf16", act_dtype: "bf16" }
    })
    // 2 * 1 * 1024 * 4096 * 2 = 16,777,216
    expect(c.flops).toBe(16_777_216)
  })
})

describe("weight-gradient GEMM (FP8 1D1D, FP32 accumulate)", () => {
  it("counts FP8 A and B, their 1x128 FP32 scales, an FP32 D read and written, one FMUL per accumulator per K block", () => {
    // 2 groups of 256 x 128 over k = 300: ceil(300 / 128) = 3 scale blocks
    const c = wgradGemmCost({ m: 256, n: 128, k: 300, groups: 2 }, "t")
    // 2 * 256 * 128 * 300 * 2 = 39,321,600
    expect(c.flops).toBe(39_321_600)
    // A + B: (256 + 128) * 300 * 2 = 230,400; scales: (256 + 128) * 3 * 4 * 2 = 9,216; D: 256 * 128 * 4 * 2 = 262,144
    expect(c.bytes_read).toBe(230_400 + 9_216 + 262_144)
    expect(c.bytes_written).toBe(262_144)
    // 256 * 128 accumulators * 3 blocks * 2 groups = 196,608
    expect(c.cuda_core_ops).toBe(196_608)
    expect(c.math_dtype).toBe("fp8")
    expect(c.gemms).toEqual([{ m: 256, n: 128, k: 300, groups: 2 }])
  })
})

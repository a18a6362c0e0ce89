/**
 * Numeric formats and their storage size, as plain data: no effect import, so the pure modules
 * (ops, module, timing, kernel, playbooks) and sweep worker threads load without the schema
 * library (src/schema/dtype.ts is the Schema over the same names). Sizes are bytes per element;
 * 4-bit float formats carry a shared scale per block, folded into an effective size:
 *   mxfp4  32 x 4-bit E2M1 values plus one 8-bit E8M0 scale = 4.25 bits/element (OCP Microscaling
 *          Formats spec v1.0, section 5.2);
 *   fp4    NVFP4: 16 x 4-bit E2M1 values plus one 8-bit E4M3 scale = 4.5 bits/element (NVIDIA,
 *          "Introducing NVFP4 for Efficient and Accurate Low-Precision Inference", 2025: "a
 *          micro-block size of 16 elements" with an FP8 E4M3 scale; the per-tensor FP32 scale is
 *          4 bytes a tensor, left out).
 * int4 is stored without its scales (GPTQ/AWQ: one FP16 scale per group of 128, 1/64 byte an element).
 */

export const DTYPES = ["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "mxfp4", "fp4", "int4"] as const
export type Dtype = (typeof DTYPES)[number]

export const DTYPE_BYTES: Record<Dtype, number> = {
  fp32: 4,
  tf32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  mxfp4: 4.25 / 8,
  fp4: 4.5 / 8,
  int4: 0.5
}

/**
 * Tensor-core math format used when a GEMM multiplies weights of `weight` dtype with
 * activations. FP8 weights run FP8 GEMMs (DeepSeek-V3 quantizes activations to FP8 per
 * 1x128 tile, tech report section 3.3); 4-bit weights are dequantized to the activation
 * dtype on Hopper-class parts unless the hardware lists a native fp4 rate.
 */
export const gemmMathDtype = (weight: Dtype, activation: Dtype, hasRate: (d: Dtype) => boolean): Dtype => {
  if (weight === "fp8" || weight === "int8") return hasRate(weight) ? weight : activation
  if (weight === "fp4" || weight === "mxfp4" || weight === "int4") return hasRate(weight) ? weight : activation
  return weight
}

/** The simulator's default precision when a scenario has no `precision` block. */
export const DEFAULT_PRECISION = { weights: "bf16", activations: "bf16", kv_cache: "bf16" } as const satisfies {
  weights: Dtype
  activations: Dtype
  kv_cache: Dtype
}

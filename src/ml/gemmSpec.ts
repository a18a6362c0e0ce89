/**
 * The op one GEMM is timed as by the GEMM heads (src/ml/heads.ts): a `linear` op for a dense
 * GEMM, else the `grouped_gemm` measurement kind with its layout. The reference measurements
 * (src/accuracy/gemm.ts) and the GEMMs of a fused op (src/ml/estimator.ts) go through this one
 * mapping, so a fused op's GEMM gets exactly the feature row its measured twin has. Pure.
 */
import type { Dtype } from "../schema/dtypes.ts"
import type { GemmShape, OpSpec } from "../ops/types.ts"

export const gemmSpec = (g: GemmShape, weight: Dtype, activation: Dtype): OpSpec =>
  g.groups === 1 && g.layout === undefined
    ? {
        kind: "linear",
        name: "gemm",
        category: "other",
        params: { tokens: g.m, in_features: g.k, out_features: g.n, weight_dtype: weight, act_dtype: activation }
      }
    : {
        kind: "grouped_gemm",
        name: "grouped_gemm",
        category: "moe_experts",
        params: {
          m: g.m,
          n: g.n,
          k: g.k,
          groups: g.groups,
          ...(g.layout === undefined ? {} : { layout: g.layout }),
          weight_dtype: weight,
          act_dtype: activation
        }
      }

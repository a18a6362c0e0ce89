/**
 * Feature rows by hand: a BF16 linear op of 128 tokens, 256 -> 512 features on a peak-only part
 * of 100 TFLOPS and 1,000 GB/s, and the CSV round trip.
 */
import { describe, expect, it } from "vitest"
import { parseCsv } from "../../src/reference/csv.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { FEATURE_COLUMNS, featureRowOf, featuresCsv, featuresJsonl, NO_PLACE, opFeatureRow, parseShape } from "../../src/ml/features.ts"
import { linearSpec, PEAK_HW } from "./fixtures.ts"

describe("opFeatureRow", () => {
  it("a linear op: FLOPs, bytes, intensity, analytic times, GEMM shape and hardware specs", () => {
    const spec = linearSpec(128)
    const r = opFeatureRow(NO_PLACE, spec, evaluateOpCost(spec), "X", PEAK_HW)
    // 2 m n k = 2 * 128 * 512 * 256; weights 256 * 512 * 2 B + input 128 * 256 * 2 B; output 128 * 512 * 2 B.
    expect(r.flops).toBe(33_554_432)
    expect(r.bytes_read).toBe(262_144 + 65_536)
    expect(r.bytes_written).toBe(131_072)
    expect(r.arithmetic_intensity_flops_per_byte).toBeCloseTo(33_554_432 / 458_752, 12)
    // 33.55 MFLOP at 100 TFLOPS = 0.33554 us; 458,752 B at 1,000 GB/s = 0.458752 us; memory-bound.
    expect(r.analytic_compute_us).toBeCloseTo(0.33554432, 12)
    expect(r.analytic_memory_us).toBeCloseTo(0.458752, 12)
    expect(r.analytic_us).toBeCloseTo(0.458752, 12)
    expect([r.gemm_m, r.gemm_n, r.gemm_k, r.gemm_groups]).toEqual([128, 512, 256, 1])
    expect([r.hw_peak_tflops, r.hw_memory_bandwidth_gbps, r.hw_sm_count]).toEqual([100, 1000, 100])
    expect(parseShape(r.shape)).toEqual({ tokens: 128, in_features: 256, out_features: 512, weight_dtype: "bf16", act_dtype: "bf16" })
  })

  it("CSV and JSON Lines: the fixed columns in order, and a CSV row reads back to the same row", () => {
    const spec = linearSpec(64)
    const row = opFeatureRow({ scenario: "s.yaml", phase: "decode", batch_size: 64, seq_len: 1024, layer: "0.ffn" }, spec, evaluateOpCost(spec), "X", PEAK_HW)
    const csv = featuresCsv([row])
    const table = parseCsv(csv)
    expect(csv.startsWith("# llmsim features, schema 1")).toBe(true)
    expect(table.columns).toEqual([...FEATURE_COLUMNS])
    expect(featureRowOf(table.rows[0].values)).toEqual(row)
    expect(Object.keys(JSON.parse(featuresJsonl([row])))).toEqual([...FEATURE_COLUMNS])
    expect(featureRowOf({ ...table.rows[0].values, flops: "many" })).toBe('flops is "many", expected a number')
    expect(featureRowOf({ ...table.rows[0].values, schema_version: "0" })).toMatch(/schema_version is 0/)
  })
})

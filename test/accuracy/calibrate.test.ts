import { describe, expect, it } from "vitest"
import { calibrate, efficiencyBlock, withConstants } from "../../src/accuracy/calibrate.ts"
import { gemmOpCost, predictGemmUs, type GemmMeasurement } from "../../src/accuracy/gemm.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const hw: HardwareSpec = {
  name: "synthetic",
  peak_tflops: 989,
  tflops: { bf16: 989, fp8: 1979 },
  memory_bandwidth_gbps: 3350,
  hbm_gb: 80,
  interconnect_gbps: 200,
  max_concurrency: 2,
  overlap_efficiency: 1,
  sm_count: 132,
  efficiency: { nic: 0.8 }
}

const truth = { compute: 0.7, memory: 0.85, kernel_latency_us: 2.5, sm_load_gbps: 0, tile_m: 64, tile_n: 128 }

/** Rows whose times are exactly what the model predicts with `truth`. */
const synthetic = (): Array<GemmMeasurement> => {
  const t = timingHardware(withConstants(hw, truth))
  const rows: Array<GemmMeasurement> = []
  let line = 1
  for (const m of [64, 128, 192, 512, 4096]) {
    for (const [n, k] of [
      [2112, 7168],
      [24576, 1536],
      [7168, 16384],
      [4096, 7168],
      [3000, 2048]
    ]) {
      const shape = { kind: "dense_fp8" as const, groups: 1, m, n, k }
      rows.push({ ...shape, line: line++, hardware: "synthetic", measured_us: predictGemmUs(gemmOpCost(shape), t), measured_from: "time_us", variant: "" })
    }
  }
  return rows
}

describe("calibrate", () => {
  it("recovers the constants that generated the timings, tile included", () => {
    const r = calibrate(hw, synthetic(), ["compute", "memory", "kernel_latency_us", "tile"])
    expect(r.after.tile_m).toBe(64)
    expect(r.after.tile_n).toBe(128)
    expect(r.after.compute).toBeCloseTo(0.7, 2)
    expect(r.after.memory).toBeCloseTo(0.85, 2)
    expect(r.after.kernel_latency_us).toBeCloseTo(2.5, 1)
    expect(r.after_summary.median_ape).toBeLessThan(0.5)
    expect(r.before_summary.median_ape).toBeGreaterThan(10)
    expect(r.tiles.length).toBeGreaterThan(1)
  })

  it("keeps constants it is not asked to fit", () => {
    const start = withConstants(hw, { ...truth, compute: 0.9, memory: 0.85 })
    const r = calibrate(start, synthetic(), ["compute"])
    expect(r.after.memory).toBe(0.85)
    expect(r.after.kernel_latency_us).toBe(2.5)
    expect(r.after.tile_m).toBe(64)
    expect(r.after.compute).toBeCloseTo(0.7, 2)
    expect(r.tiles).toEqual([])
  })

  it("prints an efficiency block with the fitted values and the file's other keys", () => {
    const r = calibrate(hw, synthetic(), ["compute", "memory", "kernel_latency_us", "tile"])
    const block = efficiencyBlock(hw, r, "25 rows of synthetic.csv")
    expect(block.split("\n")[0]).toBe("efficiency:")
    expect(block).toMatch(/^ {2}compute: 0\.7\d* +# fitted: 25 rows of synthetic\.csv$/m)
    expect(block).toMatch(/^ {2}tile_m: 64 +# fitted/m)
    expect(block).toMatch(/^ {2}nic: 0\.8 +# kept from the hardware file$/m)
    expect(block).toMatch(/^[\x20-\x7e\n]*$/)
  })
})

/**
 * `llmsim calibrate --attention`: the fit recovers the attention fractions that generated the
 * rows, and the reference rows it fits are those validate predicts on that hardware.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { attentionRows, calibrateAttention, type AttentionRow } from "../../src/accuracy/calibrateAttention.ts"
import { mlaDecodeSpec } from "../../src/accuracy/datasets/flashmla.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { timeOp, timingHardware } from "../../src/timing/roofline.ts"
import { REFERENCE } from "../helpers/cli.ts"

const HW: HardwareSpec = {
  name: "test",
  peak_tflops: 1000,
  memory_bandwidth_gbps: 3000,
  hbm_gb: 80,
  interconnect_gbps: 200,
  max_concurrency: 2,
  overlap_efficiency: 1,
  sm_count: 132,
  efficiency: { compute: 0.8, memory: 0.75 }
}

describe("calibrateAttention", () => {
  it("recovers attention_compute and attention_memory from rows they generated", () => {
    const truth: HardwareSpec = { ...HW, efficiency: { ...HW.efficiency, attention_compute: 0.7, attention_memory: 0.9 } }
    const cases = [
      { b: 128, s_q: 1, s_k: 16384, h_q: 16 },
      { b: 64, s_q: 1, s_k: 8192, h_q: 16 },
      { b: 128, s_q: 2, s_k: 16384, h_q: 128 },
      { b: 64, s_q: 4, s_k: 4096, h_q: 128 }
    ]
    const rows: Array<AttentionRow> = cases.map((c, i) => {
      const spec = mlaDecodeSpec(c)
      return { label: `r${i}`, source: `x:${i}`, spec, measured_us: timeOp(evaluateOpCost(spec), timingHardware(truth), spec).dominant_latency_ms * 1e3 }
    })
    const r = calibrateAttention(HW, rows, true)
    // Before: the GEMM fractions (0.8, 0.75) stand in for the attention ones.
    expect(r.before).toEqual({ attention_compute: 0.8, attention_memory: 0.75 })
    expect(r.after.attention_compute).toBeCloseTo(0.7, 2)
    expect(r.after.attention_memory).toBeCloseTo(0.9, 2)
    expect(r.after_summary.max_ape).toBeLessThan(0.5)
    expect(r.rows.map((x) => x.bound)).toEqual(["memory", "memory", "compute", "compute"])
    expect(r.leave_one_out!.max_ape).toBeLessThan(0.5)
  })

  it("takes the FlashMLA and FA3 rows of the named hardware from the reference files", () => {
    const files = Object.fromEntries(["flashmla.yaml", "attention_kernels_measured.csv"].map((f) => [f, fs.readFileSync(path.join(REFERENCE, f), "utf8")]))
    const rows = attentionRows(files, new Map([["H100-SXM", HW]]), "H100-SXM")
    expect(rows.filter((r) => r.label.startsWith("FlashMLA")).length).toBe(10)
    expect(rows.filter((r) => r.label.startsWith("FA3")).length).toBe(4)
    expect(attentionRows(files, new Map([["H100-SXM", HW]]), "H20")).toEqual([])
  })
})

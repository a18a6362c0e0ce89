/**
 * DeepEP's low-latency table (deepep_low_latency.csv) through the large-EP model's call: each
 * current row read as the README states it, EP8 dispatch worked by hand, and the per-call latency
 * fit with its leave-one-out error (what validate's low-latency target reports).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import { describe, expect, it } from "vitest"
import { deepEpLowLatency, lowLatencyFit } from "../../src/accuracy/datasets/deepepLowLatency.ts"
import { parseCsv } from "../../src/reference/csv.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { REPO } from "../helpers/cli.ts"

const table = parseCsv(
  fs
    .readFileSync(path.join(REPO, "data", "reference", "deepep_low_latency.csv"), "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n")
)
const h800 = parse(fs.readFileSync(path.join(REPO, "configs", "hardware", "H800-SXM.yaml"), "utf8")) as HardwareSpec
const hardware = new Map([["H800-SXM", h800]])

describe("DeepEP low-latency kernels", () => {
  it("reads the current table (de8cfca) and prices EP8 dispatch by hand", () => {
    const d = deepEpLowLatency(table, hardware, "hardware")
    // The README's latencies: dispatch 77 .. 194 us, combine 114 .. 360 us at EP 8 .. 256.
    expect(d.rows.map((r) => r.measured)).toEqual([77, 118, 155, 173, 192, 194, 114, 195, 273, 314, 369, 360])
    // EP8, one node: 128 tokens x 8 copies x 7/8 to the other GPUs x 7,168 FP8 bytes = 6,422,528 B over
    // NVLink at 200 GB/s x 0.8 (H800's interconnect efficiency) = 40.14 us, plus its 3.3 us link
    // latency and the low-latency call's 5 us: 48.44 us against the measured 77 us.
    expect(h800.interconnect_gbps).toBe(200)
    expect(d.rows[0]!.predicted).toBeCloseTo((6_422_528 / (200e9 * 0.8)) * 1e6 + 3.3 + 5, 6)
  })

  it("a per-call latency alone does not fit the NVLink rows: the fit trades them against the NIC rows", () => {
    const f = lowLatencyFit(table, hardware)
    expect(f.rows).toBe(12)
    // Lengthening every call to fit EP8 overshoots the NIC-bound rows: the held-out median is no better than the shipped 5 us.
    expect(f.latency_us).toBeGreaterThan(5)
    expect(f.leave_one_out.median_pct).toBeGreaterThan(deepEpLowLatency(table, hardware, "hardware").summary.median_ape)
  })
})

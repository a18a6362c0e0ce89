/**
 * validate --serving's disaggregated pools (src/accuracy/disaggregated.ts), in process: every
 * published row it names is read from data/reference/disaggregated_serving.csv with the value the
 * source states (LMSYS's blog: 57,674 / 54,543 / 50,302 input tok/s per prefill node at 1K / 2K /
 * 4K prompts, 22,282 output tok/s per decode node), and each prediction is the simulated pool's
 * throughput per 8-GPU node with its error against that value; DistServe's colocated/2P1D pair is
 * read as published and its gain set against the predicted one, and so are Mooncake's two SGLang
 * pairs (two regular instances against 1P1D, mean ITL).
 */
import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { poolValidation } from "../../src/accuracy/disaggregated.ts"
import { appLayer } from "../../src/app/services.ts"
import { runEffect } from "../helpers/inProcess.ts"

const REPO = path.resolve(import.meta.dirname, "..", "..")

describe("disaggregated pools at saturation", () => {
  it("reads the published figures and states each prediction's error", async () => {
    const v = await runEffect(poolValidation(path.join(REPO, "data", "reference")).pipe(Effect.provide(appLayer({ cwd: REPO, noCache: true }))))
    expect(v.rows.map((r) => [r.row_id, r.layout, r.isl, r.measured_per_node])).toEqual([
      ["lmsys-h100-prefill-1k", "DEP32", 1024, 57674],
      ["lmsys-h100-prefill-2k", "DEP32", 2048, 54543],
      ["lmsys-h100-prefill-4k", "DEP32", 4096, 50302],
      ["lmsys-h100-decode-2k", "DEP72", 2000, 22282]
    ])
    for (const r of v.rows) {
      expect(r.predicted_per_node).toBeGreaterThan(0)
      expect(r.error_pct).toBeCloseTo((r.predicted_per_node / r.measured_per_node - 1) * 100, 9)
    }
    // Longer prompts cost more attention per token: the simulated prefill pool slows from 1K to 4K, as measured.
    expect(v.rows[2]!.predicted_per_node).toBeLessThan(v.rows[0]!.predicted_per_node)
    // DistServe's pair as the blog states it: 1.6 rps per GPU colocated, 10 rps on 2P1D = 3.3 per GPU.
    const [pair] = v.pairs
    expect([pair!.measured.aggregated, pair!.measured.disaggregated]).toEqual([1.6, 3.3])
    expect(pair!.predicted.gain).toBeCloseTo(pair!.predicted.disaggregated / pair!.predicted.aggregated, 12)
    expect(pair!.gain_points).toBeCloseTo((pair!.predicted.gain - 3.3 / 1.6) * 100, 9)
    // Mooncake's SGLang pairs as published: mean ITL 10.30 ms on two regular instances, 7.23 ms on
    // 1P1D (TP4, 8192/512, 1 req/s) and 25.74 / 17.06 ms (TP2, 2048/512, 4 req/s).
    const mooncake = v.pairs.slice(1)
    expect(mooncake.map((p) => [p.pair_id, p.measured.aggregated, p.measured.disaggregated])).toEqual([
      ["P3a-mooncake-a10-rate1", 10.3, 7.23],
      ["P3b-mooncake-a10-rate4", 25.74, 17.06]
    ])
    for (const p of mooncake) {
      // Decode steps with no prefill chunk in them: the disaggregated side's ITL is the shorter.
      expect(p.predicted.disaggregated).toBeLessThan(p.predicted.aggregated)
      expect(p.gain_points).toBeCloseTo((p.predicted.disaggregated / p.predicted.aggregated - p.measured.disaggregated / p.measured.aggregated) * 100, 9)
    }
    // The gate, held out (nothing here is fitted on these rows): 7.23 / 10.30 = 0.70 reproduced within 15 points.
    expect(Math.abs(mooncake[0]!.gain_points)).toBeLessThanOrEqual(15)
  })
})

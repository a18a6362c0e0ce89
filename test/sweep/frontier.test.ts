import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { Tracker } from "../../src/sweep/frontier.ts"
import { costPer1M, judge, rejections, type Row } from "../../src/sweep/judge.ts"
import type { PointResult } from "../../src/sweep/point.ts"

const point = (over: Partial<PointResult>): PointResult => ({
  model: "core",
  strategy: "serial",
  hardware: "hw.yaml",
  batch: 1,
  seq: 1024,
  output: 0,
  tp: 1,
  dp: 1,
  ep: 1,
  gpus: 1,
  invalid: null,
  ttft_ms: 100,
  tpot_ms: 20,
  tokens_per_s_per_gpu: 50,
  tokens_per_s_per_user: 50,
  prefill_tokens_per_s_per_gpu: 10000,
  memory_per_gpu_bytes: 50e9,
  weights_bytes: 40e9,
  kv_cache_bytes: 10e9,
  activation_bytes: 0,
  comm_buffer_bytes: 0,
  capacity_bytes: 80e9,
  fits_in_hbm: true,
  max_batch: 4,
  bottleneck: "L0",
  ...over
})

const row = (index: number, x: number, y: number, feasible = true): Row =>
  judge(index, {}, point({ tokens_per_s_per_gpu: x, tokens_per_s_per_user: y, fits_in_hbm: feasible, memory_per_gpu_bytes: feasible ? 50e9 : 90e9 }), {}, null)

describe("Pareto frontier", () => {
  test.prop([fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 60 })])(
    "holds exactly the feasible points no other feasible point dominates (brute force)",
    (pts) => {
      const rows = pts.map(([x, y, f], i) => row(i, x, y, f))
      const t = new Tracker()
      for (const r of rows) t.add(r)
      const feasible = rows.filter((r) => r.feasible)
      const dominated = (r: Row) =>
        feasible.some(
          (q) =>
            q.tokens_per_s_per_gpu! >= r.tokens_per_s_per_gpu! &&
            q.tokens_per_s_per_user! >= r.tokens_per_s_per_user! &&
            (q.tokens_per_s_per_gpu! > r.tokens_per_s_per_gpu! || q.tokens_per_s_per_user! > r.tokens_per_s_per_user!)
        )
      const expected = feasible
        .filter((r) => !dominated(r))
        .map((r) => r.index)
        .sort((a, b) => a - b)
      expect(
        t
          .points()
          .map((r) => r.index)
          .sort((a, b) => a - b)
      ).toEqual(expected)
    }
  )

  test.prop([
    fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 40 }),
    fc.integer({ min: 1, max: 5 })
  ])("the frontier of the parts' frontiers is the frontier of the whole (what sweep merge relies on)", (pts, parts) => {
    const rows = pts.map(([x, y], i) => row(i, x, y))
    const whole = new Tracker()
    for (const r of rows) whole.add(r)
    const merged = new Tracker()
    const size = Math.ceil(rows.length / parts)
    for (let p = 0; p < rows.length; p += size) {
      const part = new Tracker()
      for (const r of rows.slice(p, p + size)) part.add(r)
      for (const r of part.points()) merged.add(r)
      for (const r of Object.values(part.best)) if (r) merged.add(r)
    }
    expect(merged.points().map((r) => r.index)).toEqual(whole.points().map((r) => r.index))
    expect(merged.best.tokens_per_s_per_gpu?.index).toBe(whole.best.tokens_per_s_per_gpu?.index)
  })
})

describe("judging a point", () => {
  it("prices tokens: USD per 1M = price per GPU-hour / (tokens/s per GPU x 3600) x 1e6", () => {
    // $3.60 per GPU-hour at 1,000 tokens/s per GPU: 3.6 M tokens an hour for $3.60 -> $1.00 per 1M.
    expect(costPer1M(3.6, 1000)).toBeCloseTo(1.0, 12)
    expect(costPer1M(null, 1000)).toBeNull()
    const r = judge(0, {}, point({ tokens_per_s_per_gpu: 500, prefill_tokens_per_s_per_gpu: 20000 }), {}, 4.5)
    expect(r.cost_per_1m_output_tokens_usd).toBeCloseTo((4.5 / (500 * 3600)) * 1e6, 12) // $2.50
    expect(r.cost_per_1m_output_tokens_usd).toBeCloseTo(2.5, 12)
    expect(r.cost_per_1m_input_tokens_usd).toBeCloseTo(0.0625, 12)
  })

  it("names every constraint a point fails, HBM always", () => {
    const p = point({ fits_in_hbm: false, memory_per_gpu_bytes: 91.2e9, tpot_ms: 61.3, tokens_per_s_per_user: 1000 / 61.3, gpus: 16, ttft_ms: 900 })
    expect(rejections(p, { tpot_ms_max: 50, gpus_max: 8, ttft_ms_max: 1000, tokens_per_s_per_user_min: 20 })).toEqual([
      "hbm: 91.2 GB per GPU > 80.0 GB",
      "tpot: 61.30 ms > 50 ms",
      "tokens/s per user: 16.3 < 20",
      "gpus: 16 > 8"
    ])
    expect(rejections(point({}), { tpot_ms_max: 50 })).toEqual([])
    expect(rejections(point({ tpot_ms: null, tokens_per_s_per_user: null }), { tpot_ms_max: 50 })).toEqual(["tpot: no decode phase"])
    expect(judge(3, {}, point({ invalid: "ep 7 does not divide the 16 GPUs" }), {}, null).rejected_by).toBe("layout: ep 7 does not divide the 16 GPUs")
  })
})

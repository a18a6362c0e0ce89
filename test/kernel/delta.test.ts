/**
 * The one change type of watch and diff, and its rule for a zero or missing baseline.
 */
import { describe, expect, it } from "vitest"
import { delta } from "../../src/kernel/delta.ts"
import { compare } from "../../src/watch/delta.ts"
import { resultEvent } from "../../src/report/watch.ts"

describe("delta", () => {
  it("is after - before and its percentage of before", () => {
    expect(delta(4, 5)).toEqual({ before: 4, after: 5, abs: 1, pct: 25 })
    expect(delta(5, 4)).toEqual({ before: 5, after: 4, abs: -1, pct: -20 })
  })

  it("reads 0% for an unchanged figure, a zero one included", () => {
    expect(delta(3, 3)).toEqual({ before: 3, after: 3, abs: 0, pct: 0 })
    expect(delta(0, 0)).toEqual({ before: 0, after: 0, abs: 0, pct: 0 })
  })

  it("has no percentage from a zero baseline", () => {
    expect(delta(0, 5)).toEqual({ before: 0, after: 5, abs: 5, pct: null })
    expect(delta(0, -5)).toEqual({ before: 0, after: -5, abs: -5, pct: null })
  })

  it("has no change when a side is missing", () => {
    expect(delta(undefined, 5)).toEqual({ before: null, after: 5, abs: null, pct: null })
    expect(delta(null, 5)).toEqual({ before: null, after: 5, abs: null, pct: null })
    expect(delta(5, null)).toEqual({ before: 5, after: null, abs: null, pct: null })
  })
})

describe("watch uses the same rule", () => {
  const layer = {
    layer_name: "L0.x",
    layer_type: "x",
    flops: 1,
    bytes_read: 0,
    bytes_written: 0,
    comm_bytes: 0,
    compute_time_ms: 0,
    memory_time_ms: 0,
    comm_time_ms: 0,
    dominant_latency_ms: 0,
    bound: "compute"
  }
  const result = (latency: number): any => ({
    scenario: "s",
    hardware: "h",
    estimator: "analytic",
    parallelism: { tp: 1, dp: 1, ep: 1 },
    runtime: { batch_size: 1, seq_len: 1, phase: "decode" },
    phases: {
      decode: {
        phase: "decode",
        layers: [{ ...layer, dominant_latency_ms: latency }],
        total_latency_ms: latency,
        total_flops: 1,
        total_bytes: 0,
        total_comm_bytes: 0,
        peak_memory_bytes: 1,
        bottleneck_layer: "L0.x"
      }
    },
    serving: {
      ttft_ms: null,
      tpot_ms: latency,
      throughput_tokens_per_s: 0,
      throughput_tokens_per_s_per_gpu: 0,
      prefill_throughput_tokens_per_s: null,
      gpus: 1,
      peak_memory_bytes: 1,
      hbm_bytes_per_gpu: 2,
      fits_in_hbm: true
    }
  })
  const activity = {
    time: "2026-01-01T00:00:00.000Z",
    changedFiles: [],
    computed: 0,
    replayed: 0,
    layersRecomputed: [],
    elapsedMs: 0,
    evaluationMs: 0,
    rssBytes: 0,
    heapUsedBytes: 0
  }

  it("0 -> 0 is 0%, 0 -> 5 has no percentage", () => {
    const same = compare(result(0), result(0))
    expect(same.phases[0].total_latency_ms).toEqual({ before: 0, after: 0, abs: 0, pct: 0 })
    expect(resultEvent(same, activity).phases.decode).toMatchObject({ delta_ms: 0, delta_percent: 0 })
    const up = compare(result(5), result(0))
    expect(resultEvent(up, activity).phases.decode).toMatchObject({ delta_ms: 5, delta_percent: null })
    expect(up.serving.ttft_ms).toEqual({ before: null, after: null, abs: null, pct: null })
  })
})

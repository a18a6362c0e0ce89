/**
 * Every computed time is checked finite and >= 0 before it is summed (timeSpec, composeLayer,
 * rollUp): a broken invariant throws KernelInvariantError naming the op or layer and the field,
 * never a number (Infinity would print as null in JSON and sum as 0).
 */
import { describe, expect, it } from "vitest"
import { KernelInvariantError, timeSpec } from "../../src/kernel/opTiming.ts"
import type { OpExecution } from "../../src/kernel/records.ts"
import { composeLayer, rollUp } from "../../src/kernel/step.ts"
import { linearOp } from "../../src/layers/spec.ts"
import type { Estimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const hw = timingHardware({
  name: "X",
  peak_tflops: 989,
  memory_bandwidth_gbps: 3350,
  hbm_gb: 80,
  interconnect_gbps: 450,
  max_concurrency: 2,
  overlap_efficiency: 1
})
const spec = linearOp("q_proj", "attention_linear", 16, 4096, 4096, "bf16", "bf16")
const estimatorGiving = (compute: number): Estimator => ({
  id: "test",
  version: 1,
  time: () => ({ compute_time_ms: compute, memory_time_ms: 1, comm_time_ms: 0, dominant_latency_ms: Math.max(compute, 1), bound: "compute" })
})

const row = (ms: number): OpExecution => ({
  op: "o",
  kind: "linear",
  category: "attention_linear",
  flops: 1,
  bytes_read: 1,
  bytes_written: 1,
  comm_bytes: 0,
  link: null,
  math_dtype: null,
  compute_time_ms: ms,
  memory_time_ms: 0,
  comm_time_ms: 0,
  dominant_latency_ms: ms,
  bound: "compute",
  notes: ""
})
const composition = { overlap_efficiency: 1, max_concurrency: 1, micro_batch: 1 }
const memory = { weight_bytes: 0, kv_cache_bytes_per_token: 0, activation_bytes: 0 }

describe("finite times", () => {
  it("timeSpec throws on an Infinity or negative time, naming the op and the field", () => {
    expect(timeSpec(spec, hw, estimatorGiving(2)).dominant_latency_ms).toBe(2)
    expect(() => timeSpec(spec, hw, estimatorGiving(Infinity))).toThrow(
      new KernelInvariantError("op q_proj (linear): compute_time_ms is Infinity, expected a finite time >= 0 ms")
    )
    expect(() => timeSpec(spec, hw, estimatorGiving(-1))).toThrow(/op q_proj \(linear\): compute_time_ms is -1/)
  })

  it("composeLayer throws on a NaN op time, naming the layer", () => {
    expect(composeLayer("ffn_layer", [row(1), row(2)], composition, memory, {}).dominant_latency_ms).toBe(3)
    expect(() => composeLayer("ffn_layer", [row(1), row(NaN)], composition, memory, {})).toThrow(/^layer ffn_layer: compute side ms is NaN/)
  })

  it("rollUp throws on a summary whose time is not finite", () => {
    const good = composeLayer("ffn_layer", [row(1)], composition, memory, {})
    expect(
      rollUp(
        "decode",
        [good],
        [
          { summary: 0, layer_name: "L0" },
          { summary: 0, layer_name: "L1" }
        ],
        1
      ).total_latency_ms
    ).toBe(2)
    expect(() => rollUp("decode", [{ ...good, dominant_latency_ms: Infinity }], [{ summary: 0, layer_name: "L0" }], 1)).toThrow(KernelInvariantError)
  })
})

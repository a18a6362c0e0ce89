/** Shared inputs of the src/ml tests: a peak-only part with round numbers and a BF16 linear op. */
import type { OpSpec } from "../../src/ops/types.ts"
import type { TimingHardware } from "../../src/timing/roofline.ts"

export const PEAK_HW: TimingHardware = {
  tflops: { bf16: 100, fp16: 100, fp8: 200, fp32: 100, tf32: 100, int8: 200, fp4: 100, mxfp4: 100, int4: 100 },
  memory_bandwidth_gbps: 1000,
  interconnect_gbps: 100,
  nic_gbps: 50,
  compute_efficiency: 1,
  memory_efficiency: 1,
  interconnect_efficiency: 1,
  exp_per_s: 0,
  attention_compute_efficiency: 1,
  attention_memory_efficiency: 1,
  nic_efficiency: 1,
  kernel_latency_us: 0,
  link_latency_us: 0,
  tile_m: 0,
  tile_n: 0,
  tile_choice: "fixed",
  sm_load_gbps: 0,
  sm_count: 100
}

export const linearSpec = (tokens: number, inF = 256, outF = 512): OpSpec => ({
  kind: "linear",
  name: "proj",
  category: "other",
  params: { tokens, in_features: inF, out_features: outF, weight_dtype: "bf16", act_dtype: "bf16" }
})

import { describe, expect, it } from "vitest"
import { contextFor } from "../../src/kernel/layout.ts"
import { phaseMemory, simulatePhase } from "../../src/kernel/step.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"
import { DEEPSEEK, DENSE, H800 } from "../deploy/fixtures.ts"

describe("phaseMemory", () => {
  it("is the memory rollUp reports, to the byte, without planning or timing an op", () => {
    const timing = timingHardware(H800, "none")
    const composition = { overlap_efficiency: 1, max_concurrency: 2, micro_batch: 1 }
    const models = [DEEPSEEK, { entries: [{ index: 0, label: "ffn_layer", template: DENSE, repeat: 5 }], precision: DEEPSEEK.precision }]
    for (const model of models) {
      for (const layout of [
        { tp: 1, dp: 16, ep: 16, redundant_experts: 0, gpus_per_node: 8 },
        { tp: 8, dp: 2, ep: 16, redundant_experts: 16, gpus_per_node: 8 }
      ]) {
        for (const phase of ["prefill", "decode"] as const) {
          for (const [batch, seq] of [
            [1, 1024],
            [8, 4096],
            [37, 333]
          ]) {
            const ctx = contextFor(model, layout, phase, batch, seq)
            expect(phaseMemory(model, ctx)).toEqual(simulatePhase(model, ctx, timing, analyticEstimator, composition).memory)
          }
        }
      }
    }
  })
})

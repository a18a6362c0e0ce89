/**
 * Shared layer halves (PlaybookInput.shareOps, what a sweep turns on) give the same step as
 * planning and timing every op again, to the last bit, over a grid of EP sizes, batches,
 * lengths, both phases, both kernel modes, two-batch overlap on and off, and a tokens-per-expert
 * override: a key that missed something a half reads would show here as a different number.
 */
import { describe, expect, it } from "vitest"
import { resolveLargeEp } from "../../src/deploy/deployment.ts"
import { largeEpStep, largeEpStepTotals } from "../../src/deploy/largeEp.ts"
import { timingHardware } from "../../src/timing/roofline.ts"
import { DEEPSEEK, H800, INPUT } from "./fixtures.ts"

describe("shared layer halves", () => {
  it("equal the unshared step everywhere on the grid", () => {
    const hw = { ...H800, efficiency: { compute: 0.8, memory: 0.75, kernel_latency_us: 1, link_latency_us: 3, tile_m: 64, tile_n: 128 } }
    const shared = { ...INPUT, hardware: hw, timing: timingHardware(hw, "hardware"), shareOps: true }
    const plain = { ...INPUT, hardware: hw, timing: timingHardware(hw, "hardware") }
    let compared = 0
    for (const ep of [8, 16, 32, 64, 144]) {
      for (const tbo of [true, false]) {
        const r = resolveLargeEp(DEEPSEEK, hw, { precision: DEEPSEEK.precision }, { ep, two_batch_overlap: tbo, ...(tbo ? {} : { micro_batches: 1 }) })
        if (!r.ok) throw new Error(r.problem.message)
        for (const phase of ["prefill", "decode"] as const) {
          for (const batch of [2, 6, 32]) {
            for (const seq of [512, 4096]) {
              for (const tpe of [undefined, 40]) {
                const run = { phase, batch_size: batch, seq_len: seq, ...(tpe === undefined ? {} : { tokens_per_expert: tpe }) }
                const a = largeEpStepTotals(shared, r.value, run)
                const b = largeEpStep(plain, r.value, run)
                expect([a.step_ms, a.bound_ms, a.bottleneck]).toEqual([b.step_ms, b.bound_ms, b.bottleneck])
                compared++
              }
            }
          }
        }
      }
    }
    expect(compared).toBe(240)
  })
})

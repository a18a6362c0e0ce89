/** Expert load imbalance (src/deploy/imbalance.ts), by hand. */
import { describe, expect, it } from "vitest"
import { balancedPacking, eplbImbalance, imbalanceFactor, measuredImbalance, replicateExperts, samplingImbalance } from "../../src/deploy/imbalance.ts"

describe("sampling imbalance of uniform routing", () => {
  it("512 copies per GPU (64 sequences x top-8) over EP144: 1.1388", () => {
    // 1 + sqrt(2 ln 144 * (1 - 1/144) / 512) = 1 + sqrt(2 * 4.9698133 * 0.9930556 / 512)
    //   = 1 + sqrt(0.0192785) = 1 + 0.1388471 = 1.1388471
    expect(samplingImbalance(512, 144)).toBeCloseTo(1.1388471, 7)
  })

  it("more tokens balance better; one GPU is always balanced", () => {
    expect(samplingImbalance(32_768, 32)).toBeLessThan(samplingImbalance(512, 32))
    expect(samplingImbalance(100, 1)).toBe(1)
    expect(samplingImbalance(0, 8)).toBe(1)
  })
})

describe("EPLB global policy on measured loads", () => {
  it("replicas go to the expert with the most load per replica (first on ties)", () => {
    // loads 6,3,2,1 + 2 replicas: 6/1 is the max -> expert 0 gets 2; then 6/2 = 3 ties 3/1 -> expert 0 again
    expect(replicateExperts([6, 3, 2, 1], 2)).toEqual([3, 1, 1, 1])
  })

  it("packing: sorted replicas to the least loaded GPU with a free slot", () => {
    // 6,3,2,1 on 2 GPUs of 2 slots: 6->g0, 3->g1, 2->g1 (3 < 6), 1->g0: loads 7 and 5
    expect(balancedPacking([6, 3, 2, 1], 2)).toEqual([7, 5])
  })

  it("max/mean: 7/6 without redundancy, 1 with two redundant replicas on 3 GPUs", () => {
    expect(eplbImbalance([6, 3, 2, 1], 0, 2)).toBeCloseTo(7 / 6, 15)
    // replicas 2,2,2 (expert 0), 3, 2, 1 over 3 GPUs x 2 slots: 3->g0, 2->g1, 2->g2, 2->g1, 2->g2,
    // 1->g0: loads 4,4,4; mean 12/3 = 4
    expect(eplbImbalance([6, 3, 2, 1], 2, 3)).toBe(1)
  })

  it("a declared factor passes through; uniform loads give 1", () => {
    expect(imbalanceFactor(1.25, 10, 8, 0)).toBe(1.25)
    expect(imbalanceFactor({ expert_loads: new Array(256).fill(5) }, 10, 32, 32)).toBeCloseTo(1, 12)
    expect(imbalanceFactor("sampling", 512, 144, 32)).toBeCloseTo(1.1388471, 7)
  })
})

describe("measured per-step loads (--expert-load): placed on the totals, judged per step", () => {
  it("two steps whose hot experts move cost more than their totals show", () => {
    // Totals 3,1,1,1 on 2 GPUs of 2 slots: 3->g0, 1->g1, 1->g1 (1 < 3), 1->g0 (g1 full): g0 {e0, e3}, g1 {e1, e2}.
    // Totals alone: loads 4 and 2, max/mean 4/3.
    expect(measuredImbalance([[[3, 1, 1, 1]]], 0, 2)).toBeCloseTo(4 / 3, 15)
    // Step 1 routes 3,0,0,0: g0 3, g1 0 (max 3, mean 1.5); step 2 routes 0,1,1,1: g0 1, g1 2 (max 2, mean 1.5).
    // (3 + 2) / (1.5 + 1.5) = 5/3.
    expect(measuredImbalance([[[3, 0, 0, 0]], [[0, 1, 1, 1]]], 0, 2)).toBeCloseTo(5 / 3, 15)
  })

  it("layers are placed apart and weighted by their tokens; a redundant replica takes half of its expert", () => {
    // Layer 0: 3,1,1,1 (as above: 4 of mean 3); layer 1: 1,1,1,1 (2 of mean 2). (4 + 2) / (3 + 2) = 6/5.
    expect(
      measuredImbalance(
        [
          [
            [3, 1, 1, 1],
            [1, 1, 1, 1]
          ]
        ],
        0,
        2
      )
    ).toBeCloseTo(6 / 5, 15)
    // 4,2,2 + 1 redundant on 2 GPUs of 2 slots: expert 0 twice (2, 2), replicas 2,2,2,2 -> 2 per slot, 4 and 4: balanced.
    expect(measuredImbalance([[[4, 2, 2]]], 1, 2)).toBeCloseTo(1, 15)
  })

  it("is what imbalanceFactor gives for a measured file, whatever the step's own size", () => {
    const measured = { measured: { file: "loads.csv", steps: [[[3, 0, 0, 0]], [[0, 1, 1, 1]]] } }
    expect(imbalanceFactor(measured, 10, 2, 0)).toBeCloseTo(5 / 3, 15)
    expect(imbalanceFactor(measured, 10_000, 2, 0)).toBeCloseTo(5 / 3, 15)
  })
})

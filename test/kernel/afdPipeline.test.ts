/** AFD pipeline regimes (src/kernel/afdPipeline.ts), by hand. */
import { describe, expect, it } from "vitest"
import { afdLayerTime, afdStepMs, cycleMs, resolveRegime, threeStageMinMicroBatches } from "../../src/kernel/afdPipeline.ts"

const S = { attention: 4, a2f: 1, ffn: 3, f2a: 2 }

describe("AFD regimes", () => {
  it("three-stage needs m >= 2 + (t_a2f + t_f2a) / max(t_a, t_f)", () => {
    // 2 + (1 + 2) / 4 = 2.75
    expect(threeStageMinMicroBatches(S)).toBe(2.75)
    expect(resolveRegime("auto", 3, S)).toEqual({ regime: "three_stage", fell_back: false })
    expect(resolveRegime("auto", 2, S)).toEqual({ regime: "conservative", fell_back: false })
    expect(resolveRegime("three_stage", 2, S)).toEqual({ regime: "conservative", fell_back: true })
    expect(resolveRegime("auto", 1, S)).toEqual({ regime: "serial", fell_back: false })
    expect(resolveRegime("conservative", 1, S)).toEqual({ regime: "serial", fell_back: true })
  })

  it("cycle per regime", () => {
    // three_stage max(4, 3, 1 + 2) = 4; conservative max(4 + 1, 3 + 2) = 5; serial 4 + 1 + 3 + 2 = 10
    expect(cycleMs("three_stage", S)).toBe(4)
    expect(cycleMs("conservative", S)).toBe(5)
    expect(cycleMs("serial", S)).toBe(10)
  })

  it("layer time m * cycle, fill = serial - cycle, binding term", () => {
    const t = afdLayerTime("auto", 3, S)
    // 3 * 4 = 12; fill 10 - 4 = 6; attention binds
    expect(t).toMatchObject({ regime: "three_stage", cycle_ms: 4, layer_ms: 12, fill_ms: 6, bound: "attention" })
    // transfer-bound: a 1, a2f 2, f 1, f2a 2 needs 2 + 4 / 1 = 6 micro-batches; cycle max(1, 1, 4) = 4
    const x = afdLayerTime("auto", 6, { attention: 1, a2f: 2, ffn: 1, f2a: 2 })
    expect(x).toMatchObject({ regime: "three_stage", cycle_ms: 4, layer_ms: 24, bound: "transfer" })
    // conservative: F side 3 + 2 = 5 > A side 1 + 1 = 2, ffn 3 >= f2a 2 -> ffn
    expect(afdLayerTime("conservative", 2, { attention: 1, a2f: 1, ffn: 3, f2a: 2 })).toMatchObject({ cycle_ms: 5, bound: "ffn" })
  })

  it("step: sum of m * cycle over layers plus one fill (AIC: t_serial + t_cycle (m L - 1))", () => {
    const t = afdLayerTime("auto", 3, S)
    // two identical layers: 2 * 12 + 6 = 30 = 10 + 4 * (3 * 2 - 1)
    expect(afdStepMs([t, t])).toBe(30)
    expect(afdStepMs([t, t])).toBe(10 + 4 * (3 * 2 - 1))
  })

  it("cyclic (the default): the micro-batch loop's cycle time, with no switch", () => {
    // max(4, 3, 1 + 2, 10 / m): m = 1 serial 10; m = 2 the loop binds, 5; m = 3 10 / 3 = 3.33 < 4: attention binds, 4.
    expect(resolveRegime("cyclic", 1, S)).toEqual({ regime: "serial", fell_back: false })
    expect(resolveRegime("cyclic", 2, S)).toEqual({ regime: "cyclic", fell_back: false })
    expect(cycleMs("cyclic", S, 2)).toBe(5)
    expect(cycleMs("cyclic", S, 3)).toBe(4)
    // A pipeline on AIC's threshold with 3 micro-batches (issue 27's cliff): a 4, a2f 2, f 4, f2a 2
    // needs 2 + 4 / 4 = 3 micro-batches for three_stage; a link 2% slower needs more.
    const edge = { attention: 4, a2f: 2, ffn: 4, f2a: 2 }
    const longerLink = { ...edge, a2f: 2.04, f2a: 2.04 }
    // auto: three_stage 4 at the threshold, conservative max(6.04, 6.04) = 6.04 just past it: +51%.
    expect(cycleMs(resolveRegime("auto", 3, edge).regime, edge, 3)).toBe(4)
    expect(cycleMs(resolveRegime("auto", 3, longerLink).regime, longerLink, 3)).toBeCloseTo(6.04, 12)
    // cyclic: max(4, 4, 4, 12 / 3) = 4 and max(4, 4, 4.08, 12.08 / 3 = 4.0267) = 4.08: +2% for a 2% longer link.
    expect(cycleMs("cyclic", edge, 3)).toBe(4)
    expect(cycleMs("cyclic", longerLink, 3)).toBeCloseTo(4.08, 12)
    expect(afdLayerTime("cyclic", 3, longerLink)).toMatchObject({ regime: "cyclic", cycle_ms: 4.08, bound: "transfer" })
  })
})

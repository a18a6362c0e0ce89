import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { largestSatisfying, largestWithinCapacity } from "../../src/kernel/search.ts"

describe("largestWithinCapacity", () => {
  it("solves an affine memory function exactly: (capacity - fixed) / per-item, floored", () => {
    // 60 GB of weights, 2.5 GB per sequence, 80 GB: (80 - 60) / 2.5 = 8 sequences.
    expect(largestWithinCapacity((b) => 60e9 + b * 2.5e9, 80e9)).toBe(8)
    expect(largestWithinCapacity((b) => 60e9 + b * 2.5e9, 80e9 - 1)).toBe(7)
    expect(largestWithinCapacity((b) => 90e9 + b, 80e9)).toBe(0)
    expect(largestWithinCapacity(() => 1, 80e9, 1000)).toBe(1000)
  })

  test.prop([
    fc.integer({ min: 0, max: 1e6 }),
    fc.integer({ min: 1, max: 1e4 }),
    fc.integer({ min: 1, max: 64 }),
    fc.integer({ min: 0, max: 5e4 }),
    fc.integer({ min: 0, max: 3e6 })
  ])("equals the bisection on near-affine functions (per-item bytes plus a stepped buffer)", (fixed, per, step, stepBytes, capacity) => {
    // DeepEP's low-latency buffer grows with ceil(tokens / step): steps on top of the line.
    const bytes = (b: number) => fixed + b * per + Math.ceil(b / step) * stepBytes
    expect(largestWithinCapacity(bytes, capacity, 1 << 20)).toBe(largestSatisfying((b) => bytes(b) <= capacity, 1 << 20))
  })
})

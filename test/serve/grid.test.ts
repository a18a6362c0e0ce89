/**
 * The step grid (src/serve/grid.ts): every integer up to 16, then 16 points per doubling; a
 * function priced on the points is exact there and linear between them, and each point is
 * priced once however often it is read.
 */
import { describe, expect, it } from "vitest"
import { Grid1, Grid2, gridIndexBelow, gridPoint } from "../../src/serve/grid.ts"

describe("grid points", () => {
  it("are the integers to 16, then 16 per doubling: 32, 64, 1024 are points", () => {
    expect([0, 1, 15, 16].map(gridPoint)).toEqual([0, 1, 15, 16])
    expect(gridPoint(32)).toBe(32)
    expect(gridPoint(48)).toBe(64)
    expect(gridPoint(112)).toBe(1024)
    // 2^(1/16) = 1.0443: the point after 16 is round(16.71) = 17.
    expect(gridPoint(17)).toBe(17)
  })

  it("find the point at or below any count", () => {
    for (const x of [0, 5, 16, 17, 18, 100, 1000, 1024, 1025, 123_457]) {
      const k = gridIndexBelow(x)
      expect(gridPoint(k)).toBeLessThanOrEqual(x)
      expect(gridPoint(k + 1)).toBeGreaterThan(x)
    }
  })
})

describe("Grid1 and Grid2", () => {
  it("are exact on the points, linear between them, and price each point once", () => {
    let calls = 0
    const g = new Grid1((x) => {
      calls++
      return x * x
    })
    expect(g.get(1024)).toBe(1024 * 1024)
    // 1000 lies between the points 989 and 1032 (16 x 2^(k/16) rounded): the chord there.
    const lo = gridPoint(gridIndexBelow(1000))
    const hi = gridPoint(gridIndexBelow(1000) + 1)
    expect(g.get(1000)).toBeCloseTo(lo * lo + ((hi * hi - lo * lo) * (1000 - lo)) / (hi - lo), 9)
    g.get(1000)
    g.get(1001)
    expect(calls).toBe(g.size)
    const g2 = new Grid2((x, y) => 3 * x + 5 * y)
    // A plane is interpolated exactly.
    expect(g2.get(1000, 777)).toBeCloseTo(3 * 1000 + 5 * 777, 9)
  })
})

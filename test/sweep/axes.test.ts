import { describe, expect, it } from "vitest"
import { parseAxis } from "../../src/sweep/axes.ts"
import { makeSpace, neighbours, parseShard, pointAt, shardRange } from "../../src/sweep/space.ts"

const values = (axis: Parameters<typeof parseAxis>[0], text: string | ReadonlyArray<string | number>) => {
  const r = parseAxis(axis, text)
  if (!r.ok) throw new Error(r.message)
  return r.value
}
const problem = (axis: Parameters<typeof parseAxis>[0], text: string) => {
  const r = parseAxis(axis, text)
  return r.ok ? undefined : r.message
}

describe("sweep axes", () => {
  it("reads lists, geometric and arithmetic ranges, in the order written", () => {
    expect(values("batch", "1..512:x2")).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    expect(values("batch", "1..100:x10")).toEqual([1, 10, 100])
    expect(values("seq", "1024..4096:+1024")).toEqual([1024, 2048, 3072, 4096])
    expect(values("ep", "8..10")).toEqual([8, 9, 10])
    expect(values("seq", "1024,4096,32768")).toEqual([1024, 4096, 32768])
    expect(values("batch", "64, 1..4:x2")).toEqual([64, 1, 2, 4])
    expect(values("output", "0,256")).toEqual([0, 256])
    expect(values("instances", "2a2f,3A2F")).toEqual(["2A2F", "3A2F"])
    expect(values("tbo", "on,off")).toEqual(["on", "off"])
    expect(values("weights", "fp8,bf16")).toEqual(["fp8", "bf16"])
    expect(values("batch", [1, "2", 4])).toEqual([1, 2, 4])
  })

  it("refuses what cannot be meant, saying what was expected", () => {
    expect(problem("batch", "0")).toMatch(/expected integers >= 1.*got "0"/)
    expect(problem("batch", "8..1")).toMatch(/runs backwards/)
    expect(problem("batch", "1..8:x1")).toMatch(/multiplies by 2 or more/)
    expect(problem("batch", "1,2,2")).toBe("2 is listed twice")
    expect(problem("batch", "1..4,4")).toBe("4 is listed twice")
    expect(problem("weights", "fp7")).toMatch(/expected a dtype .*got "fp7"/)
    expect(problem("instances", "3x2")).toMatch(/AFD instance counts/)
    expect(problem("batch", "1..2000000")).toMatch(/more than 1,000,000 values/)
  })
})

describe("sweep space", () => {
  const space = makeSpace({ ep: [8, 16], seq: [1024, 2048, 4096], batch: [1, 2] })

  it("numbers points in mixed radix, the last axis fastest", () => {
    expect(space.size).toBe(12)
    expect(pointAt(space, 0)).toEqual({ ep: 8, seq: 1024, batch: 1 })
    expect(pointAt(space, 1)).toEqual({ ep: 8, seq: 1024, batch: 2 })
    expect(pointAt(space, 2)).toEqual({ ep: 8, seq: 2048, batch: 1 })
    expect(pointAt(space, 11)).toEqual({ ep: 16, seq: 4096, batch: 2 })
  })

  it("finds the neighbours one step away on each axis", () => {
    // index 9 = ep 16, seq 2048, batch 2
    expect(neighbours(space, 9)).toEqual([
      { axis: "ep", value: 8, index: 3 },
      { axis: "seq", value: 1024, index: 7 },
      { axis: "seq", value: 4096, index: 11 },
      { axis: "batch", value: 1, index: 8 }
    ])
  })

  it("shards cover every point exactly once, in contiguous slices", () => {
    for (const n of [1, 2, 3, 5, 12, 13]) {
      const seen: Array<number> = []
      for (let k = 1; k <= n; k++) {
        const { from, to } = shardRange(space.size, { k, n })
        for (let i = from; i < to; i++) seen.push(i)
      }
      expect(seen).toEqual([...Array(space.size).keys()])
    }
    expect(parseShard("2/4")).toEqual({ k: 2, n: 4 })
    expect(parseShard("0/4")).toBeUndefined()
    expect(parseShard("5/4")).toBeUndefined()
  })
})

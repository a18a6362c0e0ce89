/** Two-batch overlap and serial composition (src/kernel/twoBatchOverlap.ts), by hand. */
import { describe, expect, it } from "vitest"
import { serialLayer, tboLayer } from "../../src/kernel/twoBatchOverlap.ts"

describe("layer composition", () => {
  it("TBO: max(a,d) + max(f,d) + max(f,c) + max(a,c), charged to the longer side of each stage", () => {
    // a 2, d 1, f 3, c 4: 2 + 3 + 4 + 4 = 13; attention 2, ffn 3, comm 4 + 4 = 8 -> comm
    const t = tboLayer({ a: 2, d: 1, f: 3, c: 4 })
    expect(t.layer_ms).toBe(13)
    expect(t.charged).toEqual({ attention: 2, ffn: 3, comm: 8 })
    expect(t.bound).toBe("comm")
  })

  it("TBO hides communication shorter than compute completely", () => {
    // a 5, d 1, f 1, c 1: 5 + 1 + 1 + 5 = 12 = 2 * (5 + 1): no exposed communication
    const t = tboLayer({ a: 5, d: 1, f: 1, c: 1 })
    expect(t.layer_ms).toBe(12)
    expect(t.bound).toBe("attention")
  })

  it("TBO at overlap efficiency e: each stage is the longer side plus (1 - e) of the shorter, charged to the shorter's kind", () => {
    // a 2, d 1, f 3, c 4 at e = 0.5: stages (2,1) 2 + 0.5, (3,1) 3 + 0.5, (3,4) 4 + 1.5, (2,4) 4 + 1
    // = 2.5 + 3.5 + 5.5 + 5 = 16.5; attention 2 + 1 = 3, ffn 3 + 1.5 = 4.5, comm 0.5 + 0.5 + 4 + 4 = 9
    const t = tboLayer({ a: 2, d: 1, f: 3, c: 4 }, 0.5)
    expect(t.layer_ms).toBeCloseTo(16.5, 12)
    expect(t.charged.attention).toBeCloseTo(3, 12)
    expect(t.charged.ffn).toBeCloseTo(4.5, 12)
    expect(t.charged.comm).toBeCloseTo(9, 12)
    // e = 1 is the max form above, e = 0 no overlap at all: the serial sum of one step's two micro-batches.
    expect(tboLayer({ a: 2, d: 1, f: 3, c: 4 }, 1).layer_ms).toBe(13)
    expect(tboLayer({ a: 2, d: 1, f: 3, c: 4 }, 0).layer_ms).toBeCloseTo(serialLayer({ a: 2, d: 1, f: 3, c: 4 }, 2).layer_ms, 12)
  })

  it("serial: m (a + d + f + c)", () => {
    // 2 * (2 + 1 + 3 + 4) = 20; attention 4, ffn 6, comm 10
    const s = serialLayer({ a: 2, d: 1, f: 3, c: 4 }, 2)
    expect(s.layer_ms).toBe(20)
    expect(s.charged).toEqual({ attention: 4, ffn: 6, comm: 10 })
    expect(s.bound).toBe("comm")
    expect(serialLayer({ a: 2, d: 1, f: 3, c: 4 }, 1).layer_ms).toBe(10)
  })
})

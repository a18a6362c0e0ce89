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

  it("serial: m (a + d + f + c)", () => {
    // 2 * (2 + 1 + 3 + 4) = 20; attention 4, ffn 6, comm 10
    const s = serialLayer({ a: 2, d: 1, f: 3, c: 4 }, 2)
    expect(s.layer_ms).toBe(20)
    expect(s.charged).toEqual({ attention: 4, ffn: 6, comm: 10 })
    expect(s.bound).toBe("comm")
    expect(serialLayer({ a: 2, d: 1, f: 3, c: 4 }, 1).layer_ms).toBe(10)
  })
})

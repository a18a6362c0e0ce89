import { describe, expect, it } from "vitest"
import { canonicalJson, digest } from "../../src/graph/canonical.ts"

describe("canonical JSON", () => {
  it("sorts keys by UTF-16 code unit, not locale, and keeps integer-like keys in that order", () => {
    // Code-unit order: "10" < "2" < "B" < "a" < "b" (digits 0x30.., upper 0x41.., lower 0x61..)
    expect(canonicalJson({ b: 1, "10": 2, "2": 3, B: 4, a: 5 })).toBe('{"10":2,"2":3,"B":4,"a":5,"b":1}')
  })

  it("gives the same digest whatever the key insertion order", () => {
    const a = { x: { p: 1, q: [1, 2, { z: 1, y: 2 }] }, w: "s" }
    const b = { w: "s", x: { q: [1, 2, { y: 2, z: 1 }], p: 1 } }
    expect(digest(a)).toBe(digest(b))
  })

  it("treats 1.0 and 1 as the same number but distinguishes 1 from 1.5", () => {
    expect(canonicalJson({ a: 1.0 })).toBe(canonicalJson({ a: 1 }))
    expect(digest({ a: 1 })).not.toBe(digest({ a: 1.5 }))
  })

  it("rejects non-finite numbers instead of writing null", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow()
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow()
  })
})

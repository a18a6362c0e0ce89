import { describe, expect, it } from "vitest"
import { evaluateOpCost, OP_FORMULAS } from "../../src/ops/registry.ts"

describe("op registry", () => {
  it("throws a plain Error for an unknown kind, including prototype keys", () => {
    expect(() => evaluateOpCost({ kind: "nope", name: "x", category: "other", params: {} })).toThrow(/unknown op kind: nope/)
    expect(() => evaluateOpCost({ kind: "toString", name: "x", category: "other", params: {} })).toThrow(Error)
  })

  it("throws on a missing or mistyped param (a programming error in an estimator)", () => {
    expect(() => evaluateOpCost({ kind: "linear", name: "x", category: "other", params: { tokens: 1 } })).toThrow(/op param/)
    expect(() => evaluateOpCost({ kind: "rmsnorm", name: "x", category: "other", params: { tokens: 1, hidden: 2, act_dtype: "bf17" } })).toThrow(
      /unknown dtype/
    )
  })

  it("every formula has a positive integer version", () => {
    for (const [kind, f] of Object.entries(OP_FORMULAS)) {
      expect(Number.isInteger(f.version) && f.version >= 1, kind).toBe(true)
    }
  })
})

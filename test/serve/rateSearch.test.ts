/**
 * The rate search of `sweep --bench` on probes whose answer is known by construction: an
 * instance of capacity 10 req/s whose SLOs hold up to 3.7 req/s must be answered with the highest
 * probed rate at or below 3.7, within the 2% bracket; the other three outcomes (met at max load,
 * met at capacity, never met) stop where the module header says.
 */
import { describe, expect, it } from "vitest"
import { searchRate, type RateProbe } from "../../src/serve/rateSearch.ts"

const instance =
  (capacity: number, limit: number) =>
  (rate: number): RateProbe => ({ rate, meets: rate <= limit, request_throughput: Math.min(rate, capacity) })

describe("searchRate", () => {
  it("brackets the SLO boundary to 2% and answers a rate that met it", () => {
    const s = searchRate(instance(10, 3.7))
    expect(s.bound).toBe("bracket")
    expect(s.best!.rate).toBeLessThanOrEqual(3.7)
    expect(s.best!.rate).toBeGreaterThan(3.7 / 1.02)
    // inf, capacity, capacity / 64, then bisection: 10/(10/64) = 64x bracket needs log2(ln 64 / ln 1.02) = 8 halvings.
    expect(s.probes.map((p) => p.rate).slice(0, 3)).toEqual([Number.POSITIVE_INFINITY, 10, 10 / 64])
    expect(s.probes).toHaveLength(3 + 8)
  })

  it("stops at max load, at capacity, or below the floor", () => {
    expect(searchRate(instance(10, Number.POSITIVE_INFINITY)).bound).toBe("offline")
    const atCap = searchRate(instance(10, 10))
    expect(atCap.bound).toBe("capacity")
    expect(atCap.best!.rate).toBe(10)
    const never = searchRate(instance(10, 0.1))
    expect(never.bound).toBe("none")
    expect(never.best).toBeUndefined()
    expect(never.probes).toHaveLength(3)
  })

  it("keeps the best probe that met the SLOs when a probe breaks the order", () => {
    // Met at 1 and at 2.5 only; misses between: the answer is still a rate that met them.
    const odd = (rate: number): RateProbe => ({
      rate,
      meets: rate === Number.POSITIVE_INFINITY ? false : rate < 1.01 || Math.abs(rate - 2.5) < 1e-9,
      request_throughput: Math.min(rate, 64)
    })
    const s = searchRate(odd)
    expect(s.best!.meets).toBe(true)
  })
})

/** The seeded random source (src/serve/random.ts): reproducible, the right bits, the right distributions. */
import { describe, expect, it } from "vitest"
import { createRng, type Rng } from "../../src/serve/random.ts"

/**
 * An independent xoroshiro128+ on 64-bit BigInts, from the published algorithm (Blackman & Vigna:
 * result = s0 + s1; s1 ^= s0; s0 = rotl(s0, 24) ^ s1 ^ (s1 << 16); s1 = rotl(s1, 37)), seeded
 * as pure-rand documents its 32-bit seeding (s0 = [-1 : ~seed], s1 = [seed : 0] as high:low
 * halves), returning the low 32 bits as pure-rand's next() does.
 */
const referenceXoroshiro = (seed: number) => {
  const M = (1n << 64n) - 1n
  const u32 = (x: number) => BigInt(x >>> 0)
  let s0 = (u32(-1) << 32n) | u32(~seed)
  let s1 = u32(seed) << 32n
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (64n - k))) & M
  return () => {
    const out = Number((s0 + s1) & 0xffffffffn)
    s1 ^= s0
    s0 = rotl(s0, 24n) ^ s1 ^ ((s1 << 16n) & M)
    s1 = rotl(s1, 37n)
    return out
  }
}

/** uniformFloat64's recipe: 26 bits then 27 bits, value1 / 2^26 + value2 / 2^53. */
const referenceFloat = (next: () => number) => {
  const a = next() & (2 ** 26 - 1)
  const b = next() & (2 ** 27 - 1)
  return a / 2 ** 26 + b / 2 ** 53
}

const draw = (rng: Rng, n: number, f: (r: Rng) => number) => Array.from({ length: n }, () => f(rng))

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const varianceOf = (xs: number[]) => {
  const m = meanOf(xs)
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length
}

describe("createRng", () => {
  it("gives xoroshiro128+'s floats, bit for bit, for seeds 0 and 42", () => {
    for (const seed of [0, 42]) {
      const ref = referenceXoroshiro(seed)
      const rng = createRng(seed)
      for (let i = 0; i < 50; i++) expect(rng.float()).toBe(referenceFloat(ref))
    }
  })

  it("repeats its sequence for a seed and changes it with the seed", () => {
    const a = draw(createRng(7), 20, (r) => r.float())
    expect(draw(createRng(7), 20, (r) => r.float())).toEqual(a)
    expect(draw(createRng(8), 20, (r) => r.float())).not.toEqual(a)
  })

  it("float is in [0, 1); int covers both ends of [lo, hi] and nothing else", () => {
    const rng = createRng(1)
    for (const x of draw(rng, 1000, (r) => r.float())) expect(x >= 0 && x < 1).toBe(true)
    const ints = new Set(draw(rng, 600, (r) => r.int(3, 5)))
    expect([...ints].sort()).toEqual([3, 4, 5])
    expect(rng.int(9, 9)).toBe(9)
  })

  it("fork hands over the current stream and jumps this one: every fork is a different stretch", () => {
    const parent = createRng(5)
    const first = parent.fork()
    const second = parent.fork()
    // The first fork starts where the parent was: the seed's own sequence.
    expect(draw(first, 5, (r) => r.float())).toEqual(draw(createRng(5), 5, (r) => r.float()))
    const b = draw(second, 5, (r) => r.float())
    expect(b).not.toEqual(draw(createRng(5), 5, (r) => r.float()))
    // The parent, jumped twice, is a third stretch.
    expect(draw(parent, 5, (r) => r.float())).not.toEqual(b)
    // And the same forks of the same seed give the same streams.
    const again = createRng(5)
    again.fork()
    expect(draw(again.fork(), 5, (r) => r.float())).toEqual(b)
  })

  // Moments of 20,000 draws from a fixed seed: deterministic, so the bounds are not flaky; each
  // is several standard errors wide.
  it("exponential(rate 2): mean 1/2, variance 1/4", () => {
    const xs = draw(createRng(11), 20_000, (r) => r.exponential(2))
    expect(meanOf(xs)).toBeCloseTo(0.5, 1)
    expect(Math.abs(meanOf(xs) - 0.5) / 0.5).toBeLessThan(0.03)
    expect(Math.abs(varianceOf(xs) - 0.25) / 0.25).toBeLessThan(0.08)
  })

  it("gamma: mean k theta, variance k theta^2, for k >= 1 and for k < 1 (the boost)", () => {
    for (const [k, theta] of [
      [3, 1 / 3],
      [0.5, 2],
      [0.25, 4]
    ] as const) {
      const xs = draw(createRng(12), 20_000, (r) => r.gamma(k, theta))
      for (const x of xs) expect(x).toBeGreaterThanOrEqual(0)
      expect(Math.abs(meanOf(xs) - k * theta) / (k * theta)).toBeLessThan(0.05)
      expect(Math.abs(varianceOf(xs) - k * theta * theta) / (k * theta * theta)).toBeLessThan(0.12)
    }
  })

  it("normal: mean 0, variance 1; lognormal(ln 100, 1): median 100, mean 100 e^(1/2)", () => {
    const zs = draw(createRng(13), 20_000, (r) => r.normal())
    expect(Math.abs(meanOf(zs))).toBeLessThan(0.03)
    expect(Math.abs(varianceOf(zs) - 1)).toBeLessThan(0.04)
    const xs = draw(createRng(14), 20_000, (r) => r.lognormal(Math.log(100), 1)).sort((a, b) => a - b)
    expect(Math.abs((xs[10_000] as number) - 100) / 100).toBeLessThan(0.04)
    expect(Math.abs(meanOf(xs) - 100 * Math.exp(0.5)) / (100 * Math.exp(0.5))).toBeLessThan(0.04)
  })
})

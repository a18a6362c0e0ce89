/**
 * A seeded random source for workloads: the same seed gives the same sequence on every machine
 * and Node version, so a generated workload (and the simulation built on it) is reproducible.
 *
 * The bits come from pure-rand's xoroshiro128+ (github.com/dubzzz/pure-rand, v8.4.2,
 * `src/generator/xoroshiro128plus.ts`; the generator of Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 2021). pure-rand seeds it from a 32-bit integer
 * (`seed | 0`), so seeds are taken modulo 2^32. `fork()` splits off an independent stream by
 * xoroshiro's jump (2^64 steps), so two consumers of one seed (lengths and arrivals) never
 * share draws and adding draws to one does not shift the other.
 *
 * Distributions, each from its textbook construction:
 *   float()            uniform on [0, 1): 53 random bits (pure-rand `uniformFloat64`)
 *   int(lo, hi)        uniform integer on [lo, hi], unbiased by rejection (pure-rand `uniformInt`)
 *   exponential(rate)  -ln(1 - U) / rate                                (inverse CDF)
 *   normal()           sqrt(-2 ln U1) cos(2 pi U2)                      (Box & Muller 1958)
 *   gamma(k, theta)    Marsaglia & Tsang, "A simple method for generating gamma variables",
 *                      ACM TOMS 26(3), 2000: d = k - 1/3, c = 1/sqrt(9d), v = (1 + c Z)^3, accept
 *                      when ln U < Z^2/2 + d - d v + d ln v; for k < 1 their boost
 *                      Gamma(k) = Gamma(k + 1) U^(1/k), from the same paper
 *   lognormal(mu, s)   exp(mu + s Z)
 * The sequences differ from numpy's (another generator), so a workload matches vLLM's in
 * distribution, not draw for draw.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { uniformInt } from "pure-rand/distribution/uniformInt"
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus"
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator"

export interface Rng {
  /** Uniform on [0, 1). */
  readonly float: () => number
  /** Uniform integer on [lo, hi] (both included; safe integers, lo <= hi). */
  readonly int: (lo: number, hi: number) => number
  /** Exponential with the given rate (mean 1 / rate). */
  readonly exponential: (rate: number) => number
  /** Standard normal. */
  readonly normal: () => number
  /** Gamma with shape k > 0 and scale theta > 0 (mean k theta). */
  readonly gamma: (shape: number, scale: number) => number
  /** exp(N(mu, sigma^2)): median e^mu, mean e^(mu + sigma^2 / 2). */
  readonly lognormal: (mu: number, sigma: number) => number
  /**
   * An independent stream: the new stream takes this one's current state and this one jumps
   * 2^64 steps ahead, so every fork (and what this stream draws next) is a separate stretch.
   */
  readonly fork: () => Rng
}

const fromGenerator = (g: JumpableRandomGenerator): Rng => {
  const float = () => uniformFloat64(g)
  // 1 - U is in (0, 1]: the logarithm never sees 0.
  const positive = () => 1 - float()
  const normal = () => Math.sqrt(-2 * Math.log(positive())) * Math.cos(2 * Math.PI * float())
  const gammaAtLeastOne = (k: number): number => {
    const d = k - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      const z = normal()
      const v = (1 + c * z) ** 3
      if (v <= 0) continue
      if (Math.log(positive()) < (z * z) / 2 + d - d * v + d * Math.log(v)) return d * v
    }
  }
  return {
    float,
    int: (lo, hi) => uniformInt(g, lo, hi),
    exponential: (rate) => -Math.log(positive()) / rate,
    normal,
    gamma: (shape, scale) => (shape >= 1 ? gammaAtLeastOne(shape) : gammaAtLeastOne(shape + 1) * positive() ** (1 / shape)) * scale,
    lognormal: (mu, sigma) => Math.exp(mu + sigma * normal()),
    fork: () => {
      const child = fromGenerator(g.clone())
      g.jump()
      return child
    }
  }
}

/** A stream seeded by `seed` (an integer; taken modulo 2^32). */
export const createRng = (seed: number): Rng => fromGenerator(xoroshiro128plus(seed))

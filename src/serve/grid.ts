/**
 * The bucketed keys a served workload's steps are priced on. A simulated benchmark runs tens of
 * thousands of engine steps, each with its own token count and context lengths; pricing each one
 * op by op would cost ~0.1 ms of planning and timing per step. Instead a figure is priced at grid
 * points only (memoized: each point is planned and timed once) and interpolated linearly between
 * the two neighbouring points. Exact on the points; between them the error is that of a chord on
 * a smooth curve (a GEMM's wave steps are smoothed over, as an engine's varying batch does).
 *
 * The grid: every integer up to 16, then 16 points per doubling (a ratio of 2^(1/16), 4.4%),
 * rounded to integers; 0 maps to 0. So 100,000 tokens need 16 + 16 * 12.6 ~ 218 points at most.
 */

const EXACT = 16
const PER_DOUBLING = 16

/** The k-th grid point (k >= 0): k itself up to EXACT, then geometric. */
export const gridPoint = (k: number): number => (k <= EXACT ? k : Math.round(EXACT * Math.pow(2, (k - EXACT) / PER_DOUBLING)))

/** The index of the largest grid point <= x (x >= 0). */
export const gridIndexBelow = (x: number): number => {
  if (x <= EXACT) return Math.floor(x)
  let k = EXACT + Math.floor(Math.log2(x / EXACT) * PER_DOUBLING)
  // Rounding of the points can put x on either side of the estimate: settle it exactly.
  while (gridPoint(k + 1) <= x) k++
  while (gridPoint(k) > x) k--
  return k
}

/** A memoized function of one non-negative number, priced at grid points and interpolated between them. */
export class Grid1 {
  private readonly values = new Map<number, number>()
  private readonly price: (x: number) => number
  constructor(price: (x: number) => number) {
    this.price = price
  }

  private at(k: number): number {
    let v = this.values.get(k)
    if (v === undefined) {
      v = this.price(gridPoint(k))
      this.values.set(k, v)
    }
    return v
  }

  get(x: number): number {
    const k = gridIndexBelow(x)
    const lo = gridPoint(k)
    if (lo === x) return this.at(k)
    const hi = gridPoint(k + 1)
    const a = this.at(k)
    return a + ((this.at(k + 1) - a) * (x - lo)) / (hi - lo)
  }

  /** Grid points priced so far. */
  get size(): number {
    return this.values.size
  }
}

/** A memoized function of two non-negative numbers, interpolated bilinearly between grid points. */
export class Grid2 {
  private readonly values = new Map<number, number>()
  private readonly price: (x: number, y: number) => number
  constructor(price: (x: number, y: number) => number) {
    this.price = price
  }

  private at(i: number, j: number): number {
    const key = i * 100_003 + j
    let v = this.values.get(key)
    if (v === undefined) {
      v = this.price(gridPoint(i), gridPoint(j))
      this.values.set(key, v)
    }
    return v
  }

  get(x: number, y: number): number {
    const i = gridIndexBelow(x)
    const j = gridIndexBelow(y)
    const x0 = gridPoint(i)
    const y0 = gridPoint(j)
    const fx = x0 === x ? 0 : (x - x0) / (gridPoint(i + 1) - x0)
    const fy = y0 === y ? 0 : (y - y0) / (gridPoint(j + 1) - y0)
    const a = this.at(i, j)
    const b = fx === 0 ? a : this.at(i + 1, j)
    const lower = a + (b - a) * fx
    if (fy === 0) return lower
    const c = this.at(i, j + 1)
    const d = fx === 0 ? c : this.at(i + 1, j + 1)
    return lower + (c + (d - c) * fx - lower) * fy
  }

  get size(): number {
    return this.values.size
  }
}

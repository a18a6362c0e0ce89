/**
 * Error statistics of predictions against measurements. Pure.
 *
 *   APE  = |predicted / measured - 1| * 100          (absolute percentage error, per row)
 *   median, p90 by linear interpolation between order statistics (numpy's default "linear"
 *   percentile: position (n - 1) * q in the sorted list).
 */

export const ape = (predicted: number, measured: number): number => Math.abs(predicted / measured - 1) * 100

/** The middle of xs (the mean of the two middle values for an even count); NaN for an empty list. */
export const median = (xs: ReadonlyArray<number>): number => quantile(xs, 0.5)

/** The q-quantile (0..1) of xs, linear interpolation; NaN for an empty list. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}

export interface ErrorSummary {
  readonly rows: number
  readonly median_ape: number
  readonly p90_ape: number
  readonly max_ape: number
}

export const summarise = (apes: ReadonlyArray<number>): ErrorSummary => ({
  rows: apes.length,
  median_ape: quantile(apes, 0.5),
  p90_ape: quantile(apes, 0.9),
  max_ape: apes.length === 0 ? Number.NaN : apes.reduce((a, b) => Math.max(a, b), -Infinity)
})

/** Sum of squared log errors: the calibration objective. */
export const logSquaredError = (pairs: ReadonlyArray<{ readonly predicted: number; readonly measured: number }>): number =>
  pairs.reduce((s, p) => s + Math.log(p.predicted / p.measured) ** 2, 0)

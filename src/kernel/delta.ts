/**
 * The change of one figure between two results: watch (previous save -> this save) and diff
 * (side A -> side B) both compute it here, with one rule for a zero or missing baseline.
 *
 * The rule, for `delta(before, after)`:
 * - either side missing (null or undefined: a first result, a layer or phase on one side only,
 *   a serving figure of a phase not evaluated): `abs` and `pct` are null; there is no change to
 *   report, only a presence, which the caller shows (a `new` or `removed` row).
 * - equal values: `abs` 0 and `pct` 0, whatever the baseline, 0 -> 0 included: nothing moved,
 *   and an unchanged figure reads the same on every row.
 * - a zero baseline and a different value (0 -> 5): `abs` is the change and `pct` is null: a
 *   relative change from nothing is not a number. Readers show the absolute change and `-` (or
 *   nothing) for the percentage; the regression gate counts it as worse than any limit.
 */

export interface Delta {
  readonly before: number | null
  readonly after: number | null
  /** after - before; null when either side is missing. */
  readonly abs: number | null
  /** 100 * (after - before) / before; 0 when equal; null when a side is missing or before is 0 and after is not. */
  readonly pct: number | null
}

export const delta = (before: number | null | undefined, after: number | null | undefined): Delta => {
  const b = before ?? null
  const a = after ?? null
  if (b === null || a === null) return { before: b, after: a, abs: null, pct: null }
  const abs = a - b
  return { before: b, after: a, abs, pct: abs === 0 ? 0 : b === 0 ? null : (100 * abs) / b }
}

/**
 * Number and text formats shared by every report: fixed decimals, unit scalings, significant
 * digits, percentages and signed changes. Pure and deterministic (no locale, no exponent),
 * ASCII only.
 */

/** Fixed decimals, no exponent, `-` for null, undefined or a non-finite value. */
export const fixed = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits))

/** Units of 1e9 (GFLOP) with 3 decimals. */
export const giga = (x: number): string => (x / 1e9).toFixed(3)
/** Units of 1e6 (MB) with 3 decimals. */
export const mega = (x: number): string => (x / 1e6).toFixed(3)
/** Bytes as GB (1e9) with 2 decimals: memory sizes. */
export const gb = (bytes: number): string => (bytes / 1e9).toFixed(2)

/** A number with `sig` significant digits (at most 6 decimals), `0` for zero, `-` if not finite. */
export const significant = (x: number, sig = 4): string => {
  if (!Number.isFinite(x)) return "-"
  if (x === 0) return "0"
  const digits = Math.max(0, sig - 1 - Math.floor(Math.log10(Math.abs(x))))
  return x.toFixed(Math.min(digits, 6))
}

/** A percentage with `digits` decimals (`12.5%`), `-` if not finite. */
export const percent = (x: number, digits = 1): string => (Number.isFinite(x) ? `${x.toFixed(digits)}%` : "-")

/**
 * A signed change in a table of values that mostly did not move (watch's screen): `0` for no
 * change, `+`/`-` and `digits` decimals otherwise; a change too small for `digits` decimals reads
 * `-<0.0001` (fixed notation, yet not zero); empty for a missing change.
 */
export const signedCompact = (x: number | null | undefined, digits: number, unit = ""): string => {
  if (x === null || x === undefined) return ""
  if (x === 0) return "0"
  const sign = x > 0 ? "+" : "-"
  const text = Math.abs(x) >= 10 ** -digits ? Math.abs(x).toFixed(digits) : `<${(10 ** -digits).toFixed(digits)}`
  return `${sign}${text}${unit}`
}

/**
 * A signed change in the column's own format (diff's tables): `+f(x)`, `-f(|x|)`, or `f(0)`
 * unsigned; `-` for a missing change.
 */
export const signedFixed = (x: number | null, f: (x: number) => string): string => (x === null ? "-" : x > 0 ? `+${f(x)}` : x < 0 ? `-${f(-x)}` : f(0))

/** Replace anything outside printable ASCII (reference notes may hold section signs, dashes). */
export const ascii = (s: string): string => s.replace(/[^\x20-\x7e\n]/g, "?")

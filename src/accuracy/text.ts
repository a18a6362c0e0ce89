/** Text helpers for reports: ASCII only, fixed number formats (deterministic output). */

/** Replace anything outside printable ASCII (reference notes may hold section signs, dashes). */
export const ascii = (s: string): string => s.replace(/[^\x20-\x7e\n]/g, "?")

/** A number with `sig` significant digits, no exponent for the magnitudes reports use. */
export const fmt = (x: number, sig = 4): string => {
  if (!Number.isFinite(x)) return "-"
  if (x === 0) return "0"
  const digits = Math.max(0, sig - 1 - Math.floor(Math.log10(Math.abs(x))))
  return x.toFixed(Math.min(digits, 6))
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)}%` : "-")

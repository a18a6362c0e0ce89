/**
 * Non-finite numbers through JSON: canonical JSON (src/graph/canonical.ts) rejects them and
 * JSON.stringify turns them into null, but a max-load probe's rate is +Infinity. A stored value
 * carries each as `{"$number": "Infinity" | "-Infinity" | "NaN"}` and is read back exactly.
 */

const TAG = "$number"

/** `value` with every non-finite number replaced by its tagged object (plain data in, plain data out). */
export const encodeNonFinite = (value: unknown): unknown => {
  if (typeof value === "number") return Number.isFinite(value) ? value : { [TAG]: String(value) }
  if (Array.isArray(value)) return value.map(encodeNonFinite)
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encodeNonFinite(v)
    return out
  }
  return value
}

/** The inverse of encodeNonFinite. */
export const decodeNonFinite = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decodeNonFinite)
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0]![0] === TAG && typeof entries[0]![1] === "string") return Number(entries[0]![1])
    const out: Record<string, unknown> = {}
    for (const [k, v] of entries) out[k] = decodeNonFinite(v)
    return out
  }
  return value
}

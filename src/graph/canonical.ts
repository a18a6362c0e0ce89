/**
 * Canonical JSON (RFC 8785 / JCS) and SHA-256 digests.
 *
 * Why a library: `canonicalize` implements JCS exactly (keys sorted by UTF-16 code unit,
 * ECMAScript number formatting, no whitespace) and throws on NaN / Infinity, which plain
 * `JSON.stringify` would silently turn into `null` and so collide distinct inputs.
 */
import canonicalize from "canonicalize"
import { sha256 } from "../base/sha256.js"

/** Where the first non-finite number sits in `value` (`params.spec.bytes`), for the defect report. */
const nonFinitePath = (value: unknown, path: string): string | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `${path || "(the value)"} is ${value}`
  if (value === null || typeof value !== "object") return undefined
  for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const hit = nonFinitePath(v, path === "" ? String(k) : `${path}.${k}`)
    if (hit !== undefined) return hit
  }
  return undefined
}

/**
 * Canonical JSON text of a value; throws on non-finite numbers and lone surrogates. Config
 * numbers are range-checked at decode (src/config/yamlFile.ts), so a non-finite number here is
 * a defect: the error names where it sits (the CLI reports it as an internal error).
 */
export const canonicalJson = (value: unknown): string => {
  let text: string | undefined
  try {
    text = canonicalize(value)
  } catch (e) {
    const where = nonFinitePath(value, "")
    const name = (value as { name?: unknown } | null)?.name
    if (where === undefined) throw e
    throw new Error(`a computed value is not finite: ${where}${typeof name === "string" ? ` (node ${name})` : ""}`)
  }
  if (text === undefined) throw new Error("value has no JSON form")
  return text
}

/** Digest of a value's canonical JSON. */
export const digest = (value: unknown): string => sha256(canonicalJson(value))

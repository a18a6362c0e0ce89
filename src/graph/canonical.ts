/**
 * Canonical JSON (RFC 8785 / JCS) and SHA-256 digests.
 *
 * Why a library: `canonicalize` implements JCS exactly (keys sorted by UTF-16 code unit,
 * ECMAScript number formatting, no whitespace) and throws on NaN / Infinity, which plain
 * `JSON.stringify` would silently turn into `null` and so collide distinct inputs.
 */
import canonicalize from "canonicalize"
import { createHash } from "node:crypto"

/** Canonical JSON text of a value; throws on non-finite numbers and lone surrogates. */
export const canonicalJson = (value: unknown): string => {
  const text = canonicalize(value)
  if (text === undefined) throw new Error("value has no JSON form")
  return text
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** Digest of a value's canonical JSON. */
export const digest = (value: unknown): string => sha256(canonicalJson(value))

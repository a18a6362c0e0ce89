/**
 * Typed readers for an op's scalar params. A missing or mistyped param is a programming error
 * in a layer estimator (specs are built in code, never decoded from user input), so it throws.
 */
import { DTYPE_BYTES, type Dtype } from "../schema/dtypes.ts"
import type { OpParams } from "./types.ts"

export const num = (p: OpParams, key: string): number => {
  const v = p[key]
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`op param ${key}: expected a finite number, got ${String(v)}`)
  return v
}

export const str = (p: OpParams, key: string): string => {
  const v = p[key]
  if (typeof v !== "string") throw new Error(`op param ${key}: expected a string, got ${String(v)}`)
  return v
}

export const bool = (p: OpParams, key: string): boolean => {
  const v = p[key]
  if (typeof v !== "boolean") throw new Error(`op param ${key}: expected a boolean, got ${String(v)}`)
  return v
}

export const dtype = (p: OpParams, key: string): Dtype => {
  const v = str(p, key)
  if (!Object.hasOwn(DTYPE_BYTES, v)) throw new Error(`op param ${key}: unknown dtype ${v}`)
  return v as Dtype
}

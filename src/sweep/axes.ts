/**
 * Sweep axes: what a sweep varies, and how an axis's text becomes its values.
 *
 * An axis is a list (`1,2,4`), a range (`1..512:x2` doubles from 1 while <= 512; `1..8` or
 * `1..8:+1` steps by 1; `1024..8192:+1024` by 1024), or for named axes a list of names
 * (`2A2F,3A2F`, hardware files, dtypes, `on,off`). Values keep the order written; duplicates are
 * an error (a point evaluated twice is a mistake in the axis, not a wish). The same text works
 * on the command line and in a scenario's `sweep:` block (a YAML list works there too).
 * Pure: a problem comes back as a message.
 */
import { DTYPES } from "../schema/dtypes.ts"

/** Every axis, in the order a point's coordinates are written (and the sweep nests them: the last varies fastest). */
export const AXES = [
  "hardware",
  "weights",
  "kv_cache",
  "moe_experts",
  "instances",
  "tp",
  "dp",
  "ep",
  "redundant_experts",
  "tbo",
  "micro_batches",
  "seq",
  "output",
  "batch"
] as const
export type AxisName = (typeof AXES)[number]

/** The innermost axes: a point's lengths and batch. The others fix its layout (what points share, src/sweep/point.ts). */
export const LENGTH_AXES: ReadonlyArray<AxisName> = ["seq", "output", "batch"]
export const LAYOUT_AXES: ReadonlyArray<AxisName> = AXES.filter((a) => !LENGTH_AXES.includes(a))

/** The command-line flag of an axis (`micro_batches` is `--micro-batch`, as on run). */
export const flagName = (a: AxisName): string => (a === "micro_batches" ? "micro-batch" : a.replace(/_/g, "-"))
export type AxisValue = number | string

interface AxisKind {
  /** What a value is, for messages. */
  readonly expected: string
  readonly numeric: boolean
  /** Smallest allowed number (numeric axes). */
  readonly min?: number
  readonly parse?: (s: string) => string | undefined
}

const dtype: AxisKind = {
  expected: `a dtype (${DTYPES.join(", ")})`,
  numeric: false,
  parse: (s) => ((DTYPES as ReadonlyArray<string>).includes(s) ? s : undefined)
}

export const AXIS_KINDS: Readonly<Record<AxisName, AxisKind>> = {
  hardware: { expected: "a hardware YAML file", numeric: false, parse: (s) => (s.length > 0 ? s : undefined) },
  weights: dtype,
  kv_cache: dtype,
  moe_experts: dtype,
  instances: { expected: "AFD instance counts such as 3A2F", numeric: false, parse: (s) => (/^\d+A\d+F$/i.test(s) ? s.toUpperCase() : undefined) },
  tp: { expected: "integers >= 1", numeric: true, min: 1 },
  dp: { expected: "integers >= 1", numeric: true, min: 1 },
  ep: { expected: "integers >= 1", numeric: true, min: 1 },
  redundant_experts: { expected: "integers >= 0", numeric: true, min: 0 },
  tbo: { expected: "on or off", numeric: false, parse: (s) => (s === "on" || s === "off" ? s : s === "true" ? "on" : s === "false" ? "off" : undefined) },
  micro_batches: { expected: "integers >= 1", numeric: true, min: 1 },
  seq: { expected: "integers >= 1 (tokens)", numeric: true, min: 1 },
  output: { expected: "integers >= 0 (tokens)", numeric: true, min: 0 },
  batch: { expected: "integers >= 1 (sequences per attention DP rank)", numeric: true, min: 1 }
}

/** The most values one axis may have, and the most points a sweep may have (a typo such as 1..1e9 is caught before it runs). */
const MAX_AXIS_VALUES = 1_000_000
/** (The limit's error message in src/sweep/run.ts writes it as 1e9.) */
export const MAX_POINTS = 1e9

export type Parsed<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly message: string }

const integer = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined)

/** A range `a..b`, `a..b:xK` (geometric) or `a..b:+K` (arithmetic); undefined when `text` is not a range. */
const parseRange = (text: string): Parsed<ReadonlyArray<number>> | undefined => {
  const m = /^(\d+)\.\.(\d+)(?::([x+])(\d+))?$/.exec(text)
  if (!m) return undefined
  const from = Number(m[1])
  const to = Number(m[2])
  const op = m[3] ?? "+"
  const step = m[4] === undefined ? 1 : Number(m[4])
  if (from > to) return { ok: false, message: `range ${text} runs backwards (${from} > ${to})` }
  if (op === "x" && (step < 2 || from < 1)) return { ok: false, message: `range ${text}: a geometric step multiplies by 2 or more from 1 or more` }
  if (op === "+" && step < 1) return { ok: false, message: `range ${text}: the step must be 1 or more` }
  const out: Array<number> = []
  for (let v = from; v <= to; v = op === "x" ? v * step : v + step) {
    out.push(v)
    if (out.length > MAX_AXIS_VALUES) return { ok: false, message: `range ${text} has more than ${MAX_AXIS_VALUES.toLocaleString("en-US")} values` }
  }
  return { ok: true, value: out }
}

/** The values of `axis` from its text (comma-separated items, each a value or a numeric range) or a YAML list. */
export const parseAxis = (axis: AxisName, input: string | ReadonlyArray<string | number>): Parsed<ReadonlyArray<AxisValue>> => {
  const kind = AXIS_KINDS[axis]
  const items = typeof input === "string" ? input.split(",").map((s) => s.trim()) : input.map((v) => String(v).trim())
  const out: Array<AxisValue> = []
  for (const item of items) {
    if (kind.numeric) {
      const range = parseRange(item)
      if (range !== undefined) {
        if (!range.ok) return range
        for (const v of range.value) out.push(v)
        continue
      }
      const n = integer(item)
      if (n === undefined || n < (kind.min ?? 0) || !Number.isSafeInteger(n))
        return { ok: false, message: `expected ${kind.expected} or a range such as 1..512:x2, got "${item}"` }
      out.push(n)
    } else {
      const v = kind.parse!(item)
      if (v === undefined) return { ok: false, message: `expected ${kind.expected}, got "${item}"` }
      out.push(v)
    }
  }
  if (out.length === 0) return { ok: false, message: "expected at least one value" }
  for (const v of out) if (typeof v === "number" && v < (kind.min ?? 0)) return { ok: false, message: `expected ${kind.expected}, got ${v}` }
  const seen = new Set<AxisValue>()
  for (const v of out) {
    if (seen.has(v)) return { ok: false, message: `${v} is listed twice` }
    seen.add(v)
  }
  return { ok: true, value: out }
}

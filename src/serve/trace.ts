/**
 * Recorded traces, one line at a time: a pure parser for a trace line, a reader that keeps only
 * the previous timestamp (so I/O code elsewhere can stream a file of any length through it), and
 * the prefix cache a trace's block hashes feed.
 *
 * Formats:
 *   - JSON Lines as the Mooncake traces (github.com/kvcache-ai/Mooncake
 *     `FAST25-release/README.md` @ 3b5a594133958449a1feaf1c9e0fc1b553e34a28): one object per line,
 *     `{"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [...]}`; timestamp is
 *     the relative arrival in milliseconds, hash_ids one remapped hash per 512-token block
 *     ("Identical hash IDs indicate reusable prefix KV cache blocks").
 *   - CSV with a header naming the columns: timestamp or arrival_ms (ms), input_length or
 *     input_len, output_length or output_len, and optionally hash_ids as space-separated
 *     integers. Other columns are ignored; fields may be double-quoted (RFC 4180).
 * A bad line is a problem value {line, column, field, message} with 1-based positions at the
 * offending field: a malformed line, a missing field, a length that is not a positive integer
 * (or exceeds the context), a timestamp that is not a non-negative number or goes backwards.
 *
 * Prefix cache: vLLM reuses the longest run of leading full blocks already cached, never the
 * whole prompt (`KVCacheManager` looks hits up with `max_cache_hit_length=request.num_tokens - 1`,
 * and frees a finished request's blocks "in reverse order so that the tail blocks are evicted
 * first": vllm/v1/core/kv_cache_manager.py @ 003df2961dd8830c317a61f9745ccd557da9fa06). PrefixCache
 * is that rule on hashes: an LRU of block hashes with a capacity in blocks, a request's blocks
 * touched tail first so its head is the last to go. O(blocks of the request) per call. It does not
 * pin the blocks of running requests; the engine model decides what is in use.
 */
import type { ServeRequest } from "./types.ts"
import { HASH_BLOCK_TOKENS } from "./workload.ts"

export type TraceFormat = "csv" | "jsonl"

export interface TraceProblem {
  /** 1-based line in the file. */
  readonly line: number
  /** 1-based character column where the offending field starts (1 when the line has no such field). */
  readonly column: number
  /** The field at fault ("" for the line as a whole). */
  readonly field: string
  readonly message: string
}

export type TraceParse = { readonly ok: true; readonly request: ServeRequest } | { readonly ok: false; readonly problem: TraceProblem }

/** Column indexes (0-based) of a CSV header's fields. */
export interface CsvHeader {
  readonly timestamp: number
  readonly input_length: number
  readonly output_length: number
  readonly hash_ids: number | null
}

export type CsvHeaderParse = { readonly ok: true; readonly header: CsvHeader } | { readonly ok: false; readonly problem: TraceProblem }

/** What a line is checked against. */
export interface TraceLineContext {
  /** The request id to give (default line - 1). */
  readonly id?: number
  /** The previous request's timestamp (ms): this one may not be earlier. */
  readonly previous_ms?: number
  /** Largest prompt + output the engine accepts (tokens). */
  readonly max_context?: number
}

/** The accepted names of each field, first the canonical one. */
const ALIASES = {
  timestamp: ["timestamp", "arrival_ms"],
  input_length: ["input_length", "input_len"],
  output_length: ["output_length", "output_len"],
  hash_ids: ["hash_ids"]
} as const

type Field = keyof typeof ALIASES

const problem = (line: number, column: number, field: string, message: string): TraceProblem => ({ line, column, field, message })

// ---------------------------------------------------------------------------------------------
// CSV fields with their start columns

interface Cell {
  readonly text: string
  /** 0-based offset of the field's first character. */
  readonly at: number
}

/** Splits one CSV line into cells (RFC 4180 quoting); an unterminated quote is a problem at its column. */
const splitCsv = (text: string, lineNo: number): { readonly ok: true; readonly cells: Cell[] } | { readonly ok: false; readonly problem: TraceProblem } => {
  const cells: Cell[] = []
  let i = 0
  for (;;) {
    const start = i
    if (text[i] === '"') {
      let value = ""
      i++
      for (;;) {
        if (i >= text.length) return { ok: false, problem: problem(lineNo, start + 1, "", "unterminated quoted field") }
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"'
            i += 2
            continue
          }
          i++
          break
        }
        value += text[i]
        i++
      }
      if (i < text.length && text[i] !== ",") return { ok: false, problem: problem(lineNo, i + 1, "", "expected a comma after the closing quote") }
      cells.push({ text: value, at: start + 1 })
    } else {
      const comma = text.indexOf(",", i)
      const end = comma === -1 ? text.length : comma
      const raw = text.slice(i, end)
      const lead = raw.length - raw.trimStart().length
      cells.push({ text: raw.trim(), at: i + lead })
      i = end
    }
    if (i >= text.length) return { ok: true, cells }
    i++ // past the comma
  }
}

/** Reads a CSV header line: which column holds which field. */
export const parseCsvHeader = (text: string, lineNo: number): CsvHeaderParse => {
  const split = splitCsv(text, lineNo)
  if (!split.ok) return split
  const found: Partial<Record<Field, number>> = {}
  for (const [index, cell] of split.cells.entries()) {
    const name = cell.text.toLowerCase()
    for (const field of Object.keys(ALIASES) as Field[]) {
      if (!(ALIASES[field] as ReadonlyArray<string>).includes(name)) continue
      if (found[field] !== undefined)
        return { ok: false, problem: problem(lineNo, cell.at + 1, field, `two columns name ${field} (${ALIASES[field].join(" or ")}); keep one`) }
      found[field] = index
    }
  }
  for (const field of ["timestamp", "input_length", "output_length"] as const)
    if (found[field] === undefined) return { ok: false, problem: problem(lineNo, 1, field, `the header has no ${ALIASES[field].join(" or ")} column`) }
  return {
    ok: true,
    header: {
      timestamp: found.timestamp as number,
      input_length: found.input_length as number,
      output_length: found.output_length as number,
      hash_ids: found.hash_ids ?? null
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A strict JSON scan: only run on a line JSON.parse refused (for the column of the error) or on a
// line with a bad field (for the column of that field's value).

interface JsonScan {
  /** 0-based offset and message of the first syntax error, or null. */
  readonly error: { readonly at: number; readonly message: string } | null
  /** 0-based offset of each top-level key's value. */
  readonly valueAt: ReadonlyMap<string, number>
}

const scanJson = (s: string): JsonScan => {
  const valueAt = new Map<string, number>()
  let i = 0
  let error: JsonScan["error"] = null
  const fail = (message: string): false => {
    error ??= { at: Math.min(i, s.length), message }
    return false
  }
  const ws = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++
  }
  const str = (): string | null => {
    if (s[i] !== '"') {
      fail("expected a double-quoted string")
      return null
    }
    const start = ++i
    while (i < s.length && s[i] !== '"') {
      if (s.charCodeAt(i) < 0x20) {
        fail("control character in a string")
        return null
      }
      if (s[i] === "\\") {
        const e = s[i + 1]
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
            fail("bad \\u escape")
            return null
          }
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else {
          fail("bad escape")
          return null
        }
      } else i++
    }
    if (i >= s.length) {
      fail("unterminated string")
      return null
    }
    const raw = s.slice(start, i)
    i++
    return raw
  }
  const num = (): boolean => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(i))
    if (m === null || m[0] === "" || m[0] === "-") return fail("expected a value")
    i += m[0].length
    return true
  }
  const value = (depth: number): boolean => {
    ws()
    const c = s[i]
    if (c === "{") return object(depth + 1)
    if (c === "[") return array(depth + 1)
    if (c === '"') return str() !== null
    for (const word of ["true", "false", "null"]) {
      if (s.startsWith(word, i)) {
        i += word.length
        return true
      }
    }
    if (c === undefined) return fail("unexpected end of line")
    return num()
  }
  const array = (depth: number): boolean => {
    i++
    ws()
    if (s[i] === "]") {
      i++
      return true
    }
    for (;;) {
      if (!value(depth)) return false
      ws()
      if (s[i] === ",") {
        i++
        continue
      }
      if (s[i] === "]") {
        i++
        return true
      }
      return fail("expected ',' or ']'")
    }
  }
  const object = (depth: number): boolean => {
    i++
    ws()
    if (s[i] === "}") {
      i++
      return true
    }
    for (;;) {
      ws()
      const key = str()
      if (key === null) return false
      ws()
      if (s[i] !== ":") return fail("expected ':' after a key")
      i++
      ws()
      if (depth === 1 && !valueAt.has(key)) valueAt.set(key, i)
      if (!value(depth)) return false
      ws()
      if (s[i] === ",") {
        i++
        continue
      }
      if (s[i] === "}") {
        i++
        return true
      }
      return fail("expected ',' or '}'")
    }
  }
  if (value(0)) {
    ws()
    if (i < s.length) fail("unexpected text after the JSON value")
  }
  return { error, valueAt }
}

// ---------------------------------------------------------------------------------------------
// Field checks shared by both formats

/** A raw field: a value from JSON or the text of a CSV cell, with its 1-based column (found only when needed). */
interface Raw {
  readonly value: unknown
  readonly column: () => number
}

const NUMBER = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/

/** A JSON number as it is; CSV text only when it spells a number. */
const toNumber = (v: unknown, fromCsv: boolean): number | null => {
  if (typeof v === "number") return v
  if (fromCsv && typeof v === "string" && NUMBER.test(v)) return Number(v)
  return null
}

const describe = (v: unknown): string =>
  typeof v === "string" ? JSON.stringify(v) : v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : String(v)

const checkRequest = (
  lineNo: number,
  fields: { readonly timestamp: Raw | null; readonly input_length: Raw | null; readonly output_length: Raw | null; readonly hash_ids: Raw | null },
  fromCsv: boolean,
  ctx: TraceLineContext
): TraceParse => {
  const fail = (column: number, field: string, message: string): TraceParse => ({ ok: false, problem: problem(lineNo, column, field, message) })
  for (const field of ["timestamp", "input_length", "output_length"] as const) if (fields[field] === null) return fail(1, field, `missing ${field}`)
  const ts = fields.timestamp as Raw
  const arrival_ms = toNumber(ts.value, fromCsv)
  if (arrival_ms === null || !Number.isFinite(arrival_ms)) return fail(ts.column(), "timestamp", `timestamp must be a number (ms), got ${describe(ts.value)}`)
  if (arrival_ms < 0) return fail(ts.column(), "timestamp", `timestamp must not be negative, got ${arrival_ms}`)
  if (ctx.previous_ms !== undefined && arrival_ms < ctx.previous_ms)
    return fail(ts.column(), "timestamp", `timestamp goes backwards: ${arrival_ms} ms after ${ctx.previous_ms} ms on the line before`)
  const length = (field: "input_length" | "output_length"): number | TraceParse => {
    const raw = fields[field] as Raw
    const n = toNumber(raw.value, fromCsv)
    if (n === null) return fail(raw.column(), field, `${field} must be a number of tokens, got ${describe(raw.value)}`)
    if (!Number.isSafeInteger(n)) return fail(raw.column(), field, `${field} must be a whole number of tokens, got ${n}`)
    if (n < 1) return fail(raw.column(), field, `${field} must be at least 1 token, got ${n}`)
    return n
  }
  const input_len = length("input_length")
  if (typeof input_len !== "number") return input_len
  const output_len = length("output_length")
  if (typeof output_len !== "number") return output_len
  if (ctx.max_context !== undefined) {
    const inCol = (fields.input_length as Raw).column()
    if (input_len > ctx.max_context) return fail(inCol, "input_length", `input_length ${input_len} exceeds the context of ${ctx.max_context} tokens`)
    if (input_len + output_len > ctx.max_context)
      return fail(
        (fields.output_length as Raw).column(),
        "output_length",
        `input_length + output_length = ${input_len + output_len} exceeds the context of ${ctx.max_context} tokens`
      )
  }
  const id = ctx.id ?? lineNo - 1
  const h = fields.hash_ids
  if (h === null || (fromCsv && h.value === "")) return { ok: true, request: { id, arrival_ms, input_len, output_len } }
  const items: ReadonlyArray<unknown> | null = fromCsv ? String(h.value).split(/\s+/) : Array.isArray(h.value) ? h.value : null
  if (items === null) return fail(h.column(), "hash_ids", `hash_ids must be a list of block hashes, got ${describe(h.value)}`)
  const prefix_hashes: number[] = []
  for (const item of items) {
    const n = toNumber(item, fromCsv)
    if (n === null || !Number.isSafeInteger(n) || n < 0) return fail(h.column(), "hash_ids", `hash_ids must hold non-negative integers, got ${describe(item)}`)
    prefix_hashes.push(n)
  }
  return {
    ok: true,
    request: prefix_hashes.length === 0 ? { id, arrival_ms, input_len, output_len } : { id, arrival_ms, input_len, output_len, prefix_hashes }
  }
}

/**
 * One trace line to a request, or the problem with it. CSV lines need the file's header
 * (`parseCsvHeader`); `context` carries the id to give, the previous timestamp and the context
 * length to check against.
 */
export const parseTraceLine = (text: string, lineNo: number, format: TraceFormat, header?: CsvHeader, context: TraceLineContext = {}): TraceParse => {
  if (text.trim() === "") return { ok: false, problem: problem(lineNo, 1, "", "empty line") }
  if (format === "csv") {
    if (header === undefined) return { ok: false, problem: problem(lineNo, 1, "", "a CSV line needs the header that names its columns") }
    const split = splitCsv(text, lineNo)
    if (!split.ok) return split
    const cell = (index: number | null): Raw | null => {
      if (index === null) return null
      const c = split.cells[index]
      return c === undefined ? null : { value: c.text, column: () => c.at + 1 }
    }
    const fields = {
      timestamp: cell(header.timestamp),
      input_length: cell(header.input_length),
      output_length: cell(header.output_length),
      hash_ids: cell(header.hash_ids)
    }
    // A short row: the missing field would start after the last character.
    for (const field of ["timestamp", "input_length", "output_length"] as const)
      if (fields[field] === null)
        return { ok: false, problem: problem(lineNo, text.length + 1, field, `missing ${field}: the row has ${split.cells.length} columns`) }
    return checkRequest(lineNo, fields, true, context)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    const scan = scanJson(text)
    const at = scan.error?.at ?? 0
    return { ok: false, problem: problem(lineNo, at + 1, "", `malformed JSON: ${scan.error?.message ?? "not valid JSON"}`) }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { ok: false, problem: problem(lineNo, 1, "", `expected a JSON object per line, got ${describe(parsed)}`) }
  const obj = parsed as Record<string, unknown>
  // Columns only matter for a bad field: the line is scanned for them then, once.
  let positions: ReadonlyMap<string, number> | null = null
  const column = (name: string) => {
    positions ??= scanJson(text).valueAt
    return (positions.get(name) ?? 0) + 1
  }
  const field = (names: ReadonlyArray<string>): Raw | null => {
    const name = names.find((n) => Object.hasOwn(obj, n))
    return name === undefined ? null : { value: obj[name], column: () => column(name) }
  }
  return checkRequest(
    lineNo,
    {
      timestamp: field(ALIASES.timestamp),
      input_length: field(ALIASES.input_length),
      output_length: field(ALIASES.output_length),
      hash_ids: field(ALIASES.hash_ids)
    },
    false,
    context
  )
}

// ---------------------------------------------------------------------------------------------
// Streaming

/** What one pushed line gave: a request, a problem, or nothing (a blank line, the CSV header). */
export type TraceLine =
  | { readonly kind: "request"; readonly request: ServeRequest }
  | { readonly kind: "problem"; readonly problem: TraceProblem }
  | { readonly kind: "skip" }

export interface TraceReaderOptions {
  readonly format: TraceFormat
  /** Largest prompt + output the engine accepts (tokens). */
  readonly max_context?: number
}

/**
 * Reads a trace a line at a time, keeping only the previous timestamp, the CSV header and the
 * next id: requests come out with ids 0, 1, 2, ... in file order; a bad line gives its problem
 * and takes no id (the caller decides whether to stop).
 */
export class TraceReader {
  readonly #options: TraceReaderOptions
  #line = 0
  #nextId = 0
  #previousMs: number | undefined
  #header: CsvHeader | undefined

  constructor(options: TraceReaderOptions) {
    this.#options = options
  }

  /** Requests read so far. */
  get count(): number {
    return this.#nextId
  }

  /** The next line of the file, without its line ending (a trailing "\r" is dropped). */
  push(raw: string): TraceLine {
    const lineNo = ++this.#line
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw
    if (text.trim() === "") return { kind: "skip" }
    if (this.#options.format === "csv" && this.#header === undefined) {
      const h = parseCsvHeader(text, lineNo)
      if (!h.ok) return { kind: "problem", problem: h.problem }
      this.#header = h.header
      return { kind: "skip" }
    }
    const context: TraceLineContext = {
      id: this.#nextId,
      ...(this.#previousMs === undefined ? {} : { previous_ms: this.#previousMs }),
      ...(this.#options.max_context === undefined ? {} : { max_context: this.#options.max_context })
    }
    const parsed = parseTraceLine(text, lineNo, this.#options.format, this.#header, context)
    if (!parsed.ok) return { kind: "problem", problem: parsed.problem }
    this.#nextId++
    this.#previousMs = parsed.request.arrival_ms
    return { kind: "request", request: parsed.request }
  }
}

/** Every request and problem of a sequence of lines, in order (blank lines and the header dropped). */
export function* readTrace(lines: Iterable<string>, options: TraceReaderOptions): Generator<Exclude<TraceLine, { kind: "skip" }>> {
  const reader = new TraceReader(options)
  for (const line of lines) {
    const out = reader.push(line)
    if (out.kind !== "skip") yield out
  }
}

// ---------------------------------------------------------------------------------------------
// Prefix cache

/** An LRU of prefix-block hashes (see the module header). */
export class PrefixCache {
  readonly #capacity: number
  readonly #blockTokens: number
  /** Insertion order is recency: the first key is the least recently used. */
  readonly #blocks = new Map<number, true>()

  /** `capacityBlocks` blocks of `blockTokens` tokens each (Mooncake's traces: 512). */
  constructor(capacityBlocks: number, blockTokens = HASH_BLOCK_TOKENS) {
    this.#capacity = Math.max(0, Math.floor(capacityBlocks))
    this.#blockTokens = blockTokens
  }

  /** Blocks cached now. */
  get size(): number {
    return this.#blocks.size
  }

  /** How many leading blocks of `hashes` are cached (recency unchanged). */
  matchedBlocks(hashes: ReadonlyArray<number>): number {
    let n = 0
    while (n < hashes.length && this.#blocks.has(hashes[n] as number)) n++
    return n
  }

  /**
   * Prompt tokens a request of `inputLen` tokens reuses: its leading cached full blocks, at most
   * floor((inputLen - 1) / blockTokens) of them (one token is always computed); then its full
   * prompt blocks are cached as the most recently used, the first block last so it is evicted last.
   */
  access(hashes: ReadonlyArray<number>, inputLen: number): number {
    const hitBlocks = Math.min(this.matchedBlocks(hashes), Math.floor(Math.max(0, inputLen - 1) / this.#blockTokens))
    const full = Math.min(hashes.length, Math.floor(inputLen / this.#blockTokens))
    if (this.#capacity > 0) {
      for (let b = full - 1; b >= 0; b--) {
        const h = hashes[b] as number
        this.#blocks.delete(h)
        this.#blocks.set(h, true)
        if (this.#blocks.size > this.#capacity) this.#blocks.delete(this.#blocks.keys().next().value as number)
      }
    }
    return hitBlocks * this.#blockTokens
  }
}

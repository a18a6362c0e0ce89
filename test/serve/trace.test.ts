/** Trace lines, the streaming reader and the prefix cache (src/serve/trace.ts), by hand. */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { type CsvHeader, PrefixCache, parseCsvHeader, parseTraceLine, readTrace, type TraceProblem, TraceReader } from "../../src/serve/trace.ts"

const problemOf = (r: ReturnType<typeof parseTraceLine>): TraceProblem => {
  if (r.ok) throw new Error(`expected a problem, got ${JSON.stringify(r.request)}`)
  return r.problem
}

const header = (text: string): CsvHeader => {
  const h = parseCsvHeader(text, 1)
  if (!h.ok) throw new Error(h.problem.message)
  return h.header
}

describe("JSON Lines (Mooncake)", () => {
  it("reads a Mooncake line: ms timestamp, lengths, one hash per 512-token block", () => {
    // The first line of FAST25-release/traces/conversation_trace.jsonl
    const line = '{"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}'
    expect(parseTraceLine(line, 1, "jsonl")).toEqual({
      ok: true,
      request: { id: 0, arrival_ms: 0, input_len: 6758, output_len: 500, prefix_hashes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] }
    })
    // Without hash_ids, an id given by the caller.
    expect(parseTraceLine('{"timestamp": 27482, "input_length": 6955, "output_length": 52}', 9, "jsonl", undefined, { id: 4 })).toEqual({
      ok: true,
      request: { id: 4, arrival_ms: 27482, input_len: 6955, output_len: 52 }
    })
  })

  it("points at the bad value: column of the field, 1-based", () => {
    //         1234567890123456789012345678901234
    const neg = '{"timestamp": 5, "input_length": -3, "output_length": 2}'
    expect(problemOf(parseTraceLine(neg, 7, "jsonl"))).toEqual({
      line: 7,
      column: 34,
      field: "input_length",
      message: "input_length must be at least 1 token, got -3"
    })
    const frac = '{"timestamp": 5, "input_length": 3, "output_length": 2.5}'
    expect(problemOf(parseTraceLine(frac, 1, "jsonl"))).toMatchObject({
      column: 54,
      field: "output_length",
      message: "output_length must be a whole number of tokens, got 2.5"
    })
    const text = '{"timestamp": "soon", "input_length": 3, "output_length": 2}'
    expect(problemOf(parseTraceLine(text, 1, "jsonl"))).toMatchObject({ column: 15, field: "timestamp" })
    // A number written as a JSON string is not a number.
    const quoted = '{"timestamp": 1, "input_length": "3", "output_length": 2}'
    expect(problemOf(parseTraceLine(quoted, 1, "jsonl"))).toMatchObject({
      column: 34,
      field: "input_length",
      message: 'input_length must be a number of tokens, got "3"'
    })
    const hashes = '{"timestamp": 1, "input_length": 3, "output_length": 2, "hash_ids": [1, -2]}'
    expect(problemOf(parseTraceLine(hashes, 1, "jsonl"))).toMatchObject({ column: 69, field: "hash_ids" })
  })

  it("a missing field, malformed JSON and a non-object each say so", () => {
    expect(problemOf(parseTraceLine('{"timestamp": 1, "input_length": 3}', 2, "jsonl"))).toEqual({
      line: 2,
      column: 1,
      field: "output_length",
      message: "missing output_length"
    })
    //                                 column 36: where a ',' or '}' was due
    const bad = '{"timestamp": 0, "input_length": 5 "output_length": 3}'
    expect(problemOf(parseTraceLine(bad, 3, "jsonl"))).toEqual({ line: 3, column: 36, field: "", message: "malformed JSON: expected ',' or '}'" })
    expect(problemOf(parseTraceLine('{"timestamp": x}', 1, "jsonl"))).toMatchObject({ column: 15, message: "malformed JSON: expected a value" })
    expect(problemOf(parseTraceLine('{"timestamp": 1', 1, "jsonl"))).toMatchObject({ column: 16 })
    expect(problemOf(parseTraceLine("[1, 2]", 1, "jsonl"))).toMatchObject({ column: 1, message: "expected a JSON object per line, got a list" })
  })

  it("timestamps may not go backwards or be negative", () => {
    const line = '{"timestamp": 999, "input_length": 3, "output_length": 2}'
    expect(problemOf(parseTraceLine(line, 5, "jsonl", undefined, { previous_ms: 1000 }))).toEqual({
      line: 5,
      column: 15,
      field: "timestamp",
      message: "timestamp goes backwards: 999 ms after 1000 ms on the line before"
    })
    expect(parseTraceLine(line, 5, "jsonl", undefined, { previous_ms: 999 }).ok).toBe(true)
    expect(problemOf(parseTraceLine('{"timestamp": -1, "input_length": 3, "output_length": 2}', 1, "jsonl"))).toMatchObject({ field: "timestamp" })
  })

  it("a context limit: the prompt alone, then prompt + output", () => {
    const long = '{"timestamp": 0, "input_length": 5000, "output_length": 10}'
    expect(problemOf(parseTraceLine(long, 1, "jsonl", undefined, { max_context: 4096 }))).toMatchObject({
      column: 34,
      field: "input_length",
      message: "input_length 5000 exceeds the context of 4096 tokens"
    })
    const total = '{"timestamp": 0, "input_length": 4000, "output_length": 200}'
    expect(problemOf(parseTraceLine(total, 1, "jsonl", undefined, { max_context: 4096 }))).toMatchObject({
      column: 57,
      field: "output_length",
      message: "input_length + output_length = 4200 exceeds the context of 4096 tokens"
    })
    expect(parseTraceLine(total, 1, "jsonl", undefined, { max_context: 4200 }).ok).toBe(true)
  })
})

describe("CSV", () => {
  it("a header names the columns, by either name, in any order; other columns are ignored", () => {
    expect(header("arrival_ms,model,output_len,input_len")).toEqual({ timestamp: 0, input_length: 3, output_length: 2, hash_ids: null })
    expect(header("timestamp,input_length,output_length,hash_ids")).toEqual({ timestamp: 0, input_length: 1, output_length: 2, hash_ids: 3 })
    expect(parseCsvHeader("timestamp,arrival_ms,input_len,output_len", 1)).toEqual({
      ok: false,
      problem: { line: 1, column: 11, field: "timestamp", message: "two columns name timestamp (timestamp or arrival_ms); keep one" }
    })
    expect(parseCsvHeader("timestamp,input_len", 1)).toMatchObject({ ok: false, problem: { field: "output_length" } })
  })

  it("reads a row, hash_ids space-separated, quoted fields allowed", () => {
    const h = header("timestamp,input_length,output_length,hash_ids")
    expect(parseTraceLine('12.5,1300,7,"4 5 6"', 2, "csv", h, { id: 0 })).toEqual({
      ok: true,
      request: { id: 0, arrival_ms: 12.5, input_len: 1300, output_len: 7, prefix_hashes: [4, 5, 6] }
    })
    expect(parseTraceLine("0, 10, 3,", 3, "csv", h, { id: 1 })).toEqual({ ok: true, request: { id: 1, arrival_ms: 0, input_len: 10, output_len: 3 } })
  })

  it("points at the bad cell; a short row at its end", () => {
    const h = header("timestamp,input_len,output_len")
    //                                        12345678
    expect(problemOf(parseTraceLine("0,12,abc", 4, "csv", h))).toEqual({
      line: 4,
      column: 6,
      field: "output_length",
      message: 'output_length must be a number of tokens, got "abc"'
    })
    expect(problemOf(parseTraceLine("0, -5,3", 4, "csv", h))).toMatchObject({ column: 4, field: "input_length" })
    expect(problemOf(parseTraceLine("0,12", 4, "csv", h))).toEqual({
      line: 4,
      column: 5,
      field: "output_length",
      message: "missing output_length: the row has 2 columns"
    })
    expect(problemOf(parseTraceLine('0,"12,3', 4, "csv", h))).toMatchObject({ column: 3, message: "unterminated quoted field" })
    expect(problemOf(parseTraceLine("0,1,1", 4, "csv"))).toMatchObject({ message: "a CSV line needs the header that names its columns" })
  })
})

describe("TraceReader", () => {
  it("ids in order, blank lines and the header skipped, CRLF accepted, a bad line takes no id", () => {
    const reader = new TraceReader({ format: "csv" })
    const out = ["timestamp,input_len,output_len\r", "0,10,2\r", "", "5,20,3", "4,30,4", "6,-1,4", "7,40,5"].map((l) => reader.push(l))
    expect(out.map((o) => o.kind)).toEqual(["skip", "request", "skip", "request", "problem", "problem", "request"])
    expect(out.flatMap((o) => (o.kind === "request" ? [[o.request.id, o.request.arrival_ms]] : []))).toEqual([
      [0, 0],
      [1, 5],
      [2, 7]
    ])
    // Line 5 went back from 5 ms to 4 ms; line 6 is checked against line 4's 5 ms, not line 5's.
    expect(out[4]).toMatchObject({ kind: "problem", problem: { line: 5, field: "timestamp" } })
    expect(out[5]).toMatchObject({ kind: "problem", problem: { line: 6, field: "input_length" } })
    expect(reader.count).toBe(3)
  })

  it("a CSV file without the columns fails on its header", () => {
    const reader = new TraceReader({ format: "csv" })
    expect(reader.push("when,in,out")).toMatchObject({ kind: "problem", problem: { line: 1, field: "timestamp" } })
  })

  it("reads the vendored Mooncake sample: 500 requests, the totals data/traces/README.md states", () => {
    const lines = readFileSync(new URL("../../data/traces/mooncake_sample.jsonl", import.meta.url), "utf8").split("\n")
    const got = [...readTrace(lines, { format: "jsonl" })]
    expect(got.filter((g) => g.kind === "problem")).toEqual([])
    const rs = got.flatMap((g) => (g.kind === "request" ? [g.request] : []))
    expect(rs.length).toBe(500)
    expect(rs.at(-1)?.id).toBe(499)
    expect(rs.reduce((a, r) => a + r.input_len, 0)).toBe(7_124_855)
    expect(rs.reduce((a, r) => a + r.output_len, 0)).toBe(180_942)
    expect(rs.at(-1)?.arrival_ms).toBe(165_000)
    for (const r of rs) expect(r.prefix_hashes?.length).toBe(Math.ceil(r.input_len / 512))
    // A 32k context turns the longer prompts into problems, each at its input_length.
    const limited = [...readTrace(lines, { format: "jsonl", max_context: 32_768 })]
    const refused = limited.filter((g) => g.kind === "problem")
    expect(refused.length).toBe(rs.filter((r) => r.input_len + r.output_len > 32_768).length)
    expect(refused.length).toBeGreaterThan(0)
  })
})

describe("PrefixCache", () => {
  it("LRU by block, hits its leading cached full blocks, never the whole prompt", () => {
    // 4 blocks of 4 tokens.
    const c = new PrefixCache(4, 4)
    expect(c.access([1, 2, 3], 12)).toBe(0) // cold; caches 3, 2, 1 (1 most recent)
    expect(c.size).toBe(3)
    // 1 and 2 cached, 9 not: 2 blocks = 8 tokens. Order now 3, 9, 2, 1.
    expect(c.access([1, 2, 9], 12)).toBe(8)
    // All three cached, but a 12-token prompt reuses at most floor(11 / 4) = 2 blocks.
    expect(c.access([1, 2, 3], 12)).toBe(8) // order 9, 3, 2, 1
    // Two new blocks evict the two least recent: 9, then 3.
    expect(c.access([5, 6], 8)).toBe(0) // order 2, 1, 6, 5
    expect(c.matchedBlocks([1, 2, 3])).toBe(2)
    expect(c.matchedBlocks([2])).toBe(1)
    expect(c.access([1, 2, 3], 13)).toBe(8)
  })

  it("the head of a long request outlives its tail (vLLM frees tail first)", () => {
    const c = new PrefixCache(2, 1)
    c.access([10, 11, 12], 3)
    expect(c.matchedBlocks([10, 11])).toBe(2)
    expect(c.matchedBlocks([12])).toBe(0)
  })

  it("only full blocks are cached; capacity 0 caches nothing", () => {
    const c = new PrefixCache(8, 4)
    c.access([7, 8], 6) // 6 tokens: one full block
    expect(c.matchedBlocks([7, 8])).toBe(1)
    const none = new PrefixCache(0, 4)
    none.access([1, 2], 8)
    expect(none.access([1, 2], 8)).toBe(0)
  })

  it("two Mooncake requests sharing 12 blocks reuse 12 x 512 = 6144 tokens (FAST25 README example)", () => {
    const c = new PrefixCache(1000)
    const shared = [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57]
    expect(c.access([...shared, 2353, 2354], 6955)).toBe(0)
    expect(c.access([...shared, 2366], 6472)).toBe(6144)
  })
})

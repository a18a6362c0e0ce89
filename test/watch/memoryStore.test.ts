/**
 * The session store's bound: it must stay within its byte budget however many saves go by,
 * drop least recently used entries first, and pass reads and writes through to the store behind.
 */
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import type { StoredEntry, StoreShape } from "../../src/graph/store.ts"
import { jsonBytes, memoryStore } from "../../src/watch/memoryStore.ts"

/** Keys of one width, so entries of one `size` have one JSON length. */
const k = (i: number) => `k${String(i).padStart(4, "0")}`

const entry = (key: string, size: number): StoredEntry => ({
  key,
  kind: "op",
  id: `op:${key}`,
  output: { text: "x".repeat(size) },
  output_digest: "d",
  material: {}
})

/** A backing store that counts reads and records writes. */
const backing = () => {
  const data = new Map<string, StoredEntry>()
  let reads = 0
  const store: StoreShape = {
    dir: undefined,
    get: (key) => Effect.sync(() => (reads++, Option.fromNullishOr(data.get(key)))),
    put: (e) => Effect.sync(() => void data.set(e.key, e))
  }
  return { store, data, reads: () => reads }
}

describe("watch memory store", () => {
  it("measures JSON bytes exactly for the values the graph stores", () => {
    const values = [{ flops: 1.5e12, name: "gemm:q_proj", bound: "memory", link: null, ok: true, rows: [1, 2, { a: "b" }] }, [], {}, "text", -0.125]
    for (const v of values) expect(jsonBytes(v)).toBe(JSON.stringify(v).length)
  })

  it("stays within its byte budget over many saves and keeps the most recently used", () => {
    const b = backing()
    const size = jsonBytes(entry(k(0), 1000))
    const m = memoryStore(b.store, 10 * size)
    for (let i = 0; i < 1000; i++) Effect.runSync(m.put(entry(k(i), 1000)))
    // Every write reached the store behind.
    expect(b.data.size).toBe(1000)
    const before = b.reads()
    // The last ten are held: no read reaches the store behind.
    for (let i = 990; i < 1000; i++) expect(Option.isSome(Effect.runSync(m.get(k(i))))).toBe(true)
    expect(b.reads()).toBe(before)
    // An older one is not held: it is read from behind, and then held.
    expect(Option.isSome(Effect.runSync(m.get(k(5))))).toBe(true)
    expect(b.reads()).toBe(before + 1)
    expect(Option.isSome(Effect.runSync(m.get(k(5))))).toBe(true)
    expect(b.reads()).toBe(before + 1)
    // Holding k5 pushed out the least recently used (k990), not the one just read (k999).
    Effect.runSync(m.get(k(999)))
    expect(b.reads()).toBe(before + 1)
    Effect.runSync(m.get(k(990)))
    expect(b.reads()).toBe(before + 2)
  })

  it("keeps an entry larger than the whole budget until the next one arrives", () => {
    const b = backing()
    const m = memoryStore(b.store, 100)
    Effect.runSync(m.put(entry("big", 1000)))
    Effect.runSync(m.get("big"))
    expect(b.reads()).toBe(0)
    Effect.runSync(m.put(entry("next", 10)))
    Effect.runSync(m.get("big"))
    expect(b.reads()).toBe(1)
  })
})

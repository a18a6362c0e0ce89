/**
 * A bounded in-memory store in front of another store (the disk store, or none with
 * --no-cache), kept for a whole watch session.
 *
 * Why: between two saves almost every node is unchanged, and replaying it from memory skips a
 * disk read and a JSON parse per node. Why bounded: every edit makes new keys and old keys are
 * rarely asked for again, so an unbounded map would grow with every save. Why bounded by size
 * rather than count: entries differ by two orders of magnitude (an op result is about 1 KB of
 * JSON, a layer result tens of KB), so a count bound lets memory swing with the mix. Least recently used entries go first: a `Map` keeps insertion order, and a hit re-inserts
 * the key at the end.
 */
import { Effect, Option } from "effect"
import type { StoredEntry, StoreShape } from "../graph/store.ts"

/**
 * JSON bytes kept: 1 MB, the nodes of the last dozen or so distinct evaluations of the 61-layer
 * DeepSeek-V3 scenario (about 70 KB of op and layer results each; undo, redo and comment-only
 * saves replay from memory, older nodes from the disk store). Scenario roll-ups are not stored
 * (src/sim/plan.ts). Live objects take 2-4x their JSON size; a bigger budget only moved the
 * watcher's resident memory up as it filled (4 MB: +13% between saves 100 and 1,000; 1 MB: +7%,
 * bench/watch.bench.ts).
 */
const DEFAULT_MEMORY_BYTES = 1024 * 1024

/**
 * Length of a value's JSON text, counted without building it: sizing a 500 KB scenario result
 * with `JSON.stringify` would itself make 500 KB of garbage on every save.
 */
export const jsonBytes = (value: unknown): number => {
  if (value === null || value === undefined) return 4
  switch (typeof value) {
    case "string":
      return value.length + 2
    case "number":
      return String(value).length
    case "boolean":
      return value ? 4 : 5
    case "object": {
      // Brackets, plus a comma after every member but the last.
      let n = 1
      if (Array.isArray(value)) {
        for (const v of value) n += jsonBytes(v) + 1
      } else {
        for (const k in value) n += k.length + 4 + jsonBytes((value as Record<string, unknown>)[k])
      }
      return n === 1 ? 2 : n
    }
    default:
      return 0
  }
}

export const memoryStore = (backing: StoreShape, budgetBytes = DEFAULT_MEMORY_BYTES): StoreShape => {
  const entries = new Map<string, { readonly entry: StoredEntry; readonly bytes: number }>()
  let total = 0
  const drop = (key: string) => {
    const held = entries.get(key)
    if (held === undefined) return
    entries.delete(key)
    total -= held.bytes
  }
  const remember = (entry: StoredEntry, bytes: number) => {
    drop(entry.key)
    entries.set(entry.key, { entry, bytes })
    total += bytes
    // The newest entry always stays, even when it alone is over the budget.
    while (total > budgetBytes && entries.size > 1) drop(entries.keys().next().value as string)
  }
  return {
    dir: backing.dir,
    get: (key) =>
      Effect.suspend(() => {
        const hit = entries.get(key)
        if (hit !== undefined) {
          remember(hit.entry, hit.bytes)
          return Effect.succeed(Option.some(hit.entry))
        }
        return backing.get(key).pipe(Effect.tap((found) => Effect.sync(() => Option.isSome(found) && remember(found.value, jsonBytes(found.value)))))
      }),
    put: (entry) =>
      Effect.andThen(
        Effect.sync(() => remember(entry, jsonBytes(entry))),
        backing.put(entry)
      )
  }
}

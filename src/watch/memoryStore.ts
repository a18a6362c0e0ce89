/**
 * A bounded in-memory store in front of another store (the disk store, or none with
 * --no-cache), kept for a whole watch session.
 *
 * Why: between two saves almost every node is unchanged, and replaying it from memory skips a
 * disk read and a JSON parse per node. Why bounded: every edit makes new keys and old keys are
 * never asked for again, so an unbounded map would grow with every save. Least recently used
 * entries go first: a `Map` keeps insertion order, and a hit re-inserts the key at the end.
 */
import { Effect, Option } from "effect"
import type { StoredEntry, StoreShape } from "../graph/store.ts"

/**
 * About 30 evaluations' worth of distinct keys for the 61-layer DeepSeek-V3 scenario (about 70
 * keys per evaluation of both phases), so undo/redo and comment edits replay from memory.
 */
export const DEFAULT_MEMORY_ENTRIES = 2048

export interface MemoryStore extends StoreShape {
  readonly size: () => number
}

export const memoryStore = (backing: StoreShape, capacity = DEFAULT_MEMORY_ENTRIES): MemoryStore => {
  const entries = new Map<string, StoredEntry>()
  const remember = (entry: StoredEntry) => {
    entries.delete(entry.key)
    entries.set(entry.key, entry)
    while (entries.size > capacity) entries.delete(entries.keys().next().value as string)
  }
  return {
    dir: backing.dir,
    size: () => entries.size,
    get: (key) =>
      Effect.suspend(() => {
        const hit = entries.get(key)
        if (hit !== undefined) {
          remember(hit)
          return Effect.succeed(Option.some(hit))
        }
        return backing.get(key).pipe(Effect.tap((found) => Effect.sync(() => Option.isSome(found) && remember(found.value))))
      }),
    put: (entry) => Effect.andThen(Effect.sync(() => remember(entry)), backing.put(entry))
  }
}

/**
 * The on-disk content-addressed result store (L2).
 *
 * Layout: `<cache>/v1/ac/<key[0..2]>/<key>.json` holds a header line `<sha256> <kind>` (the SHA-256
 * of the rest, hex; the kind lets `cache stats` read a line, not the entry) and then the JSON
 * `{ key, kind, id, output, output_digest, material }`.
 * Writes go to `<cache>/v1/tmp/<key>.<pid>.<random>` (flag `wx`) and are renamed into place:
 * POSIX rename is atomic, so a reader sees the old file, the new file or nothing, and two
 * processes writing one key write identical bytes (the last rename wins harmlessly).
 * Every read is validated: the checksum of the whole entry (one native SHA-256 pass; recomputing
 * the output's canonical digest on every read cost more than the rest of a cached run), the
 * JSON shape and the embedded key equal to the file's key. Anything else is a miss; the bad
 * file is removed best-effort. `cache verify` also re-canonicalises outputs against their digests.
 * A store that cannot be written (read-only, full, a path under a regular file) still gives
 * correct results, only slower: the first failed write of the process says so on stderr, once.
 */
import { Context, Effect, Option } from "effect"
import * as fs from "node:fs"
import { openAtomic } from "../base/atomicFile.js"
import { readHeadGuarded, readTextGuarded } from "../base/guardedRead.js"
import { sha256 } from "../base/sha256.js"
import { shardedFile, storeFolder } from "../base/storeLayout.js"
import { noteEntry } from "../launch/recording.ts"
import type { RemoteCache } from "./remote.ts"

export interface StoredEntry {
  readonly key: string
  readonly kind: string
  readonly id: string
  readonly output: unknown
  readonly output_digest: string
  /** What the key was computed from (lets `cache verify` recompute the entry). */
  readonly material: unknown
}

export interface StoreShape {
  /** Where entries live; undefined for the no-op store (`--no-cache`). */
  readonly dir: string | undefined
  readonly get: (key: string) => Effect.Effect<Option.Option<StoredEntry>>
  readonly put: (entry: StoredEntry) => Effect.Effect<void>
  /** After a run's writes: what the store keeps about itself (the remote cache's counts). */
  readonly flush?: Effect.Effect<void>
  /** The remote cache behind the local store, when one is set (src/graph/remote.ts): sweeps share their packs through it. */
  readonly remote?: RemoteCache
}

export class Store extends Context.Service<Store, StoreShape>()("llmsim/graph/Store") {}

export const entryPath = (dir: string, key: string): string => shardedFile(dir, "entries", key)

/** Whether a parsed entry file is the entry of `key` (its shape and embedded key). */
export const isEntry = (value: unknown, key: string): value is StoredEntry => {
  if (typeof value !== "object" || value === null) return false
  const e = value as Record<string, unknown>
  return e.key === key && typeof e.kind === "string" && typeof e.id === "string" && typeof e.output_digest === "string" && "output" in e
}

/** Record a hit in the file's mtime, so `cache gc` evicts least-recently-used entries. */
const touch = (file: string) => {
  try {
    const now = new Date()
    fs.utimesSync(file, now, now)
  } catch {
    // read-only cache: fine
  }
}

/** The text of an entry file: the header line, then the JSON. */
export const entryText = (entry: StoredEntry): string => {
  const body = JSON.stringify(entry)
  return `${sha256(body)} ${entry.kind}\n${body}`
}

/** The JSON value of an entry file's text, or undefined when its checksum does not match. */
export const parseEntryText = (text: string): unknown => {
  const nl = text.indexOf("\n")
  if (nl < 66 || text.charCodeAt(64) !== 32) return undefined
  const body = text.slice(nl + 1)
  return sha256(body) === text.slice(0, 64) ? JSON.parse(body) : undefined
}

/** The kind an entry file's header names, reading only its first bytes; undefined when it has none. */
export const entryKind = (file: string): string | undefined => {
  const head = readHeadGuarded(file, 160)
  if (head === undefined) return undefined
  const nl = head.indexOf("\n")
  return nl > 65 && /^[0-9a-f]{64} $/.test(head.slice(0, 65)) ? head.slice(65, nl) : undefined
}

/** Largest entry file read: a scenario-node-sized output of a 10,000-layer scenario is tens of MB. */
const MAX_ENTRY_BYTES = 512 * 1024 * 1024

/**
 * Read and validate one entry synchronously; undefined on any problem (a miss). Regular files
 * only, through the guarded read (a FIFO planted in the store is a miss, not a hang). A hit is
 * noted for a command recording: the record is built from these bytes (src/launch/recording.ts).
 */
export const readEntry = (dir: string, key: string): StoredEntry | undefined => {
  const file = entryPath(dir, key)
  const text = readTextGuarded(file, MAX_ENTRY_BYTES)
  if (text === undefined) return undefined
  try {
    const value = parseEntryText(text)
    if (isEntry(value, key)) {
      touch(file)
      noteEntry(file, text.slice(0, 64))
      return value
    }
  } catch {
    // fall through: corrupt
  }
  try {
    fs.rmSync(file, { force: true })
  } catch {
    // another process may hold or have removed it; a miss either way
  }
  return undefined
}

/**
 * Write an entry atomically (src/base/atomicFile.js) through the store's `tmp/` folder, which
 * `cache gc` sweeps. Same key means same content: an entry another process renamed into place
 * first is as good as this one.
 */
export const writeEntry = (dir: string, entry: StoredEntry): void => {
  const w = openAtomic(undefined, { tmpDir: storeFolder(dir, "tmp"), contentAddressed: true })
  try {
    w.write(entryText(entry))
  } catch (e) {
    // A full disk can leave a partial temp file: do not leave it for gc (the write's error is the one to report).
    w.abort()
    throw e
  }
  w.commit(entryPath(dir, entry.key))
}

/** `ENOSPC: no space left on device`: an fs error's code and description, without the path. */
export const errorReason = (e: unknown): string => {
  const text = e instanceof Error ? e.message : String(e)
  return text.split(",")[0].trim() || "unknown error"
}

/** Whether this process has already said that a store cannot be written (one warning per process). */
let warnedUnwritable = false

/** The warning for a failed write; a parameter of `diskStore` so tests can capture it. */
export type StoreWarn = (line: string) => void
const warnStderr: StoreWarn = (line) => void process.stderr.write(line)

export const diskStore = (dir: string, warn: StoreWarn = warnStderr): StoreShape => ({
  dir,
  get: (key) => Effect.sync(() => Option.fromNullishOr(readEntry(dir, key))),
  put: (entry) =>
    Effect.sync(() => {
      try {
        writeEntry(dir, entry)
      } catch (e) {
        // A cache that cannot be written (read-only CI cache, full disk) only costs speed, but
        // the user should know that nothing is being stored.
        if (warnedUnwritable) return
        warnedUnwritable = true
        warn(`warning: cache ${dir} is not writable (${errorReason(e)}): results are not stored\n`)
      }
    })
})

/** Forget that the warning was given (tests that check it in one process). */
export const resetStoreWarning = (): void => {
  warnedUnwritable = false
}

export const noStore: StoreShape = {
  dir: undefined,
  get: () => Effect.succeed(Option.none()),
  put: () => Effect.void
}

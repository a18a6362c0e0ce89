/**
 * The remote result store: node entries shared between machines (CI runners, a team) over the
 * Bazel HTTP remote-cache protocol, so any server that speaks it works: bazel-remote (with
 * `--disable_http_ac_validation`: our action entries are not Bazel ActionResult protobufs), nginx
 * with WebDAV, BuildBuddy, a bucket behind a proxy. docs/caching.md "Remote cache".
 *
 *   GET/PUT <url>/cas/<sha256>   an entry file's bytes (src/graph/store.ts entryText), named by
 *                                their SHA-256
 *   GET/PUT <url>/ac/<key>       the action entry of a node key: which content it is, signed
 *                                {"llmsim_ac":1,"key":...,"kind":...,"cas":...,"hmac":...}
 *
 * Trust. A writable remote must not be able to poison a result, so every action entry carries
 * HMAC-SHA256(LLMSIM_REMOTE_CACHE_KEY, "llmsim-ac-v1\n<key>\n<kind>\n<cas>") and a read checks it;
 * content is checked against its digest, and then as a local read checks an entry (its
 * checksum line, the embedded key). Anything that fails is a miss, counted as rejected and said
 * once on stderr; the node is recomputed. Without a key the remote is not used (one warning).
 *
 * Failure. Each request has a timeout and at most REMOTE_IN_FLIGHT run at once. The first
 * request that fails (refused, reset, timed out, a 5xx) turns the remote off for the rest of the
 * process with one warning: the run goes on with the local store, same bytes out. A 404 is a
 * miss. `readOnly` (untrusted pull requests) reads and never writes.
 */
import { Effect, Option, Schema, Semaphore } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { sha256 } from "../base/sha256.js"
import { addRemoteStats } from "./remoteStats.ts"
import { entryText, isEntry, parseEntryText, readEntry, writeEntry, type StoredEntry, type StoreShape } from "./store.ts"

/** Requests to the remote at once (a CI runner's store has a few hundred entries a run). */
const REMOTE_IN_FLIGHT = 8
/** A request slower than this turns the remote off (the local store is never that slow). */
const DEFAULT_TIMEOUT_MS = 5000
/** Largest body read back: as the local store (a 10,000-layer scenario node is tens of MB). */
const MAX_BODY_BYTES = 512 * 1024 * 1024

export interface RemoteOptions {
  /** Base URL: `http://host:port/prefix` (no trailing slash needed). */
  readonly url: string
  /** The HMAC secret (LLMSIM_REMOTE_CACHE_KEY). */
  readonly secret: string
  readonly readOnly: boolean
  readonly timeoutMs?: number
  /** Where warnings go (stderr; tests capture them). */
  readonly warn?: (line: string) => void
}

/** What the remote did in one process: `cache stats` adds these up (src/graph/remoteStats.ts). */
export interface RemoteCounts {
  hits: number
  misses: number
  rejected: number
  uploads: number
  errors: number
}

export interface RemoteCache {
  readonly url: string
  readonly get: (key: string) => Effect.Effect<Option.Option<StoredEntry>>
  readonly put: (entry: StoredEntry) => Effect.Effect<void>
  /**
   * Sweep point packs (src/sweep/pointCache.ts) of a family: the digests its signed index lists
   * (an empty list on a miss, a refusal or a failure).
   */
  readonly packIndex: (family: string) => Effect.Effect<ReadonlyArray<string>>
  /** A pack's text by its digest, checked against it; undefined when missing or refused. */
  readonly pack: (digest: string) => Effect.Effect<string | undefined>
  /** Upload a pack and add it to its family's index (read, merge, write: a concurrent writer may drop one, which is then recomputed). */
  readonly putPack: (family: string, text: string) => Effect.Effect<void>
  readonly counts: () => RemoteCounts
}

const AC_FORMAT = 1

const signature = (secret: string, key: string, kind: string, cas: string): string =>
  createHmac("sha256", secret).update(`llmsim-ac-v${AC_FORMAT}\n${key}\n${kind}\n${cas}`).digest("hex")

const sameHex = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** The action entry's text for a key whose entry file has SHA-256 `cas`. */
export const actionText = (secret: string, key: string, kind: string, cas: string): string =>
  JSON.stringify({ llmsim_ac: AC_FORMAT, key, kind, cas, hmac: signature(secret, key, kind, cas) })

/** The content digest a signed action entry for `key` names, or why it is refused. */
export const checkAction = (secret: string, key: string, text: string): { readonly cas: string } | string => {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return "action entry is not JSON"
  }
  if (typeof v !== "object" || v === null) return "action entry is not an object"
  const a = v as Record<string, unknown>
  if (a.llmsim_ac !== AC_FORMAT || a.key !== key || typeof a.kind !== "string" || typeof a.cas !== "string" || typeof a.hmac !== "string")
    return "action entry has the wrong format or key"
  if (!/^[0-9a-f]{64}$/.test(a.cas)) return "action entry names no SHA-256"
  if (!sameHex(a.hmac, signature(secret, key, a.kind, a.cas))) return "bad signature"
  return { cas: a.cas }
}

const PACK_INDEX_FORMAT = 1

/** The action key of a family's pack index: a 64-hex key, as the protocol wants, apart from node keys. */
const packIndexKey = (family: string): string => sha256(`llmsim-packs-v${PACK_INDEX_FORMAT}\n${family}`)

const indexSignature = (secret: string, family: string, packs: ReadonlyArray<string>): string =>
  createHmac("sha256", secret)
    .update(`llmsim-packs-v${PACK_INDEX_FORMAT}\n${family}\n${packs.join(",")}`)
    .digest("hex")

/** A family's signed pack index. */
export const packIndexText = (secret: string, family: string, packs: ReadonlyArray<string>): string => {
  const sorted = [...new Set(packs)].sort()
  return JSON.stringify({ llmsim_packs: PACK_INDEX_FORMAT, family, packs: sorted, hmac: indexSignature(secret, family, sorted) })
}

/** The pack digests a signed index of `family` lists, or why it is refused. */
export const checkPackIndex = (secret: string, family: string, text: string): ReadonlyArray<string> | string => {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return "pack index is not JSON"
  }
  const a = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>
  if (a.llmsim_packs !== PACK_INDEX_FORMAT || a.family !== family || !Array.isArray(a.packs) || typeof a.hmac !== "string")
    return "pack index has the wrong format or family"
  const packs = a.packs as Array<unknown>
  if (!packs.every((d) => typeof d === "string" && /^[0-9a-f]{64}$/.test(d))) return "pack index names no SHA-256"
  if (!sameHex(a.hmac, indexSignature(secret, family, packs as Array<string>))) return "bad signature"
  return packs as Array<string>
}

/** A failed request (network, timeout, 5xx): the remote is off for the rest of the process. */
class Unreachable extends Schema.TaggedError<Unreachable>()("RemoteUnreachable", { reason: Schema.String }) {}

const reasonOf = (e: unknown): string => {
  if (e instanceof Error) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return "timed out"
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    return cause?.code ?? cause?.message ?? e.message
  }
  return String(e)
}

export const remoteCache = (o: RemoteOptions): RemoteCache => {
  const base = o.url.replace(/\/+$/, "")
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const warn = o.warn ?? ((line: string) => void process.stderr.write(line))
  const limit = Semaphore.makeUnsafe(REMOTE_IN_FLIGHT)
  const counts: RemoteCounts = { hits: 0, misses: 0, rejected: 0, uploads: 0, errors: 0 }
  let down = false
  let warnedRejected = false

  const request = (method: "GET" | "PUT", path: string, body?: string): Effect.Effect<string | undefined, Unreachable> =>
    limit.withPermit(
      Effect.tryPromise({
        try: async () => {
          const res = await fetch(`${base}/${path}`, {
            method,
            ...(body === undefined ? {} : { body, headers: { "content-type": "application/octet-stream" } }),
            signal: AbortSignal.timeout(timeoutMs)
          })
          if (method === "GET" && res.status === 404) {
            await res.body?.cancel()
            return undefined
          }
          if (res.status >= 500) throw new Error(`HTTP ${res.status}`)
          if (!res.ok) {
            await res.body?.cancel()
            // 4xx other than a GET's 404: this request only (a PUT the server refuses), not the remote.
            return undefined
          }
          if (method === "PUT") {
            await res.body?.cancel()
            return ""
          }
          const length = Number(res.headers.get("content-length") ?? "0")
          if (length > MAX_BODY_BYTES) {
            await res.body?.cancel()
            return undefined
          }
          return await res.text()
        },
        catch: (e) => new Unreachable({ reason: reasonOf(e) })
      })
    )

  const turnOff = (u: Unreachable) =>
    Effect.sync(() => {
      counts.errors += 1
      if (down) return
      down = true
      warn(`warning: remote cache ${base} unreachable (${u.reason}): using the local store only\n`)
    })

  const reject = (key: string, why: string) =>
    Effect.sync(() => {
      counts.rejected += 1
      if (warnedRejected) return
      warnedRejected = true
      warn(`warning: remote cache ${base}: entry ${key.slice(0, 12)} rejected (${why}); recomputed\n`)
    })

  const get = (key: string): Effect.Effect<Option.Option<StoredEntry>> =>
    Effect.gen(function* () {
      if (down) return Option.none<StoredEntry>()
      const ac = yield* request("GET", `ac/${key}`)
      if (ac === undefined) {
        counts.misses += 1
        return Option.none<StoredEntry>()
      }
      const action = checkAction(o.secret, key, ac)
      if (typeof action === "string") {
        yield* reject(key, action)
        return Option.none<StoredEntry>()
      }
      const text = yield* request("GET", `cas/${action.cas}`)
      if (text === undefined) {
        counts.misses += 1
        return Option.none<StoredEntry>()
      }
      if (sha256(text) !== action.cas) {
        yield* reject(key, "content does not match its digest")
        return Option.none<StoredEntry>()
      }
      let value: unknown
      try {
        value = parseEntryText(text)
      } catch {
        value = undefined
      }
      if (!isEntry(value, key)) {
        yield* reject(key, "content is not this key's entry")
        return Option.none<StoredEntry>()
      }
      counts.hits += 1
      return Option.some(value)
    }).pipe(
      Effect.catch((u: Unreachable) => turnOff(u).pipe(Effect.as(Option.none<StoredEntry>()))),
      Effect.catchDefect(() => Effect.succeed(Option.none<StoredEntry>()))
    )

  const put = (entry: StoredEntry): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (down || o.readOnly) return
      const text = entryText(entry)
      const cas = sha256(text)
      // Content first: an action entry never names content that is not there yet.
      if ((yield* request("PUT", `cas/${cas}`, text)) === undefined) return
      if ((yield* request("PUT", `ac/${entry.key}`, actionText(o.secret, entry.key, entry.kind, cas))) === undefined) return
      counts.uploads += 1
    }).pipe(
      Effect.catch((u: Unreachable) => turnOff(u)),
      Effect.catchDefect(() => Effect.void)
    )

  const readIndex = (family: string): Effect.Effect<ReadonlyArray<string>, Unreachable> =>
    Effect.gen(function* () {
      const text = yield* request("GET", `ac/${packIndexKey(family)}`)
      if (text === undefined) return []
      const packs = checkPackIndex(o.secret, family, text)
      if (typeof packs === "string") {
        yield* reject(packIndexKey(family), packs)
        return []
      }
      return packs
    })

  const packIndex = (family: string): Effect.Effect<ReadonlyArray<string>> =>
    down ? Effect.succeed([]) : readIndex(family).pipe(Effect.catch((u: Unreachable) => turnOff(u).pipe(Effect.as([]))))

  const pack = (digest: string): Effect.Effect<string | undefined> =>
    down
      ? Effect.succeed(undefined)
      : request("GET", `cas/${digest}`).pipe(
          Effect.flatMap((text) => {
            if (text === undefined) return Effect.succeed(undefined)
            if (sha256(text) === digest) {
              counts.hits += 1
              return Effect.succeed(text)
            }
            return reject(digest, "content does not match its digest").pipe(Effect.as(undefined))
          }),
          Effect.catch((u: Unreachable) => turnOff(u).pipe(Effect.as(undefined)))
        )

  const putPack = (family: string, text: string): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (down || o.readOnly) return
      const digest = sha256(text)
      if ((yield* request("PUT", `cas/${digest}`, text)) === undefined) return
      const listed = yield* readIndex(family)
      if ((yield* request("PUT", `ac/${packIndexKey(family)}`, packIndexText(o.secret, family, [...listed, digest]))) === undefined) return
      counts.uploads += 1
    }).pipe(Effect.catch((u: Unreachable) => turnOff(u)))

  return { url: base, get, put, packIndex, pack, putPack, counts: () => ({ ...counts }) }
}

/**
 * The local store with a remote behind it: a local miss asks the remote, and a remote hit is
 * written locally (the next run reads it from disk; a command record lists it as a local entry);
 * a write goes to both. The remote's counts are added to the store's own at each flush.
 */
export const withRemote = (local: StoreShape & { readonly dir: string }, remote: RemoteCache): StoreShape => {
  let flushed: RemoteCounts = { hits: 0, misses: 0, rejected: 0, uploads: 0, errors: 0 }
  return {
    dir: local.dir,
    remote,
    get: (key) =>
      Effect.gen(function* () {
        const hit = yield* local.get(key)
        if (Option.isSome(hit)) return hit
        const fetched = yield* remote.get(key)
        if (Option.isNone(fetched)) return fetched
        try {
          writeEntry(local.dir, fetched.value)
        } catch {
          // A local store that cannot be written: the checked remote entry serves this run.
          return fetched
        }
        // Read back through the local store's checks, which also notes the entry for a command record.
        return Option.fromNullishOr(readEntry(local.dir, key))
      }),
    put: (entry) => Effect.andThen(local.put(entry), remote.put(entry)),
    flush: Effect.sync(() => {
      const now = remote.counts()
      const run: RemoteCounts = {
        hits: now.hits - flushed.hits,
        misses: now.misses - flushed.misses,
        rejected: now.rejected - flushed.rejected,
        uploads: now.uploads - flushed.uploads,
        errors: now.errors - flushed.errors
      }
      flushed = now
      addRemoteStats(local.dir, remote.url, run)
    })
  }
}

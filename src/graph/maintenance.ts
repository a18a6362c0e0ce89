/**
 * Store maintenance: listing, statistics and garbage collection.
 *
 * GC evicts by last use (entry mtime, refreshed on every hit) and size; sweep point packs count
 * as entries (a pack's mtime is refreshed when a sweep loads it). Temp files younger than
 * an hour are left alone: another process may be about to rename them (Turborepo's rule).
 * GC reports what it did, not what it meant to do: an entry it could not remove (a read-only
 * store) is counted as kept, and the reason is returned.
 * The maintenance commands first check that the folder is a store (`storeProblem`): a mistyped
 * folder must not pass as an empty, healthy store.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { STORE_LAYOUT, storeFolder } from "../base/storeLayout.js"
import { readRemoteStats, type RemoteStats } from "./remoteStats.ts"
import { entryKind, errorReason } from "./store.ts"

/**
 * Why `cacheDir` is not a store to inspect, or undefined when it is one: it must be a folder
 * holding the layout folder (`v1/`), which the first stored result creates.
 */
export const storeProblem = (cacheDir: string): string | undefined => {
  const st = fs.statSync(cacheDir, { throwIfNoEntry: false })
  if (st === undefined) return `cache folder ${cacheDir} does not exist`
  if (!st.isDirectory()) return `cache folder ${cacheDir} is not a folder`
  const layout = fs.statSync(path.join(cacheDir, STORE_LAYOUT), { throwIfNoEntry: false })
  if (layout === undefined || !layout.isDirectory()) return `${cacheDir} is not an llmsim store (no ${STORE_LAYOUT}/ folder in it)`
  return undefined
}

export interface EntryFile {
  readonly file: string
  readonly key: string
  readonly size: number
  readonly mtimeMs: number
}

/** Files ending in `suffix` one folder below `root` (`root/<folder>/<name>`), in name order, keyed by `key`. */
const filesTwoDeep = (root: string, suffix: string, key: (folder: string, stem: string) => string): Array<EntryFile> => {
  const out: Array<EntryFile> = []
  let folders: Array<string> = []
  try {
    folders = fs.readdirSync(root).sort()
  } catch {
    return out
  }
  for (const folder of folders) {
    let names: Array<string> = []
    try {
      names = fs.readdirSync(path.join(root, folder)).sort()
    } catch {
      continue
    }
    for (const name of names) {
      if (!name.endsWith(suffix)) continue
      const file = path.join(root, folder, name)
      try {
        const st = fs.statSync(file)
        out.push({ file, key: key(folder, name.slice(0, -suffix.length)), size: st.size, mtimeMs: st.mtimeMs })
      } catch {
        // removed meanwhile
      }
    }
  }
  return out
}

/** Every stored entry, `v1/ac/<key[0..2]>/<key>.json`. */
export const listEntryFiles = (cacheDir: string): Array<EntryFile> => filesTwoDeep(storeFolder(cacheDir, "entries"), ".json", (_shard, stem) => stem)

/**
 * The sweep's point packs, `v1/sweep/<family>/<digest>.jsonl` (src/sweep/pointCache.ts): listed
 * like entries (key `sweep/<family>/<digest>`) so `cache gc` evicts them by last use and size.
 */
export const listPackFiles = (cacheDir: string): Array<EntryFile> =>
  filesTwoDeep(storeFolder(cacheDir, "packs"), ".jsonl", (family, stem) => `sweep/${family}/${stem}`)

/**
 * Command records, `v1/commands/<key[0..2]>/<key>.json` (src/launch/command.js): whole commands
 * bin/llmsim.js replays; evicted by last use like entries (a replay refreshes the mtime).
 */
export const listCommandFiles = (cacheDir: string): Array<EntryFile> =>
  filesTwoDeep(storeFolder(cacheDir, "commands"), ".json", (_shard, stem) => `commands/${stem}`)

/** The kind `cache stats` counts command records under. */
const COMMAND_KIND = "command"

/**
 * Stored project configs, `v1/configs/<key[0..2]>/<key>.json` (src/launch/configCache.ts): the
 * evaluated llmsim.config.ts by content; evicted by last use like entries (a hit refreshes the mtime).
 */
export const listConfigFiles = (cacheDir: string): Array<EntryFile> =>
  filesTwoDeep(storeFolder(cacheDir, "configs"), ".json", (_shard, stem) => `configs/${stem}`)

/** The kind `cache stats` counts stored project configs under. */
const CONFIG_KIND = "project-config"

/** The kind `cache stats` counts sweep point packs under. */
const PACK_KIND = "sweep-point-pack"

/** Store files besides node entries, each listing with the kind `cache stats` counts it under. */
const OTHER_FILES: ReadonlyArray<readonly [string, (cacheDir: string) => Array<EntryFile>]> = [
  [PACK_KIND, listPackFiles],
  [COMMAND_KIND, listCommandFiles],
  [CONFIG_KIND, listConfigFiles]
]

export interface StoreStats {
  readonly dir: string
  readonly entries: number
  readonly total_bytes: number
  readonly by_kind: Record<string, { entries: number; bytes: number }>
  readonly unreadable: number
  readonly oldest_use: string | null
  readonly newest_use: string | null
  /** What the remote cache did for this store, summed over the runs that used one (src/graph/remoteStats.ts). */
  readonly remote: RemoteStats | null
}

export const storeStats = (cacheDir: string): StoreStats => {
  const files = listEntryFiles(cacheDir)
  const by_kind: Record<string, { entries: number; bytes: number }> = {}
  let unreadable = 0
  for (const f of files) {
    // The header line names the kind: stats reads 160 bytes per entry, not the entry.
    let kind: string | undefined
    try {
      kind = entryKind(f.file)
    } catch {
      kind = undefined
    }
    if (kind === undefined) {
      kind = "unreadable"
      unreadable++
    }
    const k = (by_kind[kind] ??= { entries: 0, bytes: 0 })
    k.entries++
    k.bytes += f.size
  }
  for (const [kind, list] of OTHER_FILES) {
    const more = list(cacheDir)
    if (more.length > 0) by_kind[kind] = { entries: more.length, bytes: more.reduce((a, f) => a + f.size, 0) }
    files.push(...more)
  }
  const times = files.map((f) => f.mtimeMs)
  return {
    dir: cacheDir,
    entries: files.length,
    total_bytes: files.reduce((a, f) => a + f.size, 0),
    by_kind,
    unreadable,
    oldest_use: times.length ? new Date(times.reduce((a, b) => Math.min(a, b))).toISOString() : null,
    newest_use: times.length ? new Date(times.reduce((a, b) => Math.max(a, b))).toISOString() : null,
    remote: readRemoteStats(cacheDir) ?? null
  }
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }
const AGE_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }

/** "500MB", "2GiB", "1000" -> bytes; undefined when malformed. */
export const parseSize = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined
  return m && unit !== undefined ? Number(m[1]) * unit : undefined
}

/** "7d", "12h", "30m", "45s" -> milliseconds; undefined when malformed. */
export const parseAge = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/.exec(text)
  return m ? Number(m[1]) * AGE_UNITS[m[2]] : undefined
}

export interface GcResult {
  readonly removed: number
  readonly removed_bytes: number
  /** Entries left in the store: the ones gc chose to keep plus the ones it failed to remove. */
  readonly kept: number
  readonly kept_bytes: number
  /** Of `kept`: entries gc meant to remove but could not (read-only store), and the first reason. */
  readonly failed: number
  readonly failed_reason: string | null
  readonly temp_removed: number
}

export const collectGarbage = (cacheDir: string, opts: { maxSizeBytes?: number; maxAgeMs?: number; now?: number }): GcResult => {
  const now = opts.now ?? Date.now()
  const files = [...listEntryFiles(cacheDir), ...OTHER_FILES.flatMap(([, list]) => list(cacheDir))].sort(
    (a, b) => b.mtimeMs - a.mtimeMs || (a.key < b.key ? -1 : 1)
  )
  let removed = 0
  let removedBytes = 0
  // The size budget counts only what gc chose to keep; failed removals are reported apart.
  let chosenBytes = 0
  let kept = 0
  let keptBytes = 0
  let failed = 0
  let failedReason: string | null = null
  const keep = (f: EntryFile) => {
    kept++
    keptBytes += f.size
  }
  const drop = (f: EntryFile) => {
    try {
      fs.rmSync(f.file, { force: true })
      removed++
      removedBytes += f.size
    } catch (e) {
      failed++
      failedReason ??= errorReason(e)
      keep(f)
    }
  }
  for (const f of files) {
    if (opts.maxAgeMs !== undefined && now - f.mtimeMs > opts.maxAgeMs) drop(f)
    else if (opts.maxSizeBytes !== undefined && chosenBytes + f.size > opts.maxSizeBytes) drop(f)
    else {
      chosenBytes += f.size
      keep(f)
    }
  }
  let tempRemoved = 0
  const tmp = storeFolder(cacheDir, "tmp")
  try {
    for (const name of fs.readdirSync(tmp)) {
      const file = path.join(tmp, name)
      try {
        if (now - fs.statSync(file).mtimeMs > 3600e3) {
          fs.rmSync(file, { force: true })
          tempRemoved++
        }
      } catch {
        // ignore
      }
    }
  } catch {
    // no tmp folder
  }
  return { removed, removed_bytes: removedBytes, kept, kept_bytes: keptBytes, failed, failed_reason: failedReason, temp_removed: tempRemoved }
}

/**
 * `llmsim cache verify`: recompute stored entries and compare (generic over node types).
 *
 * For every entry: its key must equal the digest of its stored key material, its output must
 * match its output digest, and recomputing it (its kind's registered `compute` on the stored
 * params and the dependencies' stored outputs, found by output digest) must give the same
 * digest. A mismatch means nondeterminism or a poisoned entry.
 *
 * Stale, not mismatching (no current key can reach them): entries of another key format or
 * toolchain, of a kind no loaded module registers, of another code version, or whose
 * dependencies' outputs are no longer stored. Entries of types that read an unstored input
 * (file nodes: the text) cannot be recomputed; their digests are checked.
 * Torn or unreadable files are removed and counted as corrupt: a run treats them as misses, so
 * they cannot produce a wrong answer and are not failures.
 * A mismatching entry, by contrast, passes a run's read checks and would be served: with
 * `repair` it is removed too (the next run recomputes it). A removal that fails (a read-only
 * store) is counted, never hidden.
 *
 * A writable store is trusted to hold bytes, never to choose them (docs/caching.md, "Trust"):
 * a file whose checksum or name was recomputed after an edit looks intact, so what replays
 * whole results is executed again and compared byte for byte:
 * - command records (src/launch/reexecute.ts): each record a replay could use now is run again
 *   without the store; a record built from a mismatching entry is a problem without running it,
 *   and a record built from an entry this verify removed is dropped (a replay cannot outlive
 *   its entries: src/launch/command.js checks them too);
 * - sweep point packs (src/sweep/verifyPack.ts, given by the caller: graph knows no sweep):
 *   their points are recomputed from the family material their header carries;
 * - stored project configs (src/launch/configCache.ts): each one a load would use now is
 *   loaded again without the store (the caller's loader) and its export compared.
 * `sample` bounds both: at most that many records and that many points per pack, at random.
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import { canonicalJson, digest } from "./canonical.ts"
import { sha256 } from "../base/sha256.js"
import * as path from "node:path"
import { listCommandFiles, listConfigFiles, listEntryFiles, listPackFiles } from "./maintenance.ts"
import { parseRecord, type CommandRecord } from "../launch/command.js"
import { configEntryStaleness, parseConfigEntry, type ConfigEntry } from "../launch/configCache.ts"
import { recordSelfConsistent, recordStaleness, reexecuteRecord } from "../launch/reexecute.ts"
import { readTextGuarded } from "../base/guardedRead.js"
import { codeOf, KEY_FORMAT_VERSION, nodeTypesByKind, type KeyMaterial, type NodeType } from "./node.ts"
import { errorReason, parseEntryText, type StoredEntry } from "./store.ts"
import { CurrentToolchain } from "./toolchain.ts"

interface VerifyProblem {
  readonly key: string
  readonly id: string
  readonly kind: string
  readonly problem: string
}

/** What recomputing a sweep pack's points found (src/sweep/verifyPack.ts). */
export interface PackCheck {
  /** Why its points were not recomputed (other code versions, an estimator model gone), if they were not. */
  readonly stale?: string
  readonly points: number
  readonly recomputed: number
  readonly problems: ReadonlyArray<string>
}

/** Loads the project config at `file` again, without the store (src/config/configWorker.ts, given by the caller). */
type ConfigReloader = (file: string) => Effect.Effect<{ readonly value: unknown } | { readonly error: string }>

/** Recomputes the points of the pack `file` of family `family` (all, or `sample` of them at random). */
type PackReexecutor = (file: string, family: string, toolchain: unknown, sample: number | undefined) => Effect.Effect<PackCheck>

export interface VerifyReport {
  readonly checked: number
  readonly recomputed: number
  readonly stale: number
  /** Unreadable files found, and how many were removed (harmless either way: a run treats them as misses). */
  readonly corrupt: number
  readonly corrupt_removed: number
  readonly problems: ReadonlyArray<VerifyProblem>
  /** With `repair`: mismatching entries removed (0 without it). */
  readonly removed: number
  /** Bad entries (corrupt, or mismatching with `repair`) whose removal failed, and the first reason. */
  readonly not_removed: number
  readonly not_removed_reason: string | null
  /** Command records: how many, run again (and found the same or not), stale, dropped (built from a removed entry). */
  readonly commands: { readonly total: number; readonly reexecuted: number; readonly stale: number; readonly dropped: number }
  /** Stored project configs: how many, loaded again and compared, stale (no load would use them). */
  readonly configs: { readonly total: number; readonly reloaded: number; readonly stale: number }
  /** Sweep point packs: how many, their points, the points recomputed, packs not recomputed (stale). */
  readonly packs: { readonly total: number; readonly points: number; readonly recomputed: number; readonly stale: number }
  /** `sample`: the bound on records run again and points recomputed per pack; null: all were. */
  readonly sample: number | null
}

export interface VerifyOptions {
  /** Remove mismatching entries, records and packs as well as corrupt ones (`cache verify --repair`). */
  readonly repair?: boolean
  /** Run again at most this many command records, and recompute at most this many points per pack, at random (default: all). */
  readonly sample?: number
  /** Recompute sweep packs' points (without it, a pack's name is checked against its content only). */
  readonly packs?: PackReexecutor
  /** Load stored project configs again and compare their exports (without it, their checksums only). */
  readonly configs?: ConfigReloader
}

/** Pick at most `n` of `items` uniformly at random (all of them when `n` is undefined). */
const pick = <A>(items: ReadonlyArray<A>, n: number | undefined): Array<A> => {
  const a = [...items]
  if (n === undefined || n >= a.length) return a
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (a.length - i))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a.slice(0, n)
}

/** Largest store file verify reads (entries, records, packs). */
const MAX_STORE_FILE_BYTES = 512 * 1024 * 1024

/** Check every entry of the store at `cacheDir`, recomputing those of the given node `types`. */
export const verifyStore = (cacheDir: string, types: ReadonlyArray<NodeType>, o: VerifyOptions = {}): Effect.Effect<VerifyReport> =>
  Effect.gen(function* () {
    const typeOf = nodeTypesByKind(types)
    const toolchain = canonicalJson(yield* CurrentToolchain)
    // Two streaming passes, so memory is bounded by the entries' metadata, not their outputs:
    // the first checks each file and notes where every output digest lives; the second
    // recomputes entries one at a time, reading dependencies' outputs back by digest.
    const checkedEntries: Array<{ readonly key: string; readonly file: string }> = []
    const fileByDigest = new Map<string, string>()
    const problems: Array<VerifyProblem> = []
    const fileOf = new Map<string, string>()
    let corrupt = 0
    let corruptRemoved = 0
    let misnamed = 0
    let notRemoved = 0
    let notRemovedReason: string | null = null
    const remove = (file: string): boolean => {
      try {
        fs.rmSync(file, { force: true })
        return true
      } catch (e) {
        notRemoved++
        notRemovedReason ??= errorReason(e)
        return false
      }
    }
    // Every store file through the guarded read: a FIFO or device planted in the store is corrupt, never waited on.
    const readText = (file: string): string => {
      const t = readTextGuarded(file, MAX_STORE_FILE_BYTES)
      if (t === undefined) throw new Error(`${file}: not a readable regular file`)
      return t
    }
    const read = (file: string): StoredEntry | undefined => {
      try {
        const e = parseEntryText(readText(file))
        return typeof e === "object" && e !== null ? (e as StoredEntry) : undefined
      } catch {
        return undefined
      }
    }
    /** Store files this verify removed (corrupt, or mismatching with repair): records built from them are dropped. */
    const removedFiles = new Set<string>()
    const removeCorrupt = (file: string) => {
      corrupt++
      if (remove(file)) {
        corruptRemoved++
        removedFiles.add(file)
      }
    }
    let visited = 0
    for (const f of listEntryFiles(cacheDir)) {
      if (++visited % 256 === 0) yield* Effect.yieldNow
      fileOf.set(f.key, f.file)
      const e = read(f.file)
      if (e === undefined || digest(e.output ?? null) !== e.output_digest) removeCorrupt(f.file)
      else if (e.key !== f.key) {
        misnamed++
        problems.push({ key: f.key, id: String(e.id), kind: String(e.kind), problem: "embedded key differs from file name" })
      } else {
        checkedEntries.push({ key: f.key, file: f.file })
        fileByDigest.set(e.output_digest, f.file)
      }
    }
    /** Files that carry their own check: the good ones, and the bad ones removed as corrupt. */
    const selfChecked = <F extends { readonly file: string }>(files: ReadonlyArray<F>, good: (file: string) => boolean): Array<F> => {
      const kept: Array<F> = []
      for (const f of files) {
        let ok = false
        try {
          ok = good(f.file)
        } catch {
          ok = false
        }
        if (ok) kept.push(f)
        else removeCorrupt(f.file)
      }
      return kept
    }
    // Sweep point packs are named by the SHA-256 of their content: one that does not match was
    // torn or damaged (a sweep treats it as a miss and removes it).
    const packFiles = selfChecked(listPackFiles(cacheDir), (file) => sha256(readText(file)) === path.basename(file, ".jsonl"))
    // Stored project configs (src/launch/configCache.ts): checksummed, inputs re-checked on every load.
    const configEntries: Array<{ readonly file: string; readonly entry: ConfigEntry }> = []
    const configs = selfChecked(listConfigFiles(cacheDir), (file) => {
      const entry = parseConfigEntry(readText(file), path.basename(file, ".json"))
      if (entry !== undefined) configEntries.push({ file, entry })
      return entry !== undefined
    })
    // Command records (src/launch/command.js) carry their own checksum: one that does not match
    // would never be replayed; it is removed like a torn entry. The good ones are run again below.
    const records: Array<{ readonly file: string; readonly record: CommandRecord }> = []
    const commandFiles = selfChecked(listCommandFiles(cacheDir), (file) => {
      const record = parseRecord(readText(file), path.basename(file, ".json"))
      if (record !== undefined) records.push({ file, record })
      return record !== undefined
    })
    // Dependencies' outputs by digest, a bounded map (an op's output is read by its one layer;
    // shared ops and layers stay in it while their dependants are checked).
    const DEP_CACHE = 512
    const depCache = new Map<string, unknown>()
    const depOutput = (d: string): unknown => {
      const hit = depCache.get(d)
      if (hit !== undefined) return hit
      const file = fileByDigest.get(d)
      const out = file === undefined ? undefined : read(file)?.output
      if (out !== undefined) {
        if (depCache.size >= DEP_CACHE) depCache.delete(depCache.keys().next().value!)
        depCache.set(d, out)
      }
      return out
    }
    let recomputed = 0
    let stale = 0
    for (const c of checkedEntries) {
      if (++visited % 256 === 0) yield* Effect.yieldNow
      const e = read(c.file)
      if (e === undefined) {
        stale++ // removed or replaced since the first pass
        continue
      }
      const fail = (problem: string) => problems.push({ key: e.key, id: e.id, kind: e.kind, problem })
      const m = e.material as KeyMaterial | undefined
      if (!m || digest(m) !== e.key) {
        fail("key is not the digest of the stored key material")
        continue
      }
      const type = typeOf.get(m.kind)
      let currentCode: string | undefined
      try {
        currentCode = type === undefined ? undefined : codeOf(type, m.params)
      } catch {
        currentCode = undefined // params the current code cannot even version (an unknown estimator)
      }
      if (type === undefined || currentCode !== m.code || m.v !== KEY_FORMAT_VERSION || m.toolchain === undefined || canonicalJson(m.toolchain) !== toolchain) {
        stale++
        continue
      }
      if (type.readsInput) continue
      const deps = m.deps.map(depOutput)
      if (deps.some((d) => d === undefined)) {
        stale++
        continue
      }
      const exit = yield* Effect.exit(Effect.suspend(() => type.compute(m.params, deps, undefined)))
      if (Exit.isFailure(exit)) {
        fail(`recomputation failed: ${String(exit.cause)}`)
        continue
      }
      recomputed++
      const d = digest(JSON.parse(JSON.stringify(exit.value)))
      if (d !== e.output_digest) fail(`recomputed output differs (stored ${e.output_digest.slice(0, 12)}, now ${d.slice(0, 12)})`)
    }
    // Entries that mismatch (files and ids): a record built from one would replay its wrong output.
    const mismatching = new Map<string, string>()
    for (const p of problems) {
      const file = fileOf.get(p.key)
      if (file !== undefined) mismatching.set(file, p.id)
    }
    /** Files of the problems found below (records, packs), for repair. */
    const problemFiles: Array<string> = []

    // Sweep packs: their points recomputed from the family material each carries.
    let packPoints = 0
    let packRecomputed = 0
    let packStale = 0
    for (const f of packFiles) {
      if (o.packs === undefined) break
      const family = path.basename(path.dirname(f.file))
      const check = yield* o.packs(f.file, family, yield* CurrentToolchain, o.sample)
      packPoints += check.points
      packRecomputed += check.recomputed
      if (check.stale !== undefined) packStale++
      if (check.problems.length > 0) {
        const more = check.problems.length > 1 ? ` (and ${check.problems.length - 1} more problems)` : ""
        problems.push({ key: path.basename(f.file, ".jsonl"), id: f.key, kind: "sweep-point-pack", problem: `${check.problems[0]}${more}` })
        problemFiles.push(f.file)
      }
    }

    // Stored project configs a load would use now: loaded again without the store and compared.
    let configsReloaded = 0
    let configsStale = 0
    for (const c of configEntries) {
      if (o.configs === undefined) break
      if (configEntryStaleness(c.entry) !== undefined) {
        configsStale++
        continue
      }
      const fresh = yield* o.configs(c.entry.file)
      configsReloaded++
      const id = `config ${c.entry.file}`
      const fail = (problem: string) => {
        problems.push({ key: c.entry.key, id, kind: "project-config", problem })
        problemFiles.push(c.file)
        mismatching.set(c.file, id)
      }
      if ("error" in fresh) fail(`loaded again, it fails: ${fresh.error}`)
      else {
        let same = false
        try {
          same = canonicalJson(fresh.value) === canonicalJson(c.entry.value)
        } catch {
          same = false
        }
        if (!same) fail("loaded again, its export differs")
      }
    }

    // Command records: built from a mismatching entry, a problem; from a removed one, dropped;
    // stale ones are left (no replay reaches them; the next run of their command overwrites
    // them); the others are run again without the store and compared.
    let dropped = 0
    let recordsStale = 0
    const current: Array<{ readonly file: string; readonly record: CommandRecord }> = []
    const commandId = (r: CommandRecord) => `llmsim ${r.run.args.join(" ")}`
    for (const r of records) {
      const fail = (problem: string) => {
        problems.push({ key: r.record.key, id: commandId(r.record), kind: "command", problem })
        problemFiles.push(r.file)
      }
      const entryFiles = r.record.entries.map(([rel]) => path.join(cacheDir, rel))
      const bad = entryFiles.find((f) => mismatching.has(f))
      if (!recordSelfConsistent(r.record)) fail("its key is not the digest of the command it keeps")
      else if (bad !== undefined) fail(`built from the mismatching entry ${mismatching.get(bad)}`)
      else if (entryFiles.some((f) => removedFiles.has(f))) {
        if (remove(r.file)) dropped++
      } else if (recordStaleness(cacheDir, r.record) !== undefined) recordsStale++
      else current.push(r)
    }
    let reexecuted = 0
    for (const r of pick(current, o.sample)) {
      const check = yield* Effect.promise((signal) => reexecuteRecord(r.record, signal))
      if ("stale" in check) {
        recordsStale++
        continue
      }
      reexecuted++
      if ("differs" in check) {
        problems.push({ key: r.record.key, id: commandId(r.record), kind: "command", problem: check.differs })
        problemFiles.push(r.file)
      }
    }

    let removed = 0
    if (o.repair) {
      for (const p of problems) {
        const file = fileOf.get(p.key)
        if (file !== undefined && remove(file)) {
          removed++
          removedFiles.add(file)
        }
      }
      for (const file of problemFiles) if (remove(file)) removed++
    }
    return {
      checked: checkedEntries.length + packFiles.length + commandFiles.length + configs.length + corrupt + misnamed,
      recomputed,
      stale,
      corrupt,
      corrupt_removed: corruptRemoved,
      problems,
      removed,
      not_removed: notRemoved,
      not_removed_reason: notRemovedReason,
      commands: { total: commandFiles.length, reexecuted, stale: recordsStale, dropped },
      configs: { total: configs.length, reloaded: configsReloaded, stale: configsStale },
      packs: { total: packFiles.length, points: packPoints, recomputed: packRecomputed, stale: packStale },
      sample: o.sample ?? null
    }
  })

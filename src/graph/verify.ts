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
 * Sweep point packs: their content digest (their name) is checked; their points are not recomputed.
 * Torn or unreadable files are removed and counted as corrupt: a run treats them as misses, so
 * they cannot produce a wrong answer and are not failures.
 * A mismatching entry, by contrast, passes a run's read checks and would be served: with
 * `repair` it is removed too (the next run recomputes it). A removal that fails (a read-only
 * store) is counted, never hidden.
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import { canonicalJson, digest } from "./canonical.ts"
import { sha256 } from "../base/sha256.js"
import * as path from "node:path"
import { listCommandFiles, listConfigFiles, listEntryFiles, listPackFiles } from "./maintenance.ts"
import { parseRecord } from "../launch/command.js"
import { parseConfigEntry } from "../launch/configCache.ts"
import { codeOf, KEY_FORMAT_VERSION, nodeTypesByKind, type KeyMaterial, type NodeType } from "./node.ts"
import { errorReason, parseEntryText, type StoredEntry } from "./store.ts"
import { CurrentToolchain } from "./toolchain.ts"

interface VerifyProblem {
  readonly key: string
  readonly id: string
  readonly kind: string
  readonly problem: string
}

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
}

export interface VerifyOptions {
  /** Remove mismatching entries as well as corrupt ones (`cache verify --repair`). */
  readonly repair?: boolean
}

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
    const read = (file: string): StoredEntry | undefined => {
      try {
        const e = parseEntryText(fs.readFileSync(file, "utf8"))
        return typeof e === "object" && e !== null ? (e as StoredEntry) : undefined
      } catch {
        return undefined
      }
    }
    let visited = 0
    for (const f of listEntryFiles(cacheDir)) {
      if (++visited % 256 === 0) yield* Effect.yieldNow
      fileOf.set(f.key, f.file)
      const e = read(f.file)
      if (e === undefined || digest(e.output ?? null) !== e.output_digest) {
        corrupt++
        if (remove(f.file)) corruptRemoved++
      } else if (e.key !== f.key) {
        misnamed++
        problems.push({ key: f.key, id: String(e.id), kind: String(e.kind), problem: "embedded key differs from file name" })
      } else {
        checkedEntries.push({ key: f.key, file: f.file })
        fileByDigest.set(e.output_digest, f.file)
      }
    }
    // Sweep point packs are named by the SHA-256 of their content: one that does not match was
    // torn or damaged (a sweep treats it as a miss and removes it). Their points are not
    // recomputed: a point's inputs (the scenario) are not stored with it.
    /** Files that carry their own check: count the good ones, remove the bad ones as corrupt. */
    const selfChecked = (files: ReadonlyArray<{ readonly file: string }>, good: (file: string) => boolean): number => {
      let n = 0
      for (const f of files) {
        let ok = false
        try {
          ok = good(f.file)
        } catch {
          ok = false
        }
        if (ok) n++
        else {
          corrupt++
          if (remove(f.file)) corruptRemoved++
        }
      }
      return n
    }
    const packs = selfChecked(listPackFiles(cacheDir), (file) => sha256(fs.readFileSync(file)) === path.basename(file, ".jsonl"))
    // Command records (src/launch/command.js) carry their own checksum: one that does not match
    // would never be replayed; it is removed like a torn entry. Their inputs are re-checked on
    // every replay, so there is nothing to recompute here.
    const commands = selfChecked(listCommandFiles(cacheDir), (file) => parseRecord(fs.readFileSync(file, "utf8"), path.basename(file, ".json")) !== undefined)
    // Stored project configs (src/launch/configCache.ts) likewise: checksummed, inputs re-checked on every load.
    const configs = selfChecked(
      listConfigFiles(cacheDir),
      (file) => parseConfigEntry(fs.readFileSync(file, "utf8"), path.basename(file, ".json")) !== undefined
    )
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
    let removed = 0
    if (o.repair) {
      for (const p of problems) {
        const file = fileOf.get(p.key)
        if (file !== undefined && remove(file)) removed++
      }
    }
    return {
      checked: checkedEntries.length + packs + commands + configs + corrupt + misnamed,
      recomputed,
      stale,
      corrupt,
      corrupt_removed: corruptRemoved,
      problems,
      removed,
      not_removed: notRemoved,
      not_removed_reason: notRemovedReason
    }
  })

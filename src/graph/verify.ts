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
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import { canonicalJson, digest } from "./canonical.ts"
import { listEntryFiles } from "./maintenance.ts"
import { codeOf, KEY_FORMAT_VERSION, nodeTypeOf, type KeyMaterial } from "./node.ts"
import type { StoredEntry } from "./store.ts"
import { CurrentToolchain } from "./toolchain.ts"

export interface VerifyProblem {
  readonly key: string
  readonly id: string
  readonly kind: string
  readonly problem: string
}

export interface VerifyReport {
  readonly checked: number
  readonly recomputed: number
  readonly stale: number
  /** Unreadable files removed (harmless: a run treats them as misses). */
  readonly corrupt: number
  readonly problems: ReadonlyArray<VerifyProblem>
}

export const verifyStore = (cacheDir: string): Effect.Effect<VerifyReport> =>
  Effect.gen(function*() {
    const toolchain = canonicalJson(yield* CurrentToolchain)
    const entries: Array<StoredEntry> = []
    const problems: Array<VerifyProblem> = []
    let corrupt = 0
    let misnamed = 0
    for (const f of listEntryFiles(cacheDir)) {
      let e: StoredEntry | undefined
      try {
        e = JSON.parse(fs.readFileSync(f.file, "utf8")) as StoredEntry
      } catch {
        e = undefined
      }
      if (e === undefined || typeof e !== "object" || e === null || digest(e.output ?? null) !== e.output_digest) {
        corrupt++
        fs.rmSync(f.file, { force: true })
      } else if (e.key !== f.key) problems.push({ key: f.key, id: String(e.id), kind: String(e.kind), problem: "embedded key differs from file name" })
      else entries.push(e)
    }
    const byDigest = new Map<string, unknown>()
    for (const e of entries) byDigest.set(e.output_digest, e.output)
    let recomputed = 0
    let stale = 0
    for (const e of entries) {
      const fail = (problem: string) => problems.push({ key: e.key, id: e.id, kind: e.kind, problem })
      const m = e.material as KeyMaterial | undefined
      if (!m || digest(m) !== e.key) {
        fail("key is not the digest of the stored key material")
        continue
      }
      const type = nodeTypeOf(m.kind)
      let currentCode: string | undefined
      try {
        currentCode = type === undefined ? undefined : codeOf(type, m.params)
      } catch {
        currentCode = undefined // params the current code cannot even version (an unknown estimator)
      }
      if (
        type === undefined || currentCode !== m.code || m.v !== KEY_FORMAT_VERSION ||
        m.toolchain === undefined || canonicalJson(m.toolchain) !== toolchain
      ) {
        stale++
        continue
      }
      if (type.readsInput) continue
      const deps = m.deps.map((d) => byDigest.get(d))
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
    return { checked: entries.length + corrupt + misnamed, recomputed, stale, corrupt, problems }
  })

/**
 * `llmsim cache verify`: recompute stored entries and compare.
 *
 * For every entry: its key must equal the digest of its stored key material, its output must
 * match its output digest, and recomputing it from the material (ops from their params; layers
 * and scenarios from their dependencies' stored outputs, found by output digest) must give the
 * same digest. A mismatch means nondeterminism or a poisoned entry. Entries written by another
 * code version are reported as stale, not as mismatches (current keys can never reach them).
 * File entries cannot be recomputed (their source text is not stored); their digests are checked.
 * Torn or unreadable files are removed and counted as corrupt: a run treats them as misses, so
 * they cannot produce a wrong answer and are not failures.
 */
import * as fs from "node:fs"
import { digest } from "../graph/canonical.ts"
import { listEntryFiles } from "../graph/maintenance.ts"
import type { KeyMaterial } from "../graph/node.ts"
import { ESTIMATORS } from "../timing/estimator.ts"
import { computeLayer, computeOp, computeScenario, LAYER_CODE, opCodeVersion, SCENARIO_CODE, type LayerParams, type ScenarioParams } from "./plan.ts"
import type { StoredEntry } from "../graph/store.ts"

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

export const verifyStore = (cacheDir: string): VerifyReport => {
  const entries: Array<StoredEntry> = []
  const problems: Array<VerifyProblem> = []
  let corrupt = 0
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
  for (const e of entries) if (digest(e.output) === e.output_digest) byDigest.set(e.output_digest, e.output)
  let recomputed = 0
  let stale = 0
  for (const e of entries) {
    const fail = (problem: string) => problems.push({ key: e.key, id: e.id, kind: e.kind, problem })
    const m = e.material as KeyMaterial | undefined
    if (!m || digest(m) !== e.key) {
      fail("key is not the digest of the stored key material")
      continue
    }
    let again: unknown
    try {
      if (m.kind === "op") {
        const p = m.params as Parameters<typeof computeOp>[0]
        const est = ESTIMATORS[p.estimator]
        if (!est || m.code !== opCodeVersion(p.spec.kind, est)) {
          stale++
          continue
        }
        again = computeOp(p)
      } else if (m.kind === "layer" || m.kind === "scenario") {
        if (m.code !== (m.kind === "layer" ? LAYER_CODE : SCENARIO_CODE)) {
          stale++
          continue
        }
        const deps = m.deps.map((d) => byDigest.get(d))
        if (deps.some((d) => d === undefined)) {
          stale++
          continue
        }
        again = m.kind === "layer"
          ? computeLayer(m.params as LayerParams, deps as any)
          : computeScenario(m.params as ScenarioParams, deps as any)
      } else {
        continue
      }
    } catch (err) {
      fail(`recomputation failed: ${String(err)}`)
      continue
    }
    recomputed++
    const d = digest(JSON.parse(JSON.stringify(again)))
    if (d !== e.output_digest) fail(`recomputed output differs (stored ${e.output_digest.slice(0, 12)}, now ${d.slice(0, 12)})`)
  }
  return { checked: entries.length + corrupt + problems.length, recomputed, stale, corrupt, problems }
}

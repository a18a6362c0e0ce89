/**
 * `cache verify` for sweep point packs: recompute a pack's points from what the pack says they
 * were computed from, and compare bytes. A pack is named by the SHA-256 of its content, which
 * catches a torn pack, not a forged one (edit it, rename it to its new digest): a writable store
 * is trusted to hold bytes, never to choose them (docs/caching.md, "Trust").
 *
 * A pack's header carries its family's material (src/sweep/family.ts); its digest must be the
 * family folder's name, every point's key must be the key of its coordinates in that family,
 * and every point recomputed under the current code must give the stored result text byte for
 * byte. A pack of other code or toolchain versions (no current sweep reads it), or of an
 * estimator model that changed or cannot be loaded here (ONNX), is stale: not recomputed.
 */
import { Effect } from "effect"
import { readTextGuarded } from "../base/guardedRead.js"
import { sha256 } from "../base/sha256.js"
import { canonicalJson, digest } from "../graph/canonical.ts"
import type { PackCheck } from "../graph/verify.ts"
import { mlEstimator } from "../ml/estimator.ts"
import { decodeModel } from "../ml/model.ts"
import { ESTIMATORS, type Estimator } from "../timing/estimator.ts"
import { coordinateKey } from "./chunk.ts"
import { familyCode, type FamilyMaterial } from "./family.ts"
import { pointEvaluator } from "./point.ts"
import { forEachPackLine, MAX_PACK_BYTES, PACK_FORMAT, pointKey } from "./pointCache.ts"
import type { Coordinates } from "./space.ts"

/** The estimator a family's points were computed with, when this process can rebuild it; else why not. */
const estimatorOf = (m: FamilyMaterial): Estimator | string => {
  const model = m.base.estimator_model
  if (model === undefined) return ESTIMATORS[m.base.estimator_id] ?? `estimator ${m.base.estimator_id} is unknown to this version`
  if (model.file.endsWith(".onnx")) return "an ONNX estimator model: its points are not recomputed"
  const text = readTextGuarded(model.file, MAX_PACK_BYTES)
  if (text === undefined || sha256(text) !== model.digest) return `the estimator model ${model.file} changed or is gone`
  const decoded = decodeModel(text)
  return typeof decoded === "string" ? `${model.file}: ${decoded}` : mlEstimator(decoded, model.digest)
}

interface PointLine {
  readonly key: string
  readonly coordinates: string
  readonly result: string
}

/**
 * Recompute the points of the pack `file` of family `family` (all, or a random `sample` of
 * them) under the current code and `toolchain`.
 */
export const reexecutePack = (file: string, family: string, toolchain: unknown, sample: number | undefined): Effect.Effect<PackCheck> =>
  Effect.gen(function* () {
    const text = readTextGuarded(file, MAX_PACK_BYTES)
    if (text === undefined) return { stale: "unreadable", points: 0, recomputed: 0, problems: [] }
    const nl = text.indexOf("\n")
    let header: { readonly llmsim_pack?: unknown; readonly family?: FamilyMaterial } | undefined
    try {
      header = JSON.parse(text.slice(0, nl < 0 ? text.length : nl))
    } catch {
      header = undefined
    }
    if (header === undefined || header === null || header.llmsim_pack !== PACK_FORMAT || typeof header.family !== "object" || header.family === null) {
      return { stale: "another pack layout", points: 0, recomputed: 0, problems: [] }
    }
    const material = header.family
    let ownDigest: string | undefined
    try {
      ownDigest = digest(material)
    } catch {
      ownDigest = undefined
    }
    if (ownDigest !== family) return { points: 0, recomputed: 0, problems: ["its header is not the material of its family (the folder it is in)"] }
    const estimator = estimatorOf(material)
    if (typeof estimator === "string") return { stale: estimator, points: 0, recomputed: 0, problems: [] }
    if (canonicalJson(material.code) !== canonicalJson(familyCode(estimator)) || canonicalJson(material.toolchain ?? null) !== canonicalJson(toolchain)) {
      return { stale: "other code or toolchain versions", points: 0, recomputed: 0, problems: [] }
    }
    // Every point line, or a uniform random sample of them (reservoir sampling: one pass).
    let points = 0
    const chosen: Array<PointLine> = []
    forEachPackLine(text, (key, coordinates, result) => {
      points++
      if (sample === undefined || chosen.length < sample) chosen.push({ key, coordinates, result })
      else {
        const j = Math.floor(Math.random() * points)
        if (j < sample) chosen[j] = { key, coordinates, result }
      }
    })
    const evaluate = pointEvaluator(material.base, estimator)
    const problems: Array<string> = []
    let recomputed = 0
    for (const p of chosen) {
      if (recomputed % 256 === 255) yield* Effect.yieldNow
      let c: Coordinates
      try {
        c = JSON.parse(p.coordinates) as Coordinates
      } catch {
        problems.push(`point ${p.key.slice(0, 12)}: its coordinates are not JSON`)
        continue
      }
      if (pointKey(family, coordinateKey(material.base, c)) !== p.key) {
        problems.push(`point ${p.coordinates}: its key is not the key of its coordinates`)
        continue
      }
      recomputed++
      let now: string
      try {
        now = JSON.stringify(evaluate(c))
      } catch (e) {
        problems.push(`point ${p.coordinates}: recomputation failed: ${e instanceof Error ? e.message : String(e)}`)
        continue
      }
      if (now !== p.result) problems.push(`point ${p.coordinates}: recomputed result differs`)
    }
    return { points, recomputed, problems }
  })

/**
 * A sweep point family: what every point of a sweep is computed from besides its coordinates
 * (docs/caching.md, "Sweep points"). Its digest names the family's pack folder and is part of
 * every point's key; its material is the first line of each of the family's packs, so `cache
 * verify` can recompute their points (src/sweep/verifyPack.ts). Not loaded by the sweep's
 * worker threads (the code versions come from modules that load effect).
 */
import { COMPOSE_CODE_VERSION, TIMING_CODE_VERSION } from "../sim/plan.ts"
import { OP_FORMULAS } from "../ops/registry.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { SweepBase } from "./point.ts"
import { PACK_FORMAT, SWEEP_CODE_VERSION } from "./pointCache.ts"

/** The code a family's points are computed by: every version their values depend on, and the pack layout. */
export const familyCode = (estimator: Pick<Estimator, "id" | "version" | "model">) => ({
  pack: PACK_FORMAT,
  sweep: SWEEP_CODE_VERSION,
  timing: TIMING_CODE_VERSION,
  compose: COMPOSE_CODE_VERSION,
  ops: Object.fromEntries(Object.entries(OP_FORMULAS).map(([k, f]) => [k, f.version])),
  estimator: `${estimator.id}-v${estimator.version}`,
  model: estimator.model ?? null
})

/** What a point family's digest is the digest of (docs/caching.md lists it); a pack's header carries it. */
export interface FamilyMaterial {
  readonly kind: "sweep-point"
  readonly code: ReturnType<typeof familyCode>
  readonly toolchain: unknown
  readonly base: SweepBase
}

export const familyMaterial = (base: SweepBase, estimator: Pick<Estimator, "id" | "version" | "model">, toolchain: unknown): FamilyMaterial => ({
  kind: "sweep-point",
  code: familyCode(estimator),
  toolchain,
  base
})

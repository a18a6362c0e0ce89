/**
 * One chunk of a sweep: points [from, to) replayed from the point cache or evaluated, judged,
 * formatted as output lines, and reduced to what the main thread folds in (counts, the chunk's
 * frontier and best rows, the cache lines of computed points). The same function runs in the
 * main thread (one worker) and in worker threads (src/sweep/worker.ts), so both give the same
 * rows, cache packs and answers.
 */
import { AXES } from "./axes.ts"
import { Tracker, type GroupBy } from "./frontier.ts"
import { judge, type Constraints, type Row } from "./judge.ts"
import { pointEvaluator, type PointResult, type SweepBase } from "./point.ts"
import { packLine, pointKey } from "./pointCache.ts"
import { rowLine, type RowFormat } from "./rows.ts"
import { pointAt, type Coordinates, type Space } from "./space.ts"
import type { Estimator } from "../timing/estimator.ts"

/** What every chunk of one sweep shares (plain data: it crosses to worker threads). */
export interface SweepJob {
  readonly base: SweepBase
  readonly space: Space
  /** The point family digest (src/sweep/pointCache.ts). */
  readonly family: string
  readonly constraints: Constraints
  /** USD per GPU-hour by hardware axis value (null: no price). */
  readonly prices: Readonly<Record<string, number | null>>
  /** How rows are written, or undefined when they are not. */
  readonly output?: { readonly format: RowFormat; readonly columns: ReadonlyArray<string> }
  /** Whether points are looked up and stored (false with --no-cache: no keys are hashed). */
  readonly cached: boolean
  /** Also keep the best point per value of an axis. */
  readonly group_by?: GroupBy
}

export interface ChunkResult {
  readonly from: number
  readonly to: number
  /**
   * The rows' lines, in pieces of at most TEXT_PIECE_ROWS rows: strings past ~128 KB live in V8's
   * large-object space until a full collection, so one string per chunk made the resident size
   * of a long sweep creep up although its live heap was flat.
   */
  readonly text: ReadonlyArray<string>
  /** `key\tresult` lines of the points computed here, for the cache pack. */
  readonly pack: string
  readonly computed: number
  readonly replayed: number
  readonly invalid: number
  readonly feasible: number
  readonly rejected: Readonly<Record<string, number>>
  /** The chunk's first invalid point, to show what made layouts invalid. */
  readonly first_invalid: Row | null
}

const TEXT_PIECE_ROWS = 128

/** The coordinates that identify a point in the cache: every axis, defaults resolved. */
export const coordinateKey = (base: SweepBase, c: Coordinates): string => {
  let s = ""
  for (const a of AXES) {
    const v =
      a === "batch" ? (c.batch ?? base.defaults.batch) : a === "seq" ? (c.seq ?? base.defaults.seq) : a === "output" ? (c.output ?? base.defaults.output) : c[a]
    s += v === undefined ? "|" : `${v}|`
  }
  return s
}

/**
 * A chunk processor over one job and estimator, with its own evaluator memo; `lookup` reads the
 * point cache. Its tracker keeps the frontier and best rows of every chunk it ran: `candidates`
 * hands them over once at the end (the frontier of a union is the frontier of its parts), so
 * chunk results carry no rows besides their text.
 */
export const chunkProcessor = (job: SweepJob, estimator: Estimator, lookup: (key: string) => string | undefined) => {
  const evaluate = pointEvaluator(job.base, estimator)
  const tracker = new Tracker(job.group_by)
  const candidates = (): Array<Row> => {
    const out = new Map<number, Row>()
    for (const r of tracker.points()) out.set(r.index, r)
    for (const r of Object.values(tracker.best)) if (r) out.set(r.index, r)
    for (const r of tracker.bestBy.values()) out.set(r.index, r)
    return [...out.values()]
  }
  const priceOf = (hw: string) => job.prices[hw] ?? null
  /** A point's result: replayed, else evaluated; `fresh` says which. */
  const resultOf = (c: Coordinates): { r: PointResult; key?: string; fresh: boolean } => {
    if (!job.cached) return { r: evaluate(c), fresh: true }
    const key = pointKey(job.family, coordinateKey(job.base, c))
    const hit = lookup(key)
    return hit !== undefined ? { r: JSON.parse(hit) as PointResult, key, fresh: false } : { r: evaluate(c), key, fresh: true }
  }
  const judged = (index: number): Row => {
    const c = pointAt(job.space, index)
    const { r } = resultOf(c)
    return judge(index, c, r, job.constraints, priceOf(r.hardware))
  }
  const run = (from: number, to: number): ChunkResult => {
    const out: Array<string> = []
    const pack: Array<string> = []
    const rejected: Record<string, number> = {}
    let computed = 0
    let replayed = 0
    let invalid = 0
    let feasible = 0
    let firstInvalid: Row | null = null
    for (let i = from; i < to; i++) {
      const c = pointAt(job.space, i)
      const { r, key, fresh } = resultOf(c)
      if (fresh) {
        computed++
        if (key !== undefined) pack.push(packLine(key, c, r))
      } else replayed++
      const row = judge(i, c, r, job.constraints, priceOf(r.hardware))
      if (r.invalid !== null) {
        invalid++
        firstInvalid ??= row
      }
      if (row.feasible) feasible++
      else if (r.invalid === null) {
        for (const reason of row.rejected_by.split("; ")) {
          const kind = reason.slice(0, reason.indexOf(":"))
          rejected[kind] = (rejected[kind] ?? 0) + 1
        }
      }
      tracker.add(row)
      if (job.output) out.push(rowLine(row, job.output.format, job.output.columns))
    }
    const text: Array<string> = []
    for (let k = 0; k < out.length; k += TEXT_PIECE_ROWS) text.push(out.slice(k, k + TEXT_PIECE_ROWS).join(""))
    return { from, to, text, pack: pack.join(""), computed, replayed, invalid, feasible, rejected, first_invalid: firstInvalid }
  }
  return { run, judged, candidates }
}

/**
 * The Pareto frontier of feasible points over tokens/s per GPU (the operator's throughput) and
 * tokens/s per user (the user's speed), both maximised, and the best point per objective. Both
 * are kept incrementally as rows stream past, so a sweep holds only the frontier and one row
 * per objective, never its points; the frontier of a union is the frontier of the parts'
 * frontiers, which is what makes `sweep merge` of shards equal the unsharded sweep.
 *
 * a dominates b  <=>  a.gpu >= b.gpu and a.user >= b.user, and a is strictly higher on one.
 * Points equal on both are all kept (none dominates another). Output order: tokens/s per user
 * ascending, then index.
 */
import { better, OBJECTIVES, type Objective, type Row } from "./judge.ts"

const x = (r: Row) => r.tokens_per_s_per_gpu!
const y = (r: Row) => r.tokens_per_s_per_user!

const dominates = (a: Row, b: Row): boolean => x(a) >= x(b) && y(a) >= y(b) && (x(a) > x(b) || y(a) > y(b))

const onFrontier = (r: Row): boolean => r.feasible && r.tokens_per_s_per_gpu !== null && r.tokens_per_s_per_user !== null

/** Best per value of one axis (`--by hardware`): which hardware wins, and by how much. */
export interface GroupBy {
  readonly axis: string
  readonly objective: Objective
}

export class Tracker {
  private frontier: Array<Row> = []
  readonly best: Partial<Record<Objective, Row>> = {}
  /** With a GroupBy: the best row of its objective per value of its axis. */
  readonly bestBy = new Map<string, Row>()

  private readonly groupBy: GroupBy | undefined

  constructor(groupBy?: GroupBy) {
    this.groupBy = groupBy
  }

  add(r: Row): void {
    if (!r.feasible) return
    for (const o of Object.keys(OBJECTIVES) as Array<Objective>) {
      const cur = this.best[o]
      if (r[o] !== null && (cur === undefined || better(r, cur, o))) this.best[o] = r
    }
    if (this.groupBy !== undefined && r[this.groupBy.objective] !== null) {
      const g = String((r as unknown as Record<string, unknown>)[this.groupBy.axis])
      const cur = this.bestBy.get(g)
      if (cur === undefined || better(r, cur, this.groupBy.objective)) this.bestBy.set(g, r)
    }
    if (!onFrontier(r)) return
    // The frontier is kept sorted by tokens/s per GPU, descending; a non-dominated set then has
    // tokens/s per user ascending along it (equal only between equal points). So whether r is
    // dominated is one comparison with the last point at least as fast per GPU (found by
    // bisection), and the points r dominates are one contiguous run: O(log F) plus the run,
    // where a scan of the whole frontier per row made a million-row merge quadratic.
    const f = this.frontier
    const rx = x(r)
    const ry = y(r)
    let lo = 0
    let hi = f.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (x(f[mid]) >= rx) lo = mid + 1
      else hi = mid
    }
    if (lo > 0 && dominates(f[lo - 1], r)) return
    // A row folded in twice (a chunk's frontier row that is also its best) counts once.
    for (let k = lo - 1; k >= 0 && x(f[k]) === rx && y(f[k]) === ry; k--) if (f[k].index === r.index) return
    let start = lo
    while (start > 0 && x(f[start - 1]) === rx && y(f[start - 1]) < ry) start--
    let end = lo
    while (end < f.length && y(f[end]) <= ry) end++
    f.splice(start, end - start, r)
  }

  points(): Array<Row> {
    return [...this.frontier].sort((a, b) => y(a) - y(b) || a.index - b.index)
  }
}

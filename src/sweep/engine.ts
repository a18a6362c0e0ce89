/**
 * The sweep loop: the points of an index range in chunks (src/sweep/chunk.ts), in this thread or
 * spread over worker threads (`workers` > 1, src/sweep/worker.ts), folded back in index order:
 * lines to the row writer, computed points to the cache pack, counts; each thread keeps the
 * frontier and best rows of the chunks it ran, folded into one tracker at the end. Memory is constant in the number of points: a few chunks in
 * flight, the frontier, and one best row per objective.
 */
import { Worker } from "node:worker_threads"
import { ENTRIES, entryUrl } from "../base/entries.js"
import { LENGTH_AXES } from "./axes.ts"
import { chunkProcessor, type ChunkResult, type SweepJob } from "./chunk.ts"
import { Tracker } from "./frontier.ts"
import { OBJECTIVES, type Objective, type Row } from "./judge.ts"
import type { PointCache } from "./pointCache.ts"
import type { RowWriter } from "./rows.ts"
import { neighbours } from "./space.ts"
import type { Estimator } from "../timing/estimator.ts"

/** The worker's module (src/base/entries.js): its source when this module runs from the sources, else its bundle. */
const WORKER_URL = entryUrl(ENTRIES.sweepWorker, !import.meta.url.endsWith(".ts"))

export type { SweepJob } from "./chunk.ts"

export interface SweepStats {
  points: number
  computed: number
  replayed: number
  invalid: number
  feasible: number
  /** Points failing each constraint kind (a point can fail several). */
  readonly rejected: Record<string, number>
  /** Wall time of the point loop (excludes start-up and loading), ms. */
  elapsed_ms: number
  /** The first invalid point (lowest index), if any: what made a layout impossible. */
  first_invalid: Row | null
}

export interface NeighbourReport {
  readonly axis: string
  readonly value: number | string
  readonly feasible: boolean
  readonly rejected_by: string
  readonly value_of_objective: number | null
}

export interface SweepOutcome {
  readonly stats: SweepStats
  readonly frontier: ReadonlyArray<Row>
  readonly best: Partial<Record<Objective, Row>>
  /** With a group-by axis: the best row of its objective per value of the axis, in axis order (none for a value with no feasible point). */
  readonly best_by: ReadonlyArray<Row>
  readonly neighbours: Partial<Record<Objective, ReadonlyArray<NeighbourReport>>>
}

export interface SweepRunOptions {
  readonly from: number
  readonly to: number
  readonly cache: PointCache
  readonly writer?: RowWriter
  readonly workers: number
  readonly onProgress?: (done: number) => void
  /** Checked between chunks: true stops the sweep (SIGINT). */
  readonly stopped?: () => boolean
}

export class SweepStopped extends Error {}

/** The group-by rows in the order of the axis's values. */
export const groupRows = (job: Pick<SweepJob, "group_by" | "space">, tracker: Tracker): Array<Row> => {
  if (job.group_by === undefined) return []
  const axis = job.space.axes.find((a) => a.name === job.group_by!.axis)
  return (axis?.values ?? []).flatMap((v) => {
    const r = tracker.bestBy.get(String(v))
    return r === undefined ? [] : [r]
  })
}

/** Points per chunk: large enough that a worker message is cheap beside its work, small enough that a chunk's rows do not outlive young-generation collections. */
const CHUNK = 1024

/** Most chunks a worker sweep keeps in flight (their rows wait to be written in order). */
const MAX_IN_FLIGHT = 64

export const runSweep = async (job: SweepJob, estimator: Estimator, o: SweepRunOptions): Promise<SweepOutcome> => {
  const started = performance.now()
  const local = chunkProcessor(job, estimator, o.cache.get)
  const tracker = new Tracker(job.group_by)
  const stats: SweepStats = { points: o.to - o.from, computed: 0, replayed: 0, invalid: 0, feasible: 0, rejected: {}, elapsed_ms: 0, first_invalid: null }
  let done = 0
  const fold = (c: ChunkResult) => {
    for (const piece of c.text) o.writer?.write(piece)
    if (c.pack.length > 0) o.cache.addLines(c.pack)
    stats.computed += c.computed
    stats.replayed += c.replayed
    stats.invalid += c.invalid
    stats.feasible += c.feasible
    for (const [k, n] of Object.entries(c.rejected)) stats.rejected[k] = (stats.rejected[k] ?? 0) + n
    if (c.first_invalid !== null && (stats.first_invalid === null || c.first_invalid.index < stats.first_invalid.index)) stats.first_invalid = c.first_invalid
    done += c.to - c.from
    o.onProgress?.(done)
  }
  const chunkCount = Math.ceil((o.to - o.from) / CHUNK)
  const chunk = (i: number): [number, number] => [o.from + i * CHUNK, Math.min(o.to, o.from + (i + 1) * CHUNK)]

  if (o.workers <= 1 || chunkCount <= 1) {
    for (let i = 0; i < chunkCount; i++) {
      const [from, to] = chunk(i)
      if (o.stopped?.()) throw new SweepStopped()
      fold(local.run(from, to))
      // Let the event loop turn (a signal, the progress bar's timer).
      await new Promise((r) => setImmediate(r))
    }
    for (const r of local.candidates()) tracker.add(r)
  } else {
    const pool = Array.from({ length: Math.min(o.workers, chunkCount) }, () => new Worker(WORKER_URL, { workerData: { job, packs: o.cache.packFiles } }))
    const waiting = new Map<number, { resolve: (c: ChunkResult) => void; reject: (e: Error) => void }>()
    let candidatesWanted: { resolve: (rows: ReadonlyArray<Row>) => void; reject: (e: Error) => void } | undefined
    for (const w of pool) {
      w.on("message", (c: ChunkResult | { candidates: ReadonlyArray<Row> }) => {
        if ("candidates" in c) return candidatesWanted?.resolve(c.candidates)
        const p = waiting.get(c.from)
        waiting.delete(c.from)
        p?.resolve(c)
      })
      w.on("error", (e) => {
        for (const p of waiting.values()) p.reject(e instanceof Error ? e : new Error(String(e)))
        waiting.clear()
        candidatesWanted?.reject(e instanceof Error ? e : new Error(String(e)))
      })
    }
    const send = (w: Worker, [from, to]: [number, number]) =>
      new Promise<ChunkResult>((resolve, reject) => {
        waiting.set(from, { resolve, reject })
        w.postMessage({ from, to })
      })
    try {
      // Which worker runs a chunk: points that differ only in their lengths and batch (the inner
      // axes) share layer halves (PlaybookInput.shareOps), so a run of chunks with the same layout
      // goes to one worker and its memo; runs alternate between workers. Results are folded in
      // index order, so at most `window` chunks are in flight (memory stays bounded); when runs
      // are too long for that window, or too few to spread, chunks simply alternate.
      const inner = job.space.axes.filter((a) => LENGTH_AXES.includes(a.name)).reduce((n, a) => n * a.values.length, 1)
      const run = Math.max(1, Math.ceil(inner / CHUNK))
      const byRun = run * pool.length <= MAX_IN_FLIGHT && chunkCount >= 2 * run * pool.length
      const window = byRun ? Math.min(MAX_IN_FLIGHT, run * pool.length + pool.length) : 2 * pool.length
      const workerOf = (i: number) => pool[(byRun ? Math.floor(i / run) : i) % pool.length]
      const inFlight: Array<Promise<ChunkResult>> = []
      let next = 0
      while (next < chunkCount && inFlight.length < window) inFlight.push(send(workerOf(next), chunk(next++)))
      while (inFlight.length > 0) {
        if (o.stopped?.()) throw new SweepStopped()
        fold(await inFlight.shift()!)
        if (next < chunkCount) inFlight.push(send(workerOf(next), chunk(next++)))
      }
      // Each worker's frontier and best rows, once.
      for (const w of pool) {
        const rows = await new Promise<ReadonlyArray<Row>>((resolve, reject) => {
          candidatesWanted = { resolve, reject }
          w.postMessage({ candidates: true })
        })
        for (const r of rows) tracker.add(r)
      }
    } finally {
      await Promise.all(pool.map((w) => w.terminate()))
    }
  }
  stats.elapsed_ms = performance.now() - started

  // The best point per objective and why each of its neighbours (one step on one axis) lost.
  const around: Partial<Record<Objective, Array<NeighbourReport>>> = {}
  for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
    const best = tracker.best[ob]
    if (!best) continue
    around[ob] = neighbours(job.space, best.index).map((n) => {
      const row = local.judged(n.index)
      return { axis: n.axis, value: n.value, feasible: row.feasible, rejected_by: row.rejected_by, value_of_objective: row[ob] }
    })
  }
  return { stats, frontier: tracker.points(), best: tracker.best, best_by: groupRows(job, tracker), neighbours: around }
}

/**
 * `llmsim sweep merge`: the answer of a sharded sweep from its shards' JSON Lines. The files must
 * be shards of one sweep (the same `sweep_digest` in their header lines) and together cover
 * every point exactly once; rows stream through the same frontier tracker as a sweep (the
 * frontier of a union is the frontier of its parts), and a second pass finds the best points'
 * neighbours among the rows, so the answer equals the unsharded sweep's.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { openGuarded, refusalText } from "../base/guardedRead.js"
import { UsageError } from "../config/errors.ts"
import { groupRows, type NeighbourReport, type SweepStats } from "./engine.ts"
import { Tracker } from "./frontier.ts"
import { OBJECTIVES, type Objective, type Row } from "./judge.ts"
import type { SweepHeader, SweepResult } from "./run.ts"
import { makeSpace, neighbours } from "./space.ts"

class MergeError extends Error {}

/**
 * Open a shard through the one guarded read (src/base/guardedRead.js): a regular file only (a
 * FIFO is never opened, a device such as /dev/zero never read), opened non-blocking.
 */
const openShard = (file: string, shown: string): number => {
  const o = openGuarded(file, Number.MAX_SAFE_INTEGER)
  if ("fd" in o) return o.fd
  if ("refused" in o) throw new MergeError(`${shown}: cannot read: ${refusalText(o.refused)}`)
  throw new MergeError(
    o.error.code === "ENOENT" || o.error.code === "ENOTDIR" ? `${shown}: file not found` : `${shown}: cannot read: ${o.error.code ?? o.error.message}`
  )
}

/** Each line of `file` (streamed in 1 MiB reads), with its 1-based number. */
const forEachLine = (file: string, shown: string, f: (line: string, n: number) => void) => {
  const fd = openShard(file, shown)
  try {
    const buf = Buffer.alloc(1 << 20)
    let rest = ""
    let n = 0
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, null)
      if (got === 0) break
      const text = rest + buf.toString("utf8", 0, got)
      const lines = text.split("\n")
      rest = lines.pop()!
      for (const l of lines) f(l, ++n)
    }
    if (rest.length > 0) f(rest, ++n)
  } finally {
    fs.closeSync(fd)
  }
}

export const mergeShards = (files: ReadonlyArray<string>, cwd: string) =>
  Effect.try({
    try: (): SweepResult => {
      let header: SweepHeader | undefined
      const covered: Array<[number, number, string]> = []
      let tracker: Tracker | undefined
      const stats: SweepStats = { points: 0, computed: 0, replayed: 0, invalid: 0, feasible: 0, rejected: {}, elapsed_ms: 0, first_invalid: null }
      const seen = (file: string) => path.relative(cwd, path.resolve(cwd, file)) || file
      for (const file of files) {
        const abs = path.resolve(cwd, file)
        let h: SweepHeader | undefined
        forEachLine(abs, seen(file), (line, n) => {
          if (line.trim() === "") return
          let value: unknown
          try {
            value = JSON.parse(line)
          } catch {
            throw new MergeError(`${seen(file)}:${n}:1: not JSON (expected the JSON Lines of sweep --points FILE.jsonl)`)
          }
          if (n === 1) {
            const hv = (value as { llmsim_sweep?: SweepHeader }).llmsim_sweep
            if (hv === undefined || typeof hv.sweep_digest !== "string")
              throw new MergeError(`${seen(file)}:1:1: no sweep header line (write shards with --points FILE.jsonl; CSV cannot be merged)`)
            if (header !== undefined && hv.sweep_digest !== header.sweep_digest) {
              throw new MergeError(`${seen(file)}: a shard of another sweep (axes, constraints, scenario or code differ from ${seen(files[0])})`)
            }
            header ??= hv
            tracker ??= new Tracker(hv.group_by ?? undefined)
            h = hv
            covered.push([hv.first_index, hv.end_index, seen(file)])
            return
          }
          const row = value as Row
          if (typeof row.index !== "number" || row.index < h!.first_index || row.index >= h!.end_index) {
            throw new MergeError(`${seen(file)}:${n}:1: row index ${String(row.index)} is outside the shard's points ${h!.first_index} to ${h!.end_index - 1}`)
          }
          stats.points++
          if (row.invalid !== null) {
            stats.invalid++
            if (stats.first_invalid === null || row.index < stats.first_invalid.index) stats.first_invalid = row
          }
          if (row.feasible) stats.feasible++
          else if (row.invalid === null)
            for (const reason of row.rejected_by.split("; ")) {
              const kind = reason.slice(0, reason.indexOf(":"))
              stats.rejected[kind] = (stats.rejected[kind] ?? 0) + 1
            }
          tracker!.add(row)
        })
      }
      const h = header!
      const t = tracker!
      covered.sort((a, b) => a[0] - b[0])
      let next = 0
      for (const [from, to, file] of covered) {
        if (from < next) throw new MergeError(`${file}: its points overlap another file's (the same shard twice?)`)
        if (from > next) throw new MergeError(`points ${next} to ${from - 1} of ${h.total_points} are in none of the files (a shard is missing)`)
        next = to
      }
      if (next < h.total_points)
        throw new MergeError(`points ${next} to ${h.total_points - 1} of ${h.total_points} are in none of the files (a shard is missing)`)
      if (stats.points !== h.total_points) throw new MergeError(`the files hold ${stats.points} rows for ${h.total_points} points (a file is truncated?)`)

      // Second pass: the best points' neighbours, by index.
      const space = makeSpace(h.axes)
      const wanted = new Map<number, Array<{ ob: Objective; axis: string; value: number | string }>>()
      for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
        const b = t.best[ob]
        if (!b) continue
        for (const n of neighbours(space, b.index)) {
          const list = wanted.get(n.index) ?? []
          list.push({ ob, axis: n.axis, value: n.value })
          wanted.set(n.index, list)
        }
      }
      const found = new Map<number, Row>()
      if (wanted.size > 0) {
        for (const file of files) {
          forEachLine(path.resolve(cwd, file), seen(file), (line, n) => {
            if (n === 1 || line.trim() === "") return
            const idx = Number(/"index":(\d+)/.exec(line)?.[1])
            if (wanted.has(idx)) found.set(idx, JSON.parse(line) as Row)
          })
        }
      }
      const around: Partial<Record<Objective, Array<NeighbourReport>>> = {}
      for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
        const b = t.best[ob]
        if (!b) continue
        around[ob] = neighbours(space, b.index).map((n) => {
          const r = found.get(n.index)!
          return { axis: n.axis, value: n.value, feasible: r.feasible, rejected_by: r.rejected_by, value_of_objective: r[ob] }
        })
      }
      return {
        header: { ...h, shard: null, first_index: 0, end_index: h.total_points },
        outcome: {
          stats,
          frontier: t.points(),
          best: t.best,
          best_by: groupRows({ space, ...(h.group_by ? { group_by: h.group_by } : {}) }, t),
          neighbours: around
        },
        points_file: null,
        merged_from: files.length
      }
    },
    catch: (e) =>
      e instanceof MergeError
        ? new UsageError({ message: `sweep merge: ${e.message}` })
        : new UsageError({ message: `sweep merge: ${e instanceof Error ? e.message : String(e)}` })
  })

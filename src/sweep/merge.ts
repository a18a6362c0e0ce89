/**
 * `llmsim sweep merge`: the answer of a sharded sweep from its shards' JSON Lines, trusting
 * nothing in them that can be checked.
 *
 * 1. Every line is decoded with a schema (src/sweep/shardFile.ts): any valid JSON spacing reads
 *    the same; anything else is one `FILE:LINE:COL field: ...` error.
 * 2. The headers must name one sweep: the same header version, code (llmsim, Node and every code
 *    version) and `sweep_digest`, shards k/n of one n, each once, all of them (their point
 *    ranges are recomputed from k/n, not read).
 * 3. The sweep is rebuilt from the project's files and the header's `inputs` with the setup
 *    `llmsim sweep` itself uses (prepareSweep), and its digest must equal the shards' (else the
 *    error names what differs: a hardware file, a price, the scenario, an axis, the code).
 * 4. Rows stream in index order, one per point. Each row's coordinates come from its index and
 *    its price, costs and verdict are recomputed (src/sweep/judge.ts) from its numbers; a seeded
 *    random sample of points, every point the answer shows (frontier, best points, best per
 *    value, the best points' neighbours) and any row whose derived fields disagree are
 *    re-evaluated from scratch and must equal the stored row field by field.
 *
 * The frontier of a union is the frontier of its parts, so rows fold through the same tracker as
 * a sweep and the answer equals the unsharded sweep's.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { findProjectRoot } from "../base/project.js"
import { sha256 } from "../base/sha256.js"
import { openGuarded, refusalText } from "../base/guardedRead.js"
import { withSession } from "../app/session.ts"
import { UsageError } from "../config/errors.ts"
import { insideProject, isInside } from "../config/paths.ts"
import { canonicalJson } from "../graph/canonical.ts"
import { parseAxis } from "./axes.ts"
import { groupRows, type NeighbourReport, type SweepStats } from "./engine.ts"
import { Tracker } from "./frontier.ts"
import { EXTRA_AXES, judge, OBJECTIVES, type Objective, type Row } from "./judge.ts"
import { coordinatesOf, pointEvaluator } from "./point.ts"
import { columnsFor, jsonValue } from "./rows.ts"
import { prepareSweep, SWEEP_HEADER_VERSION, type PreparedSweep, type SweepHeader, type SweepOptions, type SweepResult } from "./run.ts"
import { columnOf, decodeLine, HeaderLine, HeaderVersion, type LineIssue, pathText, rowLineFor } from "./shardFile.ts"
import { type Coordinates, neighbours, parseShard, pointAt, shardRange } from "./space.ts"

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

/** Each line of `file` (streamed in 1 MiB reads), with its 1-based number, until `f` returns false. */
const forEachLine = (file: string, shown: string, f: (line: string, n: number) => boolean | undefined) => {
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
      for (const l of lines) if (f(l, ++n) === false) return
    }
    if (rest.length > 0) f(rest, ++n)
  } finally {
    fs.closeSync(fd)
  }
}

const fail = (message: string): never => {
  throw new MergeError(message)
}

export interface MergeOptions {
  /** Points re-evaluated at random besides those the answer shows (default: 1,024 or 1% of the points, whichever is more). */
  readonly sample?: number
  /** The sample's seed (default 1): the same shards and seed re-evaluate the same points. */
  readonly seed?: number
}

/** One shard file: the name it is shown by, its path, its header. */
interface ShardFile {
  readonly shown: string
  readonly file: string
  readonly header: SweepHeader
  /** The header line as written (for columns in messages). */
  readonly line: string
  readonly k: number
  readonly n: number
}

/** `FILE:LINE:COL path` of a field of a line. */
const place = (shown: string, n: number, line: string, at: ReadonlyArray<string | number>) =>
  `${shown}:${n}:${columnOf(line, at)}${at.length === 0 ? "" : ` ${pathText(at)}`}`

/** Parse a line as JSON, or fail at the position JSON.parse names. */
const parseJson = (shown: string, n: number, line: string): unknown => {
  try {
    return JSON.parse(line)
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    const pos = /at position (\d+)/.exec(message)
    const reason = message.replace(/,? "[\s\S]*$/, "").replace(/ in JSON at position[\s\S]*$/, "")
    const what =
      n === 1 && line.startsWith("index,") ? "a CSV points file: merge reads JSON Lines (write shards with --points FILE.jsonl)" : `not JSON (${reason})`
    return fail(`${shown}:${n}:${pos === null ? 1 : Number(pos[1]) + 1}: ${what}`)
  }
}

const issueText = (shown: string, n: number, line: string, issue: LineIssue) => `${place(shown, n, line, issue.path)}: ${issue.message}`

type RowDecoder = ReturnType<typeof rowLineFor>

/** A row line, decoded (keys a sweep does not write are found when the row is compared with its point). */
const rowOf = (rows: RowDecoder, shown: string, n: number, line: string): Row => {
  const value = parseJson(shown, n, line)
  if (rows.is(value)) return value
  const decoded = decodeLine(rows.schema, value)
  return fail("value" in decoded ? `${shown}:${n}:1: not a row of this sweep` : issueText(shown, n, line, decoded))
}

/** Read `file` through `f`; a failure to read it names the file. */
const readLines = (shown: string, file: string, f: (line: string, n: number) => boolean | undefined) => {
  try {
    forEachLine(file, shown, f)
  } catch (e) {
    if (e instanceof MergeError) throw e
    fail(`${shown}: cannot read it (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** A shard's header line, decoded. */
const readHeader = (shown: string, file: string): { readonly header: SweepHeader; readonly line: string } => {
  if (!fs.existsSync(file)) fail(`${shown}: file not found`)
  let first: string | undefined
  readLines(shown, file, (line) => {
    first = line
    return false
  })
  if (first === undefined) return fail(`${shown}:1:1: empty file (expected the JSON Lines of sweep --points FILE.jsonl)`)
  const line = first
  const value = parseJson(shown, 1, line)
  const noHeader = `${shown}:1:1: no sweep header line (the first line of sweep --points FILE.jsonl; CSV cannot be merged)`
  const version = decodeLine(HeaderVersion, value, false)
  if (!("value" in version)) return fail(noHeader)
  const v = version.value.llmsim_sweep.version
  if (v !== SWEEP_HEADER_VERSION) {
    return fail(
      `${place(shown, 1, line, ["llmsim_sweep", "version"])}: ${JSON.stringify(v) ?? "none"}: a shard written by ${typeof v === "number" && v < SWEEP_HEADER_VERSION ? "an older" : "another"} llmsim; this one merges version ${SWEEP_HEADER_VERSION} only (run the shards again with it)`
    )
  }
  const decoded = decodeLine(HeaderLine, value)
  if (!("value" in decoded)) return fail(issueText(shown, 1, line, decoded))
  return { header: decoded.value.llmsim_sweep, line }
}

const short = (d: string) => d.slice(0, 12)
const codeText = (h: SweepHeader) => `llmsim ${h.code.llmsim}, Node ${h.code.node}, code ${short(h.code.digest)}`
const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null)

/** What differs between two headers, in words (`a` and `b` name their sides). */
const differences = (x: SweepHeader, y: SweepHeader, a: string, b: string): Array<string> => {
  const out: Array<string> = []
  const both = (u: unknown, v: unknown) => `${JSON.stringify(u) ?? "none"} ${a}, ${JSON.stringify(v) ?? "none"} ${b}`
  if (x.code.digest !== y.code.digest) out.push(`code (${codeText(x)} ${a}, ${codeText(y)} ${b})`)
  if (x.scenario !== y.scenario) out.push(`scenario (${both(x.scenario, y.scenario)})`)
  else if (x.parts.scenario !== y.parts.scenario) out.push(`the scenario ${x.scenario} (its model, layout or runtime)`)
  if (x.model !== y.model) out.push(`deployment model (${both(x.model, y.model)})`)
  for (const hw of new Set([...Object.keys(x.parts.hardware), ...Object.keys(y.parts.hardware)])) {
    if (x.parts.hardware[hw] !== y.parts.hardware[hw]) out.push(`hardware ${hw}`)
  }
  for (const hw of new Set([...Object.keys(x.prices), ...Object.keys(y.prices)])) {
    if (hw in x.prices && hw in y.prices && x.prices[hw] !== y.prices[hw]) out.push(`price of ${hw} (${both(x.prices[hw], y.prices[hw])})`)
  }
  if (x.parts.estimator !== y.parts.estimator) out.push("the estimator (--estimator, --model or --efficiency)")
  for (const axis of new Set([...Object.keys(x.axes), ...Object.keys(y.axes)]) as Set<keyof SweepHeader["axes"]>) {
    if (!same(x.axes[axis], y.axes[axis])) out.push(`axis ${axis}`)
  }
  if (!same(x.constraints, y.constraints)) out.push(`constraints (${both(x.constraints, y.constraints)})`)
  if (x.objective !== y.objective) out.push(`objective (${both(x.objective, y.objective)})`)
  if (!same(x.group_by, y.group_by)) out.push("--by")
  if (!same(x.phases, y.phases)) out.push(`phases (${both(x.phases, y.phases)})`)
  return out.length > 0 ? out : ["the point family"]
}

/** k/n of a header (an unsharded file is 1/1). */
const shardOf = (shown: string, h: SweepHeader, line: string): { readonly k: number; readonly n: number } => {
  if (h.shard === null) return { k: 1, n: 1 }
  return parseShard(h.shard) ?? fail(`${place(shown, 1, line, ["llmsim_sweep", "shard"])}: ${JSON.stringify(h.shard)}, expected k/n with 1 <= k <= n`)
}

/** Every file's header, checked to be shards of one sweep that cover it exactly once. */
const readShards = (files: ReadonlyArray<string>, cwd: string): Array<ShardFile> => {
  if (files.length === 0) fail("no shard files given")
  const shards: Array<ShardFile> = []
  for (const given of files) {
    const file = path.resolve(cwd, given)
    // Named from the current folder, or as given when it lies outside it (/dev/zero, not ../../dev/zero).
    const relative = path.relative(cwd, file)
    const shown = relative === "" || relative.startsWith("..") ? given : relative
    const { header, line } = readHeader(shown, file)
    const { k, n } = shardOf(shown, header, line)
    const first = shards[0]
    if (first !== undefined) {
      const at = (field: string) => place(shown, 1, line, ["llmsim_sweep", field])
      if (header.code.digest !== first.header.code.digest) {
        fail(
          `${at("code")}: written by other code (${codeText(header)}) than ${first.shown} (${codeText(first.header)}): shards of one sweep come from one llmsim`
        )
      }
      if (header.sweep_digest !== first.header.sweep_digest) {
        fail(`${at("sweep_digest")}: a shard of another sweep than ${first.shown} (${differences(header, first.header, "here", "there").join("; ")})`)
      }
      if (n !== first.n) fail(`${at("shard")}: shard ${k}/${n}, but ${first.shown} is shard ${first.k}/${first.n}: the shards of one run share n`)
      const twin = shards.find((s) => s.k === k)
      if (twin !== undefined) fail(`${shown}: shard ${k}/${n}, as is ${twin.shown}: its points overlap another file's (the same shard twice?)`)
    }
    const range = shardRange(header.total_points, { k, n })
    if (header.first_index !== range.from || header.end_index !== range.to) {
      fail(
        `${place(shown, 1, line, ["llmsim_sweep", header.first_index !== range.from ? "first_index" : "end_index"])}: points ${header.first_index} to ${header.end_index - 1}, but shard ${k}/${n} of ${header.total_points} points is ${range.from} to ${range.to - 1} (the header was edited?)`
      )
    }
    shards.push({ shown, file, header, line, k, n })
  }
  const { n, header } = shards[0]
  for (let k = 1; k <= n; k++) {
    if (!shards.some((s) => s.k === k)) {
      const r = shardRange(header.total_points, { k, n })
      fail(`shard ${k}/${n} is missing: points ${r.from} to ${r.to - 1} of ${header.total_points} are in none of the files (a shard is missing)`)
    }
  }
  return shards.sort((a, b) => a.k - b.k)
}

/** The sweep the shards name, rebuilt from this project with the setup `llmsim sweep` uses. */
const rebuild = (shard: ShardFile, cwd: string) => {
  const h = shard.header
  const i = h.inputs
  const { root } = findProjectRoot(cwd)
  const o: SweepOptions = {
    run: {
      cwd: path.resolve(root, i.cwd),
      scenario: path.resolve(root, h.scenario),
      runtime: i.runtime,
      estimator: i.estimator,
      ...(i.model === null ? {} : { model: path.resolve(root, i.model) }),
      efficiency: i.efficiency,
      noCache: true
    },
    axes: i.axes,
    constraints: i.constraints,
    ...(i.objective === null ? {} : { objective: i.objective }),
    ...(i.by === null ? {} : { by: i.by }),
    ...(i.strategy === null ? {} : { strategy: i.strategy }),
    ...(i.price_per_gpu_hour_usd === null ? {} : { price_per_gpu_hour_usd: i.price_per_gpu_hour_usd }),
    ...(i.require_calibrated ? { require_calibrated: true } : {}),
    workers: 1
  }
  // Paths in a header are paths written in a file: the rebuild reads only the project's files
  // (its root and allowPaths, README "Paths"), whatever a shard names.
  const hardware = i.axes.hardware === undefined ? undefined : parseAxis("hardware", i.axes.hardware)
  const named: Array<readonly [ReadonlyArray<string>, string]> = [
    [["scenario"], path.resolve(root, h.scenario)],
    ...(o.run.model === undefined ? [] : [[["inputs", "model"], o.run.model] as const]),
    ...(hardware?.ok === true ? hardware.value.map((v) => [["inputs", "axes", "hardware"], path.resolve(o.run.cwd, String(v))] as const) : [])
  ]
  const refused = (at: ReadonlyArray<string>, file: string) =>
    `sweep merge: ${place(shard.shown, 1, shard.line, ["llmsim_sweep", ...at])}: ${file} is outside the project (${root}): a shard's sweep is rebuilt from the project's files only (allowPaths in llmsim.config.ts adds folders)`
  // The folder the sweep ran in was inside its project (the project is found from it upwards).
  if (!isInside(o.run.cwd, root)) return Effect.fail(new UsageError({ message: refused(["inputs", "cwd"], o.run.cwd) }))
  return withSession(o.run, (s) =>
    Effect.gen(function* () {
      for (const [at, file] of named) if (!insideProject(file, s.project.paths)) return yield* Effect.fail(new UsageError({ message: refused(at, file) }))
      return yield* prepareSweep(s, o)
    })
  ).pipe(
    Effect.mapError((e) =>
      e instanceof UsageError && e.message.startsWith("sweep merge: ")
        ? e
        : new UsageError({
            message: `sweep merge: ${place(shard.shown, 1, shard.line, ["llmsim_sweep", "scenario"])}: cannot rebuild the shards' sweep in this project (${root}): ${e.message.replace(/\s*\n\s*/g, "; ")}`
          })
    )
  )
}

/** The header fields every shard must share with the rebuilt sweep (all but how it was typed and which shard). */
const SHARED = [
  "version",
  "scenario",
  "model",
  "axes",
  "constraints",
  "objective",
  "group_by",
  "phases",
  "uncalibrated_hardware",
  "calibration",
  "calibration_differences",
  "parts",
  "prices",
  "total_points"
] as const satisfies ReadonlyArray<keyof SweepHeader>

/** The shards' headers against the rebuilt sweep: the same code, digest and fields. */
const checkAgainst = (shards: ReadonlyArray<ShardFile>, built: SweepHeader) => {
  for (const s of shards) {
    const h = s.header
    const at = (field: string) => place(s.shown, 1, s.line, ["llmsim_sweep", field])
    if (h.code.digest !== built.code.digest) {
      fail(
        `${at("code")}: written by other code (${codeText(h)}) than this llmsim (${codeText(built)}): merge with the llmsim that ran the shards, or run them again with this one`
      )
    }
    if (h.sweep_digest !== built.sweep_digest) {
      fail(
        `${at("sweep_digest")}: this project rebuilds another sweep (${differences(h, built, "in the shard", "now").join("; ")}): its files changed since the shards ran?`
      )
    }
    for (const field of SHARED) {
      if (!same(h[field], built[field])) {
        fail(`${at(field)}: ${JSON.stringify(h[field])} in the shard, ${JSON.stringify(built[field])} rebuilt from the project (the header was edited?)`)
      }
    }
  }
}

/**
 * `count` distinct indices below `total`, the same for the same key (Floyd's algorithm over
 * SHA-256 of the key and a counter): which points a merge re-evaluates.
 */
export const sampleOf = (total: number, count: number, key: string): Set<number> => {
  const out = new Set<number>()
  if (count >= total) {
    for (let i = 0; i < total; i++) out.add(i)
    return out
  }
  for (let j = total - count; j < total; j++) {
    const t = Number.parseInt(sha256(`${key}\n${j}`).slice(0, 12), 16) % (j + 1)
    out.add(out.has(t) ? j : t)
  }
  return out
}

/** Where a row was read: its shard and line number (the text is read again for a message's column). */
interface Where {
  readonly shard: ShardFile
  readonly n: number
}

/** Line `n` of a shard (for the column of a message). */
const lineAt = (w: Where): string => {
  let text = ""
  readLines(w.shard.shown, w.shard.file, (line, n) => {
    if (n < w.n) return undefined
    text = line
    return false
  })
  return text
}

const cell = (r: Readonly<Record<string, unknown>>, column: string): string => (column in r ? jsonValue(r[column]) : "(missing)")

/** The first column where `stored` and `expected` differ as written (or a key the sweep does not write). */
const firstDifference = (stored: Row, expected: Row, columns: ReadonlyArray<string>): string | undefined => {
  const s = stored as unknown as Readonly<Record<string, unknown>>
  const e = expected as unknown as Readonly<Record<string, unknown>>
  let keys = 0
  for (const c of columns) {
    if (s[c] !== undefined) keys++
    // Equal values are equal cells; others are compared as written (a non-finite number is written null).
    if (s[c] !== e[c] && cell(s, c) !== cell(e, c)) return c
  }
  return keys === Object.keys(s).length ? undefined : Object.keys(s).find((k) => !columns.includes(k))
}

const mergeRows = (shards: ReadonlyArray<ShardFile>, prepared: PreparedSweep, o: MergeOptions): SweepResult => {
  const { job, estimator, header: built } = prepared
  checkAgainst(shards, built)
  const { space, base, constraints, prices } = job
  const columns = columnsFor(space.axes.map((a) => a.name))
  const rows = rowLineFor(EXTRA_AXES.filter((a) => columns.includes(a)))
  const evaluate = pointEvaluator(base, estimator)
  const total = built.total_points
  const seed = o.seed ?? 1
  const sample = sampleOf(total, Math.min(total, o.sample ?? Math.max(1024, Math.ceil(total / 100))), `${built.sweep_digest}\n${seed}`)
  const priceOf = (hw: string) => prices[hw] ?? null
  const fresh = (index: number): Row => {
    const c = pointAt(space, index)
    const r = evaluate(c)
    return judge(index, c, r, constraints, priceOf(r.hardware))
  }
  const mismatch = (w: Where, stored: Row, expected: Row, column: string): never => {
    const s = stored as unknown as Readonly<Record<string, unknown>>
    const e = expected as unknown as Readonly<Record<string, unknown>>
    const what = column in e ? `stored ${cell(s, column)}, recomputed ${cell(e, column)}` : `${cell(s, column)}: not a column of this sweep`
    return fail(`${place(w.shard.shown, w.n, lineAt(w), [column])}: ${what} (point ${stored.index}: the row was edited, or written by other code)`)
  }
  /** The stored row against the point evaluated again. */
  /** The first coordinate field of `stored` that is not its index's (judge keeps a row's own). */
  const coordinateDifference = (stored: Row, c: Coordinates, at: ReturnType<typeof coordinatesOf>): string | undefined => {
    if (stored.model !== base.point_model) return "model"
    for (const k of ["hardware", "batch", "seq", "output"] as const) if (stored[k] !== at[k]) return k
    return EXTRA_AXES.find((a) => stored[a] !== c[a])
  }
  const reevaluate = (w: Where, stored: Row): Row => {
    const expected = fresh(stored.index)
    const d = firstDifference(stored, expected, columns)
    if (d !== undefined) mismatch(w, stored, expected, d)
    return expected
  }

  const tracker = new Tracker(built.group_by ?? undefined)
  // Blank lines (skipped) per shard, by the rows before each: with rows in index order they give any row's line.
  const blanks = new Map<ShardFile, Array<number>>()
  const whereOf = (index: number): Where => {
    const shard = shards.find((s) => index >= s.header.first_index && index < s.header.end_index)!
    const k = index - shard.header.first_index
    return { shard, n: 2 + k + (blanks.get(shard) ?? []).filter((before) => before <= k).length }
  }
  const stats: SweepStats = { points: 0, computed: 0, replayed: 0, invalid: 0, feasible: 0, rejected: {}, elapsed_ms: 0, first_invalid: null }
  for (const s of shards) {
    const { first_index: from, end_index: to } = s.header
    let next = from
    let last = 1
    readLines(s.shown, s.file, (line, n) => {
      last = n
      if (n === 1) return undefined
      if (line.trim() === "") {
        blanks.set(s, [...(blanks.get(s) ?? []), next - from])
        return undefined
      }
      const stored = rowOf(rows, s.shown, n, line)
      if (next >= to) fail(`${place(s.shown, n, line, ["index"])}: a row after the shard's last point ${to - 1} (one row per point, in index order)`)
      if (stored.index !== next) {
        fail(`${place(s.shown, n, line, ["index"])}: ${stored.index}, expected ${next} (one row per point, in index order: a row missing, repeated or moved?)`)
      }
      next++
      // Coordinates from the index, price, costs and verdict from the row's own numbers.
      const c = pointAt(space, stored.index)
      const at = coordinatesOf(base, c)
      const row = judge(stored.index, c, stored, constraints, priceOf(at.hardware))
      const d = coordinateDifference(stored, c, at) ?? firstDifference(stored, row, columns)
      // A row whose derived fields disagree is evaluated again, so the message names the field that was changed.
      if (d !== undefined || sample.has(stored.index)) reevaluate({ shard: s, n }, stored)
      if (d !== undefined) mismatch({ shard: s, n }, stored, row, d)
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
      tracker.add(row)
      return undefined
    })
    if (next < to) fail(`${s.shown}:${last + 1}:1: the file ends after ${next - from} of the shard's ${to - from} rows (truncated?)`)
  }

  // Every point the answer shows, evaluated again; the answer holds the evaluated rows (equal
  // to the stored ones, field by field), as the unsharded sweep's does.
  const groupBy = job.group_by === undefined ? {} : { group_by: job.group_by }
  const evaluated = new Map<Row, Row>()
  const checked = (r: Row): Row => {
    let e = evaluated.get(r)
    if (e === undefined) evaluated.set(r, (e = reevaluate(whereOf(r.index), r)))
    return e
  }
  const frontier = tracker.points().map(checked)
  const best: Partial<Record<Objective, Row>> = {}
  for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
    const b = tracker.best[ob]
    if (b) best[ob] = checked(b)
  }
  const best_by = groupRows({ space, ...groupBy }, tracker).map(checked)

  // The best points' neighbours: read again from the files, checked against a fresh evaluation.
  const wanted = new Set<number>()
  for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
    const b = tracker.best[ob]
    if (b) for (const nb of neighbours(space, b.index)) wanted.add(nb.index)
  }
  const found = new Map<number, Row>()
  for (const s of shards) {
    if (![...wanted].some((i) => i >= s.header.first_index && i < s.header.end_index)) continue
    let index = s.header.first_index
    readLines(s.shown, s.file, (line, n) => {
      if (n === 1 || line.trim() === "") return undefined
      const i = index++
      if (!wanted.has(i)) return undefined
      const stored = rowOf(rows, s.shown, n, line)
      if (stored.index !== i) fail(`${place(s.shown, n, line, ["index"])}: ${stored.index}, expected ${i} (the file changed while it was merged)`)
      found.set(i, reevaluate({ shard: s, n }, stored))
      return undefined
    })
  }
  const around: Partial<Record<Objective, Array<NeighbourReport>>> = {}
  for (const ob of Object.keys(OBJECTIVES) as Array<Objective>) {
    const b = tracker.best[ob]
    if (!b) continue
    around[ob] = neighbours(space, b.index).map((nb) => {
      const r = found.get(nb.index) ?? fail(`point ${nb.index} is in none of the files any more (a file changed while it was merged)`)
      return { axis: nb.axis, value: nb.value, feasible: r.feasible, rejected_by: r.rejected_by, value_of_objective: r[ob] }
    })
  }
  return {
    header: built,
    outcome: { stats, frontier, best, best_by, neighbours: around },
    points_file: null,
    merged_from: shards.length,
    checked: { sampled: sample.size, answer: evaluated.size + found.size, seed }
  }
}

/** A step that throws MergeError (or fails to read) as one `sweep merge: ...` usage error. */
const attempt = <A>(f: () => A) =>
  Effect.try({
    try: f,
    catch: (e) => new UsageError({ message: `sweep merge: ${(e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, "; ")}` })
  })

export const mergeShards = (files: ReadonlyArray<string>, cwd: string, o: MergeOptions = {}) =>
  Effect.gen(function* () {
    const shards = yield* attempt(() => readShards(files, cwd))
    const prepared = yield* rebuild(shards[0], cwd)
    return yield* attempt(() => mergeRows(shards, prepared, o))
  })

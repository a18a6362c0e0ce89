/**
 * What watch mode prints: the screen for people and one JSON object per line for tools. Pure
 * functions from a comparison (or an error) to text. The screen is the run screen
 * (src/report/run.ts) with its change columns turned on.
 */
import { formatIssue, type Issue } from "../config/errors.ts"
import { SERVING_FIGURES } from "../kernel/records.ts"
import { renderPhase, renderServingTable, runHeader, type PhaseChanges } from "./run.ts"
import type { Comparison, PhaseComparison } from "../watch/delta.ts"
import type { Activity, ResultActivity } from "../watch/reporter.ts"

// ---------------------------------------------------------------------------------------------
// JSON events (`--reporter json`)

const phaseTotals = (p: PhaseComparison) => ({
  total_latency_ms: p.result.total_latency_ms,
  delta_ms: p.total_latency_ms.abs,
  delta_percent: p.total_latency_ms.pct,
  total_flops: p.result.total_flops,
  total_bytes: p.result.total_bytes,
  total_comm_bytes: p.result.total_comm_bytes,
  peak_memory_bytes: p.result.peak_memory_bytes,
  bottleneck_layer: p.result.bottleneck_layer,
  layers: p.result.layers.length,
  layers_changed: p.rows.filter((r) => r.status !== "same").map((r) => r.layer.layer_name),
  layers_removed: p.removed
})

export const resultEvent = (c: Comparison, a: ResultActivity) => ({
  type: "result" as const,
  time: a.time,
  changed_files: a.changedFiles,
  computed: a.computed,
  replayed: a.replayed,
  layers_recomputed: a.layersRecomputed,
  phases: Object.fromEntries(c.phases.map((p) => [p.phase, phaseTotals(p)])),
  serving: c.result.serving,
  serving_delta: Object.fromEntries(SERVING_FIGURES.map((k) => [k, c.serving[k].abs])),
  elapsed_ms: a.elapsedMs,
  evaluation_ms: a.evaluationMs,
  rss_bytes: a.rssBytes,
  heap_used_bytes: a.heapUsedBytes
})

export const errorEvent = (issues: ReadonlyArray<Issue>, a: Activity) => {
  const first = issues[0] ?? { file: "", line: 1, col: 1, path: "", message: "unknown error" }
  return {
    type: "error" as const,
    time: a.time,
    changed_files: a.changedFiles,
    file: first.file,
    line: first.line,
    col: first.col,
    path: first.path,
    message: first.message,
    issues
  }
}

export const fatalEvent = (e: { readonly code: string; readonly message: string; readonly hint: string }) => ({
  type: "fatal" as const,
  code: e.code,
  message: e.message,
  hint: e.hint
})

export const jsonLine = (event: object): string => JSON.stringify(event) + "\n"

// ---------------------------------------------------------------------------------------------
// Screen (`--reporter table`)

const clock = (iso: string): string => new Date(iso).toTimeString().slice(0, 8)

const MARK = { same: " ", changed: "*", new: "+" } as const

/** A layer's change is shown only when it moved (a new layer has none). */
const phaseChanges = (p: PhaseComparison): PhaseChanges => ({
  layers: p.rows.map((r) => ({ mark: MARK[r.status], latency: r.status === "same" ? undefined : r.latency })),
  total_latency_ms: p.total_latency_ms,
  peak_memory_bytes: p.peak_memory_bytes,
  removed: p.removed
})

const headerLine = (a: Activity, what: string): string =>
  `[${clock(a.time)}] ${a.changedFiles.length === 0 ? "initial run" : `changed: ${a.changedFiles.join(", ")}`} | ${what}`

/** The result screen. */
export const renderResult = (c: Comparison, a: ResultActivity): string => {
  const res = c.result
  const recomputed = a.layersRecomputed.length
  const out = [
    headerLine(a, `${a.computed} computed, ${a.replayed} replayed, ${recomputed} layer${recomputed === 1 ? "" : "s"} recomputed, ${a.elapsedMs.toFixed(0)} ms`),
    "",
    ...runHeader(res)
  ]
  for (const p of c.phases) out.push("", ...renderPhase(p.phase, p.result, res.serving.hbm_bytes_per_gpu, { changes: phaseChanges(p) }))
  out.push("", "== serving ==", renderServingTable(res.serving, { changes: c.serving }))
  if (!c.first) out.push("", "* changed since the previous result, + new layer")
  return out.join("\n") + "\n"
}

/** The error block; `stale` is the time of the last good result still shown, if any. */
export const renderError = (issues: ReadonlyArray<Issue>, a: Activity, stale: string | undefined): string => {
  const out = [headerLine(a, `error (${issues.length} issue${issues.length === 1 ? "" : "s"})`)]
  out.push(...issues.map((i) => `error: ${formatIssue(i)}`))
  out.push(stale === undefined ? "no good result yet; fix the file and save" : `STALE: the result shown is from ${clock(stale)}; fix the file and save`)
  return out.join("\n") + "\n"
}

export const renderStaleBanner = (time: string): string => `STALE: the last good result (${clock(time)}) is shown; the latest save has errors (below)\n\n`

export const renderFooter = (files: number, folders: number): string =>
  `\nwatching ${files} file${files === 1 ? "" : "s"} in ${folders} folder${folders === 1 ? "" : "s"} (Ctrl-C to quit)\n`

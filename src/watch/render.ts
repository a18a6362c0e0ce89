/**
 * What watch mode prints: the screen for people and one JSON object per line for tools. Pure
 * functions from a comparison (or an error) to text.
 */
import { formatIssue, type Issue } from "../config/errors.ts"
import { fixed, gb, giga, mega, renderTable } from "../report/table.ts"
import type { SimulationResult } from "../kernel/records.ts"
import { SERVING_FIGURES, type Change, type Comparison, type PhaseComparison, type ServingFigure } from "./delta.ts"

/** What one evaluation did, besides its result. */
export interface Activity {
  /** Wall-clock time of the result (ISO 8601). */
  readonly time: string
  /** Display paths (relative to the project root) of the saves this evaluation answers. */
  readonly changedFiles: ReadonlyArray<string>
}

export interface ResultActivity extends Activity {
  readonly computed: number
  readonly replayed: number
  readonly layersRecomputed: ReadonlyArray<string>
  /** Save to result, ms: from the first event of the batch to the end of the evaluation. */
  readonly elapsedMs: number
  /** Resident set size of the watch process after the evaluation, bytes. */
  readonly rssBytes: number
}

// ---------------------------------------------------------------------------------------------
// JSON events (`--reporter json`)

const phaseTotals = (p: PhaseComparison) => ({
  total_latency_ms: p.result.total_latency_ms,
  delta_ms: p.total_latency_ms.delta ?? null,
  delta_percent: p.total_latency_ms.percent ?? null,
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
  serving_delta: Object.fromEntries(SERVING_FIGURES.map((k) => [k, c.serving[k].delta ?? null])),
  elapsed_ms: a.elapsedMs,
  rss_bytes: a.rssBytes
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

/** A signed change; one too small for `digits` decimals keeps 2 significant digits (`-3.1e-6`). */
const signed = (x: number | undefined, digits: number, unit = ""): string => {
  if (x === undefined) return ""
  if (x === 0) return "0"
  const text = Math.abs(x) >= 10 ** -digits ? x.toFixed(digits) : x.toExponential(1)
  return `${x > 0 ? "+" : ""}${text}${unit}`
}

const deltaCells = (c: Change, digits: number): [string, string] => [signed(c.delta, digits), signed(c.percent, 2, "%")]

const MARK = { same: " ", changed: "*", new: "+" } as const

const phaseTable = (p: PhaseComparison): string => {
  const r = p.result
  const rows = p.rows.map(({ layer: l, latency, status }) => [
    MARK[status],
    l.layer_name,
    l.layer_type,
    giga(l.flops),
    mega(l.bytes_read + l.bytes_written),
    mega(l.comm_bytes),
    fixed(l.dominant_latency_ms, 4),
    ...(status === "same" ? ["", ""] : deltaCells(latency, 4)),
    l.bound
  ])
  rows.push([
    p.total_latency_ms.delta ? "*" : " ",
    "TOTAL",
    "",
    giga(r.total_flops),
    mega(r.total_bytes),
    mega(r.total_comm_bytes),
    fixed(r.total_latency_ms, 4),
    ...deltaCells(p.total_latency_ms, 4),
    ""
  ])
  return renderTable(
    [
      { header: " ", align: "left" },
      { header: "layer", align: "left" },
      { header: "type", align: "left" },
      { header: "GFLOP" },
      { header: "HBM MB" },
      { header: "link MB" },
      { header: "dominant ms" },
      { header: "delta ms" },
      { header: "delta %" },
      { header: "bound", align: "left" }
    ],
    rows
  )
}

const phaseFooter = (p: PhaseComparison, hbm: number): Array<string> => {
  const r: SimulationResult = p.result
  const bottleneck = r.layers.find((l) => l.layer_name === r.bottleneck_layer)
  const peak = p.peak_memory_bytes.delta ? ` (${signed(p.peak_memory_bytes.delta / 1e9, 2)} GB)` : ""
  const out = [
    `bottleneck layer: ${r.bottleneck_layer} (${fixed(bottleneck?.dominant_latency_ms, 4)} ms, ${bottleneck?.bound}-bound)`,
    `peak memory per GPU: ${gb(r.peak_memory_bytes)} GB${peak}; HBM ${gb(hbm)} GB -> ${r.peak_memory_bytes <= hbm ? "fits" : "DOES NOT FIT"}`
  ]
  if (p.removed.length > 0) out.push(`removed since the previous result: ${p.removed.join(", ")}`)
  return out
}

const SERVING_LABELS: Record<ServingFigure, [string, (x: number | null) => string, number]> = {
  ttft_ms: ["TTFT ms", (x) => fixed(x, 3), 3],
  tpot_ms: ["TPOT ms", (x) => fixed(x, 3), 3],
  throughput_tokens_per_s: ["decode tokens/s (replica)", (x) => fixed(x, 1), 1],
  throughput_tokens_per_s_per_gpu: ["decode tokens/s per GPU", (x) => fixed(x, 1), 1],
  prefill_throughput_tokens_per_s: ["prefill tokens/s (replica)", (x) => fixed(x, 1), 1],
  peak_memory_bytes: ["peak memory per GPU GB", (x) => (x === null ? "-" : gb(x)), 2]
}

const servingTable = (c: Comparison): string => {
  const rows = SERVING_FIGURES.map((k) => {
    const [label, show, digits] = SERVING_LABELS[k]
    const ch = c.serving[k]
    const d = k === "peak_memory_bytes" && ch.delta !== undefined ? { ...ch, delta: ch.delta / 1e9 } : ch
    return [ch.delta ? "*" : " ", label, show(ch.now), ...deltaCells(d, digits)]
  })
  rows.push([" ", "fits in HBM", c.result.serving.fits_in_hbm ? "yes" : "no", "", ""])
  return renderTable(
    [{ header: " ", align: "left" }, { header: "metric", align: "left" }, { header: "value" }, { header: "delta" }, { header: "delta %" }],
    rows
  )
}

const headerLine = (a: Activity, what: string): string =>
  `[${clock(a.time)}] ${a.changedFiles.length === 0 ? "initial run" : `changed: ${a.changedFiles.join(", ")}`} | ${what}`

/** The result screen. */
export const renderResult = (c: Comparison, a: ResultActivity): string => {
  const res = c.result
  const p = res.parallelism
  const recomputed = a.layersRecomputed.length
  const out = [
    headerLine(a, `${a.computed} computed, ${a.replayed} replayed, ${recomputed} layer${recomputed === 1 ? "" : "s"} recomputed, ${a.elapsedMs.toFixed(0)} ms`),
    "",
    `scenario  ${res.scenario}`,
    `hardware  ${res.hardware}   layout tp=${p.tp} dp=${p.dp} ep=${p.ep} (${res.serving.gpus} GPUs)   estimator ${res.estimator}`,
    `runtime   batch_size=${res.runtime.batch_size} seq_len=${res.runtime.seq_len} phase=${res.runtime.phase}` +
    (res.runtime.micro_batch ? ` micro_batch=${res.runtime.micro_batch}` : "")
  ]
  for (const phase of c.phases) {
    out.push("", `== ${phase.phase} (per GPU) ==`, phaseTable(phase), ...phaseFooter(phase, res.serving.hbm_bytes_per_gpu))
  }
  out.push("", "== serving ==", servingTable(c))
  if (!c.first) out.push("", "* changed since the previous result, + new layer")
  return out.join("\n") + "\n"
}

/** The error block; `stale` is the time of the last good result still shown, if any. */
export const renderError = (issues: ReadonlyArray<Issue>, a: Activity, stale: string | undefined): string => {
  const out = [headerLine(a, `error (${issues.length} issue${issues.length === 1 ? "" : "s"})`)]
  out.push(...issues.map((i) => `error: ${formatIssue(i)}`))
  out.push(stale === undefined
    ? "no good result yet; fix the file and save"
    : `STALE: the result shown is from ${clock(stale)}; fix the file and save`)
  return out.join("\n") + "\n"
}

export const renderStaleBanner = (time: string): string =>
  `STALE: the last good result (${clock(time)}) is shown; the latest save has errors (below)\n\n`

export const renderFooter = (files: number, folders: number): string =>
  `\nwatching ${files} file${files === 1 ? "" : "s"} in ${folders} folder${folders === 1 ? "" : "s"} (Ctrl-C to quit)\n`

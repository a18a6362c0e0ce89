/**
 * The run screen: a result as table, JSON or CSV. `llmsim run` prints it; watch prints the same
 * header, phase sections and serving table with change columns (`changes` options), so the two
 * screens cannot drift apart.
 */
import {
  LAYER_FIGURES,
  SERVING_FIGURES,
  type LayerExecution,
  type RunResult,
  type ServingFigure,
  type ServingSummary,
  type SimulationResult
} from "../kernel/records.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Delta } from "../kernel/delta.ts"
import { markUnfit, unfitVerdict } from "./fit.ts"
import { csvTable } from "../base/csv.js"
import { fixed, gb, giga, mega, signedCompact } from "../base/format.ts"
import { renderLayerTable, type LayerListing, type LayerTableRow } from "./layerTable.ts"
import { partShareLine, phaseLineFigures, type PhaseLine } from "./phaseSummary.ts"
import { renderTable, type Column } from "./table.ts"
import { efficiencyLine } from "../timing/efficiency.ts"
import { calibrationLine } from "../timing/calibration.ts"

export type Format = "table" | "json" | "csv"

/** Changes since a previous result, per layer (in the result's order), for the whole phase and its peak memory. */
export interface PhaseChanges {
  /** `*` changed, `+` new, ` ` same; `latency` undefined leaves the change cells empty. */
  readonly layers: ReadonlyArray<{ readonly mark: string; readonly latency: Delta | undefined }>
  readonly total_latency_ms: Delta
  readonly peak_memory_bytes: Delta
  /** Layers of the previous result that are gone. */
  readonly removed: ReadonlyArray<string>
}

export interface PhaseOptions {
  /**
   * Adds a change mark column and latency change columns (watch). The screen stays as narrow as
   * the run table: the compute / memory / comm breakdown columns and the memory breakdown give
   * way to the changes.
   */
  readonly changes?: PhaseChanges
  /** `grouped`: identical consecutive layers as one row with a count (`L3-L60 moe_layer x58`); `all` (default): a row per layer. */
  readonly layers?: LayerListing
}

type LineColumn = Column<LayerTableRow<PhaseLine>>
const ms4 = (x: number) => fixed(x, 4)
const HEAD: ReadonlyArray<LineColumn> = [
  { header: "GFLOP", format: (r) => giga(r.layer.flops) },
  { header: "HBM", unit: "MB", format: (r) => mega(r.layer.bytes_read + r.layer.bytes_written) },
  { header: "link", unit: "MB", format: (r) => mega(r.layer.comm_bytes) }
]
const BREAKDOWN: ReadonlyArray<LineColumn> = [
  { header: "compute", unit: "ms", format: (r) => ms4(r.layer.compute_time_ms) },
  { header: "memory", unit: "ms", format: (r) => ms4(r.layer.memory_time_ms) },
  { header: "comm", unit: "ms", format: (r) => ms4(r.layer.comm_time_ms) }
]
const DOMINANT: LineColumn = { header: "dominant", unit: "ms", format: (r) => ms4(r.layer.dominant_latency_ms) }
const BOUND: LineColumn = { header: "bound", align: "left", format: (r) => r.layer.bound }

const sum = (r: SimulationResult, f: (l: LayerExecution) => number) => r.layers.reduce((a, l) => a + f(l), 0)

/** The layer table of one phase, with its TOTAL row (src/report/layerTable.ts). */
const renderPhaseTable = (r: SimulationResult, o: PhaseOptions = {}): string => {
  const c = o.changes
  const total: PhaseLine = {
    layer_name: "TOTAL",
    layer_type: "",
    flops: r.total_flops,
    bytes_read: r.total_bytes,
    bytes_written: 0,
    comm_bytes: r.total_comm_bytes,
    compute_time_ms: sum(r, (l) => l.compute_time_ms),
    memory_time_ms: sum(r, (l) => l.memory_time_ms),
    comm_time_ms: sum(r, (l) => l.comm_time_ms),
    dominant_latency_ms: r.total_latency_ms,
    bound: ""
  }
  if (c === undefined)
    return renderLayerTable<PhaseLine>(r.layers, { figures: phaseLineFigures, columns: [...HEAD, ...BREAKDOWN, DOMINANT, BOUND], total }, o.layers ?? "all")
  // Watch: a change mark and the latency change of each layer; every layer on its own row.
  const latency = (row: LayerTableRow<PhaseLine>): Delta | undefined => (row.total ? c.total_latency_ms : c.layers[row.first]?.latency)
  return renderLayerTable<PhaseLine>(
    r.layers,
    {
      figures: phaseLineFigures,
      leading: [{ header: " ", align: "left", format: (row) => (row.total ? (c.total_latency_ms.abs ? "*" : " ") : (c.layers[row.first]?.mark ?? "")) }],
      columns: [
        ...HEAD,
        DOMINANT,
        { header: "delta", unit: "ms", format: (row) => signedCompact(latency(row)?.abs, 4) },
        { header: "delta %", format: (row) => signedCompact(latency(row)?.pct, 2, "%") },
        BOUND
      ],
      total
    },
    "all"
  )
}

/** A phase section: title, layer table, bottleneck and peak memory against HBM. */
export const renderPhase = (phase: SinglePhase, r: SimulationResult, hbm: number, o: PhaseOptions = {}): Array<string> => {
  const bottleneck = r.layers.find((l) => l.layer_name === r.bottleneck_layer)
  const peak = r.peak_memory_bytes
  const change = o.changes?.peak_memory_bytes.abs
  const detail = o.changes
    ? change
      ? ` (${signedCompact(change / 1e9, 2)} GB)`
      : ""
    : ` = weights ${gb(r.memory.weights_bytes)} + KV cache ${gb(r.memory.kv_cache_bytes)} + activations ${gb(r.memory.activation_bytes)}`
  const out = [
    `== ${phase} (per GPU) ==`,
    ...(o.layers === "grouped" && o.changes === undefined ? [partShareLine(r)] : []),
    renderPhaseTable(r, o),
    `bottleneck layer: ${r.bottleneck_layer} (${fixed(bottleneck?.dominant_latency_ms, 4)} ms, ${bottleneck?.bound}-bound)`,
    `peak memory per GPU: ${gb(peak)} GB${detail}; HBM ${gb(hbm)} GB -> ${peak <= hbm ? "fits" : "DOES NOT FIT"}`
  ]
  const removed = o.changes?.removed ?? []
  if (removed.length > 0) out.push(`removed since the previous result: ${removed.join(", ")}`)
  return out
}

/** Label and decimals of each figure; peak memory is shown in GB (`digits` of the GB value). */
const SERVING_ROWS: Readonly<Record<ServingFigure, readonly [string, number]>> = {
  ttft_ms: ["TTFT ms", 3],
  tpot_ms: ["TPOT ms", 3],
  throughput_tokens_per_s: ["decode step tokens/s (replica)", 1],
  throughput_tokens_per_s_per_gpu: ["decode step tokens/s per GPU", 1],
  prefill_throughput_tokens_per_s: ["prefill step tokens/s (replica)", 1],
  peak_memory_bytes: ["peak memory per GPU GB", 2]
}

interface ServingLine {
  readonly label: string
  readonly value: string
  readonly change?: { readonly abs: number | null; readonly pct: number | null; readonly digits: number }
  readonly mark: string
}

export interface ServingOptions {
  /** Adds a change mark column and change columns (watch); the HBM size row, which a save cannot move alone, is left out. */
  readonly changes?: Readonly<Record<ServingFigure, Delta>>
}

export const renderServingTable = (s: ServingSummary, o: ServingOptions = {}): string => {
  const c = o.changes
  const lines: Array<ServingLine> = SERVING_FIGURES.map((k) => {
    const [label, digits] = SERVING_ROWS[k]
    const x = s[k]
    // Times and rates of a configuration that does not fit are not achievable: say so beside them.
    const value = k === "peak_memory_bytes" ? (x === null ? "-" : gb(x)) : markUnfit(fixed(x, digits), s.fits_in_hbm)
    const d = c?.[k]
    const abs = d?.abs ?? null
    return {
      label,
      value,
      mark: abs ? "*" : " ",
      change: { abs: k === "peak_memory_bytes" && abs !== null ? abs / 1e9 : abs, pct: d?.pct ?? null, digits }
    }
  })
  lines.unshift({ label: "strategy", value: s.strategy, mark: " " })
  if (!c) lines.push({ label: "HBM per GPU GB", value: gb(s.hbm_bytes_per_gpu), mark: " " })
  lines.push({ label: "fits in HBM", value: s.fits_in_hbm ? "yes" : "no", mark: " " })
  const columns: Array<Column<ServingLine>> = [
    { header: "metric", align: "left", format: (l) => l.label },
    { header: "value", format: (l) => l.value }
  ]
  if (!c) return renderTable(columns, lines)
  return renderTable(
    [
      { header: " ", align: "left", format: (l) => l.mark },
      ...columns,
      { header: "delta", format: (l) => (l.change ? signedCompact(l.change.abs, l.change.digits) : "") },
      { header: "delta %", format: (l) => (l.change ? signedCompact(l.change.pct, 2, "%") : "") }
    ],
    lines
  )
}

/**
 * Under a learned estimator: how many of the distinct ops (per phase and layer type) its model
 * timed and how many fell back to the analytic times; undefined for the analytic estimator.
 */
const estimatorCoverage = (res: RunResult): string | undefined => {
  const seen = new Map<string, string>()
  for (const [phase, r] of Object.entries(res.phases)) {
    for (const l of r?.layers ?? []) for (const o of l.breakdown) if (o.estimator !== undefined) seen.set(`${phase} ${l.layer_type} ${o.op}`, o.estimator)
  }
  if (seen.size === 0) return undefined
  const ml = [...seen.values()].filter((e) => e === "ml").length
  return `          ${ml} of ${seen.size} ops timed by the model, ${seen.size - ml} by the analytic fallback (reasons: --format json, breakdown[].estimator_note)`
}

/** `1 GPU`, `16 GPUs`. */
const gpus = (n: number): string => `${n} GPU${n === 1 ? "" : "s"}`

/** Scenario, hardware and layout, runtime; a learned estimator's coverage. */
export const runHeader = (res: RunResult): Array<string> => {
  const p = res.parallelism
  const coverage = estimatorCoverage(res)
  return [
    `scenario  ${res.scenario}`,
    `hardware  ${res.hardware}   layout tp=${p.tp} dp=${p.dp} ep=${p.ep} (${gpus(res.serving.gpus)})   estimator ${res.estimator}`,
    ...(coverage === undefined ? [] : [coverage]),
    ...(res.efficiency === undefined ? [] : [efficiencyLine(res.efficiency)]),
    ...(res.calibration === undefined ? [] : [calibrationLine(res.calibration)]),
    `runtime   batch_size=${res.runtime.batch_size} seq_len=${res.runtime.seq_len} phase=${res.runtime.phase}` +
      (res.runtime.micro_batch ? ` micro_batch=${res.runtime.micro_batch}` : ""),
    ...noteLines(res.notes)
  ]
}

/** A result's notes (src/deploy/notes.ts), one `note:` line each. */
export const noteLines = (notes: ReadonlyArray<string> | undefined): Array<string> => (notes ?? []).map((n) => `note: ${n}`)

/** The verdict line of a result that does not fit in HBM (undefined when it fits): the peak phase and its parts. */
const runVerdict = (res: RunResult): string | undefined => {
  if (res.serving.fits_in_hbm) return undefined
  const phases = (["prefill", "decode"] as const).flatMap((phase) => (res.phases[phase] ? [{ phase, r: res.phases[phase] }] : []))
  const peak = phases.reduce((a, b) => (b.r.peak_memory_bytes > a.r.peak_memory_bytes ? b : a))
  const m = peak.r.memory
  return unfitVerdict({
    per_gpu_bytes: res.serving.peak_memory_bytes,
    hbm_bytes: res.serving.hbm_bytes_per_gpu,
    reserved_bytes: 0,
    where: phases.length > 1 ? peak.phase : "",
    parts: [
      ["weights", m.weights_bytes],
      ["KV cache", m.kv_cache_bytes],
      ["activations", m.activation_bytes]
    ]
  })
}

/**
 * The one line to read first: fits or not (the unfit verdict names the parts), TTFT and TPOT,
 * and each phase's bottleneck layer with what bounds it.
 */
export const runSummaryVerdict = (res: RunResult): string => {
  const s = res.serving
  const unfit = runVerdict(res)
  const fit = unfit ?? `verdict: fits in HBM (${gb(s.peak_memory_bytes)} of ${gb(s.hbm_bytes_per_gpu)} GB per GPU)`
  // The unfit verdict already says its times are not achievable.
  const times =
    unfit !== undefined
      ? []
      : [...(s.ttft_ms === null ? [] : [`TTFT ${fixed(s.ttft_ms, 3)} ms`]), ...(s.tpot_ms === null ? [] : [`TPOT ${fixed(s.tpot_ms, 3)} ms`])]
  const bottlenecks = (["prefill", "decode"] as const).flatMap((phase) => {
    const r = res.phases[phase]
    const b = r?.layers.find((l) => l.layer_name === r.bottleneck_layer)
    return b ? [`${phase} ${b.bound}-bound (${b.layer_name})`] : []
  })
  return [fit, ...(times.length > 0 ? [times.join(", ")] : []), ...(bottlenecks.length > 0 ? [`bottleneck: ${bottlenecks.join(", ")}`] : [])].join("; ")
}

export interface RunTableOptions {
  /** Default `grouped`: identical consecutive layers as one row; `all` lists every layer. */
  readonly layers?: LayerListing
}

const renderRunTable = (res: RunResult, o: RunTableOptions = {}): string => {
  const layers = o.layers ?? "grouped"
  const out = runHeader(res)
  out.push(runSummaryVerdict(res))
  for (const phase of ["prefill", "decode"] as const) {
    const r = res.phases[phase]
    if (r) out.push("", ...renderPhase(phase, r, res.serving.hbm_bytes_per_gpu, { layers }))
  }
  out.push("", "== serving ==", renderServingTable(res.serving))
  return out.join("\n") + "\n"
}

const CSV_COLUMNS = ["phase", "layer_name", "layer_type", ...LAYER_FIGURES, "estimated_execution_time_ms", "bound"] as const

const renderRunCsv = (res: RunResult): string =>
  csvTable(
    CSV_COLUMNS,
    (["prefill", "decode"] as const).flatMap((phase) => (res.phases[phase]?.layers ?? []).map((l) => ({ ...l, phase })))
  )

const renderRunJson = (res: RunResult): string => JSON.stringify(res, null, 2) + "\n"

export const renderRun = (res: RunResult, format: Format, o: RunTableOptions = {}): string =>
  format === "json" ? renderRunJson(res) : format === "csv" ? renderRunCsv(res) : renderRunTable(res, o)

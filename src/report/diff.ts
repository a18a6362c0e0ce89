/**
 * Rendering a diff as a terminal table, JSON, or GitHub-flavoured markdown (for a pull
 * request comment). Pure: text in, text out.
 */
import type { Delta } from "../kernel/delta.ts"
import { signedFixed } from "../base/format.ts"
import { renderLayerTable, type LayerListing, type LayerTableRow } from "./layerTable.ts"
import { leftColumns, renderMarkdownTable, renderTable, type Column } from "./table.ts"
import type { ConfigChange } from "../diff/configDiff.ts"
import { PHASES, type FitPair, type LayerDiff, type PhaseDiff, type PhaseMetric, type Regression } from "../diff/resultDiff.ts"
import { diffJson, type ScenarioDiff, type SideInfo } from "../diff/types.ts"

export type DiffFormat = "table" | "json" | "markdown"

export interface RenderOptions {
  /** Whether --fail-on-regression was given (the gate verdict is shown only then). */
  readonly gate: boolean
  /** How the layer tables list layers (`--layers`; default grouped). */
  readonly layers?: LayerListing
}

type Fmt = (x: number) => string
const ms: Fmt = (x) => x.toFixed(4)
const rate: Fmt = (x) => x.toFixed(1)
const giga: Fmt = (x) => (x / 1e9).toFixed(3)

const METRICS: ReadonlyArray<readonly [PhaseMetric, string, Fmt]> = [
  ["total_latency_ms", "latency ms", ms],
  ["ttft_ms", "TTFT ms", ms],
  ["tpot_ms", "TPOT ms", ms],
  ["tokens_per_s", "tokens/s (replica)", rate],
  ["total_flops", "GFLOP", giga],
  ["total_bytes", "HBM GB", giga],
  ["total_comm_bytes", "link GB", giga],
  ["peak_memory_bytes", "peak memory GB", giga],
  ["hbm_bytes_per_gpu", "HBM capacity GB", giga]
]

const pct = (x: number | null): string => (x === null ? "-" : `${signedFixed(x, (v) => v.toFixed(2))}%`)
const num = (x: number | null, f: Fmt): string => (x === null ? "-" : f(x))

/** A, B, B - A and the percentage of one figure, in the figure's format. */
const deltaColumns = <R>(of: (r: R) => Delta, f: (r: R) => Fmt, unit?: string): Array<Column<R>> => [
  { header: "A", unit, format: (r) => num(of(r).before, f(r)) },
  { header: "B", unit, format: (r) => num(of(r).after, f(r)) },
  { header: "delta", unit, format: (r) => signedFixed(of(r).abs, f(r)) },
  { header: "delta %", format: (r) => pct(of(r).pct) }
]

/** A row of a phase table, its cells already in text: a figure's change, or the fit of each side. */
interface MetricRow {
  readonly label: string
  readonly a: string
  readonly b: string
  readonly delta: string
  readonly pct: string
}

const yesNo = (x: boolean | null): string => (x === null ? "-" : x ? "yes" : "no")

/** The fit row: yes/no per side, and in the delta column what changed (a side that stopped fitting is the news). */
const fitRow = (f: FitPair): MetricRow => ({
  label: "fits in HBM",
  a: yesNo(f.a),
  b: yesNo(f.b),
  delta: f.a === true && f.b === false ? "NO LONGER FITS" : f.a === false && f.b === true ? "now fits" : "-",
  pct: "-"
})

const metricRows = (p: PhaseDiff): Array<MetricRow> => [
  ...METRICS.flatMap(([key, label, f]) => {
    const m = p[key]
    return m ? [{ label, a: num(m.before, f), b: num(m.after, f), delta: signedFixed(m.abs, f), pct: pct(m.pct) }] : []
  }),
  fitRow(p.fits_in_hbm)
]

const METRIC_COLUMNS: ReadonlyArray<Column<MetricRow>> = [
  { header: "metric", align: "left", format: (r) => r.label },
  { header: "A", format: (r) => r.a },
  { header: "B", format: (r) => r.b },
  { header: "delta", format: (r) => r.delta },
  { header: "delta %", format: (r) => r.pct }
]

/** A layer's latency on each side, its change and status (after the name; the type too when grouped). */
const LAYER_COLUMNS: ReadonlyArray<Column<LayerTableRow<LayerDiff>>> = [
  ...deltaColumns<LayerTableRow<LayerDiff>>(
    (r) => r.layer.latency,
    () => ms,
    "ms"
  ),
  { header: "status", align: "left", format: (r) => r.layer.status }
]

/** What the layer table shows of a layer: layers whose figures are equal share a grouped row. */
const layerFigures = (l: LayerDiff): ReadonlyArray<unknown> => [l.latency.before, l.latency.after, l.status]

const layerTable = (layers: ReadonlyArray<LayerDiff>, listing: LayerListing, st: Style): string =>
  // Listed one per layer, a layer's name says its type; grouped (`L3-L60`), a type column does.
  renderLayerTable(layers, { figures: layerFigures, columns: LAYER_COLUMNS, typeColumn: listing === "grouped" }, listing, st.table)

const valueText = (v: unknown, change: ConfigChange, side: "a" | "b"): string => {
  const absent = (side === "a" && change.change === "added") || (side === "b" && change.change === "removed")
  if (absent) return change.path === "" ? "(file not used)" : "(absent)"
  if (change.path === "" && typeof v === "object" && v !== null) return "(whole file)"
  const text = typeof v === "string" ? v : JSON.stringify(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const code = (s: string): string => `\`${s}\``

/** File and field in code spans for markdown. */
const changeColumns = (md: boolean): ReadonlyArray<Column<ConfigChange>> => [
  { header: "file", align: "left", format: (c) => (md ? code(c.file) : c.file) },
  {
    header: "field",
    align: "left",
    format: (c) => {
      const f = c.path === "" ? "(file)" : c.path
      return md ? code(f) : f
    }
  },
  { header: "A", align: "left", format: (c) => valueText(c.a, c, "a") },
  { header: "B", align: "left", format: (c) => valueText(c.b, c, "b") }
]

const countStatuses = (rows: ReadonlyArray<LayerDiff>): string => {
  const order = ["changed", "unchanged", "added", "removed"] as const
  return (
    order
      .map((s) => [s, rows.filter((r) => r.status === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(", ") || "no layers"
  )
}

const sideText = (s: SideInfo): string => {
  const rev = s.rev === null ? "" : s.commit === null ? `${s.rev}  ` : `${s.rev} (${s.commit.slice(0, 12)})  `
  const r = s.runtime
  return (
    `${rev}${s.scenario}  ${s.hardware}  batch_size=${r.batch_size} seq_len=${r.seq_len} phase=${r.phase}` +
    (r.micro_batch === undefined ? "" : ` micro_batch=${r.micro_batch}`)
  )
}

const regressionText = (r: Regression): string => {
  if (r.metric === "fits_in_hbm") {
    return `${r.phase} no longer fits in HBM: peak memory per GPU ${giga(r.a)} -> ${giga(r.b)} GB > HBM ${giga(r.hbm_bytes_per_gpu ?? 0)} GB`
  }
  const f = r.metric === "tokens_per_s" ? rate : ms
  return `${r.phase} ${r.metric} ${f(r.a)} -> ${f(r.b)} (${pct(r.delta_pct)}, limit ${r.limit_pct}%)`
}

/** One line per regression, for stderr when the gate fails. */
export const regressionLines = (diffs: ReadonlyArray<ScenarioDiff>): string =>
  diffs.flatMap((d) => d.regressions.map((r) => `regression: ${d.b.scenario}: ${regressionText(r)}\n`)).join("")

/** One line per scenario and phase where side B does not fit in HBM, for stderr under --require-fit. */
export const unfitLines = (diffs: ReadonlyArray<ScenarioDiff>): string =>
  diffs
    .flatMap((d) =>
      PHASES.flatMap((phase) => {
        const p = d.phases[phase]
        if (!p || p.fits_in_hbm.b !== false) return []
        return [
          `does not fit: ${d.b.scenario}: ${phase} ${giga(p.peak_memory_bytes.after ?? 0)} GB per GPU > ${giga(p.hbm_bytes_per_gpu.after ?? 0)} GB HBM (--require-fit)\n`
        ]
      })
    )
    .join("")

const mdSide = (s: SideInfo): Array<string> => [
  s.rev === null ? "-" : s.commit === null ? s.rev : `${code(s.rev)} (${code(s.commit.slice(0, 12))})`,
  code(s.scenario),
  s.hardware,
  `batch ${s.runtime.batch_size}, seq ${s.runtime.seq_len}, ${s.runtime.phase}`
]

/** How the terminal and the markdown write each part of a scenario's diff. */
interface Style {
  readonly sides: (d: ScenarioDiff) => Array<string>
  readonly configTitle: (n: number) => Array<string>
  readonly noConfigChanges: string
  readonly changeColumns: ReadonlyArray<Column<ConfigChange>>
  readonly table: <R>(columns: ReadonlyArray<Column<R>>, rows: ReadonlyArray<R>) => string
  readonly phaseTitle: (phase: string) => Array<string>
  /** The layer table's title, and what closes it. */
  readonly layersTitle: (phase: string, counts: string) => Array<string>
  readonly layersEnd: Array<string>
  readonly gate: (d: ScenarioDiff) => string
}

const TERMINAL: Style = {
  sides: (d) => [`A  ${sideText(d.a)}`, `B  ${sideText(d.b)}`],
  configTitle: (n) => [`== config changes (${n}) ==`],
  noConfigChanges: "no config changes",
  changeColumns: changeColumns(false),
  table: renderTable,
  phaseTitle: (phase) => [`== ${phase} (per GPU) ==`],
  layersTitle: (phase, counts) => [`== ${phase} layers: ${counts} ==`],
  layersEnd: [],
  gate: (d) =>
    d.regressions.length === 0
      ? `regression gate (limit ${d.limit_pct}%): pass`
      : [`regression gate (limit ${d.limit_pct}%): FAIL`, ...d.regressions.map((r) => `  ${regressionText(r)}`)].join("\n")
}

const MARKDOWN: Style = {
  sides: (d) => [
    `### llmsim diff: ${code(d.b.scenario)}`,
    "",
    renderMarkdownTable(leftColumns("", "revision", "scenario", "hardware", "runtime"), [
      ["A", ...mdSide(d.a)],
      ["B", ...mdSide(d.b)]
    ])
  ],
  configTitle: (n) => [`**Config changes (${n})**`, ""],
  noConfigChanges: "No config changes.",
  changeColumns: changeColumns(true),
  table: (columns, rows) => renderMarkdownTable(columns, rows),
  phaseTitle: (phase) => [`**${phase}** (per GPU)`, ""],
  layersTitle: (phase, counts) => [`<details><summary>${phase} layers: ${counts}</summary>`, ""],
  layersEnd: ["", "</details>"],
  gate: (d) =>
    d.regressions.length === 0
      ? `**Regression gate (limit ${d.limit_pct}%): passed**`
      : [`**Regression gate (limit ${d.limit_pct}%): FAILED**`, "", ...d.regressions.map((r) => `- ${regressionText(r)}`)].join("\n")
}

/** One scenario: sides, config changes, per phase the totals and the layers, the gate verdict. */
const renderOne = (d: ScenarioDiff, o: RenderOptions, st: Style): string => {
  const out = [...st.sides(d), "", ...st.configTitle(d.config_changes.length)]
  out.push(d.config_changes.length === 0 ? st.noConfigChanges : st.table(st.changeColumns, d.config_changes))
  for (const phase of PHASES) {
    const p = d.phases[phase]
    if (!p) continue
    const layers = d.layers.filter((l) => l.phase === phase)
    out.push("", ...st.phaseTitle(phase), st.table(METRIC_COLUMNS, metricRows(p)))
    out.push("", ...st.layersTitle(phase, countStatuses(layers)), layerTable(layers, o.layers ?? "grouped", st), ...st.layersEnd)
  }
  if (o.gate) out.push("", st.gate(d))
  return out.join("\n") + "\n"
}

/** JSON: the object for one scenario, an array for several. */
export const renderDiff = (diffs: ReadonlyArray<ScenarioDiff>, format: DiffFormat, o: RenderOptions): string => {
  if (format === "json") return JSON.stringify(diffs.length === 1 ? diffJson(diffs[0]) : diffs.map(diffJson), null, 2) + "\n"
  const style = format === "markdown" ? MARKDOWN : TERMINAL
  return diffs.map((d) => renderOne(d, o, style)).join("\n")
}

/**
 * Rendering a diff as a terminal table, JSON, or GitHub-flavoured markdown (for a pull
 * request comment). Pure: text in, text out.
 */
import { renderTable } from "../report/table.ts"
import type { ConfigChange } from "./configDiff.ts"
import { PHASES, type LayerDiff, type Metric, type PhaseDiff, type Regression } from "./resultDiff.ts"
import type { ScenarioDiff, SideInfo } from "./types.ts"

export type DiffFormat = "table" | "json" | "markdown"

export interface RenderOptions {
  /** Whether --fail-on-regression was given (the gate verdict is shown only then). */
  readonly gate: boolean
}

type Fmt = (x: number) => string

const METRICS: ReadonlyArray<readonly [keyof PhaseDiff, string, Fmt]> = [
  ["total_latency_ms", "latency ms", (x) => x.toFixed(4)],
  ["ttft_ms", "TTFT ms", (x) => x.toFixed(4)],
  ["tpot_ms", "TPOT ms", (x) => x.toFixed(4)],
  ["tokens_per_s", "tokens/s (replica)", (x) => x.toFixed(1)],
  ["total_flops", "GFLOP", (x) => (x / 1e9).toFixed(3)],
  ["total_bytes", "HBM GB", (x) => (x / 1e9).toFixed(3)],
  ["total_comm_bytes", "link GB", (x) => (x / 1e9).toFixed(3)],
  ["peak_memory_bytes", "peak memory GB", (x) => (x / 1e9).toFixed(3)]
]

const signed = (x: number, f: Fmt): string => (x > 0 ? `+${f(x)}` : x < 0 ? `-${f(-x)}` : f(0))
const pct = (x: number | null): string => (x === null ? "-" : `${signed(x, (v) => v.toFixed(2))}%`)
const num = (x: number | null, f: Fmt): string => (x === null ? "-" : f(x))

const metricRows = (p: PhaseDiff): Array<Array<string>> =>
  METRICS.flatMap(([key, label, f]) => {
    const m = p[key] as Metric | undefined
    return m ? [[label, num(m.a, f), num(m.b, f), m.delta === null ? "-" : signed(m.delta, f), pct(m.delta_pct)]] : []
  })

const layerRows = (rows: ReadonlyArray<LayerDiff>): Array<Array<string>> =>
  rows.map((l) => [
    l.layer_name,
    num(l.a_ms, (x) => x.toFixed(4)),
    num(l.b_ms, (x) => x.toFixed(4)),
    l.delta_ms === null ? "-" : signed(l.delta_ms, (x) => x.toFixed(4)),
    pct(l.delta_pct),
    l.status
  ])

const valueText = (v: unknown, change: ConfigChange, side: "a" | "b"): string => {
  const absent = (side === "a" && change.change === "added") || (side === "b" && change.change === "removed")
  if (absent) return change.path === "" ? "(file not used)" : "(absent)"
  if (change.path === "" && typeof v === "object" && v !== null) return "(whole file)"
  const text = typeof v === "string" ? v : JSON.stringify(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const changeRows = (changes: ReadonlyArray<ConfigChange>): Array<Array<string>> =>
  changes.map((c) => [c.file, c.path === "" ? "(file)" : c.path, valueText(c.a, c, "a"), valueText(c.b, c, "b")])

const countStatuses = (rows: ReadonlyArray<LayerDiff>): string => {
  const order = ["changed", "unchanged", "added", "removed"] as const
  return order.map((s) => [s, rows.filter((r) => r.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ") || "no layers"
}

const sideText = (s: SideInfo): string => {
  const rev = s.rev === null ? "" : s.commit === null ? `${s.rev}  ` : `${s.rev} (${s.commit.slice(0, 12)})  `
  const r = s.runtime
  return `${rev}${s.scenario}  ${s.hardware}  batch_size=${r.batch_size} seq_len=${r.seq_len} phase=${r.phase}` +
    (r.micro_batch === undefined ? "" : ` micro_batch=${r.micro_batch}`)
}

const regressionText = (r: Regression): string => {
  const f = r.metric === "tokens_per_s" ? (x: number) => x.toFixed(1) : (x: number) => x.toFixed(4)
  return `${r.phase} ${r.metric} ${f(r.a)} -> ${f(r.b)} (${pct(r.delta_pct)}, limit ${r.limit_pct}%)`
}

/** One line per regression, for stderr when the gate fails. */
export const regressionLines = (diffs: ReadonlyArray<ScenarioDiff>): string =>
  diffs.flatMap((d) => d.regressions.map((r) => `regression: ${d.b.scenario}: ${regressionText(r)}\n`)).join("")

const tableOne = (d: ScenarioDiff, o: RenderOptions): string => {
  const out: Array<string> = []
  out.push(`A  ${sideText(d.a)}`)
  out.push(`B  ${sideText(d.b)}`)
  out.push("")
  out.push(`== config changes (${d.config_changes.length}) ==`)
  out.push(d.config_changes.length === 0
    ? "no config changes"
    : renderTable([{ header: "file", align: "left" }, { header: "field", align: "left" }, { header: "A", align: "left" }, { header: "B", align: "left" }], changeRows(d.config_changes)))
  for (const phase of PHASES) {
    const p = d.phases[phase]
    if (!p) continue
    const layers = d.layers.filter((l) => l.phase === phase)
    out.push("")
    out.push(`== ${phase} (per GPU) ==`)
    out.push(renderTable([{ header: "metric", align: "left" }, { header: "A" }, { header: "B" }, { header: "delta" }, { header: "delta %" }], metricRows(p)))
    out.push("")
    out.push(`== ${phase} layers: ${countStatuses(layers)} ==`)
    out.push(renderTable(
      [{ header: "layer", align: "left" }, { header: "A ms" }, { header: "B ms" }, { header: "delta ms" }, { header: "delta %" }, { header: "status", align: "left" }],
      layerRows(layers)
    ))
  }
  if (o.gate) {
    out.push("")
    out.push(d.regressions.length === 0
      ? `regression gate (limit ${d.limit_pct}%): pass`
      : [`regression gate (limit ${d.limit_pct}%): FAIL`, ...d.regressions.map((r) => `  ${regressionText(r)}`)].join("\n"))
  }
  return out.join("\n") + "\n"
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ")
const mdTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, right: ReadonlyArray<boolean>): string =>
  [
    `| ${headers.map(cell).join(" | ")} |`,
    `|${right.map((r) => (r ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)
  ].join("\n")
const code = (s: string): string => `\`${s}\``

const mdSide = (s: SideInfo): Array<string> => [
  s.rev === null ? "-" : s.commit === null ? s.rev : `${code(s.rev)} (${code(s.commit.slice(0, 12))})`,
  code(s.scenario),
  s.hardware,
  `batch ${s.runtime.batch_size}, seq ${s.runtime.seq_len}, ${s.runtime.phase}`
]

const markdownOne = (d: ScenarioDiff, o: RenderOptions): string => {
  const out: Array<string> = []
  out.push(`### llmsim diff: ${code(d.b.scenario)}`)
  out.push("")
  out.push(mdTable(["", "revision", "scenario", "hardware", "runtime"], [["A", ...mdSide(d.a)], ["B", ...mdSide(d.b)]], [false, false, false, false, false]))
  out.push("")
  out.push(`**Config changes (${d.config_changes.length})**`)
  out.push("")
  out.push(d.config_changes.length === 0
    ? "No config changes."
    : mdTable(["file", "field", "A", "B"], changeRows(d.config_changes).map(([f, p, a, b]) => [code(f), code(p), a, b]), [false, false, false, false]))
  for (const phase of PHASES) {
    const p = d.phases[phase]
    if (!p) continue
    const layers = d.layers.filter((l) => l.phase === phase)
    out.push("")
    out.push(`**${phase}** (per GPU)`)
    out.push("")
    out.push(mdTable(["metric", "A", "B", "delta", "delta %"], metricRows(p), [false, true, true, true, true]))
    out.push("")
    out.push(`<details><summary>${phase} layers: ${countStatuses(layers)}</summary>`)
    out.push("")
    out.push(mdTable(["layer", "A ms", "B ms", "delta ms", "delta %", "status"], layerRows(layers), [false, true, true, true, true, false]))
    out.push("")
    out.push("</details>")
  }
  if (o.gate) {
    out.push("")
    out.push(d.regressions.length === 0
      ? `**Regression gate (limit ${d.limit_pct}%): passed**`
      : [`**Regression gate (limit ${d.limit_pct}%): FAILED**`, "", ...d.regressions.map((r) => `- ${regressionText(r)}`)].join("\n"))
  }
  return out.join("\n") + "\n"
}

/** JSON: the object for one scenario, an array for several. */
export const renderDiff = (diffs: ReadonlyArray<ScenarioDiff>, format: DiffFormat, o: RenderOptions): string => {
  if (format === "json") return JSON.stringify(diffs.length === 1 ? diffs[0] : diffs, null, 2) + "\n"
  const one = format === "markdown" ? markdownOne : tableOne
  return diffs.map((d) => one(d, o)).join("\n")
}

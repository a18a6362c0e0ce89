/**
 * The HTML report: one self-contained file (inline SVG and CSS, no script, no external URL),
 * byte-identical for the same result, that opens offline. A run shows the verdict and serving
 * summary, the roofline of every fused op, per-layer stacked time and memory per GPU against
 * HBM; a sweep its Pareto frontier; a diff its per-layer before / after bars.
 */
import type { RunResult } from "../kernel/records.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import type { AxisName } from "../sweep/axes.ts"
import type { SweepResult } from "../sweep/run.ts"
import type { ScenarioDiff } from "../diff/types.ts"
import { renderDiff, type RenderOptions } from "./diff.ts"
import {
  type ChartSpec,
  type DiffBar,
  diffBarsSpec,
  kvSeriesSpec,
  latencyCdfSpec,
  layerBarsSpec,
  memorySpec,
  type ParetoPoint,
  paretoSpec,
  queueSeriesSpec,
  rooflineSpec,
  throughputSeriesSpec
} from "./charts.ts"
import type { BenchOutput } from "../playbooks/bench.ts"
import type { Comparison } from "../serve/compare.ts"
import { renderBenchTable } from "./bench.ts"
import { PLAN_MODES, type PlanMode, type PlanResult } from "../sweep/plan.ts"
import { renderPlanTable } from "./plan.ts"
import { renderSweepTable, whereText } from "./sweep.ts"
import { partShareLine } from "./phaseSummary.ts"
import { renderServingTable, runHeader, runSummaryVerdict } from "./run.ts"
import { renderSvg } from "./svg.ts"
import { runCalibrationTable, sweepCalibrationTable, type TextTable } from "./calibrationStatus.ts"

export const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** A section of the page: a heading, then preformatted text and / or charts. */
export interface Section {
  readonly heading: string
  readonly text?: string
  /** Chart id (the `data-chart` attribute tests and readers select by) and its SVG. */
  readonly charts?: ReadonlyArray<{ readonly id: string; readonly svg: string }>
  /** A table (`data-table` names it), after the text. */
  readonly table?: { readonly id: string; readonly table: TextTable }
}

const tableHtml = (id: string, t: TextTable): string =>
  [
    `<table data-table="${escapeHtml(id)}">`,
    `<tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`,
    ...t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`),
    `</table>`
  ].join("\n")

const STYLE = [
  "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:900px;color:#222}",
  "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}",
  "pre{background:#f6f8fa;padding:1em;overflow-x:auto;font-size:12px}",
  "figure{margin:1em 0}svg{max-width:100%;height:auto}",
  "table{border-collapse:collapse;font-size:12px}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}"
].join("\n")

export const htmlPage = (title: string, sections: ReadonlyArray<Section>): string => {
  const body = sections.map((s) =>
    [
      `<section>`,
      `<h2>${escapeHtml(s.heading)}</h2>`,
      ...(s.text === undefined ? [] : [`<pre>${escapeHtml(s.text)}</pre>`]),
      ...(s.table === undefined ? [] : [tableHtml(s.table.id, s.table.table)]),
      ...(s.charts ?? []).map((c) => `<figure data-chart="${escapeHtml(c.id)}">\n${c.svg}\n</figure>`),
      `</section>`
    ].join("\n")
  )
  return [
    "<!DOCTYPE html>",
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    `</head>`,
    `<body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    ...body,
    `</body>`,
    `</html>`,
    ""
  ].join("\n")
}

/** Charts rendered in order (Vega views are not shared), each with its own id prefix. */
export const renderCharts = async (charts: ReadonlyArray<{ readonly id: string; readonly spec: ChartSpec }>) => {
  const out: Array<{ id: string; svg: string }> = []
  for (const c of charts) out.push({ id: c.id, svg: await renderSvg(c.spec, c.id) })
  return out
}

/** The named charts of a run, in page order (`llmsim report`, `run --format html|svg`). */
export const runCharts = (res: RunResult, hw: TimingHardware): Array<{ id: string; spec: ChartSpec }> => [
  { id: "roofline", spec: rooflineSpec(res, hw) },
  ...(["prefill", "decode"] as const).flatMap((phase) => {
    const r = res.phases[phase]
    return r === undefined ? [] : [{ id: `layers-${phase}`, spec: layerBarsSpec(phase, r) }]
  }),
  { id: "memory", spec: memorySpec(res) }
]

export const renderRunHtml = async (res: RunResult, hw: TimingHardware): Promise<string> => {
  const charts = await renderCharts(runCharts(res, hw))
  const pick = (prefix: string) => charts.filter((c) => c.id.startsWith(prefix))
  const shares = (["prefill", "decode"] as const).flatMap((p) => {
    const r = res.phases[p]
    return r === undefined ? [] : [`${p}: ${partShareLine(r)}`]
  })
  const calibration = res.calibration === undefined ? undefined : runCalibrationTable(res.calibration, res.efficiency)
  return htmlPage(`llmsim report: ${res.scenario}`, [
    { heading: "Summary", text: [...runHeader(res), runSummaryVerdict(res), ...shares, "", renderServingTable(res.serving)].join("\n") },
    ...(calibration === undefined
      ? []
      : [{ heading: `Calibration of ${res.hardware}: ${res.calibration!.status}`, table: { id: "calibration", table: calibration } }]),
    { heading: "Roofline", charts: pick("roofline") },
    { heading: "Time per layer", charts: pick("layers-") },
    { heading: "Memory per GPU", charts: pick("memory") }
  ])
}

/** What `--format html|svg` writes for a run: the page, or one chart (`--chart`, default the roofline) as SVG. */
export const renderRunVisual = async (res: RunResult, hw: TimingHardware, format: "html" | "svg", chart = "roofline"): Promise<string> => {
  if (format === "html") return renderRunHtml(res, hw)
  const c = runCharts(res, hw).find((x) => x.id === chart)
  if (c === undefined) throw new Error(`no chart ${chart}`)
  return (await renderSvg(c.spec, c.id)) + "\n"
}

/** The chart names `--chart` takes (a phase's layer chart only when the phase ran). */
export const RUN_CHART_IDS = ["roofline", "layers-prefill", "layers-decode", "memory"] as const

/** A sweep's page: its answer as text and the Pareto frontier (cost as colour); or the frontier chart as SVG. */
export const renderSweepVisual = async (r: SweepResult, format: "html" | "svg"): Promise<string> => {
  const axes = Object.keys(r.header.axes) as Array<AxisName>
  const points: Array<ParetoPoint> = r.outcome.frontier.flatMap((row) =>
    row.tokens_per_s_per_gpu === null || row.tokens_per_s_per_user === null
      ? []
      : [
          {
            tokens_per_s_per_user: row.tokens_per_s_per_user,
            tokens_per_s_per_gpu: row.tokens_per_s_per_gpu,
            cost_per_1m_output_tokens_usd: row.cost_per_1m_output_tokens_usd,
            where: whereText(row, axes)
          }
        ]
  )
  const priced = points.filter((p) => p.cost_per_1m_output_tokens_usd !== null).length
  const colour =
    priced === points.length
      ? "colour: USD per 1M output tokens"
      : priced === 0
        ? "no hardware has a price: grey"
        : "colour: USD per 1M output tokens; grey: no price"
  const spec = paretoSpec(`Pareto frontier of ${r.header.scenario}: ${points.length} point${points.length === 1 ? "" : "s"} (${colour})`, points)
  const [chart] = await renderCharts([{ id: "pareto", spec }])
  if (format === "svg") return chart!.svg + "\n"
  const calibration = r.header.calibration === undefined ? undefined : sweepCalibrationTable(r.header.calibration)
  return htmlPage(`llmsim sweep: ${r.header.scenario}`, [
    { heading: "Pareto frontier", charts: [chart!] },
    // Without the elapsed time (the one line that differs between two runs of the same sweep).
    {
      heading: "Answer",
      text: renderSweepTable(r)
        .trimEnd()
        .split("\n")
        .filter((l) => !l.startsWith("point nodes:"))
        .join("\n")
    },
    ...(calibration === undefined ? [] : [{ heading: "Calibration of the hardware", table: { id: "calibration", table: calibration } }])
  ])
}

/** The per-layer before / after bars of one phase of a diff (layers on one side only get one bar). */
export const diffBars = (d: ScenarioDiff, phase: string): Array<DiffBar> =>
  d.layers
    .filter((l) => l.phase === phase)
    .flatMap((l, i) =>
      (
        [
          ["before", l.latency.before],
          ["after", l.latency.after]
        ] as const
      ).flatMap(([side, ms]) =>
        ms === null ? [] : [{ layer_index: Number(/^L(\d+)\./.exec(l.layer_name)?.[1] ?? i), layer_name: l.layer_name, side, latency_ms: ms }]
      )
    )

/** A diff's page: per scenario its table and the per-layer before / after bars per phase; svg: the first of those charts. */
export const renderDiffVisual = async (diffs: ReadonlyArray<ScenarioDiff>, format: "html" | "svg", o: RenderOptions): Promise<string> => {
  const sections: Array<Section> = []
  for (const [k, d] of diffs.entries()) {
    const phases = (["prefill", "decode"] as const).filter((p) => d.layers.some((l) => l.phase === p))
    const charts = await renderCharts(
      phases.map((p) => ({
        id: `diff-${k + 1}-${p}`,
        spec: diffBarsSpec(`${d.b.scenario}, ${p}: dominant latency per layer, before (A) and after (B)`, diffBars(d, p))
      }))
    )
    if (format === "svg" && charts.length > 0) return charts[0]!.svg + "\n"
    sections.push({ heading: d.b.scenario, text: renderDiff([d], "table", o).trimEnd(), charts })
  }
  if (format === "svg") throw new Error("the diff has no layers to draw")
  return htmlPage("llmsim diff", sections)
}

/**
 * A bench run's page: the printed result, the TTFT / TPOT / E2E latency CDFs with the --goodput
 * SLOs as rules, output tokens/s, running and waiting requests, and KV-cache use over the run.
 */
export const renderBenchHtml = async (o: BenchOutput, comparison?: Comparison): Promise<string> => {
  const x = o.bench.extras
  const slo = o.workload.goodput
  const names = { ttft: "TTFT", tpot: "TPOT", e2el: "E2E latency" } as const
  const charts = await renderCharts([
    ...(["ttft", "tpot", "e2el"] as const).map((m) => ({
      id: `cdf-${m}`,
      spec: latencyCdfSpec({ metric: names[m], cdf: x.cdf[m], slo_ms: slo?.[m] ?? null, within: x.within_slo[m] ?? null })
    })),
    { id: "throughput", spec: throughputSeriesSpec(x.series) },
    { id: "queue", spec: queueSeriesSpec(x.series) },
    { id: "kv-cache", spec: kvSeriesSpec(x.series) }
  ])
  const pick = (...ids: ReadonlyArray<string>) => charts.filter((c) => ids.includes(c.id))
  return htmlPage(`llmsim bench: ${o.setup.scenario} on ${o.setup.engine.engine}`, [
    { heading: "Result", text: renderBenchTable(o, comparison).trimEnd() },
    { heading: "Latency distributions", charts: pick("cdf-ttft", "cdf-tpot", "cdf-e2el") },
    { heading: "Over the run", charts: pick("throughput", "queue", "kv-cache") }
  ])
}

/**
 * A plan's page: the answer as printed, and each mode's frontier of the probes that met the SLOs
 * (served output tokens/s per GPU against tokens/s per user; cost as colour where there is a price).
 */
export const renderPlanHtml = async (r: PlanResult): Promise<string> => {
  const chart = (mode: PlanMode) => {
    const pts: Array<ParetoPoint> = r.frontier[mode].map((p) => ({
      tokens_per_s_per_user: p.tokens_per_s_per_user,
      tokens_per_s_per_gpu: p.output_tokens_per_s_per_gpu,
      cost_per_1m_output_tokens_usd: p.cost_per_1m_output_tokens_usd,
      where: `${p.text} at ${p.rate_rps.toFixed(2)} req/s`
    }))
    return {
      id: `frontier-${mode}`,
      spec: paretoSpec(`${mode}: ${pts.length} point${pts.length === 1 ? "" : "s"} within the SLOs (served output tokens/s per GPU)`, pts)
    }
  }
  const modes = PLAN_MODES.filter((m) => (r.frontier[m] ?? []).length > 0)
  const charts = await renderCharts(modes.map(chart))
  return htmlPage(`llmsim plan: ${r.scenario}`, [
    { heading: "Answer", text: renderPlanTable(r).trimEnd() },
    { heading: "Frontiers", ...(charts.length === 0 ? { text: "no probe met the SLOs" } : { charts }) }
  ])
}

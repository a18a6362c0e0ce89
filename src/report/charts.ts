/**
 * The report's charts as Vega-Lite specs (plain data, pure): the roofline of every fused op
 * against the device's roofs, per-layer stacked compute / memory / communication time, memory
 * per GPU against HBM, a sweep's Pareto frontier and a diff's per-layer before / after bars.
 * Data rows carry their unit in every field name, as the JSON does; src/report/svg.ts renders
 * a spec to SVG. A bench run adds its latency CDFs with the SLOs and its time series.
 */
import type { RunResult, SimulationResult } from "../kernel/records.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import { groupLayers } from "./phaseSummary.ts"

/** A Vega-Lite spec (the library's own types are large and only needed by the renderer). */
export type ChartSpec = Readonly<Record<string, unknown>>

const PHASES = ["prefill", "decode"] as const
const WIDTH = 640
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

/** What every chart starts with: the schema, its title and size, and its rows (none for layered data). */
const frame = (title: string, height: number, values?: ReadonlyArray<unknown>) => ({
  $schema: SCHEMA,
  title,
  width: WIDTH,
  height,
  ...(values === undefined ? {} : { data: { values } })
})

/** One roofline point: a fused op of a run of identical layers (ops with FLOPs and HBM bytes). */
interface RooflinePoint {
  readonly phase: string
  readonly layers: string
  readonly op: string
  readonly math_dtype: string
  readonly intensity_flop_per_byte: number
  readonly attained_tflops: number
  readonly bound: string
}

/**
 * Every fused op that does math on HBM bytes, once per run of identical layers (the 58 MoE
 * layers' experts are one point); communication ops (no FLOPs) are in the layer bars instead.
 */
const rooflinePoints = (res: RunResult): Array<RooflinePoint> =>
  PHASES.flatMap((phase) => {
    const r = res.phases[phase]
    if (r === undefined) return []
    return groupLayers(r.layers).flatMap((g) =>
      g.layer.breakdown
        .filter((o) => o.flops > 0 && o.bytes_read + o.bytes_written > 0 && o.dominant_latency_ms > 0)
        .map((o) => ({
          phase,
          layers: `${g.label} ${g.layer.layer_type}`,
          op: o.op,
          math_dtype: o.math_dtype ?? "bf16",
          intensity_flop_per_byte: o.flops / (o.bytes_read + o.bytes_written),
          attained_tflops: o.flops / (o.dominant_latency_ms * 1e9),
          bound: o.bound
        }))
    )
  })

/** A roof as line points: `roof` names it, `y` in TFLOP/s at intensity `x` in FLOP per byte. */
interface RoofPoint {
  readonly roof: string
  readonly intensity_flop_per_byte: number
  readonly tflops: number
}

const pow10Floor = (x: number) => 10 ** Math.floor(Math.log10(x))
const pow10Ceil = (x: number) => 10 ** Math.ceil(Math.log10(x))

/**
 * The achievable roofs the times were computed with (peak x efficiency): per math dtype the
 * compute ceiling meeting the HBM slope, and the NVLink and NIC slopes (FLOP per link byte).
 */
const roofLines = (hw: TimingHardware, dtypes: ReadonlyArray<string>, xMin: number, xMax: number): Array<RoofPoint> => {
  const hbm = (hw.memory_bandwidth_gbps * hw.memory_efficiency) / 1e3
  const out: Array<RoofPoint> = []
  for (const d of dtypes) {
    const peak = (hw.tflops[d] ?? hw.tflops.bf16) * hw.compute_efficiency
    const ridge = peak / hbm
    const roof = `${d} compute + HBM`
    const xs = [xMin, ...(ridge > xMin && ridge < xMax ? [ridge] : []), xMax]
    for (const x of xs) out.push({ roof, intensity_flop_per_byte: x, tflops: Math.min(peak, hbm * x) })
  }
  const links: ReadonlyArray<readonly [string, number]> = [
    ["NVLink", (hw.interconnect_gbps * hw.interconnect_efficiency) / 1e3],
    ["NIC", (hw.nic_gbps * hw.nic_efficiency) / 1e3]
  ]
  for (const [name, slope] of links) {
    for (const x of [xMin, xMax]) out.push({ roof: `${name} link`, intensity_flop_per_byte: x, tflops: slope * x })
  }
  return out
}

export const rooflineSpec = (res: RunResult, hw: TimingHardware): ChartSpec => {
  const points = rooflinePoints(res)
  const xs = points.map((p) => p.intensity_flop_per_byte)
  const xMin = pow10Floor(Math.min(...xs, 1))
  const xMax = pow10Ceil(Math.max(...xs, 1e4))
  const dtypes = [...new Set(points.map((p) => p.math_dtype))].sort()
  const roofs = roofLines(hw, dtypes, xMin, xMax)
  const yMin = pow10Floor(Math.min(...points.map((p) => p.attained_tflops), 1))
  const yMax = pow10Ceil(Math.max(...roofs.filter((r) => !r.roof.endsWith("link")).map((r) => r.tflops)))
  const x = {
    field: "intensity_flop_per_byte",
    type: "quantitative",
    title: "arithmetic intensity (FLOP per byte)",
    scale: { type: "log", domain: [xMin, xMax] }
  }
  const y = { type: "quantitative", title: "attained TFLOP/s", scale: { type: "log", domain: [yMin, yMax], clamp: true } }
  return {
    ...frame(`Roofline: every fused op on ${res.hardware} (achievable roofs)`, 400),
    layer: [
      {
        data: { values: roofs },
        mark: { type: "line", clip: true, strokeDash: [4, 2] },
        encoding: { x, y: { ...y, field: "tflops" }, color: { field: "roof", type: "nominal", title: "roof", scale: { scheme: "greys" } } }
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { ...y, field: "attained_tflops" },
          shape: { field: "phase", type: "nominal", title: "phase" },
          fill: { field: "math_dtype", type: "nominal", title: "math dtype" },
          tooltip: [
            { field: "phase" },
            { field: "layers" },
            { field: "op" },
            { field: "math_dtype" },
            { field: "intensity_flop_per_byte", type: "quantitative", format: ".6~g" },
            { field: "attained_tflops", type: "quantitative", format: ".4~g" },
            { field: "bound" }
          ]
        }
      }
    ],
    resolve: { scale: { color: "independent" } }
  }
}

/** Per layer, compute, memory and communication time as stacked bars (one chart per phase). */
export const layerBarsSpec = (phase: string, r: SimulationResult): ChartSpec => {
  const values = r.layers.flatMap((l, i) =>
    (
      [
        ["compute", l.compute_time_ms],
        ["memory", l.memory_time_ms],
        ["communication", l.comm_time_ms]
      ] as const
    ).map(([part, ms]) => ({
      layer_index: i,
      layer_name: l.layer_name,
      part,
      time_ms: ms
    }))
  )
  return {
    ...frame(`${phase}: compute, memory and communication time per layer (per GPU)`, 220, values),
    mark: "bar",
    encoding: {
      x: { field: "layer_index", type: "ordinal", title: "layer", axis: { labelAngle: 0, values: r.layers.map((_, i) => i).filter((i) => i % 5 === 0) } },
      y: { field: "time_ms", type: "quantitative", title: "time (ms)", stack: "zero" },
      color: { field: "part", type: "nominal", title: "time", sort: ["compute", "memory", "communication"] },
      order: { field: "part", sort: "ascending" },
      tooltip: [{ field: "layer_name" }, { field: "part" }, { field: "time_ms", type: "quantitative", format: ".4f" }]
    }
  }
}

/** Memory per GPU by part and phase against the HBM capacity (a rule). */
export const memorySpec = (res: RunResult): ChartSpec => {
  const values = PHASES.flatMap((phase) => {
    const m = res.phases[phase]?.memory
    if (m === undefined) return []
    return (
      [
        ["weights", m.weights_bytes],
        ["KV cache", m.kv_cache_bytes],
        ["activations", m.activation_bytes]
      ] as const
    ).map(([part, b]) => ({
      phase,
      part,
      memory_gb: b / 1e9
    }))
  })
  const hbm = res.serving.hbm_bytes_per_gpu / 1e9
  return {
    ...frame(`Memory per GPU against HBM (${hbm.toFixed(2)} GB)`, 40 * PHASES.length + 20),
    layer: [
      {
        data: { values },
        mark: "bar",
        encoding: {
          y: { field: "phase", type: "nominal", title: null, sort: [...PHASES] },
          x: { field: "memory_gb", type: "quantitative", title: "GB per GPU", stack: "zero" },
          color: { field: "part", type: "nominal", title: "memory", sort: ["weights", "KV cache", "activations"] },
          order: { field: "part", sort: "descending" },
          tooltip: [{ field: "phase" }, { field: "part" }, { field: "memory_gb", type: "quantitative", format: ".2f" }]
        }
      },
      {
        data: { values: [{ hbm_gb: hbm }] },
        mark: { type: "rule", color: "#d62728", strokeWidth: 2 },
        encoding: { x: { field: "hbm_gb", type: "quantitative" }, tooltip: [{ field: "hbm_gb", type: "quantitative", format: ".2f" }] }
      }
    ]
  }
}

/** One point of a sweep's Pareto frontier (tokens/s per GPU against tokens/s per user). */
export interface ParetoPoint {
  readonly tokens_per_s_per_user: number
  readonly tokens_per_s_per_gpu: number
  readonly cost_per_1m_output_tokens_usd: number | null
  readonly where: string
}

/** The legend entry of points without a price (no colour scale can place them). */
export const NO_PRICE = "no price (price_per_gpu_hour_usd unset)"

/**
 * The frontier: every point drawn, whether or not its hardware has a price. A priced point is
 * coloured by USD per 1M output tokens; a point without a price is grey, under its own legend
 * entry (a colour scale drops a point whose value is null, and with no priced point at all its
 * legend reads NaN). A layer is left out when it would have no points.
 */
export const paretoSpec = (title: string, points: ReadonlyArray<ParetoPoint>): ChartSpec => {
  const x = { field: "tokens_per_s_per_user", type: "quantitative", title: "tokens/s per user" }
  const y = { field: "tokens_per_s_per_gpu", type: "quantitative", title: "tokens/s per GPU" }
  const where = [
    { field: "where" },
    { field: "tokens_per_s_per_user", type: "quantitative", format: ".6~g" },
    { field: "tokens_per_s_per_gpu", type: "quantitative", format: ".6~g" }
  ]
  const priced = points.filter((p) => p.cost_per_1m_output_tokens_usd !== null)
  const unpriced = points.filter((p) => p.cost_per_1m_output_tokens_usd === null)
  const mark = { type: "point", filled: true, size: 80 }
  return {
    ...frame(title, 400),
    layer: [
      {
        data: { values: points },
        mark: { type: "line", color: "#bbb", interpolate: "step-before" },
        encoding: { x: { field: x.field, type: x.type }, y: { field: y.field, type: y.type } }
      },
      ...(priced.length === 0
        ? []
        : [
            {
              data: { values: priced },
              mark,
              encoding: {
                x,
                y,
                color: {
                  field: "cost_per_1m_output_tokens_usd",
                  type: "quantitative",
                  title: "USD per 1M output tokens",
                  scale: { scheme: "viridis" },
                  legend: { titleLimit: 400 }
                },
                tooltip: [...where, { field: "cost_per_1m_output_tokens_usd", type: "quantitative", format: ".4f" }]
              }
            }
          ]),
      ...(unpriced.length === 0
        ? []
        : [
            {
              data: { values: unpriced.map((p) => ({ ...p, cost_per_1m_output_tokens_usd: NO_PRICE })) },
              mark,
              encoding: {
                x,
                y,
                shape: {
                  datum: NO_PRICE,
                  type: "nominal",
                  title: null,
                  scale: { range: ["circle"] },
                  legend: { symbolFillColor: "#888", symbolStrokeColor: "#888", labelLimit: 400 }
                },
                color: { value: "#888" },
                tooltip: [...where, { field: "cost_per_1m_output_tokens_usd", title: "USD per 1M output tokens" }]
              }
            }
          ])
    ],
    resolve: { scale: { color: "independent", shape: "independent" } }
  }
}

/** One bar of a diff: a layer's latency on one side. */
export interface DiffBar {
  readonly layer_index: number
  readonly layer_name: string
  readonly side: string
  readonly latency_ms: number
}

export const diffBarsSpec = (title: string, bars: ReadonlyArray<DiffBar>): ChartSpec => ({
  ...frame(title, 220, bars),
  mark: "bar",
  encoding: {
    x: { field: "layer_index", type: "ordinal", title: "layer", axis: { labelAngle: 0, labelOverlap: "greedy" } },
    xOffset: { field: "side", type: "nominal", sort: ["before", "after"] },
    y: { field: "latency_ms", type: "quantitative", title: "dominant latency (ms)" },
    color: { field: "side", type: "nominal", title: "side", sort: ["before", "after"] },
    tooltip: [{ field: "layer_name" }, { field: "side" }, { field: "latency_ms", type: "quantitative", format: ".4f" }]
  }
})

/** A latency metric of a bench run: its empirical CDF (ms, fraction), and its SLO with the fraction of requests within it, if one was given. */
export interface LatencyCdf {
  readonly metric: string
  readonly cdf: ReadonlyArray<readonly [number, number]>
  readonly slo_ms: number | null
  readonly within: number | null
}

/**
 * A bench run's latency CDF: the fraction of requests at or under each latency, with the SLO as
 * a red rule and the share of requests within it in the title.
 */
export const latencyCdfSpec = (c: LatencyCdf): ChartSpec => {
  const values = c.cdf.map(([ms, fraction]) => ({ latency_ms: ms, fraction }))
  const title =
    c.slo_ms === null ? `${c.metric} CDF` : `${c.metric} CDF, SLO ${c.slo_ms} ms (red): ${((c.within ?? 0) * 100).toFixed(1)}% of requests within it`
  // From 0, so the SLO rule is drawn where it is even when every request is on one side of it.
  const x = { field: "latency_ms", type: "quantitative", title: `${c.metric} ms`, scale: { zero: true } }
  return {
    ...frame(title, 220),
    layer: [
      {
        data: { values },
        mark: { type: "line", interpolate: "step-after" },
        encoding: { x, y: { field: "fraction", type: "quantitative", title: "fraction of requests", scale: { domain: [0, 1] } } }
      },
      ...(c.slo_ms === null
        ? []
        : [{ data: { values: [{ latency_ms: c.slo_ms }] }, mark: { type: "rule", color: "#d62728", strokeWidth: 2 }, encoding: { x } }])
    ]
  }
}

/** One point of a bench run's time series (src/serve/simulate.ts SeriesPoint, in seconds). */
export interface ServeSeriesPoint {
  readonly t_ms: number
  readonly running: number
  readonly waiting: number
  readonly kv_used: number
  readonly output_tokens_per_s: number
}

/** Output tokens/s over the run. */
export const throughputSeriesSpec = (series: ReadonlyArray<ServeSeriesPoint>): ChartSpec => ({
  ...frame(
    "Output tokens/s over the run (all GPUs)",
    200,
    series.map((p) => ({ time_s: p.t_ms / 1000, output_tokens_per_s: p.output_tokens_per_s }))
  ),
  mark: { type: "line", interpolate: "step-after" },
  encoding: {
    x: { field: "time_s", type: "quantitative", title: "time s" },
    y: { field: "output_tokens_per_s", type: "quantitative", title: "output tokens/s" }
  }
})

/** Running and waiting requests over the run, one line each. */
export const queueSeriesSpec = (series: ReadonlyArray<ServeSeriesPoint>): ChartSpec => ({
  ...frame(
    "Requests running and waiting over the run",
    200,
    series.flatMap((p) => [
      { time_s: p.t_ms / 1000, state: "running", requests: p.running },
      { time_s: p.t_ms / 1000, state: "waiting", requests: p.waiting }
    ])
  ),
  mark: { type: "line", interpolate: "step-after" },
  encoding: {
    x: { field: "time_s", type: "quantitative", title: "time s" },
    y: { field: "requests", type: "quantitative", title: "requests" },
    color: { field: "state", type: "nominal", title: null, scale: { domain: ["running", "waiting"], range: ["#1f77b4", "#ff7f0e"] } }
  }
})

/** KV cache in use over the run, percent of the capacity of every rank. */
export const kvSeriesSpec = (series: ReadonlyArray<ServeSeriesPoint>): ChartSpec => ({
  ...frame(
    "KV cache in use over the run",
    200,
    series.map((p) => ({ time_s: p.t_ms / 1000, kv_used_percent: p.kv_used * 100 }))
  ),
  mark: { type: "area", interpolate: "step-after", opacity: 0.6 },
  encoding: {
    x: { field: "time_s", type: "quantitative", title: "time s" },
    y: { field: "kv_used_percent", type: "quantitative", title: "KV cache in use %", scale: { domain: [0, 100] } }
  }
})

/**
 * The sweep's answer on screen: what was swept and computed, the Pareto frontier (tokens/s per
 * GPU against tokens/s per user), and the best point per objective with why each neighbour lost.
 * JSON carries the same objects (header, stats, frontier rows, best rows, neighbours).
 */
import type { AxisName } from "../sweep/axes.ts"
import type { NeighbourReport } from "../sweep/engine.ts"
import { OBJECTIVES, type Objective, type Row } from "../sweep/judge.ts"
import type { SweepResult } from "../sweep/run.ts"
import { renderTable, type Column } from "./table.ts"
import { calibrationText } from "../timing/calibration.ts"

const int = (n: number) => n.toLocaleString("en-US")
const f = (x: number | null, digits: number) => (x === null ? "-" : x.toFixed(digits))
const gbText = (b: number | null) => (b === null ? "-" : (b / 1e9).toFixed(1))

const OBJECTIVE_TEXT: Readonly<Record<Objective, string>> = {
  tokens_per_s_per_gpu: "decode-step tokens/s per GPU",
  tokens_per_s_per_user: "tokens/s per user",
  cost_per_1m_output_tokens_usd: "USD per 1M output tokens",
  cost_per_1m_input_tokens_usd: "USD per 1M input tokens"
}

const axisCell = (r: Row, a: AxisName): string => {
  const v = (r as unknown as Record<string, unknown>)[a]
  return v === undefined || v === null ? "-" : String(v)
}

/** Where a point sits: its swept coordinates, `ep=144 batch=64`. */
export const whereText = (r: Row, axes: ReadonlyArray<AxisName>): string => axes.map((a) => `${a}=${axisCell(r, a)}`).join(" ")

const constraintText = (c: SweepResult["header"]["constraints"]): string => {
  const parts = ["fits in HBM"]
  if (c.ttft_ms_max !== undefined) parts.push(`TTFT <= ${c.ttft_ms_max} ms`)
  if (c.tpot_ms_max !== undefined) parts.push(`TPOT <= ${c.tpot_ms_max} ms`)
  if (c.tokens_per_s_per_user_min !== undefined) parts.push(`tokens/s per user >= ${c.tokens_per_s_per_user_min}`)
  if (c.gpus_max !== undefined) parts.push(`GPUs <= ${c.gpus_max}`)
  return parts.join(", ")
}

/** `configs/hardware/H100-SXM.yaml` -> `H100-SXM`: how the calibration notes name a hardware. */
const hardwareName = (value: string): string => value.replace(/^.*[\\/]/, "").replace(/\.ya?ml$/, "")

/**
 * Each hardware's calibration (src/timing/calibration.ts), and where compared hardware differ:
 * a term at its datasheet peak runs faster than a fitted one, and fits on other kernels differ by
 * the kernels, so part of such a difference is the files', not the hardware's.
 */
const calibrationLines = (h: SweepResult["header"]): Array<string> => {
  // A shard written before calibration was recorded: what its header says.
  if (h.calibration === undefined)
    return (h.uncalibrated_hardware ?? []).map((hw) => `note: ${hw} is not calibrated throughout: some of its times run at the datasheet peak`)
  const lines = Object.entries(h.calibration).map(([hw, c]) => `calibration ${hw}: ${calibrationText(c)}`)
  const differences = h.calibration_differences ?? []
  if (differences.length > 0) {
    lines.push(
      "note: calibration differs between the compared hardware, so part of their difference is the files' (a datasheet-only term runs at its peak; fits on other kernels differ by the kernels):"
    )
    for (const d of differences) {
      const by = Object.entries(d.by_hardware).map(([hw, how]) => `${hardwareName(hw)} ${how}`)
      lines.push(`  ${d.constants.join(", ")}: ${by.join("; ")}`)
    }
  }
  return lines
}

const neighbourText = (n: NeighbourReport): string => `${n.axis}=${n.value}: ${n.feasible ? "feasible" : n.rejected_by}`

export const renderSweepTable = (r: SweepResult): string => {
  const { header: h, outcome: o } = r
  const axes = Object.keys(h.axes) as Array<AxisName>
  const lines: Array<string> = []
  const shard = h.shard === null ? "" : `, shard ${h.shard} (points ${int(h.first_index)} to ${int(h.end_index - 1)})`
  lines.push(`sweep ${h.scenario}: ${int(h.total_points)} point${h.total_points === 1 ? "" : "s"} (${h.model} model, ${h.phases.join(" + ")})${shard}`)
  lines.push(`axes: ${axes.map((a) => `${a} ${h.axes[a]!.length}`).join(", ") || "none"}`)
  lines.push(
    r.merged_from !== undefined
      ? `merged from ${r.merged_from} shard file${r.merged_from === 1 ? "" : "s"}`
      : `point nodes: ${int(o.stats.computed)} computed, ${int(o.stats.replayed)} replayed from the store (${(o.stats.elapsed_ms / 1e3).toFixed(2)} s)`
  )
  const rejected = Object.entries(o.stats.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${int(n)}`)
  lines.push(`constraints: ${constraintText(h.constraints)}`)
  lines.push(
    `feasible: ${int(o.stats.feasible)} of ${int(o.stats.points)}${rejected.length > 0 ? `; failing: ${rejected.join(", ")}` : ""}${o.stats.invalid > 0 ? `; invalid layouts ${int(o.stats.invalid)}` : ""}`
  )
  if (o.stats.first_invalid !== null) lines.push(`invalid layout, first: ${whereText(o.stats.first_invalid, axes)}: ${o.stats.first_invalid.invalid}`)
  if (r.points_file !== null) lines.push(`every point: ${r.points_file}`)
  lines.push(...calibrationLines(h))
  lines.push("")
  if (o.frontier.length === 0) {
    lines.push("Pareto frontier: no feasible point with a decode phase")
  } else {
    lines.push(
      `Pareto frontier (decode-step tokens/s per GPU against tokens/s per user; served throughput under a request stream: llmsim bench), ${o.frontier.length} point${o.frontier.length === 1 ? "" : "s"}:`
    )
    const cols: Array<Column<Row>> = [
      ...axes.map(
        (a): Column<Row> => ({ header: a, align: a === "hardware" || a === "instances" || a === "tbo" ? "left" : "right", format: (x) => axisCell(x, a) })
      ),
      { header: "GPUs", format: (x) => String(x.gpus ?? "-") },
      { header: "step tok/s/GPU", format: (x) => f(x.tokens_per_s_per_gpu, 1) },
      { header: "tok/s/user", format: (x) => f(x.tokens_per_s_per_user, 1) },
      ...(h.phases.includes("prefill") ? [{ header: "TTFT", unit: "ms", format: (x: Row) => f(x.ttft_ms, 1) }] : []),
      { header: "TPOT", unit: "ms", format: (x) => f(x.tpot_ms, 2) },
      { header: "mem", unit: "GB", format: (x) => gbText(x.memory_per_gpu_bytes) },
      // Cost only where there is a price (a hardware file's price_per_gpu_hour_usd or the flag).
      ...(o.frontier.some((x) => x.cost_per_1m_output_tokens_usd !== null)
        ? [{ header: "USD/1M out", format: (x: Row) => f(x.cost_per_1m_output_tokens_usd, 3) }]
        : [])
    ]
    lines.push(renderTable(cols, o.frontier).trimEnd())
  }
  lines.push("")
  lines.push(`Best under the constraints (objective: ${OBJECTIVE_TEXT[h.objective]}):`)
  const order = [h.objective, ...(Object.keys(OBJECTIVES) as Array<Objective>).filter((x) => x !== h.objective)]
  for (const ob of order) {
    const b = o.best[ob]
    if (!b) {
      lines.push(`  ${OBJECTIVE_TEXT[ob]}: no feasible point${ob.startsWith("cost") ? " with a price (price_per_gpu_hour_usd)" : ""}`)
      continue
    }
    lines.push(`  ${OBJECTIVE_TEXT[ob]}: ${objectiveText(b, ob)} at ${whereText(b, axes) || "the scenario's point"} (${pointFacts(b)})`)
    const ns = o.neighbours[ob] ?? []
    if (ns.length > 0) lines.push(`    neighbours: ${ns.map(neighbourText).join("; ")}`)
  }
  if (h.group_by !== null && h.group_by !== undefined) {
    lines.push("")
    lines.push(`Best per ${h.group_by.axis} (${OBJECTIVE_TEXT[h.group_by.objective]}):`)
    const values = h.axes[h.group_by.axis as AxisName] ?? []
    for (const v of values) {
      const b = o.best_by.find((x) => String((x as unknown as Record<string, unknown>)[h.group_by!.axis]) === String(v))
      const rest = axes.filter((a) => a !== h.group_by!.axis)
      lines.push(
        b === undefined
          ? `  ${v}: no feasible point`
          : `  ${v}: ${objectiveText(b, h.group_by.objective)} at ${whereText(b, rest) || "the scenario's point"} (${pointFacts(b)})`
      )
    }
  }
  return lines.join("\n") + "\n"
}

const objectiveText = (b: Row, ob: Objective): string => (ob.startsWith("cost") ? `${b[ob]!.toFixed(3)} USD` : b[ob]!.toFixed(1))

/** What a reader needs to trust a point: GPUs, latencies, memory against HBM with its parts, the largest batch. */
const pointFacts = (b: Row): string => {
  const parts = [`${b.gpus} GPU${b.gpus === 1 ? "" : "s"}`]
  if (b.ttft_ms !== null) parts.push(`TTFT ${f(b.ttft_ms, 1)} ms`)
  if (b.tpot_ms !== null) parts.push(`TPOT ${f(b.tpot_ms, 2)} ms`)
  parts.push(
    `${gbText(b.memory_per_gpu_bytes)} of ${gbText(b.capacity_bytes)} GB: weights ${gbText(b.weights_bytes)}, KV ${gbText(b.kv_cache_bytes)}, activations ${gbText(b.activation_bytes)}, buffers ${gbText(b.comm_buffer_bytes)}`
  )
  parts.push(`max batch ${b.max_batch}`)
  return parts.join(", ")
}

export const renderSweepJson = (r: SweepResult): string =>
  JSON.stringify(
    {
      sweep: r.header,
      stats: r.outcome.stats,
      points_file: r.points_file,
      frontier: r.outcome.frontier,
      best: r.outcome.best,
      best_by: r.outcome.best_by,
      neighbours: r.outcome.neighbours
    },
    null,
    2
  ) + "\n"

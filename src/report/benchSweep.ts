/**
 * The screens of `llmsim sweep --bench`: what was served and under which SLOs, one row per layout
 * (its capacity, the largest rate meeting the SLOs and the figures at that rate, or why it could
 * not serve), the best layout per objective, and the Pareto frontier of every probe that met the
 * SLOs. JSON carries the same objects; a rate of Infinity (the SLOs hold even at max load) is
 * written "inf", as vLLM writes its request rate.
 */
import type { AxisName } from "../sweep/axes.ts"
import type { BenchSweepResult, BenchSweepRow, FrontierPoint } from "../sweep/bench.ts"
import { BENCH_OBJECTIVES, type BenchObjective } from "../sweep/judge.ts"
import { renderTable, type Column } from "./table.ts"

const f = (x: number | null, digits: number) => (x === null ? "-" : x.toFixed(digits))
const rateText = (x: number | null): string => (x === null ? "-" : x === Number.POSITIVE_INFINITY ? "inf" : x.toFixed(2))
const int = (n: number): string => Math.round(n).toLocaleString("en-US")

const OBJECTIVE_TEXT: Readonly<Record<BenchObjective, string>> = {
  goodput_per_gpu: "goodput, requests/s per GPU",
  output_tokens_per_s_per_gpu: "served output tokens/s per GPU",
  cost_per_1m_output_tokens_usd: "USD per 1M output tokens"
}

const sloText = (r: BenchSweepResult): string => {
  if (r.slo === null) return "no SLOs: every layout at max load (rate inf)"
  const p = `P${r.percentile}`
  const parts = (["ttft", "tpot", "e2el"] as const).filter((k) => r.slo![k] !== undefined).map((k) => `${p} ${k.toUpperCase()} <= ${r.slo![k]} ms`)
  return `${parts.join(", ")}; per layout the largest Poisson rate meeting them (rate search: docs/bench.md)`
}

const workloadText = (r: BenchSweepResult): string => {
  const w = r.workload
  const lengths =
    w.dataset === "random" ? `random ${w.input_len}/${w.output_len} tokens` : `${w.dataset}${w.output_len === null ? "" : `, outputs ${w.output_len}`}`
  return `${lengths}, ${w.num_prompts === null ? "max-load probe of twice the engine's concurrency (at least 1,000 requests)" : `max-load probe of ${int(w.num_prompts)} requests`}, seed ${w.seed}`
}

const where = (r: BenchSweepRow, axes: ReadonlyArray<AxisName>): string =>
  axes.map((a) => `${a}=${String(r.coordinates[a] ?? "-")}`).join(" ") || "the scenario's layout"

const statusText = (r: BenchSweepRow): string => {
  if (r.invalid !== null) return `invalid: ${r.invalid}`
  if (r.over_budget) return "over --max-gpus"
  const notes = [r.max_rate_rps === null ? "misses the SLOs at any rate" : r.bound === "offline" ? "meets them at max load" : ""]
  // A max-load probe that cannot fill the engine twice measures a burst, not a capacity.
  if (r.probe_requests !== null && r.engine_concurrency !== null && r.probe_requests < 2 * r.engine_concurrency)
    notes.push(`${int(r.probe_requests)} requests < 2 x the ${int(r.engine_concurrency)} the engine holds: capacity is a lower bound`)
  return notes.filter((n) => n !== "").join("; ")
}

/** The row of layout `index` (rows start at the shard's first layout with --shard). */
const rowAt = (r: BenchSweepResult, index: number): BenchSweepRow => r.rows[index - (r.shard?.first_index ?? 0)]!

export const renderBenchSweepTable = (r: BenchSweepResult): string => {
  const axes = Object.keys(r.axes) as Array<AxisName>
  const lines = [
    `sweep --bench ${r.scenario} on ${r.engine}: ${r.rows.length} layout${r.rows.length === 1 ? "" : "s"}, ${workloadText(r)}`,
    `SLOs: ${sloText(r)}`,
    `simulated ${int(r.simulated_requests)} requests`,
    ...(r.shard === undefined
      ? []
      : [
          `shard ${r.shard.k}/${r.shard.n}: layouts ${r.shard.first_index}..${r.shard.end_index - 1} of ${r.shard.total_layouts} (best and frontier of this slice; a run without --shard replays every shard's searches from a shared store)`
        ]),
    ""
  ]
  const showCost = r.rows.some((x) => x.cost_per_1m_output_tokens_usd !== null)
  const p = `P${r.percentile}`
  const cols: Array<Column<BenchSweepRow>> = [
    ...axes.map(
      (a): Column<BenchSweepRow> => ({
        header: a,
        align: a === "hardware" || a === "weights" || a === "kv_cache" || a === "moe_experts" ? "left" : "right",
        format: (x) => String(x.coordinates[a] ?? "-")
      })
    ),
    { header: "GPUs", format: (x) => String(x.gpus ?? "-") },
    { header: "KV tok/rank", format: (x) => (x.kv_tokens_per_rank === null ? "-" : int(x.kv_tokens_per_rank)) },
    { header: "capacity", unit: "req/s", format: (x) => f(x.capacity_rps, 2) },
    { header: "max rate", unit: "req/s", format: (x) => rateText(x.max_rate_rps) },
    { header: "goodput/GPU", unit: "req/s", format: (x) => f(x.goodput_per_gpu, 3) },
    { header: "out tok/s/GPU", format: (x) => f(x.output_tokens_per_s_per_gpu, 1) },
    { header: "tok/s/user", format: (x) => f(x.tokens_per_s_per_user, 1) },
    { header: `${p} TTFT`, unit: "ms", format: (x) => f(x.ttft_ms, 1) },
    { header: `${p} TPOT`, unit: "ms", format: (x) => f(x.tpot_ms, 2) },
    ...(showCost ? [{ header: "USD/1M out", format: (x: BenchSweepRow) => f(x.cost_per_1m_output_tokens_usd, 3) }] : []),
    { header: "note", align: "left", format: statusText }
  ]
  lines.push(renderTable(cols, r.rows).trimEnd(), "")
  lines.push(`Best layout (objective: ${OBJECTIVE_TEXT[r.objective]}):`)
  const order = [r.objective, ...(Object.keys(BENCH_OBJECTIVES) as Array<BenchObjective>).filter((o) => o !== r.objective)]
  for (const ob of order) {
    const i = r.best[ob]
    if (i === undefined) {
      lines.push(`  ${OBJECTIVE_TEXT[ob]}: no layout meets the SLOs${ob.startsWith("cost") ? " with a price (price_per_gpu_hour_usd)" : ""}`)
      continue
    }
    const b = rowAt(r, i)
    const value = ob.startsWith("cost") ? `${b[ob]!.toFixed(3)} USD` : b[ob]!.toFixed(ob === "goodput_per_gpu" ? 3 : 1)
    lines.push(
      `  ${OBJECTIVE_TEXT[ob]}: ${value} at ${where(b, axes)} (${b.gpus} GPU${b.gpus === 1 ? "" : "s"}, ${rateText(b.max_rate_rps)} req/s, ${p} TTFT ${f(b.ttft_ms, 1)} ms, ${p} TPOT ${f(b.tpot_ms, 2)} ms)`
    )
  }
  lines.push("")
  if (r.frontier.length === 0) lines.push("Pareto frontier: no probe met the SLOs")
  else {
    lines.push(
      `Pareto frontier of the probes that met the SLOs (served output tokens/s per GPU against tokens/s per user), ${r.frontier.length} point${r.frontier.length === 1 ? "" : "s"}:`
    )
    const fcols: Array<Column<FrontierPoint>> = [
      { header: "layout", align: "left", format: (x) => where(rowAt(r, x.index), axes) },
      { header: "rate", unit: "req/s", format: (x) => rateText(x.rate_rps) },
      { header: "out tok/s/GPU", format: (x) => x.output_tokens_per_s_per_gpu.toFixed(1) },
      { header: "tok/s/user", format: (x) => x.tokens_per_s_per_user.toFixed(1) },
      { header: "goodput/GPU", unit: "req/s", format: (x) => x.goodput_per_gpu.toFixed(3) }
    ]
    lines.push(renderTable(fcols, r.frontier).trimEnd())
  }
  return `${lines.join("\n")}\n`
}

const finite = (_k: string, v: unknown): unknown => (v === Number.POSITIVE_INFINITY ? "inf" : v)

export const renderBenchSweepJson = (r: BenchSweepResult): string => `${JSON.stringify({ sweep_bench: r }, finite, 2)}\n`

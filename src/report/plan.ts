/**
 * The screens of `llmsim plan`: the question as understood (workload, SLOs, budget, hardware and
 * prices), the best deployment of each mode side by side with its simulated figures, the answer
 * and by how much it wins, and why the other candidates lost, best first; short enough for one
 * terminal screen. JSON carries the same objects.
 */
import { PLAN_MODES, type PlannedDeployment, type PlanResult } from "../sweep/plan.ts"
import { renderTable, type Column } from "./table.ts"

/** Lines of "why the others lost" at most (JSON has them all). */
const ALTERNATIVES_SHOWN = 12

const f = (x: number | null, digits: number): string => (x === null ? "-" : x === Number.POSITIVE_INFINITY ? "inf" : x.toFixed(digits))

const sloText = (r: PlanResult): string => {
  const parts = (["ttft", "tpot", "e2el"] as const).filter((k) => r.slo![k] !== undefined).map((k) => `${k.toUpperCase()} <= ${r.slo![k]} ms`)
  return `P${r.percentile} ${parts.join(", ")}`
}

export const renderPlanTable = (r: PlanResult): string => {
  const p = `P${r.percentile}`
  const lines = [
    `llmsim plan: ${r.scenario} on ${r.engine}: random ${r.workload.input_len}/${r.workload.output_len} tokens, ${sloText(r)}, ${r.target_rate_rps === null ? "the most requests/s" : `${r.target_rate_rps} req/s`} within ${r.budget} GPU${r.budget === 1 ? "" : "s"}`,
    `hardware: ${r.hardware.map((h) => `${h.name} (${h.price_per_gpu_hour_usd === null ? "no price" : `${h.price_per_gpu_hour_usd.toFixed(2)} USD/GPU-hour`})`).join(", ")}`,
    ""
  ]
  const rows = PLAN_MODES.map((m) => r.best[m]).filter((x): x is PlannedDeployment => x !== null)
  const cols: Array<Column<PlannedDeployment>> = [
    { header: "mode", align: "left", format: (x) => x.mode },
    { header: "deployment", align: "left", format: (x) => x.text },
    { header: "GPUs", format: (x) => String(x.gpus) },
    { header: "rate", unit: "req/s", format: (x) => f(x.figures.rate_rps, 2) },
    { header: "goodput/GPU", unit: "req/s", format: (x) => f(x.figures.goodput_per_gpu, 3) },
    { header: "tok/s/user", format: (x) => f(x.figures.tokens_per_s_per_user, 1) },
    { header: `${p} TTFT`, unit: "ms", format: (x) => f(x.figures.ttft_ms, 1) },
    { header: `${p} TPOT`, unit: "ms", format: (x) => f(x.figures.tpot_ms, 2) },
    ...(rows.some((x) => x.figures.cost_per_1m_output_tokens_usd !== null)
      ? [{ header: "USD/1M out", format: (x: PlannedDeployment) => f(x.figures.cost_per_1m_output_tokens_usd, 3) }]
      : []),
    { header: "GB/GPU weights+KV of HBM", format: (x) => `${x.memory.weights_gb.toFixed(1)}+${x.memory.kv_cache_gb.toFixed(1)} of ${x.memory.hbm_gb}` }
  ]
  if (rows.length === 0) lines.push("no deployment meets the SLOs within the budget: the closest candidates are below")
  else lines.push(renderTable(cols, rows).trimEnd())
  // The winner: the most goodput per GPU (ties to the earlier mode: the simpler deployment).
  const win = rows.reduce<PlannedDeployment | null>((best, x) => (best === null || x.figures.goodput_per_gpu > best.figures.goodput_per_gpu ? x : best), null)
  if (win !== null) {
    const runnerUp = rows
      .filter((x) => x !== win)
      .reduce<PlannedDeployment | null>((b, x) => (b === null || x.figures.goodput_per_gpu > b.figures.goodput_per_gpu ? x : b), null)
    const by =
      runnerUp === null
        ? ""
        : `: ${((win.figures.goodput_per_gpu / runnerUp.figures.goodput_per_gpu - 1) * 100).toFixed(1)}% more goodput per GPU than the best ${runnerUp.mode} deployment`
    lines.push("", `answer: ${win.mode} ${win.text}${by}`)
  }
  for (const d of rows)
    if (d.roles !== undefined)
      lines.push(
        `  ${d.mode} roles apart: a prefill instance ${d.roles.prefill_rps.toFixed(2)} req/s within TTFT, a decode instance ${d.roles.decode_rps.toFixed(2)} req/s within TPOT; the pair predicted ${d.roles.predicted_rps.toFixed(2)}, simulated whole ${f(d.figures.rate_rps, 2)} req/s`
      )
  if (r.alternatives.length > 0) {
    // Candidates out for one reason share a line: "TP1, TEP2 on H800-SXM: no memory ...".
    const groups: Array<{ mode: string; texts: Array<string>; why: string }> = []
    for (const x of r.alternatives) {
      const g = groups.find((y) => y.mode === x.mode && y.why === x.why)
      if (g !== undefined) g.texts.push(x.text)
      else groups.push({ mode: x.mode, texts: [x.text], why: x.why })
    }
    lines.push("", "why the others lost (best first):")
    for (const g of groups.slice(0, ALTERNATIVES_SHOWN)) lines.push(`  ${g.mode} ${joinOn(g.texts)}: ${g.why}`)
    if (groups.length > ALTERNATIVES_SHOWN) lines.push(`  ... ${groups.length - ALTERNATIVES_SHOWN} more (--format json)`)
  }
  lines.push("", `simulated ${Math.round(r.simulated_requests).toLocaleString("en-US")} requests on the engine model (llmsim bench; docs/plan.md)`)
  return `${lines.join("\n")}\n`
}

/** "TP1 on H800-SXM", "TEP2 on H800-SXM" -> "TP1, TEP2 on H800-SXM" when they share the hardware. */
const joinOn = (texts: ReadonlyArray<string>): string => {
  const on = texts.map((t) => / on (\S+)$/.exec(t)?.[1])
  if (texts.length > 1 && on.every((h) => h !== undefined && h === on[0])) return `${texts.map((t) => t.replace(/ on \S+$/, "")).join(", ")} on ${on[0]}`
  return texts.join(", ")
}

const finite = (_k: string, v: unknown): unknown => (v === Number.POSITIVE_INFINITY ? "inf" : v)

export const renderPlanJson = (r: PlanResult): string => `${JSON.stringify({ plan: r }, finite, 2)}\n`

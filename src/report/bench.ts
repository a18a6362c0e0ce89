/**
 * The screens of `llmsim bench`: the setup (engine settings, the KV budget and how the engine's
 * memory rule got there), `vllm bench serve`'s summary block (src/serve/metrics.ts formatSummary)
 * with per-GPU lines, the simulator's own counts, and with `--compare` every field beside the
 * measured one. JSON is vLLM's result keys at the top level (so a `--save-result` file and this
 * compare key by key) and llmsim's facts under `llmsim`.
 */
import type { BenchOutput } from "../playbooks/bench.ts"
import type { Comparison } from "../serve/compare.ts"
import { formatSummary } from "../serve/metrics.ts"

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`
const int = (n: number): string => Math.round(n).toLocaleString("en-US")
const onOff = (b: boolean): string => (b ? "on" : "off")

/** The setup lines above the summary block. */
const setupLines = (o: BenchOutput): Array<string> => {
  const s = o.setup
  const e = s.engine
  const l = s.layout
  const w = o.workload
  const graphs = e.cuda_graph_sizes.length === 0 ? "off" : `up to ${e.cuda_graph_sizes.at(-1)}`
  const host = `host ${e.host_step_ms} ms + ${e.host_per_seq_ms} ms/sequence a step (${e.host_source})`
  const terms = s.kv_cache.terms.map((t) => `${t.bytes < 0 ? "- " : ""}${gib(Math.abs(t.bytes))} ${t.label}`).join(" ")
  const workload =
    w.dataset === "trace"
      ? `trace, ${int(w.num_prompts)} requests at their timestamps`
      : `${w.dataset}, ${int(w.num_prompts)} prompts at ${w.request_rate === Number.POSITIVE_INFINITY ? "rate inf (all at once)" : `${w.request_rate} req/s, burstiness ${w.burstiness}`}, seed ${w.seed}`
  if (s.disaggregated !== null)
    return [
      ...disaggregatedLines(o),
      `workload  ${workload}${w.max_concurrency === null ? "" : `, max concurrency ${w.max_concurrency}`}${w.mtp_acceptance > 0 ? `, MTP acceptance ${w.mtp_acceptance}` : ""}`
    ]
  return [
    `llmsim bench: ${s.scenario} on ${s.hardware}, ${e.engine} ${e.version}, tp ${l.tp} x dp ${l.dp}, ep ${l.ep}${l.wide_ep ? " wide EP (DeepEP, two-batch overlap)" : ""}: ${l.gpus} GPU${l.gpus === 1 ? "" : "s"}`,
    `engine    max running ${int(e.max_running)} per rank, step budget ${int(e.max_step_tokens)} tokens, chunked prefill ${onOff(e.chunked_prefill)}, ${e.mixed_steps ? "mixed prefill+decode steps" : "prefill and decode steps apart"}, CUDA graphs ${graphs}`,
    `          ${host}`,
    `KV cache  ${int(s.kv_cache.kv_tokens)} tokens per rank (${int(s.memory.kv_bytes_per_token)} bytes per token per GPU): ${s.kv_cache.rule}`,
    `          ${terms} = ${gib(s.kv_cache.kv_bytes)} per GPU`,
    `workload  ${workload}${w.max_concurrency === null ? "" : `, max concurrency ${w.max_concurrency}`}${w.mtp_acceptance > 0 ? `, MTP acceptance ${w.mtp_acceptance}` : ""}`
  ]
}

/** A disaggregated run's setup: both pools (engine, layout, KV) and the transfer link. */
const disaggregatedLines = (o: BenchOutput): Array<string> => {
  const d = o.setup.disaggregated!
  const e = d.decode.engine
  const pool = (name: string, p: typeof d.prefill) => {
    const l = p.layout
    return [
      `${name.padEnd(9)} ${p.instances} x (tp ${l.tp} x dp ${l.dp}, ep ${l.ep}${l.wide_ep ? " wide EP" : ""}${p.afd === null ? "" : `; AFD ${p.afd.attention_gpus} attention + ${p.afd.ffn_gpus} FFN GPUs, ${p.afd.micro_batches} micro-batches`}) on ${p.hardware}: ${p.instances * l.gpus} GPU${p.instances * l.gpus === 1 ? "" : "s"}; max running ${int(p.engine.max_running)} per rank, step budget ${int(p.engine.max_step_tokens)} tokens`,
      `          KV cache ${int(p.kv_cache.kv_tokens)} tokens per rank: ${p.kv_cache.rule}`
    ]
  }
  const t = d.transfer
  const link = `${t.link.kind === "nic" ? "the NIC" : "NVLink"}, ${t.link.lanes} lane${t.link.lanes === 1 ? "" : "s"} of ${t.link.gbps} GB/s x ${t.link.efficiency}, ${t.link.latency_us} us a transfer`
  return [
    `llmsim bench: ${o.setup.scenario}, ${e.engine} ${e.version}, prefill/decode disaggregated: ${o.setup.layout.gpus} GPUs`,
    ...pool("prefill", d.prefill),
    ...pool("decode", d.decode),
    `          host ${e.host_step_ms} ms + ${e.host_per_seq_ms} ms/sequence a step (${e.host_source})`,
    `transfer  ${int(t.kv_bytes_per_token)} bytes of KV per prompt token over ${link}; ${t.layerwise ? `layer by layer (${t.layers} layers)` : "after the prefill"}`
  ]
}

export const renderBenchTable = (o: BenchOutput, comparison?: Comparison): string => {
  const x = o.bench.extras
  const lines = [
    ...setupLines(o),
    "",
    formatSummary(o.bench.result, {
      gpus: x.gpus,
      ...(o.workload.max_concurrency === null ? {} : { max_concurrency: o.workload.max_concurrency }),
      ...(Number.isFinite(o.workload.request_rate) ? { request_rate: o.workload.request_rate } : {})
    })
  ]
  lines.push(
    `simulated ${int(x.steps)} engine steps (${int(x.prefill_steps)} with prefill), up to ${int(x.max_running)} running, ${int(x.preemptions)} preemption${x.preemptions === 1 ? "" : "s"}${x.cached_prompt_tokens > 0 ? `, ${int(x.cached_prompt_tokens)} prompt tokens from the prefix cache` : ""}; ${int(o.setup.priced_step_points)} step-grid points timed by the kernel`
  )
  if (x.transfer !== undefined) {
    const t = x.transfer
    lines.push(
      `${int(t.transfers)} KV transfers (${(t.transfer_bytes / 1e9).toFixed(2)} GB): ${t.transfer_ms_mean.toFixed(3)} ms on the link and ${t.transfer_wait_ms_mean.toFixed(3)} ms from a prompt's end to its KV's arrival on average, up to ${int(t.max_transfers_in_flight)} queued or moving at once; ${int(t.prefill_steps)} prefill-instance and ${int(t.decode_steps)} decode-instance steps`
    )
  }
  if (comparison !== undefined) lines.push("", ...compareLines(comparison))
  return `${lines.join("\n")}\n`
}

const num = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3))

/** Predicted against measured, one row per field both have. */
const compareLines = (c: Comparison): Array<string> => {
  const w = Math.max(5, ...c.rows.map((r) => r.field.length))
  const out = [
    `predicted vs measured (${c.measured_by} result):`,
    `${"field".padEnd(w)}  ${"predicted".padStart(12)}  ${"measured".padStart(12)}  ${"error".padStart(8)}`
  ]
  for (const r of c.rows) {
    const err = r.error_pct === null ? "n/a" : `${r.error_pct >= 0 ? "+" : ""}${r.error_pct.toFixed(1)}%`
    out.push(`${r.field.padEnd(w)}  ${num(r.predicted).padStart(12)}  ${num(r.measured).padStart(12)}  ${err.padStart(8)}`)
  }
  if (c.only_measured.length > 0) out.push(`measured only: ${c.only_measured.join(", ")}`)
  return out
}

/** vLLM's keys first (as `--save-result` writes them), llmsim's under `llmsim`. */
const benchJson = (o: BenchOutput, comparison?: Comparison): Record<string, unknown> => ({
  backend: `llmsim/${o.setup.engine.engine}`,
  model_id: o.setup.scenario,
  num_prompts: o.workload.num_prompts,
  request_rate: Number.isFinite(o.workload.request_rate) ? o.workload.request_rate : "inf",
  burstiness: o.workload.burstiness,
  max_concurrency: o.workload.max_concurrency,
  ...o.bench.result,
  llmsim: {
    setup: o.setup,
    workload: { ...o.workload, request_rate: Number.isFinite(o.workload.request_rate) ? o.workload.request_rate : "inf" },
    simulated: o.bench.extras,
    ...(comparison === undefined ? {} : { compare: comparison })
  }
})

export const renderBenchJson = (o: BenchOutput, comparison?: Comparison): string => `${JSON.stringify(benchJson(o, comparison), null, 2)}\n`

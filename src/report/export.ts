/**
 * The README of an exported deployment: what it is (engine, version, roles, GPUs), the settings
 * the prediction rests on, the predicted figures of `llmsim bench` on the planned workload, how
 * to launch and benchmark it, and how to compare the measurement with the prediction.
 */
import type { Exported } from "../playbooks/export.ts"
import { renderBenchTable } from "./bench.ts"

const onOff = (b: boolean) => (b ? "on" : "off")

/** What a wide-EP role's launch flags ask of the engine, and where the engine's own choice differs from the simulator's. */
const wideEpNote = (engine: Exported["input"]["engine"]): string =>
  engine === "sglang"
    ? "Wide EP: DeepEP all-to-all (`--moe-a2a-backend deepep`, normal kernels on prefill servers, low-latency on decode servers) and two-batch overlap where the table says TBO (`--enable-two-batch-overlap`), as the simulator priced the steps (src/deploy/largeEp.ts). Expert load balancing (EPLB) is not set: the prediction assumes uniform routing."
    : engine === "vllm"
      ? "Wide EP: `--all2all-backend` DeepEP (high-throughput kernels on prefill servers, low-latency elsewhere) and dual-batch overlap where the table says TBO (`--enable-dbo`), as the simulator priced the steps (src/deploy/largeEp.ts). EPLB is not set: the prediction assumes uniform routing."
      : "Wide EP: the TensorRT-LLM option list these files are checked against names no DeepEP-style MoE backend, so the options set attention DP and EP and leave `moe_config.backend` to the engine; the prediction priced DeepEP all-to-all with two-batch overlap (src/deploy/largeEp.ts), which this engine may not run."

export const renderExportReadme = (e: Exported, scenario: string, reproduce: string): string => {
  const i = e.input
  const p = e.predicted
  const r = p.bench.result
  const x = p.bench.extras
  const gpus = i.roles.reduce((n, role) => n + role.instances * role.tp * role.dp, 0)
  const version = i.roles[0]!.settings.version
  const roleLines = i.roles.map((role) => {
    const s = role.settings
    return `| ${role.role} | ${role.instances} | tp ${role.tp} x dp ${role.dp}${role.ep > 1 ? `, ep ${role.ep}` : ""}${role.wide_ep ? `, wide EP${role.two_batch_overlap ? " + TBO" : ""}` : ""} | ${s.max_running} | ${s.max_step_tokens} | ${s.memory_fraction} | ${s.cuda_graph_sizes.at(-1) ?? "off"} | ${onOff(s.chunked_prefill)} | ${onOff(s.prefix_caching)} |`
  })
  const compareFile = i.engine === "vllm" ? "result.json" : i.engine === "sglang" ? "result.jsonl" : null
  const lines = [
    `# ${scenario} on ${i.engine} ${version}: ${gpus} GPUs`,
    "",
    `Written by \`llmsim export\`. The engine loads \`${i.model}\`. Files: \`launch.sh\` starts the server${i.roles.length > 1 ? "s and the router" : ""}, \`bench.sh\` replays the planned workload with the engine's own client${i.engine === "trtllm" ? ", the `.yml` files are TensorRT-LLM's extra LLM API options" : ""}, \`predicted.json\` is the prediction in \`vllm bench serve\`'s result keys.`,
    "",
    "## Settings (the ones the prediction used)",
    "",
    "| role | instances | layout | max running per rank | step budget, tokens | memory fraction | CUDA graphs up to | chunked prefill | prefix caching |",
    "|---|---:|---|---:|---:|---:|---:|---|---|",
    ...roleLines,
    "",
    `KV cache per rank: ${p.setup.kv_cache.kv_tokens.toLocaleString("en-US")} tokens (${p.setup.kv_cache.rule}).`,
    "",
    ...(i.roles.some((role) => role.wide_ep) ? [wideEpNote(i.engine), ""] : []),
    "## Predicted",
    "",
    `Requests: random ${i.workload.input_len}/${i.workload.output_len} tokens (range ratio ${i.workload.range_ratio}), ${i.workload.num_prompts} prompts at ${i.workload.request_rate === Number.POSITIVE_INFINITY ? "rate inf" : `${i.workload.request_rate} req/s`}, seed ${i.workload.seed}.`,
    "",
    `- output throughput: ${r.output_throughput.toFixed(2)} tok/s (${x.output_throughput_per_gpu.toFixed(2)} per GPU)`,
    `- request throughput: ${r.request_throughput.toFixed(3)} req/s${r.request_goodput === null ? "" : `, goodput ${r.request_goodput.toFixed(3)} req/s`}`,
    `- TTFT mean / P99: ${r.mean_ttft_ms!.toFixed(2)} / ${(r as unknown as Record<string, number>).p99_ttft_ms!.toFixed(2)} ms`,
    `- TPOT mean / P99: ${r.mean_tpot_ms!.toFixed(2)} / ${(r as unknown as Record<string, number>).p99_tpot_ms!.toFixed(2)} ms`,
    "",
    "The whole simulated result:",
    "",
    "```",
    renderBenchTable(p).trimEnd(),
    "```",
    "",
    "## Run and compare",
    "",
    "```bash",
    "./launch.sh      # each server on its own GPUs (see the comments in the file)",
    "./bench.sh       # once the servers answer",
    "```",
    "",
    "The prediction again, and beside the measurement:",
    "",
    "```bash",
    reproduce,
    ...(compareFile === null ? [] : [`${reproduce} --compare ${compareFile}`]),
    "```",
    "",
    compareFile === null
      ? "trtllm-bench measures offline at max load: compare its reported output throughput per GPU with the prediction's."
      : "`--compare` prints each field predicted against measured.",
    ""
  ]
  return lines.join("\n")
}

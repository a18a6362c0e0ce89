/**
 * Rendering of playbook results: readable tables (default), JSON (the core result plus the
 * playbook's `deployment` and `serving`), and CSV (one row per phase and layer, or per sweep row).
 */
import { fixed, gb, mega } from "../report/format.ts"
import { renderTable } from "../report/table.ts"
import type { AfdLayer, AfdPhase } from "./afd.ts"
import type { AfdPlan, LargeEpDeployment } from "./deployment.ts"
import type { LargeEpLayer, LargeEpPhase } from "./largeEp.ts"
import { totalBytes, type MemoryParts } from "./memory.ts"
import type { AfdResult, AfdSweep, LargeEpResult, LargeEpSweep, PlaybookRuntime } from "./run.ts"
import type { AfdServing, LargeEpServing } from "./serving.ts"

export type Format = "table" | "json" | "csv"

const json = (x: unknown): string => JSON.stringify(x, null, 2) + "\n"

const imbalanceText = (li: LargeEpDeployment["load_imbalance"]): string =>
  typeof li === "number" ? `max/mean ${li}` : li === "sampling" ? "sampling (uniform routing)" : `EPLB placement of ${li.expert_loads.length} measured expert loads`

const runtimeLine = (r: PlaybookRuntime): string =>
  `runtime     batch ${r.batch_size} per attention DP rank (policy: ${r.batch_policy}), seq_len ${r.seq_len}, phase ${r.phase}` +
  (r.tokens_per_expert === undefined ? "" : `, tokens_per_expert ${r.tokens_per_expert}`)

const deploymentLines = (d: LargeEpDeployment): Array<string> => [
  `deployment  ${d.nodes} node(s) x ${d.gpus_per_node} GPUs: ${d.gpus} GPUs; attention tp ${d.tp} x dp ${d.dp}; EP${d.ep}, ${d.redundant_experts} redundant experts`,
  `            dispatch ${d.dispatch_dtype}, combine ${d.combine_dtype}; kernels prefill ${d.kernel_mode.prefill}, decode ${d.kernel_mode.decode}; ` +
  `two-batch overlap ${d.two_batch_overlap ? "on" : "off"}, ${d.micro_batches} micro-batch(es); load imbalance ${imbalanceText(d.load_imbalance)}`
]

const memoryTable = (parts: MemoryParts, s: { hbm_bytes_per_gpu: number; reserved_bytes: number; fits_in_hbm: boolean; max_batch_per_gpu: number }, title: string): string => {
  const rows: Array<[string, number]> = [
    ["attention weights", parts.attention_weights_bytes],
    ["dense FFN weights", parts.dense_ffn_weights_bytes],
    ["routed expert weights", parts.routed_expert_weights_bytes],
    ["shared expert weights", parts.shared_expert_weights_bytes],
    ["router weights", parts.router_weights_bytes],
    ["norm weights", parts.norm_weights_bytes],
    ["embedding + LM head", parts.embedding_lm_head_weights_bytes],
    ["KV cache", parts.kv_cache_bytes],
    ["activations", parts.activation_bytes],
    ["communication buffers", parts.comm_buffer_bytes]
  ]
  return [
    title,
    renderTable([{ header: "part", align: "left" }, { header: "GB" }], [
      ...rows.map(([k, v]) => [k, gb(v)]),
      ["TOTAL", gb(totalBytes(parts))],
      ["HBM", gb(s.hbm_bytes_per_gpu)],
      ["reserved", gb(s.reserved_bytes)]
    ])
  ].join("\n")
}

const servingRows = (s: LargeEpServing | AfdServing): Array<Array<string>> => [
  ["TTFT ms", fixed(s.ttft_ms, 3)],
  ["TPOT ms", fixed(s.tpot_ms, 3)],
  ["tokens/s per request", fixed(s.tokens_per_s_per_request, 2)],
  [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} tokens/s (unit)`, fixed(s.throughput_tokens_per_s, 1)],
  [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} tokens/s per GPU`, fixed(s.throughput_tokens_per_s_per_gpu, 1)],
  [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} tokens/s per node`, fixed(s.throughput_tokens_per_s_per_node, 1)],
  ...(s.throughput_kind === "decode_output" && s.prefill_tokens_per_s_per_gpu !== null
    ? [["prefill tokens/s per GPU", fixed(s.prefill_tokens_per_s_per_gpu, 1)], ["prefill tokens/s per node", fixed(s.prefill_tokens_per_s_per_node, 1)]]
    : []),
  ["GPUs / nodes", `${s.gpus} / ${s.nodes}`],
  ["memory per GPU GB", gb(s.memory_per_gpu_bytes)],
  ["HBM per GPU GB", gb(s.hbm_bytes_per_gpu)],
  ["fits in HBM", s.fits_in_hbm ? "yes" : "no"],
  ["max batch per GPU", String(s.max_batch_per_gpu)],
  ["bottleneck", `${s.bottleneck} (slowest layer ${s.bottleneck_layer})`]
]

const largeEpLayerTable = (p: LargeEpPhase): string => {
  const sum = (f: (l: LargeEpLayer) => number) => p.layers.reduce((a, l) => a + f(l), 0)
  const row = (l: LargeEpLayer) => [
    l.layer_name, l.layer_type, fixed(l.attention_ms, 4), fixed(l.ffn_ms, 4), fixed(l.dispatch_ms, 4), fixed(l.combine_ms, 4), fixed(l.tp_comm_ms, 4),
    fixed(l.comm_ms, 4), fixed(l.exposed_comm_ms, 4), fixed(l.layer_ms, 4), l.bound, mega(l.nvlink_bytes), mega(l.nic_bytes), fixed(l.load_imbalance, 3)
  ]
  return renderTable(
    [
      { header: "layer", align: "left" }, { header: "type", align: "left" }, { header: "attention ms" }, { header: "ffn ms" }, { header: "dispatch ms" },
      { header: "combine ms" }, { header: "tp comm ms" }, { header: "comm ms" }, { header: "exposed comm ms" }, { header: "layer ms" },
      { header: "bound", align: "left" }, { header: "NVLink MB" }, { header: "NIC MB" }, { header: "imbalance" }
    ],
    [
      ...p.layers.map(row),
      ["TOTAL", "", fixed(sum((l) => l.attention_ms), 4), fixed(sum((l) => l.ffn_ms), 4), fixed(sum((l) => l.dispatch_ms), 4), fixed(sum((l) => l.combine_ms), 4),
        fixed(sum((l) => l.tp_comm_ms), 4), fixed(sum((l) => l.comm_ms), 4), fixed(sum((l) => l.exposed_comm_ms), 4), fixed(p.step_ms, 4), "",
        mega(sum((l) => l.nvlink_bytes)), mega(sum((l) => l.nic_bytes)), ""]
    ]
  )
}

const boundLine = (b: Readonly<Record<string, number>>): string => Object.entries(b).map(([k, v]) => `${k} ${fixed(v, 3)} ms`).join(", ")

export const renderLargeEpTable = (r: LargeEpResult): string => {
  const out: Array<string> = []
  out.push(`scenario    ${r.scenario}`)
  out.push(`hardware    ${r.hardware}   playbook large-ep   estimator ${r.estimator}`)
  out.push(...deploymentLines(r.deployment))
  out.push(runtimeLine(r.runtime))
  for (const phase of ["prefill", "decode"] as const) {
    const p = r.serving.phases[phase]
    if (!p) continue
    out.push("")
    out.push(`== ${phase} step per GPU: ${p.kernel_mode} all-to-all, ${r.deployment.micro_batches} micro-batch(es) of ${fixed(p.micro_batch_size, 2)} sequences ==`)
    out.push(largeEpLayerTable(p))
    out.push(`step ${fixed(p.step_ms, 3)} ms (LM head ${fixed(p.lm_head_ms, 3)} ms); time by binding term: ${boundLine(p.bound_ms)} -> bottleneck ${p.bottleneck}; slowest layer ${p.bottleneck_layer}`)
    out.push("")
    out.push(memoryTable(p.memory_parts_bytes, { ...r.serving, fits_in_hbm: p.fits_in_hbm, max_batch_per_gpu: p.max_batch_per_gpu }, `== memory per GPU (${phase}): ${p.fits_in_hbm ? "fits" : "DOES NOT FIT"}; max batch per GPU ${p.max_batch_per_gpu} ==`))
  }
  out.push("")
  out.push("== serving ==")
  out.push(renderTable([{ header: "metric", align: "left" }, { header: "value" }], servingRows(r.serving)))
  return out.join("\n") + "\n"
}

export const renderLargeEpSweepTable = (r: LargeEpSweep): string => {
  const decode = r.ep_sweep[0]?.serving.throughput_kind === "decode_output"
  const rows = r.ep_sweep.map((x) => {
    const s = x.serving
    return [
      `EP${x.ep}`, String(x.deployment.nodes), String(x.deployment.gpus), String(x.deployment.redundant_experts), fixed(x.experts_per_gpu, 2), String(s.batch_size),
      fixed(decode ? s.tpot_ms : s.ttft_ms, 3), fixed(s.throughput_tokens_per_s_per_gpu, 1), fixed(s.throughput_tokens_per_s_per_node, 1),
      gb(s.memory_parts_bytes.routed_expert_weights_bytes), gb(s.memory_per_gpu_bytes), s.fits_in_hbm ? "yes" : "no", String(s.max_batch_per_gpu), s.bottleneck
    ]
  })
  return [
    `scenario    ${r.scenario}`,
    `hardware    ${r.hardware}   playbook large-ep (EP sweep)   estimator ${r.estimator}`,
    runtimeLine(r.runtime),
    "",
    renderTable(
      [
        { header: "EP", align: "left" }, { header: "nodes" }, { header: "GPUs" }, { header: "redundant" }, { header: "experts/GPU" }, { header: "batch/GPU" },
        { header: decode ? "TPOT ms" : "TTFT ms" }, { header: "tokens/s/GPU" }, { header: "tokens/s/node" }, { header: "expert GB/GPU" },
        { header: "memory GB/GPU" }, { header: "fits" }, { header: "max batch/GPU" }, { header: "bottleneck", align: "left" }
      ],
      rows
    )
  ].join("\n") + "\n"
}

const afdDeploymentLines = (d: AfdPlan): Array<string> => [
  `deployment  ${d.attention.instances}A${d.ffn.instances}F: attention ${d.attention.instances} x ${d.attention.gpus_per_instance} GPUs (tp ${d.attention.tp}, dp ${d.attention.dp}), ` +
  `FFN ${d.ffn.instances} x ${d.ffn.gpus_per_instance} GPUs (EP${d.ffn.ep}, ${d.ffn.redundant_experts} redundant experts)`,
  `            ${d.micro_batches} micro-batch(es); A->F ${d.a2f.dtype} over ${d.a2f.link}, F->A ${d.f2a.dtype} over ${d.f2a.link}; regime requested ${d.regime}; ` +
  `load imbalance ${imbalanceText(d.load_imbalance)}`
]

const afdLayerTable = (p: AfdPhase): string => {
  const sum = (f: (l: AfdLayer) => number) => p.layers.reduce((a, l) => a + f(l), 0)
  const row = (l: AfdLayer) => [
    l.layer_name, l.layer_type, l.regime + (l.regime_fell_back ? "*" : ""), fixed(l.stage_ms.attention, 4), fixed(l.stage_ms.a2f, 4), fixed(l.stage_ms.ffn, 4),
    fixed(l.stage_ms.f2a, 4), fixed(l.cycle_ms, 4), fixed(l.layer_ms, 4), l.bound, mega(l.a2f_bytes_per_attention_gpu), mega(l.f2a_bytes_per_attention_gpu),
    mega(l.a2f_bytes_per_ffn_gpu), mega(l.f2a_bytes_per_ffn_gpu)
  ]
  return renderTable(
    [
      { header: "layer", align: "left" }, { header: "type", align: "left" }, { header: "regime", align: "left" }, { header: "A ms/mb" }, { header: "A->F ms/mb" },
      { header: "F ms/mb" }, { header: "F->A ms/mb" }, { header: "cycle ms" }, { header: "layer ms" }, { header: "bound", align: "left" },
      { header: "A->F MB/A-GPU" }, { header: "F->A MB/A-GPU" }, { header: "A->F MB/F-GPU" }, { header: "F->A MB/F-GPU" }
    ],
    [
      ...p.layers.map(row),
      ["TOTAL", "", "", "", "", "", "", "", fixed(sum((l) => l.layer_ms), 4), "", mega(sum((l) => l.a2f_bytes_per_attention_gpu)),
        mega(sum((l) => l.f2a_bytes_per_attention_gpu)), mega(sum((l) => l.a2f_bytes_per_ffn_gpu)), mega(sum((l) => l.f2a_bytes_per_ffn_gpu))]
    ]
  )
}

export const renderAfdTable = (r: AfdResult): string => {
  const out: Array<string> = []
  out.push(`scenario    ${r.scenario}`)
  out.push(`hardware    ${r.hardware}   playbook afd   estimator ${r.estimator}`)
  out.push(...afdDeploymentLines(r.deployment))
  out.push(runtimeLine(r.runtime))
  for (const phase of ["prefill", "decode"] as const) {
    const p = r.serving.phases[phase]
    if (!p) continue
    out.push("")
    out.push(`== ${phase}: pipeline regime ${p.pipeline_regime}, ${r.deployment.micro_batches} micro-batch(es) of ${fixed(p.micro_batch_size, 2)} sequences per attention rank (mb = one micro-batch; * = fell back) ==`)
    out.push(afdLayerTable(p))
    out.push(`step ${fixed(p.step_ms, 3)} ms = layers + pipeline fill ${fixed(p.fill_ms, 3)} ms + LM head ${fixed(p.lm_head_ms, 3)} ms; ` +
      `time by binding term: ${boundLine(p.bound_ms)} -> bottleneck ${p.bottleneck}`)
    out.push("")
    out.push(memoryTable(p.memory.attention_gpu, { ...r.serving, fits_in_hbm: p.fits_in_hbm, max_batch_per_gpu: p.max_batch_per_gpu }, `== memory per attention GPU (${phase}) ==`))
    out.push("")
    out.push(memoryTable(p.memory.ffn_gpu, { ...r.serving, fits_in_hbm: p.fits_in_hbm, max_batch_per_gpu: p.max_batch_per_gpu }, `== memory per FFN GPU (${phase}) ==`))
    out.push(`${p.fits_in_hbm ? "both roles fit" : "DOES NOT FIT"} in HBM; max batch per attention GPU ${p.max_batch_per_gpu}`)
  }
  out.push("")
  out.push("== serving ==")
  out.push(renderTable([{ header: "metric", align: "left" }, { header: "value" }], [
    ["instances", `${r.serving.instances} (${r.serving.attention_gpus} attention + ${r.serving.ffn_gpus} FFN GPUs)`],
    ["pipeline regime", r.serving.pipeline_regime],
    ...servingRows(r.serving)
  ]))
  return out.join("\n") + "\n"
}

export const renderAfdSweepTable = (r: AfdSweep): string => {
  const decode = r.instance_sweep[0]?.serving.throughput_kind === "decode_output"
  const rows = r.instance_sweep.map((x) => {
    const s = x.serving
    const p = (s.phases.decode ?? s.phases.prefill)!
    const moe = p.layers.find((l) => l.layer_type === "moe_layer") ?? p.layers[0]
    return [
      x.instances, String(s.attention_gpus), String(s.ffn_gpus), String(s.batch_size), s.pipeline_regime, fixed(moe.stage_ms.attention, 4), fixed(moe.stage_ms.ffn, 4),
      fixed(moe.stage_ms.a2f + moe.stage_ms.f2a, 4), fixed(decode ? s.tpot_ms : s.ttft_ms, 3), fixed(s.throughput_tokens_per_s_per_gpu, 1),
      fixed(s.throughput_tokens_per_s_per_node, 1), gb(s.memory_per_gpu_bytes), s.fits_in_hbm ? "yes" : "no", String(s.max_batch_per_gpu), s.bottleneck
    ]
  })
  return [
    `scenario    ${r.scenario}`,
    `hardware    ${r.hardware}   playbook afd (instance sweep)   estimator ${r.estimator}`,
    runtimeLine(r.runtime),
    "(A, F and transfer ms: one micro-batch through one MoE layer)",
    "",
    renderTable(
      [
        { header: "instances", align: "left" }, { header: "A GPUs" }, { header: "F GPUs" }, { header: "batch/A-GPU" }, { header: "regime", align: "left" },
        { header: "A ms" }, { header: "F ms" }, { header: "transfer ms" }, { header: decode ? "TPOT ms" : "TTFT ms" }, { header: "tokens/s/GPU" },
        { header: "tokens/s/node" }, { header: "memory GB/GPU" }, { header: "fits" }, { header: "max batch/A-GPU" }, { header: "bottleneck", align: "left" }
      ],
      rows
    )
  ].join("\n") + "\n"
}

const csv = (columns: ReadonlyArray<string>, rows: ReadonlyArray<object>): string =>
  [columns.join(","), ...rows.map((r) => columns.map((c) => String((r as Record<string, unknown>)[c] ?? "")).join(","))].join("\n") + "\n"

const LARGE_EP_CSV = ["phase", "layer_name", "layer_type", "attention_ms", "ffn_ms", "dispatch_ms", "combine_ms", "tp_comm_ms", "comm_ms", "exposed_comm_ms", "layer_ms", "bound", "nvlink_bytes", "nic_bytes", "load_imbalance"]
const AFD_CSV = ["phase", "layer_name", "layer_type", "regime", "attention_ms", "a2f_ms", "ffn_ms", "f2a_ms", "comm_ms", "cycle_ms", "layer_ms", "bound", "a2f_bytes_per_attention_gpu", "f2a_bytes_per_attention_gpu", "a2f_bytes_per_ffn_gpu", "f2a_bytes_per_ffn_gpu"]
const SWEEP_CSV = ["label", "gpus", "nodes", "batch_size", "ttft_ms", "tpot_ms", "throughput_tokens_per_s_per_gpu", "throughput_tokens_per_s_per_node", "memory_per_gpu_bytes", "fits_in_hbm", "max_batch_per_gpu", "bottleneck"]

const layerRows = <L extends object>(phases: { prefill?: { layers: ReadonlyArray<L> }; decode?: { layers: ReadonlyArray<L> } }) =>
  (["prefill", "decode"] as const).flatMap((phase) => (phases[phase]?.layers ?? []).map((l) => ({ phase, ...l })))

export const renderLargeEp = (r: LargeEpResult, f: Format): string =>
  f === "json" ? json(r) : f === "csv" ? csv(LARGE_EP_CSV, layerRows(r.serving.phases)) : renderLargeEpTable(r)

export const renderLargeEpSweep = (r: LargeEpSweep, f: Format): string =>
  f === "json" ? json(r) : f === "csv" ? csv(SWEEP_CSV, r.ep_sweep.map((x) => ({ label: `EP${x.ep}`, ...x.serving }))) : renderLargeEpSweepTable(r)

export const renderAfd = (r: AfdResult, f: Format): string =>
  f === "json" ? json(r) : f === "csv" ? csv(AFD_CSV, layerRows(r.serving.phases)) : renderAfdTable(r)

export const renderAfdSweep = (r: AfdSweep, f: Format): string =>
  f === "json" ? json(r) : f === "csv" ? csv(SWEEP_CSV, r.instance_sweep.map((x) => ({ label: x.instances, ...x.serving }))) : renderAfdSweepTable(r)

/**
 * Rendering of playbook results: readable tables (default), JSON (the core result plus the
 * playbook's `deployment` and `serving`), and CSV (one row per phase and layer, or per sweep row).
 */
import { markUnfit, unfitVerdict } from "./fit.ts"
import { fixed, gb, mega } from "../base/format.ts"
import { renderLayerTable, type LayerListing, type LayerTableRow } from "./layerTable.ts"
import { METRIC_VALUE, renderTable, type Column } from "./table.ts"
import type { AfdLayer, AfdPhase } from "../deploy/afd.ts"
import type { AfdPlan, LargeEpDeployment } from "../deploy/deployment.ts"
import type { MeasuredExpertLoad } from "../deploy/imbalance.ts"
import type { LargeEpLayer, LargeEpPhase } from "../deploy/largeEp.ts"
import { csvTable } from "../base/csv.js"
import { totalBytes, weightBytes, type MemoryParts } from "../deploy/memory.ts"
import type { AfdResult, AfdSweep, EpSweepRow, LargeEpResult, LargeEpSweep, PlaybookRuntime } from "../playbooks/run.ts"
import type { AfdServing, LargeEpServing } from "../deploy/serving.ts"
import { efficiencyLine, type EfficiencySummary } from "../timing/efficiency.ts"
import { noteLines } from "./run.ts"
import { calibrationLine, type CalibrationSummary } from "../timing/calibration.ts"

export type Format = "table" | "json" | "csv"

/** A measured load file's size, shown in place of its counts (a recording holds millions). */
const measuredShape = (m: MeasuredExpertLoad["measured"]) => ({
  file: m.file,
  steps: m.steps.length,
  layers: m.steps[0]?.length ?? 0,
  experts: m.steps[0]?.[0]?.length ?? 0
})

const json = (x: unknown): string =>
  JSON.stringify(
    x,
    (key, value: unknown) =>
      key === "load_imbalance" && typeof value === "object" && value !== null && "measured" in value
        ? { measured: measuredShape((value as MeasuredExpertLoad).measured) }
        : value,
    2
  ) + "\n"

const imbalanceText = (li: LargeEpDeployment["load_imbalance"]): string => {
  if (typeof li === "number") return `max/mean ${li}`
  if (li === "sampling") return "sampling (uniform routing)"
  if ("measured" in li) {
    const m = measuredShape(li.measured)
    return `EPLB placement judged on ${m.steps} measured step(s) x ${m.layers} layer(s) of ${m.experts} experts (${m.file})`
  }
  return `EPLB placement of ${li.expert_loads.length} measured expert loads`
}

const runtimeLine = (r: PlaybookRuntime): string =>
  `runtime     batch ${r.batch_size} per attention DP rank (policy: ${r.batch_policy}), seq_len ${r.seq_len}, phase ${r.phase}` +
  (r.tokens_per_expert === undefined ? "" : `, tokens_per_expert ${r.tokens_per_expert}`)

const deploymentLines = (d: LargeEpDeployment): Array<string> => [
  `deployment  ${d.nodes} node(s) x ${d.gpus_per_node} GPUs: ${d.gpus} GPUs; attention tp ${d.tp} x dp ${d.dp}; EP${d.ep}, ${d.redundant_experts} redundant experts`,
  `            dispatch ${d.dispatch_dtype}, combine ${d.combine_dtype}; kernels prefill ${d.kernel_mode.prefill}, decode ${d.kernel_mode.decode}; ` +
    `two-batch overlap ${d.two_batch_overlap ? "on" : "off"}, ${d.micro_batches} micro-batch(es); load imbalance ${imbalanceText(d.load_imbalance)}`
]

const memoryTable = (
  parts: MemoryParts,
  s: { hbm_bytes_per_gpu: number; reserved_bytes: number; fits_in_hbm: boolean; max_batch_per_gpu: number },
  title: string
): string => {
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
    renderTable(
      [{ header: "part", align: "left" }, { header: "GB" }],
      [...rows.map(([k, v]) => [k, gb(v)]), ["TOTAL", gb(totalBytes(parts))], ["HBM", gb(s.hbm_bytes_per_gpu)], ["reserved", gb(s.reserved_bytes)]]
    )
  ].join("\n")
}

const servingRows = (s: LargeEpServing | AfdServing): Array<Array<string>> => {
  // Times and rates of a deployment that does not fit are not achievable: say so beside them.
  const v = (x: number | null, digits: number) => markUnfit(fixed(x, digits), s.fits_in_hbm)
  return [
    ["strategy", s.strategy],
    ["TTFT ms", v(s.ttft_ms, 3)],
    ["TPOT ms", v(s.tpot_ms, 3)],
    ["tokens/s per request", v(s.tokens_per_s_per_request, 2)],
    [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} step tokens/s (unit)`, v(s.throughput_tokens_per_s, 1)],
    [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} step tokens/s per GPU`, v(s.throughput_tokens_per_s_per_gpu, 1)],
    [`${s.throughput_kind === "decode_output" ? "decode" : "prefill"} step tokens/s per node`, v(s.throughput_tokens_per_s_per_node, 1)],
    ...(s.throughput_kind === "decode_output" && s.prefill_tokens_per_s_per_gpu !== null
      ? [
          ["prefill step tokens/s per GPU", v(s.prefill_tokens_per_s_per_gpu, 1)],
          ["prefill step tokens/s per node", v(s.prefill_tokens_per_s_per_node, 1)]
        ]
      : []),
    ["GPUs / nodes", `${s.gpus} / ${s.nodes}`],
    ["memory per GPU GB", gb(s.memory_per_gpu_bytes)],
    ["HBM per GPU GB", gb(s.hbm_bytes_per_gpu)],
    ["fits in HBM", s.fits_in_hbm ? "yes" : "no"],
    ["max batch per GPU", String(s.max_batch_per_gpu)],
    ["bottleneck", `${s.bottleneck} (slowest layer ${s.bottleneck_layer})`]
  ]
}

/** The verdict line of a deployment that does not fit (undefined when it fits): its largest memory per GPU by part. */
const playbookVerdict = (s: LargeEpServing | AfdServing): string | undefined => {
  if (s.fits_in_hbm) return undefined
  const p = s.memory_parts_bytes
  const weights = weightBytes(p)
  // AFD: the role with more memory per GPU (the rule serving.ts picks the parts by).
  const where = s.playbook === "afd" ? (totalBytes(s.memory_by_role.attention_gpu) >= totalBytes(s.memory_by_role.ffn_gpu) ? "attention GPU" : "FFN GPU") : ""
  return unfitVerdict({
    per_gpu_bytes: s.memory_per_gpu_bytes,
    hbm_bytes: s.hbm_bytes_per_gpu,
    reserved_bytes: s.reserved_bytes,
    where,
    parts: [
      ["weights", weights],
      ["KV cache", p.kv_cache_bytes],
      ["activations", p.activation_bytes],
      ["communication buffers", p.comm_buffer_bytes]
    ]
  })
}

/** A numeric column of a layer table, blank where the row lacks the figure (the TOTAL row). */
const num = <L>(header: string, unit: string | undefined, get: (l: L) => number | undefined, f: (x: number) => string): Column<LayerTableRow<L>> => ({
  header,
  unit,
  format: (r) => {
    const x = get(r.layer)
    return x === undefined ? "" : f(x)
  }
})
const ms4 = (x: number) => fixed(x, 4)
const BOUND_COLUMN = <L extends { bound?: string }>(): Column<LayerTableRow<L>> => ({ header: "bound", align: "left", format: (r) => r.layer.bound ?? "" })

/** The TOTAL row: figures summed over the layers (the others left blank). */
const totalRow = <L extends object>(layers: ReadonlyArray<L>, keys: ReadonlyArray<keyof L & string>): Partial<L> =>
  Object.fromEntries(keys.map((k) => [k, layers.reduce((a, l) => a + (l[k] as number), 0)])) as Partial<L>

type EpLine = Partial<LargeEpLayer> & { readonly layer_name: string; readonly layer_type: string }
const LARGE_EP_LAYER_COLUMNS: ReadonlyArray<Column<LayerTableRow<EpLine>>> = [
  num("attention", "ms", (l) => l.attention_ms, ms4),
  num("ffn", "ms", (l) => l.ffn_ms, ms4),
  num("dispatch", "ms", (l) => l.dispatch_ms, ms4),
  num("combine", "ms", (l) => l.combine_ms, ms4),
  num("tp comm", "ms", (l) => l.tp_comm_ms, ms4),
  num("comm", "ms", (l) => l.comm_ms, ms4),
  num("exposed comm", "ms", (l) => l.exposed_comm_ms, ms4),
  num("layer", "ms", (l) => l.layer_ms, ms4),
  BOUND_COLUMN<EpLine>(),
  num("NVLink", "MB", (l) => l.nvlink_bytes, mega),
  num("NIC", "MB", (l) => l.nic_bytes, mega),
  num("a2a NVLink", "ms", (l) => l.a2a_nvlink_ms, ms4),
  num("a2a NIC", "ms", (l) => l.a2a_nic_ms, ms4),
  num("a2a latency", "ms", (l) => l.a2a_latency_ms, ms4),
  num(
    "SM slowdown",
    undefined,
    (l) => l.compute_slowdown,
    (x) => fixed(x, 3)
  ),
  num(
    "imbalance",
    undefined,
    (l) => l.load_imbalance,
    (x) => fixed(x, 3)
  )
]

/** What the large-EP layer table shows of a layer: layers whose figures are equal share a grouped row. */
const largeEpFigures = (l: EpLine): ReadonlyArray<unknown> => [
  l.attention_ms,
  l.ffn_ms,
  l.dispatch_ms,
  l.combine_ms,
  l.tp_comm_ms,
  l.comm_ms,
  l.exposed_comm_ms,
  l.layer_ms,
  l.bound,
  l.nvlink_bytes,
  l.nic_bytes,
  l.a2a_nvlink_ms,
  l.a2a_nic_ms,
  l.a2a_latency_ms,
  l.compute_slowdown,
  l.load_imbalance
]

const largeEpLayerTable = (p: LargeEpPhase, listing: LayerListing): string =>
  renderLayerTable<EpLine>(
    p.layers,
    {
      figures: largeEpFigures,
      columns: LARGE_EP_LAYER_COLUMNS,
      total: {
        ...totalRow(p.layers, [
          "attention_ms",
          "ffn_ms",
          "dispatch_ms",
          "combine_ms",
          "tp_comm_ms",
          "comm_ms",
          "exposed_comm_ms",
          "nvlink_bytes",
          "nic_bytes",
          "a2a_nvlink_ms",
          "a2a_nic_ms",
          "a2a_latency_ms"
        ]),
        layer_name: "TOTAL",
        layer_type: "",
        layer_ms: p.step_ms
      }
    },
    listing
  )

const boundLine = (b: Readonly<Record<string, number>>): string =>
  Object.entries(b)
    .map(([k, v]) => `${k} ${fixed(v, 3)} ms`)
    .join(", ")

/** Scenario, hardware and the playbook. */
/** What a playbook screen's head shows: the scenario, hardware and estimator lines, the runtime and notes. */
interface ScreenHead {
  readonly scenario: string
  readonly hardware: string
  readonly estimator: string
  readonly efficiency?: EfficiencySummary
  readonly calibration?: CalibrationSummary
  readonly runtime: PlaybookRuntime
  readonly notes?: ReadonlyArray<string>
}

const headerLines = (r: Omit<ScreenHead, "runtime" | "notes">, what: string): Array<string> => [
  `scenario    ${r.scenario}`,
  `hardware    ${r.hardware}   playbook ${what}   estimator ${r.estimator}`,
  ...(r.efficiency === undefined ? [] : [efficiencyLine(r.efficiency)]),
  ...(r.calibration === undefined ? [] : [calibrationLine(r.calibration)])
]

/**
 * A playbook result's screen: header, deployment and runtime, one section per evaluated phase,
 * then the serving table.
 */
const playbookScreen = <P>(
  r: ScreenHead,
  what: string,
  deployment: ReadonlyArray<string>,
  phases: { readonly prefill?: P; readonly decode?: P },
  section: (phase: "prefill" | "decode", p: P) => ReadonlyArray<string>,
  serving: ReadonlyArray<ReadonlyArray<string>>,
  verdict: string | undefined
): string => {
  const out = [...headerLines(r, what), ...deployment, runtimeLine(r.runtime), ...noteLines(r.notes), ...(verdict === undefined ? [] : [verdict])]
  for (const phase of ["prefill", "decode"] as const) {
    const p = phases[phase]
    if (p) out.push("", ...section(phase, p))
  }
  out.push("", "== serving ==", renderTable(METRIC_VALUE, serving))
  return out.join("\n") + "\n"
}

const renderLargeEpTable = (r: LargeEpResult, listing: LayerListing): string =>
  playbookScreen(
    r,
    "large-ep",
    deploymentLines(r.deployment),
    r.serving.phases,
    (phase, p) => [
      `== ${phase} step per GPU: ${p.kernel_mode} all-to-all, ${r.deployment.micro_batches} micro-batch(es) of ${fixed(p.micro_batch_size, 2)} sequences ==`,
      largeEpLayerTable(p, listing),
      `step ${fixed(p.step_ms, 3)} ms (LM head ${fixed(p.lm_head_ms, 3)} ms); time by binding term: ${boundLine(p.bound_ms)} -> bottleneck ${p.bottleneck}; slowest layer ${p.bottleneck_layer}`,
      "",
      memoryTable(
        p.memory_parts_bytes,
        { ...r.serving, fits_in_hbm: p.fits_in_hbm, max_batch_per_gpu: p.max_batch_per_gpu },
        `== memory per GPU (${phase}): ${p.fits_in_hbm ? "fits" : "DOES NOT FIT"}; max batch per GPU ${p.max_batch_per_gpu} ==`
      )
    ],
    servingRows(r.serving),
    playbookVerdict(r.serving)
  )

type Swept = { readonly serving: LargeEpServing | AfdServing; readonly rejected?: string }

/** A sweep row's figure, starred when the row does not fit in HBM (the note under the table says why). */
const swept = (x: Swept, text: string): string => (x.serving.fits_in_hbm || text === "-" ? text : `${text}*`)

/** Latency and rates of a sweep row: TPOT for a decode sweep, TTFT for prefill. */
const sweepRateColumns = <R extends Swept>(decode: boolean): Array<Column<R>> => [
  { header: decode ? "TPOT ms" : "TTFT ms", format: (x) => swept(x, fixed(decode ? x.serving.tpot_ms : x.serving.ttft_ms, 3)) },
  { header: "step tok/s/GPU", format: (x) => swept(x, fixed(x.serving.throughput_tokens_per_s_per_gpu, 1)) },
  { header: "step tok/s/node", format: (x) => swept(x, fixed(x.serving.throughput_tokens_per_s_per_node, 1)) }
]

/** The note under a sweep with rows that do not fit, naming them. */
const sweepFitNote = <R extends Swept>(rows: ReadonlyArray<R>, label: (x: R) => string): Array<string> => {
  const unfit = rows.filter((x) => !x.serving.fits_in_hbm).map(label)
  return [
    ...(unfit.length === 0 ? [] : [`* does not fit in HBM (${unfit.join(", ")}): their TTFT, TPOT and tokens/s are not achievable`]),
    // A row the batch policy rejected is shown at batch 1, so its figures say by how much it misses.
    ...rows.filter((x) => x.rejected !== undefined).map((x) => `${label(x)} rejected, shown at batch 1: ${x.rejected}`)
  ]
}

/** Memory, fit and bottleneck of a sweep row; `perGpu` names the GPU the batch is counted on. */
const sweepFitColumns = <R extends Swept>(perGpu: string): Array<Column<R>> => [
  { header: "memory GB/GPU", format: (x) => gb(x.serving.memory_per_gpu_bytes) },
  { header: "fits", format: (x) => (x.serving.fits_in_hbm ? "yes" : "no") },
  { header: `max batch/${perGpu}`, format: (x) => String(x.serving.max_batch_per_gpu) },
  { header: "bottleneck", align: "left", format: (x) => x.serving.bottleneck }
]

const sweepTable = <R>(
  r: ScreenHead,
  what: string,
  notes: ReadonlyArray<string>,
  columns: ReadonlyArray<Column<R>>,
  rows: ReadonlyArray<R>,
  after: ReadonlyArray<string> = []
): string => [...headerLines(r, what), runtimeLine(r.runtime), ...noteLines(r.notes), ...notes, "", renderTable(columns, rows), ...after].join("\n") + "\n"

const renderLargeEpSweepTable = (r: LargeEpSweep): string => {
  const decode = r.ep_sweep[0]?.serving.throughput_kind === "decode_output"
  return sweepTable<EpSweepRow>(
    r,
    "large-ep (EP sweep)",
    [],
    [
      { header: "EP", align: "left", format: (x) => `EP${x.ep}` },
      { header: "nodes", format: (x) => String(x.deployment.nodes) },
      { header: "GPUs", format: (x) => String(x.deployment.gpus) },
      { header: "redundant", format: (x) => String(x.deployment.redundant_experts) },
      { header: "experts/GPU", format: (x) => fixed(x.experts_per_gpu, 2) },
      { header: "batch/GPU", format: (x) => String(x.serving.batch_size) },
      ...sweepRateColumns<EpSweepRow>(decode),
      { header: "expert GB/GPU", format: (x) => gb(x.serving.memory_parts_bytes.routed_expert_weights_bytes) },
      ...sweepFitColumns<EpSweepRow>("GPU")
    ],
    r.ep_sweep,
    sweepFitNote(r.ep_sweep, (x) => `EP${x.ep}`)
  )
}

const afdDeploymentLines = (d: AfdPlan): Array<string> => [
  `deployment  ${d.attention.instances}A${d.ffn.instances}F: attention ${d.attention.instances} x ${d.attention.gpus_per_instance} GPUs (tp ${d.attention.tp}, dp ${d.attention.dp}), ` +
    `FFN ${d.ffn.instances} x ${d.ffn.gpus_per_instance} GPUs (EP${d.ffn.ep}, ${d.ffn.redundant_experts} redundant experts)`,
  `            ${d.micro_batches} micro-batch(es); A->F ${d.a2f.dtype} over ${d.a2f.link}, F->A ${d.f2a.dtype} over ${d.f2a.link}; regime requested ${d.regime}; ` +
    `load imbalance ${imbalanceText(d.load_imbalance)}`
]

type AfdLine = Partial<AfdLayer> & { readonly layer_name: string; readonly layer_type: string }
const AFD_LAYER_COLUMNS: ReadonlyArray<Column<LayerTableRow<AfdLine>>> = [
  { header: "regime", align: "left", format: (r) => (r.layer.regime === undefined ? "" : r.layer.regime + (r.layer.regime_fell_back ? "*" : "")) },
  num("A", "ms/mb", (l) => l.stage_ms?.attention, ms4),
  num("A->F", "ms/mb", (l) => l.stage_ms?.a2f, ms4),
  num("F", "ms/mb", (l) => l.stage_ms?.ffn, ms4),
  num("F->A", "ms/mb", (l) => l.stage_ms?.f2a, ms4),
  num("cycle", "ms", (l) => l.cycle_ms, ms4),
  num("layer", "ms", (l) => l.layer_ms, ms4),
  BOUND_COLUMN<AfdLine>(),
  num("A->F", "MB/A-GPU", (l) => l.a2f_bytes_per_attention_gpu, mega),
  num("F->A", "MB/A-GPU", (l) => l.f2a_bytes_per_attention_gpu, mega),
  num("A->F", "MB/F-GPU", (l) => l.a2f_bytes_per_ffn_gpu, mega),
  num("F->A", "MB/F-GPU", (l) => l.f2a_bytes_per_ffn_gpu, mega)
]

/** What the AFD layer table shows of a layer: layers whose figures are equal share a grouped row. */
const afdFigures = (l: AfdLine): ReadonlyArray<unknown> => [
  l.regime,
  l.regime_fell_back,
  l.stage_ms?.attention,
  l.stage_ms?.a2f,
  l.stage_ms?.ffn,
  l.stage_ms?.f2a,
  l.cycle_ms,
  l.layer_ms,
  l.bound,
  l.a2f_bytes_per_attention_gpu,
  l.f2a_bytes_per_attention_gpu,
  l.a2f_bytes_per_ffn_gpu,
  l.f2a_bytes_per_ffn_gpu
]

const afdLayerTable = (p: AfdPhase, listing: LayerListing): string =>
  renderLayerTable<AfdLine>(
    p.layers,
    {
      figures: afdFigures,
      columns: AFD_LAYER_COLUMNS,
      total: {
        ...totalRow(p.layers, ["layer_ms", "a2f_bytes_per_attention_gpu", "f2a_bytes_per_attention_gpu", "a2f_bytes_per_ffn_gpu", "f2a_bytes_per_ffn_gpu"]),
        layer_name: "TOTAL",
        layer_type: ""
      }
    },
    listing
  )

const renderAfdTable = (r: AfdResult, listing: LayerListing): string =>
  playbookScreen(
    r,
    "afd",
    afdDeploymentLines(r.deployment),
    r.serving.phases,
    (phase, p) => {
      const fit = { ...r.serving, fits_in_hbm: p.fits_in_hbm, max_batch_per_gpu: p.max_batch_per_gpu }
      return [
        `== ${phase}: pipeline regime ${p.pipeline_regime}, ${r.deployment.micro_batches} micro-batch(es) of ${fixed(p.micro_batch_size, 2)} sequences per attention rank (mb = one micro-batch; * = fell back) ==`,
        afdLayerTable(p, listing),
        `step ${fixed(p.step_ms, 3)} ms = layers + pipeline fill ${fixed(p.fill_ms, 3)} ms + LM head ${fixed(p.lm_head_ms, 3)} ms; ` +
          `time by binding term: ${boundLine(p.bound_ms)} -> bottleneck ${p.bottleneck}`,
        "",
        memoryTable(p.memory.attention_gpu, fit, `== memory per attention GPU (${phase}) ==`),
        "",
        memoryTable(p.memory.ffn_gpu, fit, `== memory per FFN GPU (${phase}) ==`),
        `${p.fits_in_hbm ? "both roles fit" : "DOES NOT FIT"} in HBM; max batch per attention GPU ${p.max_batch_per_gpu}`
      ]
    },
    [
      ["instances", `${r.serving.instances} (${r.serving.attention_gpus} attention + ${r.serving.ffn_gpus} FFN GPUs)`],
      ["pipeline regime", r.serving.pipeline_regime],
      ...servingRows(r.serving)
    ],
    playbookVerdict(r.serving)
  )

type AfdSweepRow = AfdSweep["instance_sweep"][number]

/** One micro-batch through the first MoE layer (else the first layer) of the decode (else prefill) step. */
const sweptMoe = (x: AfdSweepRow): AfdLayer => {
  const p = (x.serving.phases.decode ?? x.serving.phases.prefill)!
  return p.layers.find((l) => l.layer_type === "moe_layer") ?? p.layers[0]
}

const renderAfdSweepTable = (r: AfdSweep): string => {
  const decode = r.instance_sweep[0]?.serving.throughput_kind === "decode_output"
  return sweepTable<AfdSweepRow>(
    r,
    "afd (instance sweep)",
    ["(A, F and transfer ms: one micro-batch through one MoE layer)"],
    [
      { header: "instances", align: "left", format: (x) => x.instances },
      { header: "A GPUs", format: (x) => String(x.serving.attention_gpus) },
      { header: "F GPUs", format: (x) => String(x.serving.ffn_gpus) },
      { header: "batch/A-GPU", format: (x) => String(x.serving.batch_size) },
      { header: "regime", align: "left", format: (x) => x.serving.pipeline_regime },
      { header: "A ms", format: (x) => fixed(sweptMoe(x).stage_ms.attention, 4) },
      { header: "F ms", format: (x) => fixed(sweptMoe(x).stage_ms.ffn, 4) },
      {
        header: "transfer ms",
        format: (x) => {
          const m = sweptMoe(x)
          return fixed(m.stage_ms.a2f + m.stage_ms.f2a, 4)
        }
      },
      ...sweepRateColumns<AfdSweepRow>(decode),
      ...sweepFitColumns<AfdSweepRow>("A-GPU")
    ],
    r.instance_sweep,
    sweepFitNote(r.instance_sweep, (x) => x.instances)
  )
}

const LARGE_EP_CSV = [
  "phase",
  "layer_name",
  "layer_type",
  "attention_ms",
  "ffn_ms",
  "dispatch_ms",
  "combine_ms",
  "tp_comm_ms",
  "comm_ms",
  "exposed_comm_ms",
  "layer_ms",
  "bound",
  "nvlink_bytes",
  "nic_bytes",
  "a2a_nvlink_ms",
  "a2a_nic_ms",
  "a2a_latency_ms",
  "compute_slowdown",
  "load_imbalance"
]
const AFD_CSV = [
  "phase",
  "layer_name",
  "layer_type",
  "regime",
  "attention_ms",
  "a2f_ms",
  "ffn_ms",
  "f2a_ms",
  "comm_ms",
  "cycle_ms",
  "layer_ms",
  "bound",
  "a2f_bytes_per_attention_gpu",
  "f2a_bytes_per_attention_gpu",
  "a2f_bytes_per_ffn_gpu",
  "f2a_bytes_per_ffn_gpu"
]
const SWEEP_CSV = [
  "label",
  "gpus",
  "nodes",
  "batch_size",
  "ttft_ms",
  "tpot_ms",
  "throughput_tokens_per_s_per_gpu",
  "throughput_tokens_per_s_per_node",
  "memory_per_gpu_bytes",
  "fits_in_hbm",
  "max_batch_per_gpu",
  "bottleneck"
]

const layerRows = <L extends object>(phases: { prefill?: { layers: ReadonlyArray<L> }; decode?: { layers: ReadonlyArray<L> } }) =>
  (["prefill", "decode"] as const).flatMap((phase) => (phases[phase]?.layers ?? []).map((l) => ({ phase, ...l })))

/** What the screens take besides the result: how the layer tables list layers (`--layers`). */
export interface PlaybookScreenOptions {
  readonly layers?: LayerListing
}

export const renderLargeEp = (r: LargeEpResult, f: Format, o: PlaybookScreenOptions = {}): string =>
  f === "json" ? json(r) : f === "csv" ? csvTable(LARGE_EP_CSV, layerRows(r.serving.phases)) : renderLargeEpTable(r, o.layers ?? "grouped")

export const renderLargeEpSweep = (r: LargeEpSweep, f: Format): string =>
  f === "json"
    ? json(r)
    : f === "csv"
      ? csvTable(
          SWEEP_CSV,
          r.ep_sweep.map((x) => ({ label: `EP${x.ep}`, ...x.serving }))
        )
      : renderLargeEpSweepTable(r)

export const renderAfd = (r: AfdResult, f: Format, o: PlaybookScreenOptions = {}): string =>
  f === "json" ? json(r) : f === "csv" ? csvTable(AFD_CSV, layerRows(r.serving.phases)) : renderAfdTable(r, o.layers ?? "grouped")

export const renderAfdSweep = (r: AfdSweep, f: Format): string =>
  f === "json"
    ? json(r)
    : f === "csv"
      ? csvTable(
          SWEEP_CSV,
          r.instance_sweep.map((x) => ({ label: x.instances, ...x.serving }))
        )
      : renderAfdSweepTable(r)

/**
 * `llmsim validate --serving`: the serving dataset's table (every row: measured output tokens/s
 * per GPU, the held-out and in-sample predictions, the step answer beside them) and its summary,
 * as text or markdown.
 */
import type { ServingSummary, ServingValidation } from "../accuracy/serving.ts"

const signed = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(1)}%`
const n0 = (x: number): string => x.toFixed(0)
const sum = (s: ServingSummary): string => `median ${s.median_abs_error_pct.toFixed(1)}%, max ${s.max_abs_error_pct.toFixed(1)}% (${s.rows} rows)`

const summaryLines = (v: ServingValidation): Array<string> => [
  `host time fitted on ${v.fitted_rows} rows: ${v.fit.host_step_ms.toFixed(3)} ms per step + ${v.fit.host_per_seq_ms.toFixed(5)} ms per sequence (shipped as trtllm's HOST_TIME)`,
  `held out (leave one model out): dense ${sum(v.held_out.dense)}; MoE ${sum(v.held_out.moe)}`,
  `in sample (fitted on every row):  dense ${sum(v.in_sample.dense)}; MoE ${sum(v.in_sample.moe)}`,
  `step answer (decode step at the largest batch the HBM holds, prefill not charged): dense ${sum(v.step_answer.dense)}; MoE ${sum(v.step_answer.moe)}`,
  `Blackwell, held out (B200 rows, leave one model out; nothing fitted on B200 serving): dense ${sum(v.blackwell.dense)}; MoE ${sum(v.blackwell.moe)}`,
  ...v.excluded.map((e) => `not fitted on (still listed): ${e}`)
]

const COLUMNS = [
  "line",
  "model",
  "hardware",
  "layout",
  "ISL/OSL",
  "max batch",
  "measured",
  "held out",
  "error",
  "in sample",
  "error",
  "step answer",
  "error"
] as const

const cells = (v: ServingValidation): Array<Array<string>> =>
  v.rows.map((r) => [
    String(r.line),
    `${r.model}${r.excluded === undefined ? "" : " *"}`,
    r.hardware,
    r.layout,
    `${r.isl}/${r.osl}`,
    String(r.max_batch),
    n0(r.measured),
    n0(r.held_out),
    signed(r.held_out_error_pct),
    n0(r.in_sample),
    signed(r.in_sample_error_pct),
    n0(r.step_answer),
    signed(r.step_answer_error_pct)
  ])

const POOL_COLUMNS = ["row", "pool", "layout", "prompt", "measured per node", "predicted per node", "error"] as const

const poolCells = (v: ServingValidation): Array<Array<string>> =>
  (v.pools?.rows ?? []).map((r) => [
    r.row_id,
    r.role === "prefill" ? "prefill (input tok/s)" : "decode (output tok/s)",
    r.layout,
    String(r.isl),
    n0(r.measured_per_node),
    n0(r.predicted_per_node),
    signed(r.error_pct)
  ])

const POOL_TITLE =
  "Disaggregated pools at saturation: LMSYS DeepSeek-V3 on H100 (disaggregated_serving.csv), each pool alone as llmsim plan measures a role, SGLang's engine model, wide EP; held out (nothing fitted)"

/** Issue 26's acceptance: a published pair's gain reproduced within this many points. */
const PAIR_GATE_POINTS = 15

const pairLines = (v: ServingValidation): Array<string> =>
  (v.pools?.pairs ?? []).map(
    (p) =>
      `${p.text}: ${p.metric} colocated ${p.predicted.aggregated.toFixed(2)} predicted vs ${p.measured.aggregated} published, disaggregated ${p.predicted.disaggregated.toFixed(2)} vs ${p.measured.disaggregated}; disaggregated/colocated ${p.predicted.gain.toFixed(2)}x vs ${p.measured.gain.toFixed(2)}x (${p.gain_points >= 0 ? "+" : ""}${p.gain_points.toFixed(0)} points; ${Math.abs(p.gain_points) <= PAIR_GATE_POINTS ? "within" : "outside"} the ${PAIR_GATE_POINTS}-point gate)`
  )

const poolText = (v: ServingValidation): Array<string> => {
  if (v.pools === undefined) return []
  const rows = [POOL_COLUMNS as unknown as Array<string>, ...poolCells(v)]
  const widths = POOL_COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return [
    "",
    POOL_TITLE,
    `assumed where the source is silent: ${v.pools.assumptions.join("; ")}`,
    "",
    ...rows.map((r) => r.map((c, i) => (i <= 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")),
    "",
    `Published aggregated-against-disaggregated pairs, held out (assumed: ${v.pools.pair_assumptions.join("; ")})`,
    ...pairLines(v)
  ]
}

const poolMarkdown = (v: ServingValidation): Array<string> =>
  v.pools === undefined
    ? []
    : [
        "",
        "## Serving: disaggregated pools at saturation",
        "",
        `${POOL_TITLE}. Assumed where the source is silent: ${v.pools.assumptions.join("; ")}.`,
        "",
        `| ${POOL_COLUMNS.join(" | ")} |`,
        `| ${POOL_COLUMNS.map((_, i) => (i <= 2 ? "---" : "---:")).join(" | ")} |`,
        ...poolCells(v).map((c) => `| ${c.join(" | ")} |`),
        "",
        "## Serving: published aggregated-against-disaggregated pairs",
        "",
        `Held out. Assumed: ${v.pools.pair_assumptions.join("; ")}.`,
        "",
        ...pairLines(v).map((l) => `- ${l}`)
      ]

export const renderServingText = (v: ServingValidation): string => {
  const rows = [COLUMNS as unknown as Array<string>, ...cells(v)]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  const lines = rows.map((r) => r.map((c, i) => (i <= 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "))
  return [
    "Serving: TensorRT-LLM max-load output tokens/s per GPU (trtllm_perf_overview.csv), llmsim bench --engine trtllm",
    ...summaryLines(v),
    "",
    ...lines,
    "* not in the fit (see above)",
    ...poolText(v),
    ""
  ].join("\n")
}

export const renderServingMarkdown = (v: ServingValidation): string =>
  [
    "## Serving: TensorRT-LLM max-load throughput",
    "",
    ...summaryLines(v).map((l) => `- ${l}`),
    "",
    `| ${COLUMNS.join(" | ")} |`,
    `| ${COLUMNS.map((_, i) => (i <= 3 ? "---" : "---:")).join(" | ")} |`,
    ...cells(v).map((c) => `| ${c.join(" | ")} |`),
    "",
    "\\* not in the fit (see above)",
    ...poolMarkdown(v),
    ""
  ].join("\n")

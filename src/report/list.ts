/**
 * `llmsim list`: one row per hardware file, model folder or scenario, with the facts a user picks
 * by (hardware: dense BF16/FP8 TFLOPS, HBM, bandwidth, price; models: attention and FFN/MoE shape;
 * scenarios: model, hardware, parallelism). Pure: rows in, a table out.
 */
import type { HardwareSpec } from "../schema/hardware.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import type { ScenarioFileSpec } from "../schema/scenario.ts"
import { renderTable } from "./table.ts"

/** A listed file or folder: its decoded content, or the first line of why it does not decode. */
export type Listed<A> = { readonly name: string; readonly file: string } & ({ readonly ok: A } | { readonly error: string })

const num = (x: number | undefined): string => (x === undefined ? "-" : String(Number(x.toFixed(2))))
const errorRow = (width: number, error: string): Array<string> => [`invalid: ${error}`, ...Array.from({ length: width - 1 }, () => "")]

export const renderHardwareList = (rows: ReadonlyArray<Listed<HardwareSpec>>): string =>
  renderTable(
    [
      { header: "hardware", align: "left" },
      { header: "BF16", unit: "TFLOPS" },
      { header: "FP8", unit: "TFLOPS" },
      { header: "HBM", unit: "GB" },
      { header: "HBM", unit: "GB/s" },
      { header: "scale-up", unit: "GB/s" },
      { header: "USD/GPU-h" },
      { header: "file", align: "left" }
    ],
    rows.map((r) => [
      r.name,
      ...("error" in r
        ? errorRow(6, r.error)
        : [
            num(r.ok.tflops?.bf16 ?? r.ok.peak_tflops),
            num(r.ok.tflops?.fp8),
            num(r.ok.hbm_gb),
            num(r.ok.memory_bandwidth_gbps),
            num(r.ok.interconnect_gbps),
            r.ok.price_per_gpu_hour_usd === undefined ? "-" : r.ok.price_per_gpu_hour_usd.toFixed(2)
          ]),
      r.file
    ])
  ) + "\n"

/** One template's shape in a few words: attention, then the dense FFN or the experts. */
const templateFacts = (t: LayerTemplate): string => {
  if (t.type === "comm_layer") return `${t.config.comm_config.pattern} ${num(t.config.comm_config.payload_mb)} MB`
  const a = t.config.attn_config
  const attn =
    a.type === "MLA"
      ? `MLA d_model ${a.d_model}, ${a.num_attention_heads} heads, kv_lora ${a.kv_lora_rank}`
      : a.type === "linear"
        ? `linear (${a.variant}) d_model ${a.d_model}, ${a.num_attention_heads} heads, fixed-size state`
        : `${a.type} d_model ${a.d_model}, ${a.num_attention_heads}/${a.num_key_value_heads ?? a.num_attention_heads} heads${a.sliding_window === undefined ? "" : `, window ${a.sliding_window}`}`
  if (t.type === "ffn_layer") return `${attn}; FFN ${t.config.ffn_config.d_ff}`
  const m = t.config.moe_config
  const shared = (m.n_shared_experts ?? 0) > 0 ? ` +${m.n_shared_experts} shared` : ""
  return `${attn}; MoE ${m.n_routed_experts} experts top-${m.num_experts_per_tok}${shared}, ${m.moe_intermediate_size} each`
}

/** A model folder: its templates, each `file: facts`. */
export const renderModelList = (rows: ReadonlyArray<Listed<ReadonlyArray<{ readonly file: string; readonly template: LayerTemplate }>>>): string =>
  renderTable(
    [
      { header: "model", align: "left" },
      { header: "layer templates", align: "left" }
    ],
    rows.map((r) => [r.name, "error" in r ? `invalid: ${r.error}` : r.ok.map((t) => `${t.file} (${t.template.type}: ${templateFacts(t.template)})`).join("; ")])
  ) + "\n"

/** Where a scenario's layers come from: the template folders (a path's folder name) or `inline`. */
const modelOf = (s: ScenarioFileSpec): string =>
  [...new Set(s.layers.map((l) => (typeof l.config === "string" ? (l.config.split("/").slice(-2, -1)[0] ?? l.config) : "inline")))].join(", ")

const parallelismOf = (s: ScenarioFileSpec): string => {
  const p = s.parallelism
  if (p !== undefined) return [`tp ${p.tp ?? 1}`, ...(p.dp === undefined ? [] : [`dp ${p.dp}`]), ...(p.ep === undefined ? [] : [`ep ${p.ep}`])].join(" ")
  const d = s.deployment
  if (d === undefined) return "tp 1"
  if (d.afd !== undefined) return "AFD"
  const a = d.attention ?? {}
  return [`tp ${a.tp ?? 1}`, ...(a.dp === undefined ? [] : [`dp ${a.dp}`]), ...(d.ep === undefined ? [] : [`ep ${d.ep}`])].join(" ")
}

export const renderScenarioList = (rows: ReadonlyArray<Listed<{ readonly spec: ScenarioFileSpec; readonly hardware: string }>>): string =>
  renderTable(
    [
      { header: "scenario", align: "left" },
      { header: "model", align: "left" },
      { header: "layers" },
      { header: "hardware", align: "left" },
      { header: "parallelism", align: "left" },
      { header: "file", align: "left" }
    ],
    rows.map((r) => [
      r.name,
      ...("error" in r
        ? errorRow(4, r.error)
        : [modelOf(r.ok.spec), String(r.ok.spec.layers.reduce((n, l) => n + (l.repeat ?? 1), 0)), r.ok.hardware, parallelismOf(r.ok.spec)]),
      r.file
    ])
  ) + "\n"

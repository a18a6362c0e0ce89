/**
 * System-level checks at a saturated operating point: DeepSeek-V3 serving throughput from
 * DeepSeek's published profiler traces (github.com/deepseek-ai/profile-data, README settings;
 * throughputs as computed by the LMSYS blog of 2025-05-05; deepseek_profile_serving.yaml).
 *
 * The operating point is the profile's stated settings, not solved to fit:
 *  - decode: EP128 (16 nodes of 8 H800), attention DP128 (TP1), 128 requests per GPU in two
 *    micro-batches of 64, every request at KV length 4,096, DeepEP low-latency all-to-all;
 *  - prefill: EP32 (4 nodes), DP32, 16,384 tokens per GPU per step = 4 prompts of 4,096 tokens,
 *    two micro-batches with the attention load balanced (2 prompts each), DeepEP normal kernels
 *    on 24 of the 132 SMs (the profile's figure: 108 SMs compute, 24 communicate).
 * Both: "absolutely balanced MoE routing" (load imbalance 1) and no redundant experts (the
 * profile's README names none; with balanced routing a replica adds weights, not tokens).
 * Model, precision and kernels are those of DeepSeek's unit scenarios (the production units'
 * files, with the profile's EP size, batch and routing as `llmsim large-ep evaluate` flags would
 * set them). MTP is not modelled (one token per request per decode step).
 *
 *   output tokens/s per GPU = 128 x 1000 / decode step ms
 *   input tokens/s per GPU  = 16,384 x 1000 / prefill step ms
 */
import { parse } from "yaml"
import type { LargeEpLayer } from "../../deploy/largeEp.ts"
import type { LargeEpSystem, SystemStep } from "../largeEpAdapter.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"

export const PROFILE_FILE = "deepseek_profile_serving.yaml"

export interface ProfilePoint {
  readonly ep: number
  readonly nodes: number
  readonly micro_batches: number
  readonly line: number
}

export interface ProfileFigures {
  readonly hardware: string
  readonly decode: ProfilePoint & {
    readonly batch_per_gpu: number
    readonly kv_len: number
    readonly comm_sms: number
    readonly tokens_per_s_per_gpu: number
    readonly dispatch_ms_per_layer: number
  }
  readonly prefill: ProfilePoint & {
    readonly prompt_len: number
    readonly tokens_per_gpu: number
    readonly comm_sms: number
    readonly tokens_per_s_per_gpu: number
  }
}

const lineOf = (text: string, section: string, key: string): number => {
  const start = text.indexOf(`\n${section}:`)
  const i = text.indexOf(key, start < 0 ? 0 : start)
  return i < 0 ? 1 : text.slice(0, i).split("\n").length
}

/** "EP128, TP1 (attention data-parallel), 16 nodes" -> { ep: 128, nodes: 16 }. */
export const parseLayout = (v: unknown): { ep: number; nodes: number } => ({
  ep: Number(/EP(\d+)/.exec(String(v))?.[1] ?? Number.NaN),
  nodes: Number(/(\d+)\s*nodes/.exec(String(v))?.[1] ?? Number.NaN)
})

/**
 * The `hardware`, `decode` and `prefill` entries of the file. Its `model:` line is not valid YAML
 * (a plain scalar with ": " inside) and is not read: the YAML parser sees only the lines of these
 * entries (the file's numbers are left as published).
 */
const readEntries = (text: string): unknown => {
  const keep: Array<string> = []
  let inside = false
  for (const line of text.split("\n")) {
    const top = /^([A-Za-z_]+):/.exec(line)
    if (top) inside = ["hardware", "decode", "prefill"].includes(top[1])
    else if (/^\S/.test(line) && !line.startsWith("#")) inside = false
    keep.push(inside ? line : "")
  }
  return parse(keep.join("\n"))
}

export const profileFigures = (text: string): ProfileFigures => {
  const y = readEntries(text) as any
  const need = (section: string, key: string): number => {
    const v = Number(y?.[section]?.[key])
    if (!Number.isFinite(v)) throw new Error(`${PROFILE_FILE}: ${section}.${key} is not a number`)
    return v
  }
  const d = parseLayout(y?.decode?.layout)
  const p = parseLayout(y?.prefill?.layout)
  return {
    hardware: String(y?.hardware ?? ""),
    decode: {
      ...d,
      micro_batches: need("decode", "micro_batches"),
      batch_per_gpu: need("decode", "batch_per_gpu"),
      kv_len: need("decode", "kv_length"),
      comm_sms: need("decode", "comm_sms"),
      tokens_per_s_per_gpu: need("decode", "output_tokens_per_s_per_gpu"),
      dispatch_ms_per_layer: need("decode", "dispatch_ms_per_layer"),
      line: lineOf(text, "decode", "output_tokens_per_s_per_gpu")
    },
    prefill: {
      ...p,
      micro_batches: need("prefill", "micro_batches"),
      prompt_len: need("prefill", "prompt_length"),
      tokens_per_gpu: need("prefill", "tokens_per_gpu_per_step"),
      comm_sms: need("prefill", "comm_sms"),
      tokens_per_s_per_gpu: need("prefill", "input_tokens_per_s_per_gpu"),
      line: lineOf(text, "prefill", "input_tokens_per_s_per_gpu")
    }
  }
}

/** The deployment overrides the profile's settings give (as `llmsim large-ep evaluate` flags). */
export const profileOverrides = (pt: ProfilePoint) =>
  ({
    ep: pt.ep,
    redundant_experts: 0,
    load_imbalance: 1,
    micro_batches: pt.micro_batches,
    two_batch_overlap: pt.micro_batches === 2
  }) as const

/** Builds the unit's step functions for a profile point; a string when the deployment is rejected or absent. */
export interface ProfileInputs {
  readonly text: string
  readonly hardwareName: string
  readonly scenarios: { readonly decode: string; readonly prefill: string }
  readonly decode: LargeEpSystem | string
  readonly prefill: LargeEpSystem | string
}

const terms = (l: LargeEpLayer | undefined, micro: number): string =>
  l === undefined
    ? "no MoE layer"
    : `one MoE layer: attention ${(l.attention_ms / micro).toFixed(3)} ms, FFN ${(l.ffn_ms / micro).toFixed(3)} ms, dispatch ${(l.dispatch_ms / micro).toFixed(3)} ms, ` +
      `combine ${(l.combine_ms / micro).toFixed(3)} ms per micro-batch (all-to-all per step: NVLink ${l.a2a_nvlink_ms.toFixed(3)} ms, NIC ${l.a2a_nic_ms.toFixed(3)} ms, ` +
      `call latency ${l.a2a_latency_ms.toFixed(3)} ms; compute x ${l.compute_slowdown.toFixed(3)} for SMs lent to communication); ` +
      `layer ${l.layer_ms.toFixed(3)} ms (${l.bound}-bound, exposed communication ${l.exposed_comm_ms.toFixed(3)} ms)`

export const deepseekProfile = (x: ProfileInputs): DatasetReport => {
  const f = profileFigures(x.text)
  const rows: Array<ValidationRow> = []
  const notes: Array<string> = []
  const skipped: Array<string> = []
  if (typeof x.decode === "string") skipped.push(`decode: ${x.decode}`)
  else {
    const s: SystemStep = x.decode.decode(f.decode.batch_per_gpu, f.decode.kv_len)
    rows.push(
      row({
        case: `decode EP${f.decode.ep}, ${f.decode.batch_per_gpu} requests per GPU, KV ${f.decode.kv_len}, ${f.decode.micro_batches} micro-batches`,
        hardware: x.hardwareName,
        unit: "output tokens/s per GPU",
        predicted: (f.decode.batch_per_gpu * 1000) / s.step_ms,
        measured: f.decode.tokens_per_s_per_gpu,
        source: `${PROFILE_FILE}:${f.decode.line}`,
        note: `step ${s.step_ms.toFixed(2)} ms (measured ${((f.decode.batch_per_gpu * 1000) / f.decode.tokens_per_s_per_gpu).toFixed(2)} ms)`
      })
    )
    const mb = f.decode.micro_batches
    notes.push(
      `Decode: ${x.decode.summary}; on ${x.scenarios.decode} with the profile's EP, batch and balanced routing. ${terms(s.moe_layer, mb)}. ` +
        `Published dispatch ~${f.decode.dispatch_ms_per_layer} ms per layer (LMSYS blog, both DeepSeek's and SGLang's traces).`
    )
  }
  if (typeof x.prefill === "string") skipped.push(`prefill: ${x.prefill}`)
  else {
    const prompts = f.prefill.tokens_per_gpu / f.prefill.prompt_len
    const s = x.prefill.prefill(prompts, f.prefill.prompt_len)
    rows.push(
      row({
        case: `prefill EP${f.prefill.ep}, ${prompts} x ${f.prefill.prompt_len}-token prompts per GPU, ${f.prefill.micro_batches} micro-batches`,
        hardware: x.hardwareName,
        unit: "input tokens/s per GPU",
        predicted: (f.prefill.tokens_per_gpu * 1000) / s.step_ms,
        measured: f.prefill.tokens_per_s_per_gpu,
        source: `${PROFILE_FILE}:${f.prefill.line}`,
        note: `step ${s.step_ms.toFixed(1)} ms (measured ${((f.prefill.tokens_per_gpu * 1000) / f.prefill.tokens_per_s_per_gpu).toFixed(1)} ms)`
      })
    )
    notes.push(
      `Prefill: ${x.prefill.summary}; on ${x.scenarios.prefill} with the profile's EP, batch and balanced routing. ${terms(s.moe_layer, f.prefill.micro_batches)}.`
    )
  }
  notes.push(
    "Operating point from the published settings (profile-data README): EP and node count from `layout`, requests or tokens per GPU, " +
      "prompt / KV length and micro-batches as stated; balanced routing (load imbalance 1), no redundant experts; nothing solved to fit. " +
      "Throughputs are the LMSYS blog's reading of DeepSeek's traces, not a DeepSeek benchmark; MTP is not modelled.",
    "In sample: the hardware file's overlap_efficiency was fitted on these two rows; " +
      "`llmsim calibrate configs/hardware/H800-SXM.yaml --overlap --data data/reference --loo` refits it and reports the leave-one-out error and the production decode average as a held-out row."
  )
  return {
    ...dataset(
      {
        id: "deepseek-profile",
        title: "DeepSeek-V3 profiled serving on H800 (profile-data settings, system level)",
        file: PROFILE_FILE,
        method:
          "Whole-model decode and prefill steps of the large-EP deployment model (src/deploy) at the profile's published settings: " +
          "throughput per GPU = tokens per GPU per step / step time.",
        rows
      },
      skipped
    ),
    notes
  }
}

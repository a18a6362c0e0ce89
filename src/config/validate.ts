/**
 * Cross-field validation of a decoded scenario, its hardware file and its layer templates: what
 * a careful reviewer of a model config checks beyond each field's own schema (KV heads against
 * query heads, top-k against the expert count, group-limited routing, d_model agreeing across
 * every layer and the LM head, tiling knobs that would silently switch off...). Without these
 * the formulas still produce a number, just a wrong one.
 *
 * The rules are pure: each returns issues `{file, path, message}` naming the offending field
 * (file is the absolute path, path is the field path inside that file); `positionIssues` maps
 * them to file:line:col through the YAML positions (src/config/yamlFile.ts locate). Layout- and
 * flag-dependent checks (ep, micro-batch, comm ranks against the GPUs) live where the layout and
 * runtime are resolved (src/kernel/layout.ts, src/config/runtime.ts).
 */
import { CALIBRATED_CONSTANTS, type HardwareSpec } from "../schema/hardware.ts"
import { datasheetOnlyProblem } from "../timing/calibration.ts"
import type { AttnConfig, FfnConfig, LayerTemplate, MoeConfig } from "../schema/layer.ts"
import type { LayerEntry, ScenarioFileSpec } from "../schema/scenario.ts"
import { ConfigError, type Issue } from "./errors.ts"
import { locate, parseYaml } from "./yamlFile.ts"

/** A rule's finding: the file (absolute path), the field path inside it, what was expected. */
export interface RuleIssue {
  readonly file: string
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

export interface ValidationInput {
  /** Absolute path of the scenario file. */
  readonly scenarioFile: string
  readonly spec: ScenarioFileSpec
  readonly hardwareFile: string
  readonly hardware: HardwareSpec
  /** `at`: an inline template's path inside the scenario file (`file` is then the scenario). */
  readonly entries: ReadonlyArray<{
    readonly index: number
    readonly entry: LayerEntry
    readonly template: LayerTemplate
    readonly file: string
    readonly at?: ReadonlyArray<PropertyKey>
  }>
}

export interface Validation {
  readonly errors: ReadonlyArray<RuleIssue>
  readonly warnings: ReadonlyArray<RuleIssue>
}

type At = (path: ReadonlyArray<PropertyKey>, message: string) => RuleIssue

const at =
  (file: string, prefix: ReadonlyArray<PropertyKey> = []): At =>
  (path, message) => ({ file, path: [...prefix, ...path], message })

/** Activations that are gated by definition (gate * up): `gated: false` contradicts them. */
const GATED_ACTS: ReadonlySet<FfnConfig["hidden_act"]> = new Set(["swiglu", "geglu"])

/** Attention: KV heads, the default head_dim, MLA's low-rank projections. */
export const attentionRules = (a: AttnConfig, issue: At): Array<RuleIssue> => {
  const out: Array<RuleIssue> = []
  const p = (k: string) => ["attn_config", k]
  if (a.type === "MLA") {
    if (a.kv_lora_rank > a.d_model)
      out.push(issue(p("kv_lora_rank"), `Expected kv_lora_rank <= d_model ${a.d_model} (a low-rank compression of the hidden state), got ${a.kv_lora_rank}`))
    if (a.q_lora_rank > a.d_model)
      out.push(issue(p("q_lora_rank"), `Expected q_lora_rank <= d_model ${a.d_model} (0 = queries projected directly), got ${a.q_lora_rank}`))
    const dsa = [a.index_n_heads, a.index_head_dim, a.index_topk]
    if (dsa.some((v) => v !== undefined) && dsa.some((v) => v === undefined)) {
      const missing = ["index_n_heads", "index_head_dim", "index_topk"].filter((_, i) => dsa[i] === undefined)
      out.push(
        issue(p(missing[0]), `Expected index_n_heads, index_head_dim and index_topk together (DeepSeek sparse attention), missing ${missing.join(", ")}`)
      )
    }
    return out
  }
  if (a.type === "linear") {
    if (a.num_attention_heads % a.num_key_heads !== 0) {
      out.push(
        issue(
          p("num_key_heads"),
          `Expected a divisor of num_attention_heads ${a.num_attention_heads} (q and k heads are repeated to the value heads), got ${a.num_key_heads}`
        )
      )
    }
    return out
  }
  if (a.sliding_window !== undefined && a.attention_chunk_size !== undefined) {
    out.push(issue(p("attention_chunk_size"), "Expected either sliding_window or attention_chunk_size, not both (a layer is windowed or chunked)"))
  }
  const heads = a.num_attention_heads
  const kv = a.num_key_value_heads
  if (kv !== undefined) {
    if (kv > heads) out.push(issue(p("num_key_value_heads"), `Expected at most num_attention_heads ${heads} KV heads, got ${kv}`))
    else if (heads % kv !== 0)
      out.push(
        issue(p("num_key_value_heads"), `Expected a divisor of num_attention_heads ${heads} (each KV head serves an equal group of query heads), got ${kv}`)
      )
    else if (a.type === "MHA" && kv !== heads)
      out.push(issue(p("num_key_value_heads"), `Expected ${heads} (MHA has one KV head per query head; use type GQA for fewer), got ${kv}`))
  }
  if (a.head_dim === undefined && a.d_model % heads !== 0) {
    out.push(
      issue(
        p("num_attention_heads"),
        `Expected a divisor of d_model ${a.d_model} when head_dim is not given (head_dim defaults to d_model / num_attention_heads), got ${heads}`
      )
    )
  }
  return out
}

/** MoE: top-k against the experts, group-limited routing, shared experts. */
export const moeRules = (m: MoeConfig, issue: At): Array<RuleIssue> => {
  const out: Array<RuleIssue> = []
  const p = (k: string) => ["moe_config", k]
  const e = m.n_routed_experts
  if (m.num_experts_per_tok > e)
    out.push(issue(p("num_experts_per_tok"), `Expected at most n_routed_experts ${e} experts per token, got ${m.num_experts_per_tok}`))
  if (m.topk_group !== undefined && m.n_group === undefined)
    out.push(issue(p("topk_group"), "Expected n_group alongside topk_group (groups a token may route into, out of n_group)"))
  if (m.n_group !== undefined) {
    if (e % m.n_group !== 0)
      out.push(issue(p("n_group"), `Expected a divisor of n_routed_experts ${e} (experts are split into equal groups), got ${m.n_group}`))
    else if (m.topk_group !== undefined) {
      if (m.topk_group > m.n_group) out.push(issue(p("topk_group"), `Expected at most n_group ${m.n_group}, got ${m.topk_group}`))
      else if (m.num_experts_per_tok > m.topk_group * (e / m.n_group)) {
        out.push(
          issue(
            p("num_experts_per_tok"),
            `Expected at most topk_group ${m.topk_group} x ${e / m.n_group} experts per group = ${m.topk_group * (e / m.n_group)} (the experts a token can reach), got ${m.num_experts_per_tok}`
          )
        )
      }
    }
  }
  if (m.shared_expert_intermediate_size !== undefined && (m.n_shared_experts ?? 0) === 0) {
    out.push(issue(p("shared_expert_intermediate_size"), "Expected n_shared_experts >= 1 when a shared-expert size is given (it would be ignored)"))
  }
  return out
}

/** One layer template: its own cross-field rules. */
export const templateRules = (t: LayerTemplate, issue: At): Array<RuleIssue> => {
  if (t.type === "comm_layer") return []
  const attn = t.config.attn_config
  const out = attentionRules(attn, issue)
  if (t.type === "ffn_layer") {
    const f = t.config.ffn_config
    if (f.d_model !== attn.d_model) out.push(issue(["ffn_config", "d_model"], `Expected attn_config.d_model ${attn.d_model}, got ${f.d_model}`))
    if (f.gated === false && GATED_ACTS.has(f.hidden_act))
      out.push(issue(["ffn_config", "gated"], `Expected true: hidden_act ${f.hidden_act} is a gated activation`))
  } else {
    const m = t.config.moe_config
    if (m.d_model !== attn.d_model) out.push(issue(["moe_config", "d_model"], `Expected attn_config.d_model ${attn.d_model}, got ${m.d_model}`))
    out.push(...moeRules(m, issue))
  }
  return out
}

/**
 * Hardware: knobs that would silently switch a model part off, and a calibration entry that says
 * `datasheet only` of a constant the file does not leave at its peak (a fit or a borrowed value
 * presented as no data at all).
 */
export const hardwareRules = (hw: HardwareSpec, issue: At): Array<RuleIssue> => {
  const out: Array<RuleIssue> = []
  const e = hw.efficiency ?? {}
  const m = e.tile_m ?? 0
  const n = e.tile_n ?? 0
  if (m > 0 !== n > 0) {
    out.push(
      issue(
        ["efficiency", m > 0 ? "tile_n" : "tile_m"],
        `Expected tile_m and tile_n both > 0 (wave quantisation on) or both 0 (off), got tile_m ${m}, tile_n ${n}`
      )
    )
  } else if ((m > 0 || e.tile_choice === "waves") && hw.sm_count === undefined) {
    out.push(
      issue(["efficiency", "tile_m"], "Expected sm_count in the hardware file: GEMM tiles are scheduled in waves over the SMs (without it tiling is off)")
    )
  }
  for (const k of CALIBRATED_CONSTANTS) {
    const problem = datasheetOnlyProblem(hw, k)
    if (problem !== undefined) out.push(issue(["calibration", k, "status"], problem))
  }
  return out
}

const dModelOf = (t: LayerTemplate): number | undefined => (t.type === "comm_layer" ? undefined : t.config.attn_config.d_model)

/** Every rule over a loaded scenario. */
export const validateScenario = (v: ValidationInput): Validation => {
  const errors: Array<RuleIssue> = []
  const warnings: Array<RuleIssue> = []
  const scenario = at(v.scenarioFile)
  errors.push(...hardwareRules(v.hardware, at(v.hardwareFile)))
  // A template shared by several entries is reported once.
  const seen = new Set<string>()
  for (const e of v.entries) {
    const key = e.at === undefined ? e.file : `${e.file}#${e.at.join(".")}`
    if (seen.has(key)) continue
    seen.add(key)
    errors.push(...templateRules(e.template, at(e.file, e.at)))
  }
  // Every layer and the LM head work on one hidden size: the first layer's.
  const first = v.entries.find((e) => dModelOf(e.template) !== undefined)
  const dModel = first === undefined ? undefined : dModelOf(first.template)
  if (first !== undefined && dModel !== undefined) {
    for (const e of v.entries) {
      const d = dModelOf(e.template)
      if (d !== undefined && d !== dModel && (e.file !== first.file || e.at !== undefined)) {
        errors.push(scenario(["layers", e.index, "config"], `Expected a template with d_model ${dModel} (layers.${first.index}'s), got d_model ${d}`))
      }
    }
    const lm = v.spec.lm_head
    if (typeof lm === "object" && lm.d_model !== dModel) {
      errors.push(scenario(["lm_head", "d_model"], `Expected the layers' d_model ${dModel}, got ${lm.d_model}`))
    }
  }
  // Measured expert loads: one per routed expert of every MoE layer, and some traffic at all.
  const li = v.spec.deployment?.load_imbalance
  if (typeof li === "object") {
    const where = ["deployment", "load_imbalance", "expert_loads"]
    const experts = [...new Set(v.entries.flatMap((e) => (e.template.type === "moe_layer" ? [e.template.config.moe_config.n_routed_experts] : [])))]
    if (experts.length === 0) errors.push(scenario(where, "Expected no expert_loads: the model has no MoE layer"))
    else if (experts.some((n) => n !== li.expert_loads.length))
      errors.push(scenario(where, `Expected one load per routed expert (${experts.join(" / ")}), got ${li.expert_loads.length}`))
    else if (li.expert_loads.every((x) => x === 0))
      errors.push(scenario(where, "Expected at least one expert load > 0 (all zero would read as perfect balance)"))
  }
  // MTP layers cost time in every decode step; without an acceptance rate they buy nothing.
  const mtp = v.spec.layers.findIndex((l) => l.mtp === true)
  if (mtp >= 0 && v.spec.runtime?.mtp_acceptance_rate === undefined) {
    warnings.push(
      scenario(
        ["layers", mtp, "mtp"],
        "MTP layers without runtime.mtp_acceptance_rate: decode runs the drafts and verifies them, but counts none accepted (rate 0)"
      )
    )
  }
  if (v.spec.lm_head === undefined) {
    warnings.push(scenario(["lm_head"], "no lm_head: the embedding and LM head (weights, time, logits) are left out; write `lm_head: none` if that is meant"))
  }
  return { errors, warnings }
}

/** Issues with file:line:col, the file shown by `show` (relative to the project root). */
export const positionIssues = (
  issues: ReadonlyArray<RuleIssue>,
  textOf: (file: string) => string | undefined,
  show: (file: string) => string
): Array<Issue> => {
  const parsed = new Map<string, ReturnType<typeof parseYaml> | undefined>()
  return issues.map((i): Issue => {
    if (!parsed.has(i.file)) {
      const text = textOf(i.file)
      parsed.set(i.file, text === undefined ? undefined : parseYaml(text, show(i.file)))
    }
    const p = parsed.get(i.file)
    const pos = p === undefined || p instanceof ConfigError ? { line: 1, col: 1 } : locate(p, i.path)
    return { file: show(i.file), ...pos, path: i.path.map(String).join("."), message: i.message }
  })
}

/**
 * `llmsim import hf`, the pure part: a parsed config.json in, the text of the layer templates
 * and a starter scenario out (no fs). Every template field carries a YAML comment naming the
 * config.json key it came from; the output depends only on the config and the options, so a
 * re-import writes the same bytes.
 *
 * Refused, with every problem listed at once: an unknown model_type (the supported ones are
 * named), a key no mapping reads and that is not known to leave the math unchanged (it might,
 * e.g. a new attention variant: never a silent dense fallback), a missing or mistyped value.
 */
import type { LayerTemplate } from "../schema/layer.ts"
import type { LmHead } from "../schema/scenario.ts"
import { modelParams } from "../layers/params.ts"
import { ConfigReader, type Field, type Json } from "./fields.ts"
import { FAMILIES, IGNORABLE_KEYS, WRAPPERS, type ModelDraft, type TemplateDraft } from "./families.ts"

export interface ImportOptions {
  readonly name: string
  /** Folder of the layer templates, as the scenario names it (project-relative). */
  readonly model_dir: string
  /** Where the config came from, for the header comments. */
  readonly source: string
  readonly hardware: string
  readonly tp: number
  readonly dp: number
  readonly ep: number
  readonly batch_size: number
  readonly seq_len: number
  readonly phase: "prefill" | "decode" | "both"
  /** With MTP layers in the config: model them with this per-draft acceptance rate (--mtp-acceptance). */
  readonly mtp_acceptance?: number
  /** Keys the user vouches do not change the math (--ignore-keys). */
  readonly ignore_keys?: ReadonlyArray<string>
  /**
   * The project's schema/ folder relative to the template folder and to the scenario's folder:
   * each file starts with its `# yaml-language-server: $schema=` line (editor validation).
   */
  readonly schema_dir?: { readonly templates: string; readonly scenario: string }
}

/** The first line that points editors at a config kind's JSON Schema (schema/, `llmsim schema`). */
const schemaLine = (dir: string | undefined, kind: string): ReadonlyArray<string> =>
  dir === undefined ? [] : [`# yaml-language-server: $schema=${dir}/${kind}.json`]

export interface ImportProblem {
  /** Dotted key path in config.json (`text_config.moe_top_k`), empty for the whole file. */
  readonly key: string
  readonly message: string
}

export type ImportResult =
  | {
      readonly ok: true
      readonly draft: ModelDraft
      readonly templates: ReadonlyArray<{ readonly path: string; readonly text: string }>
      readonly scenario: string
      readonly params: { total: number; active: number; embedding: number }
    }
  | { readonly ok: false; readonly problems: ReadonlyArray<ImportProblem> }

export const SUPPORTED_MODEL_TYPES: ReadonlyArray<string> = [...Object.keys(FAMILIES), ...Object.keys(WRAPPERS)].sort()

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

/** Map a config.json object to a model draft, or the problems that stop it. */
const draftOf = (json: unknown, ignore: ReadonlyArray<string> = []): { draft: ModelDraft } | { problems: Array<ImportProblem> } => {
  if (!isObject(json)) return { problems: [{ key: "", message: "expected a JSON object (a Hugging Face config.json)" }] }
  let c = new ConfigReader(json)
  const outer = c.optString("model_type")
  if (outer === undefined) return { problems: [{ key: "model_type", message: `expected one of ${SUPPORTED_MODEL_TYPES.join(", ")}, got nothing` }] }
  let type = outer
  const wrapped = WRAPPERS[outer]
  if (wrapped !== undefined) {
    const text = c.raw("text_config")
    if (!isObject(text))
      return { problems: [{ key: "text_config", message: `expected the text model's config object (model_type ${outer} wraps ${wrapped})` }] }
    c = new ConfigReader(text, "text_config.")
    const inner = c.optString("model_type")
    if (inner !== undefined && inner !== wrapped)
      return { problems: [{ key: "text_config.model_type", message: `expected ${wrapped}, got ${JSON.stringify(inner)}` }] }
    type = wrapped
  }
  const mapper = FAMILIES[type]
  if (mapper === undefined) {
    return {
      problems: [
        {
          key: "model_type",
          message: `expected one of ${SUPPORTED_MODEL_TYPES.join(", ")}, got ${JSON.stringify(type)} (no mapping: llmsim never falls back to a dense model)`
        }
      ]
    }
  }
  const draft = mapper(c)
  const ignorable = new Set([...IGNORABLE_KEYS, ...ignore])
  const unread = c.unread(ignorable)
  const problems = [...c.problems]
  if (unread.length > 0) {
    problems.push({
      key: `${c.prefix}${unread[0]}`,
      message: `unknown key${unread.length > 1 ? "s" : ""} ${unread.join(", ")} for model_type ${type}: the ${type} mapping does not read ${unread.length > 1 ? "them" : "it"} and cannot tell whether ${unread.length > 1 ? "they change" : "it changes"} FLOPs or bytes (pass --ignore-keys ${unread.join(",")} if not)`
    })
  }
  return problems.length > 0 ? { problems } : { draft }
}

// ---------------------------------------------------------------------------------------------
// YAML text

const COMMENT_COL = 31

const comment = (from: string): string => (from.startsWith("no key") ? from : `config.json ${from}`)

const line = (indent: string, key: string, value: string | number | boolean, why: string): string => {
  const head = `${indent}${key}: ${value}`
  return `${head.padEnd(COMMENT_COL - 1)} # ${why}`
}

const fieldLines = (fields: ReadonlyArray<Field>): Array<string> => fields.map((x) => line("  ", x.key, x.value, comment(x.from)))

const objectOf = (fields: ReadonlyArray<Field>): Record<string, number | string | boolean> => Object.fromEntries(fields.map((x) => [x.key, x.value]))

const templateOf = (t: TemplateDraft): LayerTemplate => {
  const attn = objectOf(t.attn) as any
  return t.type === "ffn_layer"
    ? { type: "ffn_layer", config: { attn_config: attn, ffn_config: objectOf(t.mlp) as any } }
    : { type: "moe_layer", config: { attn_config: attn, moe_config: objectOf(t.mlp) as any } }
}

const templateText = (t: TemplateDraft, d: ModelDraft, o: ImportOptions, count: number): string =>
  [
    ...schemaLine(o.schema_dir?.templates, t.type),
    `# ${o.name} ${t.id}: ${t.about}; ${count} of ${d.layers.length} layers.`,
    `# Imported from ${o.source} (model_type ${d.family}) by \`llmsim import hf\`.`,
    '# Each comment names the config.json key a value came from ("no key": the family\'s fixed',
    "# architecture, with its source).",
    "attn_config:",
    ...fieldLines(t.attn),
    t.type === "ffn_layer" ? "ffn_config:" : "moe_config:",
    ...fieldLines(t.mlp),
    ""
  ].join("\n")

interface Group {
  readonly id: string
  readonly first: number
  readonly count: number
}

const groups = (layers: ReadonlyArray<string>): Array<Group> => {
  const out: Array<Group> = []
  layers.forEach((id, i) => {
    const last = out[out.length - 1]
    if (last !== undefined && last.id === id) out[out.length - 1] = { ...last, count: last.count + 1 }
    else out.push({ id, first: i, count: 1 })
  })
  return out
}

const billions = (n: number): string => `${(n / 1e9).toFixed(2)}B`

const scenarioText = (d: ModelDraft, o: ImportOptions, params: { total: number; active: number; embedding: number }, source: ReadonlyArray<string>): string => {
  const typeOf = new Map(d.templates.map((t) => [t.id, t.type]))
  const layerLines = groups(d.layers).map((g) => {
    const repeat = g.count > 1 ? `, repeat: ${g.count}` : ""
    const span = g.count > 1 ? `layers ${g.first}-${g.first + g.count - 1}` : `layer ${g.first}`
    const own = d.layer_precision?.[g.id] ?? []
    const precision = own.length > 0 ? `, precision: {${own.map((x) => `${x.key}: ${x.value}`).join(", ")}}` : ""
    return `  - {type: ${typeOf.get(g.id)}, name: ${g.id}, config: ${o.model_dir}/${g.id}.yaml${repeat}${precision}}  # ${span}`
  })
  const layerPrecision = Object.entries(d.layer_precision ?? {}).flatMap(([id, fields]) =>
    fields.map((x) => `# Per-layer precision of the ${id} entries: ${x.key} ${x.value} (${comment(x.from)}).`)
  )
  const p = d.precision
  const withMtp = d.mtp_layers > 0 && d.mtp_template !== undefined && o.mtp_acceptance !== undefined
  const mtp =
    d.mtp_layers === 0
      ? []
      : withMtp
        ? [
            `# MTP: ${d.mtp_layers} multi-token-prediction layer(s) (config.json num_nextn_predict_layers / mtp_num_hidden_layers),`,
            "# modelled as speculative decoding (the `mtp: true` entry; --mtp-acceptance sets runtime.mtp_acceptance_rate)."
          ]
        : [
            `# MTP: the checkpoint has ${d.mtp_layers} multi-token-prediction layer(s) (config.json num_nextn_predict_layers /`,
            "# mtp_num_hidden_layers), left out: re-import with --mtp-acceptance <rate> to model speculative decoding."
          ]
  const mtpLine = withMtp
    ? [
        `  - {type: ${typeOf.get(d.mtp_template!)}, name: mtp, config: ${o.model_dir}/${d.mtp_template}.yaml${d.mtp_layers > 1 ? `, repeat: ${d.mtp_layers}` : ""}, mtp: true}  # MTP layer(s): one draft token each per decode step`
      ]
    : []
  return [
    ...schemaLine(o.schema_dir?.scenario, "scenario"),
    `# ${o.name}: imported from ${o.source} (model_type ${d.family}) by \`llmsim import hf\`.`,
    ...source,
    `# ${d.layers.length} decoder layers (config.json num_hidden_layers) in ${d.templates.length} template(s) under ${o.model_dir}/.`,
    `# Parameters (llmsim count: embedding and LM head included, norms included, biases not):`,
    `# total ${billions(params.total)}, active ${billions(params.active)} per token (${billions(params.active - params.embedding)} without the input embedding).`,
    ...mtp,
    ...layerPrecision,
    ...(d.tied_embeddings ? ["# tie_word_embeddings true: llmsim still holds the embedding and LM head as two tables."] : []),
    "# hardware, parallelism and runtime come from the import flags: edit them freely.",
    `name: ${o.name}`,
    `description: "${o.name}, imported from a Hugging Face config.json (${d.family})"`,
    `hardware: ${o.hardware}`,
    "layers:",
    ...layerLines,
    ...mtpLine,
    "lm_head:",
    line("  ", "vocab_size", d.vocab_size.value, comment(d.vocab_size.from)),
    line("  ", "d_model", d.d_model.value, comment(d.d_model.from)),
    "precision:",
    line("  ", "weights", p.weights.value, comment(p.weights.from)),
    ...(p.moe_experts ? [line("  ", "moe_experts", p.moe_experts.value, comment(p.moe_experts.from))] : []),
    line("  ", "activations", "bf16", "llmsim default"),
    line("  ", "kv_cache", "bf16", "llmsim default"),
    line("  ", "lm_head", p.lm_head.value, comment(p.lm_head.from)),
    "parallelism:",
    line("  ", "tp", o.tp, "--tp"),
    line("  ", "dp", o.dp, "--dp"),
    line("  ", "ep", o.ep, "--ep"),
    "runtime:",
    line("  ", "batch_size", o.batch_size, "--batch-size (sequences per attention DP group)"),
    line("  ", "seq_len", o.seq_len, "--seq-len (prompt length in prefill, KV length in decode)"),
    line("  ", "phase", o.phase, "--phase"),
    ...(withMtp ? [line("  ", "mtp_acceptance_rate", o.mtp_acceptance!, "--mtp-acceptance (per draft token)")] : []),
    ""
  ].join("\n")
}

/** The whole import: templates (paths under model_dir) and the scenario text. */
/**
 * Provenance lines from a reference file's own `_source` object (data/reference/hf-configs):
 * the Hugging Face repository as a URL, and a warning when the file is reconstructed.
 */
const provenance = (json: unknown): Array<string> => {
  const src = isObject(json) && isObject(json._source) ? json._source : undefined
  if (src === undefined) return []
  const repo = typeof src.hf_repo === "string" ? src.hf_repo.split(" ")[0] : ""
  const out = /^[\w.-]+\/[\w.-]+$/.test(repo) ? [`# Hugging Face repository: https://huggingface.co/${repo}`] : []
  if (typeof src.status === "string" && src.status.startsWith("RECONSTRUCTED"))
    out.push("# The config is RECONSTRUCTED, not verbatim: its _source object says from what.")
  return out
}

export const importHf = (json: unknown, o: ImportOptions): ImportResult => {
  const r = draftOf(json, o.ignore_keys)
  if ("problems" in r) return { ok: false, problems: r.problems }
  const d = r.draft
  const counts = new Map<string, number>()
  for (const id of d.layers) counts.set(id, (counts.get(id) ?? 0) + 1)
  const templates = d.templates.map((t) => ({ path: `${o.model_dir}/${t.id}.yaml`, text: templateText(t, d, o, counts.get(t.id) ?? 0) }))
  const byId = new Map(d.templates.map((t) => [t.id, templateOf(t)]))
  const lm: LmHead = { vocab_size: Number(d.vocab_size.value), d_model: Number(d.d_model.value) }
  const params = modelParams(
    groups(d.layers).map((g) => ({ template: byId.get(g.id)!, repeat: g.count })),
    lm
  )
  return { ok: true, draft: d, templates, scenario: scenarioText(d, o, params, provenance(json)), params }
}

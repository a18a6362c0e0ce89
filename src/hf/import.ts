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
import { ConfigReader, f, type Field, type Json, type PrecisionDraft, type ReadProblem } from "./fields.ts"
import { FAMILIES, IGNORABLE_KEYS, WRAPPERS, type ModelDraft, type TemplateDraft } from "./families.ts"
import { quantPrecision } from "./quant.ts"

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
  /** Keys the user vouches do not change the math (--ignore-keys; dotted paths inside objects). */
  readonly ignore_keys?: ReadonlyArray<string>
  /**
   * The parsed hf_quant_config.json beside config.json (NVIDIA ModelOpt checkpoints), when there
   * is one: its quantization sets the precision (src/hf/quant.ts).
   */
  readonly hf_quant_config?: unknown
  /**
   * The project's schema/ folder relative to the template folder and to the scenario's folder:
   * each file starts with its `# yaml-language-server: $schema=` line (editor validation).
   */
  readonly schema_dir?: { readonly templates: string; readonly scenario: string }
}

/** The first line that points editors at a config kind's JSON Schema (schema/, `llmsim schema`). */
const schemaLine = (dir: string | undefined, kind: string): ReadonlyArray<string> =>
  dir === undefined ? [] : [`# yaml-language-server: $schema=${dir}/${kind}.json`]

/** A problem at a key of config.json, or of hf_quant_config.json when `file` says so. */
export type ImportProblem = ReadProblem

export type ImportResult =
  | {
      readonly ok: true
      readonly draft: ModelDraft
      /** The scenario's precision, each dtype with the key it came from. */
      readonly precision: PrecisionDraft
      readonly templates: ReadonlyArray<{ readonly path: string; readonly text: string }>
      readonly scenario: string
      readonly params: { total: number; active: number; embedding: number }
    }
  | { readonly ok: false; readonly problems: ReadonlyArray<ImportProblem> }

export const SUPPORTED_MODEL_TYPES: ReadonlyArray<string> = [...Object.keys(FAMILIES), ...Object.keys(WRAPPERS)].sort()

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

const isEmpty = (v: unknown): boolean => v === undefined || v === null || (isObject(v) && Object.keys(v).length === 0)

/** The dtype unquantized weights keep: torch_dtype (or dtype), the text model's first, else the wrapper's. */
const baseDtype = (readers: ReadonlyArray<ConfigReader>): Field => {
  for (const r of readers) {
    for (const key of ["torch_dtype", "dtype"]) {
      const v = r.optString(key)
      if (v !== undefined) return f("weights", v === "float16" ? "fp16" : v === "float32" ? "fp32" : "bf16", `${r.prefix}${key} ${v}`)
    }
  }
  return f("weights", "bf16", "no torch_dtype: bf16")
}

/** config.json's quantization_config: the text model's, else the wrapper's (Llama-4 FP8 and Qwen3-VL-FP8 keep it outside text_config). */
const quantizationConfig = (readers: ReadonlyArray<ConfigReader>, ignore: ReadonlySet<string>): ConfigReader | undefined => {
  const found = readers
    .map((r) => ({ r, v: r.raw("quantization_config") }))
    .filter(({ r, v }) => v !== undefined && v !== null && !ignore.has(`${r.prefix}quantization_config`))
  if (found.length > 1 && JSON.stringify(found[0]!.v) !== JSON.stringify(found[1]!.v))
    found[1]!.r.problem(
      "quantization_config",
      `expected no quantization_config beside ${found[0]!.r.prefix}quantization_config (two descriptions of one checkpoint)`
    )
  const first = found[0]
  if (first === undefined) return undefined
  if (!isObject(first.v)) {
    first.r.problem("quantization_config", `expected an object with quant_method, got ${JSON.stringify(first.v)}`)
    return undefined
  }
  return new ConfigReader(first.v, `${first.r.prefix}quantization_config.`)
}

/** Map a config.json object to a model draft and its precision, or the problems that stop it. */
const draftOf = (
  json: unknown,
  o: Pick<ImportOptions, "ignore_keys" | "hf_quant_config">
): { draft: ModelDraft; precision: PrecisionDraft } | { problems: Array<ImportProblem> } => {
  if (!isObject(json)) return { problems: [{ key: "", message: "expected a JSON object (a Hugging Face config.json)" }] }
  const outer = new ConfigReader(json)
  let c = outer
  const given = c.optString("model_type")
  if (given === undefined) return { problems: [{ key: "model_type", message: `expected one of ${SUPPORTED_MODEL_TYPES.join(", ")}, got nothing` }] }
  let type = given
  const wrapped = WRAPPERS[given]
  if (wrapped !== undefined) {
    const text = c.raw("text_config")
    if (!isObject(text))
      return { problems: [{ key: "text_config", message: `expected the text model's config object (model_type ${given} wraps ${wrapped})` }] }
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
  if (!isEmpty(c.raw("pruned_heads"))) c.problem("pruned_heads", "expected {} (pruned attention heads are not modelled)")
  const ignore = new Set(o.ignore_keys ?? [])
  const readers = c === outer ? [c] : [c, outer]
  const base = baseDtype(readers)
  const config = quantizationConfig(readers, ignore)
  const sidecar = o.hf_quant_config === undefined || ignore.has("hf_quant_config.json") ? undefined : o.hf_quant_config
  const problems: Array<ImportProblem> = [...c.problems, ...(c === outer ? [] : outer.problems)]
  if (sidecar !== undefined && !isObject(sidecar))
    problems.push({ key: "", file: "hf_quant_config.json", message: "expected a JSON object (ModelOpt's hf_quant_config.json)" })
  const q = quantPrecision(draft, {
    ...(config === undefined ? {} : { config }),
    ...(isObject(sidecar) ? { sidecar: new ConfigReader(sidecar, "", "hf_quant_config.json") } : {}),
    ignore,
    base
  })
  problems.push(...q.problems)
  const ignorable = new Set([...IGNORABLE_KEYS, ...ignore])
  const unread = c.unread(ignorable)
  if (unread.length > 0) {
    problems.push({
      key: `${c.prefix}${unread[0]}`,
      message: `unknown key${unread.length > 1 ? "s" : ""} ${unread.join(", ")} for model_type ${type}: the ${type} mapping does not read ${unread.length > 1 ? "them" : "it"} and cannot tell whether ${unread.length > 1 ? "they change" : "it changes"} FLOPs or bytes (pass --ignore-keys ${unread.join(",")} if not)`
    })
  }
  return problems.length > 0 ? { problems } : { draft, precision: q.precision }
}

// ---------------------------------------------------------------------------------------------
// YAML text

const COMMENT_COL = 31

/** A field's YAML comment: the config.json key it came from, hf_quant_config.json's key, or why there is none. */
const comment = (from: string): string => (from.startsWith("no key") || from.startsWith("hf_quant_config.json") ? from : `config.json ${from}`)

const line = (indent: string, key: string, value: string | number | boolean, why: string): string => {
  const head = `${indent}${key}: ${value}`
  return `${head.padEnd(COMMENT_COL - 1)} # ${why}`
}

const fieldLines = (fields: ReadonlyArray<Field>): Array<string> => fields.map((x) => line("  ", x.key, x.value, comment(x.from)))

const objectOf = (fields: ReadonlyArray<Field>): Record<string, number | string | boolean> => Object.fromEntries(fields.map((x) => [x.key, x.value]))

/** The template as the layer estimators read it (the fields are the schema's by construction: test/hf decodes them). */
const templateOf = (t: TemplateDraft): LayerTemplate =>
  (t.type === "ffn_layer"
    ? { type: "ffn_layer", config: { attn_config: objectOf(t.attn), ffn_config: objectOf(t.mlp) } }
    : { type: "moe_layer", config: { attn_config: objectOf(t.attn), moe_config: objectOf(t.mlp) } }) as unknown as LayerTemplate

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

const scenarioText = (
  d: ModelDraft,
  p: PrecisionDraft,
  o: ImportOptions,
  params: { total: number; active: number; embedding: number },
  source: ReadonlyArray<string>
): string => {
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
    p.kv_cache ? line("  ", "kv_cache", p.kv_cache.value, comment(p.kv_cache.from)) : line("  ", "kv_cache", "bf16", "llmsim default"),
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

/** The whole import: templates (paths under model_dir), the scenario text and the parameter counts. */
export const importHf = (json: unknown, o: ImportOptions): ImportResult => {
  const r = draftOf(json, o)
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
  return { ok: true, draft: d, precision: r.precision, templates, scenario: scenarioText(d, r.precision, o, params, provenance(json)), params }
}

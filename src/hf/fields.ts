/**
 * Reading a Hugging Face `config.json` object key by key: every read is recorded, so the
 * importer can refuse keys it never looked at (an architecture field it does not understand must
 * not be dropped silently), and every bad value becomes one problem naming its key.
 */

/** A template field with the config.json key (or the reason) it came from. */
export interface Field {
  readonly key: string
  readonly value: number | string | boolean
  /** Shown as the field's YAML comment: `config.json <from>`, or a sentence when derived. */
  readonly from: string
}

export type Json = Record<string, unknown>

/** The scenario's precision block, each dtype with the key it came from (src/hf/quant.ts). */
export interface PrecisionDraft {
  readonly weights: Field
  readonly moe_experts?: Field
  /** Absent: llmsim's default (bf16). */
  readonly kv_cache?: Field
  readonly lm_head: Field
}

/** A problem at a key of one of the files read: config.json, or hf_quant_config.json beside it. */
export interface ReadProblem {
  /** Dotted key path in the file (`text_config.moe_top_k`), empty for the whole file. */
  readonly key: string
  readonly message: string
  /** The file the key is in, when it is not config.json. */
  readonly file?: "hf_quant_config.json"
}

/**
 * Physical ranges of imported sizes: no published checkpoint comes near them, so a value beyond
 * one is a typo or a unit slip (`hidden_size: 1e300` would print `total InfinityB`), refused at
 * its key. Model widths, FFN sizes, heads, experts and ranks: at most 2^20 (the largest
 * published are ~53,248, Llama-3.1-405B's intermediate_size); layers: at most 10,000 (a
 * scenario's limit, docs/reliability.md "Input limits"); vocabulary: at most 2^24 (the largest
 * published are ~262,144); token counts (windows, chunks, top-k tokens): at most 2^30.
 */
const MAX_DIM = 2 ** 20
const MAX_LAYERS = 10_000
const MAX_VOCAB = 2 ** 24
const MAX_TOKENS = 2 ** 30

const LIMITS: Readonly<Record<string, readonly [number, string]>> = {
  vocab_size: [MAX_VOCAB, "a vocabulary size"],
  num_hidden_layers: [MAX_LAYERS, "a layer count"],
  num_nextn_predict_layers: [MAX_LAYERS, "a layer count"],
  mtp_num_hidden_layers: [MAX_LAYERS, "a layer count"],
  first_k_dense_replace: [MAX_LAYERS, "a layer count"],
  decoder_sparse_step: [MAX_LAYERS, "a layer interval"],
  interleave_moe_layer_step: [MAX_LAYERS, "a layer interval"],
  no_rope_layer_interval: [MAX_LAYERS, "a layer interval"],
  full_attention_interval: [MAX_LAYERS, "a layer interval"],
  moe_layer_freq: [MAX_LAYERS, "a layer interval"],
  sliding_window: [MAX_TOKENS, "a token count"],
  attention_chunk_size: [MAX_TOKENS, "a token count"],
  index_topk: [MAX_TOKENS, "a token count"]
}
const limitOf = (key: string): readonly [number, string] => LIMITS[key] ?? [MAX_DIM, "a model size"]

export class ConfigReader {
  readonly used = new Set<string>()
  readonly problems: Array<ReadProblem> = []
  readonly json: Json
  readonly prefix: string
  readonly file: ReadProblem["file"]
  constructor(json: Json, prefix = "", file?: ReadProblem["file"]) {
    this.json = json
    this.prefix = prefix
    this.file = file
  }

  private push(key: string, message: string): void {
    const full = `${this.prefix}${key}`
    // A key read twice (hidden_size by the attention and the MLP) is one problem.
    if (this.problems.some((p) => p.key === full && p.message === message)) return
    this.problems.push({ key: full, message, ...(this.file === undefined ? {} : { file: this.file }) })
  }

  /** Whether these keys read without a problem (a check built on their values would only echo it). */
  clean(...keys: ReadonlyArray<string>): boolean {
    return !this.problems.some((p) => keys.some((k) => p.key === `${this.prefix}${k}`))
  }

  has(key: string): boolean {
    this.used.add(key)
    return this.json[key] !== undefined && this.json[key] !== null
  }

  raw(key: string): unknown {
    this.used.add(key)
    return this.json[key]
  }

  private fail(key: string, expected: string, got: unknown): undefined {
    this.push(key, `expected ${expected}, got ${got === undefined ? "nothing (the key is missing)" : JSON.stringify(got)}`)
    return undefined
  }

  /** A required positive integer within its physical range (a missing key is a problem). */
  int(key: string): number {
    const v = this.raw(key)
    const [max, what] = limitOf(key)
    if (typeof v === "number" && Number.isInteger(v) && v > 0 && v <= max) return v
    this.fail(key, `a positive integer of at most ${max} (${what})`, v)
    return 1
  }

  /** A non-negative integer within its physical range; `null` or absent gives `dflt`. */
  optInt(key: string, dflt: number): number {
    const v = this.raw(key)
    if (v === undefined || v === null) return dflt
    const [max, what] = limitOf(key)
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max) return v
    this.fail(key, `a non-negative integer of at most ${max} (${what}) or null`, v)
    return dflt
  }

  optBool(key: string, dflt: boolean): boolean {
    const v = this.raw(key)
    if (v === undefined || v === null) return dflt
    if (typeof v === "boolean") return v
    this.fail(key, "true or false", v)
    return dflt
  }

  optString(key: string): string | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v === "string") return v
    this.fail(key, "a string", v)
    return undefined
  }

  /** A positive number (a scale factor) of at most `max`; `null` or absent gives undefined. */
  optNumber(key: string, max = 1e6): number | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (typeof v === "number" && Number.isFinite(v) && v > 0 && v <= max) return v
    this.fail(key, `a positive number of at most ${max}`, v)
    return undefined
  }

  /**
   * A list of strings (layer_types), or undefined when absent. `emptyIsDefault`: an empty list
   * means "not given", as transformers reads it (`layer_types or default`).
   */
  optStrings(key: string, emptyIsDefault = false): ReadonlyArray<string> | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return emptyIsDefault && v.length === 0 ? undefined : (v as Array<string>)
    this.fail(key, "a list of strings", v)
    return undefined
  }

  /**
   * A list of non-negative integers below `bound` (a layer index below num_hidden_layers); a
   * comma-separated string is accepted (Step-3 moe_layers_enum). `emptyIsDefault`: an empty list
   * (or string) means "not given", as transformers reads it (Llama-4 `no_rope_layers` is
   * `no_rope_layers if no_rope_layers else default`, configuration_llama4.py).
   */
  optInts(key: string, o: { readonly emptyIsDefault?: boolean; readonly bound?: number } = {}): ReadonlyArray<number> | undefined {
    const v = this.raw(key)
    if (v === undefined || v === null) return undefined
    const list = typeof v === "string" ? (v.trim() === "" ? [] : v.split(",").map((x) => (x.trim() === "" ? NaN : Number(x)))) : v
    const bound = o.bound ?? MAX_LAYERS
    if (Array.isArray(list) && list.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < bound))
      return o.emptyIsDefault && list.length === 0 ? undefined : (list as Array<number>)
    this.fail(key, `a list of non-negative integers below ${bound}`, v)
    return undefined
  }

  /** A value that must equal `want` for the mapping to hold (else the model is not supported). */
  expect(key: string, ok: (v: unknown) => boolean, expected: string): void {
    const v = this.raw(key)
    if (!ok(v)) this.fail(key, expected, v)
  }

  problem(key: string, message: string): void {
    this.push(key, message)
  }

  /**
   * Keys present in the config that nothing read, minus the ones known not to change the math
   * (named bare or with this reader's prefix: `moe_dense_ratio` or `text_config.moe_dense_ratio`).
   */
  unread(ignorable: ReadonlySet<string>): Array<string> {
    return Object.keys(this.json)
      .filter((k) => !this.used.has(k) && !ignorable.has(k) && !ignorable.has(`${this.prefix}${k}`) && !k.startsWith("_"))
      .sort()
  }
}

export const f = (key: string, value: number | string | boolean, from: string): Field => ({ key, value, from })

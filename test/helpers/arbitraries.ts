/**
 * fast-check arbitraries for whole llmsim projects: a hardware file, one to three layer
 * templates and a scenario, valid by construction within realistic bounds (attention heads and
 * KV heads divisible by tp, top-k <= experts, ep dividing the experts and <= tp * dp, lm_head
 * d_model equal to the layers', comm ranks <= GPUs, efficiency fractions > 0). Every generated
 * file is also decoded with its Effect schema (`assertDecodes`), so a schema change that makes a
 * generated config invalid fails loudly instead of silently testing error paths.
 *
 * Why hand-written rather than derived from the schemas (effect's Arbitrary.schema): the schemas
 * bound single fields (PositiveInt, Fraction) but not the cross-field rules above, and their
 * generators are effect's own, not fast-check's; random 2^31 head counts would only exercise
 * validation, never the model.
 *
 * `breakOne` turns a valid project into one with exactly one broken field (wrong type, negative,
 * missing, unknown key) and says which file and field path an error must point at.
 */
import fc from "fast-check"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { stringify } from "yaml"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { CommLayerTemplate, FfnLayerTemplate, MoeLayerTemplate } from "../../src/schema/layer.ts"
import { ScenarioSpec } from "../../src/schema/scenario.ts"

type Obj = Record<string, unknown>

/** A generated project: file path (relative to the project root) -> its decoded content. */
export interface GenProject {
  readonly files: Readonly<Record<string, Obj>>
  /** The scenario's path in `files`. */
  readonly scenario: string
  readonly tp: number
  readonly batch: number
  readonly seq: number
}

export const SCENARIO = "scenario.yaml"
const HARDWARE = "hw/gpu.yaml"

/** A decimal with `digits` places in [lo, hi] (what a person would type; never a denormal). */
const decimal = (lo: number, hi: number, digits = 2) =>
  fc.integer({ min: Math.round(lo * 10 ** digits), max: Math.round(hi * 10 ** digits) }).map((n) => n / 10 ** digits)
const maybe = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: undefined })
/** Drop undefined fields (optional keys the arbitrary left out). */
const compact = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

const efficiency = fc
  .record({
    compute: decimal(0.3, 1),
    memory: decimal(0.3, 1),
    interconnect: decimal(0.3, 1),
    nic: decimal(0.3, 1),
    kernel_latency_us: decimal(0, 10),
    link_latency_us: decimal(0, 10),
    // Wave quantisation is on (both tiles > 0) or off (both 0): src/config/validate.ts.
    tiles: fc.constantFrom([0, 0], [64, 128], [128, 128], [128, 256])
  })
  .map(({ tiles, ...e }) => compact({ ...e, tile_m: tiles[0], tile_n: tiles[1] }))

const hardwareArb = fc
  .record({
    name: fc.constantFrom("GPU-A", "GPU-B", "accel"),
    peak_tflops: decimal(50, 5000, 1),
    memory_bandwidth_gbps: decimal(500, 10000, 1),
    hbm_gb: fc.integer({ min: 16, max: 300 }),
    interconnect_gbps: decimal(25, 1800, 1),
    max_concurrency: fc.integer({ min: 1, max: 2 }),
    overlap_efficiency: decimal(0, 1),
    tflops: maybe(fc.record({ bf16: decimal(50, 5000, 1), fp8: decimal(100, 10000, 1) })),
    nic_gbps: maybe(decimal(12.5, 100, 1)),
    gpus_per_node: fc.constant(8),
    sm_count: maybe(fc.integer({ min: 16, max: 200 })),
    efficiency: maybe(efficiency)
  })
  .map((h) => {
    // Tiles need an SM count to quantise waves over (src/config/validate.ts).
    const e = h.efficiency as Obj | undefined
    const tiled = e !== undefined && (e.tile_m as number) > 0
    return compact({ ...h, sm_count: tiled ? (h.sm_count ?? 132) : h.sm_count })
  })

/**
 * Attention with `heads` query heads. Heads, KV heads and tp are all powers of two and the
 * project arbitrary keeps tp <= heads, so tp | heads, kv | heads and (tp | kv or kv | tp).
 */
const attnArb = (dModelHeads: { heads: number; headDim: number }) =>
  fc.oneof(
    fc
      .record({
        type: fc.constant("GQA"),
        num_key_value_heads: fc.integer({ min: 0, max: Math.log2(dModelHeads.heads) }).map((e) => 2 ** e),
        attention_bias: maybe(fc.boolean()),
        sliding_window: maybe(fc.constantFrom(128, 4096))
      })
      .map((a) => compact({ ...a, d_model: dModelHeads.heads * dModelHeads.headDim, num_attention_heads: dModelHeads.heads })),
    fc
      .record({
        type: fc.constant("MLA"),
        q_lora_rank: fc.constantFrom(0, 768, 1536),
        kv_lora_rank: fc.constantFrom(256, 512),
        qk_nope_head_dim: fc.constantFrom(64, 128),
        qk_rope_head_dim: fc.constantFrom(32, 64),
        v_head_dim: fc.constantFrom(64, 128)
      })
      .map((a) => {
        // Latent ranks at most d_model (src/config/validate.ts): a compression, not an expansion.
        const d = dModelHeads.heads * dModelHeads.headDim
        return { ...a, q_lora_rank: Math.min(a.q_lora_rank, d), kv_lora_rank: Math.min(a.kv_lora_rank, d), d_model: d, num_attention_heads: dModelHeads.heads }
      })
  )

const ffnArb = (dModel: number) =>
  fc
    .record({
      d_model: fc.constant(dModel),
      d_ff: fc.integer({ min: 1, max: 8 }).map((k) => k * dModel),
      hidden_act: fc.constantFrom("silu", "gelu", "relu"),
      gated: maybe(fc.boolean())
    })
    .map(compact)

const moeArb = (dModel: number, ep: number) =>
  fc
    .record({
      experts: fc.integer({ min: Math.max(3, Math.log2(ep)), max: 8 }).map((e) => 2 ** e),
      topkExp: fc.integer({ min: 0, max: 3 }),
      moe_intermediate_size: fc.constantFrom(256, 512, 1024, 2048),
      n_shared_experts: maybe(fc.integer({ min: 0, max: 2 })),
      grouped: fc.boolean(),
      scoring_func: maybe(fc.constantFrom("softmax", "sigmoid"))
    })
    .map((m) =>
      compact({
        d_model: dModel,
        n_routed_experts: m.experts,
        num_experts_per_tok: 2 ** m.topkExp,
        moe_intermediate_size: m.moe_intermediate_size,
        n_shared_experts: m.n_shared_experts,
        // Group-limited routing: 4 groups (divide every generated expert count), 2 may be used.
        n_group: m.grouped ? 4 : undefined,
        topk_group: m.grouped ? 2 : undefined,
        scoring_func: m.scoring_func
      })
    )

/** A whole valid project: dense or MoE model, optional comm layer, runtime within bounds. */
export const projectArb: fc.Arbitrary<GenProject> = fc
  .record({
    tpExp: fc.integer({ min: 0, max: 3 }),
    dp: fc.constantFrom(1, 2),
    headsExp: fc.integer({ min: 3, max: 7 }),
    headDim: fc.constantFrom(64, 128),
    moe: fc.boolean(),
    comm: fc.boolean(),
    epExp: fc.integer({ min: 0, max: 4 }),
    repeat: fc.integer({ min: 1, max: 8 }),
    batch: fc.integer({ min: 1, max: 64 }),
    seq: fc.integer({ min: 16, max: 8192 }),
    phase: fc.constantFrom("prefill", "decode", "both"),
    vocab: fc.constantFrom(32000, 128256),
    dtype: fc.constantFrom("bf16", "fp8"),
    kvDtype: fc.constantFrom("bf16", "fp8")
  })
  .chain((p) => {
    const tp = 2 ** p.tpExp
    const headsExp = Math.max(p.headsExp, p.tpExp)
    const heads = 2 ** headsExp
    const dModel = heads * p.headDim
    // ep divides tp * dp (powers of two), dense models keep ep 1.
    const ep = p.moe ? Math.min(2 ** p.epExp, tp * p.dp) : 1
    return fc
      .record({
        hardware: hardwareArb,
        attn: attnArb({ heads, headDim: p.headDim }),
        ffn: ffnArb(dModel),
        moeCfg: moeArb(dModel, ep),
        payload: decimal(0.1, 64),
        pattern: fc.constantFrom("all_reduce", "all_gather", "reduce_scatter", "all_to_all"),
        dense: fc.integer({ min: 0, max: 2 })
      })
      .map((g): GenProject => {
        const layers: Array<Obj> = []
        const files: Record<string, Obj> = { [HARDWARE]: g.hardware }
        if (p.moe) {
          files["model/moe.yaml"] = { attn_config: g.attn, moe_config: g.moeCfg }
          if (g.dense > 0) {
            files["model/dense.yaml"] = { attn_config: g.attn, ffn_config: g.ffn }
            layers.push({ type: "ffn_layer", config: "model/dense.yaml", repeat: g.dense })
          }
          layers.push({ type: "moe_layer", config: "model/moe.yaml", repeat: p.repeat })
        } else {
          files["model/dense.yaml"] = { attn_config: g.attn, ffn_config: g.ffn }
          layers.push({ type: "ffn_layer", config: "model/dense.yaml", repeat: p.repeat })
        }
        if (p.comm) {
          files["model/comm.yaml"] = { comm_config: { payload_mb: g.payload, pattern: g.pattern, num_ranks: tp } }
          layers.push({ type: "comm_layer", config: "model/comm.yaml", name: "sync" })
        }
        files[SCENARIO] = {
          name: "generated",
          hardware: HARDWARE,
          layers,
          lm_head: { vocab_size: p.vocab, d_model: dModel },
          precision: { weights: p.dtype, activations: "bf16", kv_cache: p.kvDtype },
          parallelism: { tp, dp: p.dp, ep },
          runtime: { batch_size: p.batch, seq_len: p.seq, phase: p.phase }
        }
        return { files, scenario: SCENARIO, tp, batch: p.batch, seq: p.seq }
      })
  })

const schemaOf = (file: string, content: Obj) => {
  if (file === SCENARIO) return ScenarioSpec
  if (file === HARDWARE) return HardwareSpec
  return "moe_config" in content ? MoeLayerTemplate : "comm_config" in content ? CommLayerTemplate : FfnLayerTemplate
}

/** Every generated file decodes with its schema (the generator's own check). */
export const assertDecodes = (p: GenProject): void => {
  for (const [file, content] of Object.entries(p.files)) {
    Schema.decodeUnknownSync(schemaOf(file, content) as any)(content, { onExcessProperty: "error" })
  }
}

/** Write the project's files under `root` as YAML (`render` may reformat each). */
export const writeProject = (root: string, p: GenProject, render: (o: Obj) => string = (o) => stringify(o)): void => {
  for (const [file, content] of Object.entries(p.files)) {
    const full = path.join(root, file)
    fs.mkdirSync(path.dirname(full), { recursive: true })
    fs.writeFileSync(full, render(content))
  }
}

/** The same value with every mapping's keys in the order `perm` gives (sequences keep their order). */
export const reorderKeys = (v: unknown, perm: (keys: Array<string>) => Array<string>): unknown => {
  if (Array.isArray(v)) return v.map((x) => reorderKeys(x, perm))
  if (v !== null && typeof v === "object") {
    const o = v as Obj
    return Object.fromEntries(perm(Object.keys(o)).map((k) => [k, reorderKeys(o[k], perm)]))
  }
  return v
}

/** A seeded permutation (Fisher-Yates on a small LCG), so key order depends only on `seed`. */
export const seededPerm =
  (seed: number) =>
  (keys: Array<string>): Array<string> => {
    let s = seed >>> 0 || 1
    const out = [...keys]
    for (let i = out.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0
      const j = s % (i + 1)
      ;[out[i], out[j]] = [out[j], out[i]]
    }
    return out
  }

/** mulberry32: a small seeded generator in [0, 1), for corpora and kill points that replay. */
export const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export type Breakage = "wrong-type" | "negative" | "missing" | "unknown-key" | "cross-field"

/** A project with one field broken, and where the error must point. */
export interface BrokenProject {
  readonly project: GenProject
  readonly file: string
  /** Dotted field path of the broken field (for unknown-key: the new key). */
  readonly path: string
  readonly kind: Breakage
}

/** Numeric fields that must be > 0 (or >= 0), per file kind, and required fields per file kind. */
const TARGETS: Record<string, { numeric: Array<Array<string>>; required: Array<Array<string>> }> = {
  hardware: {
    numeric: [["peak_tflops"], ["memory_bandwidth_gbps"], ["hbm_gb"], ["interconnect_gbps"], ["max_concurrency"]],
    required: [["peak_tflops"], ["memory_bandwidth_gbps"], ["hbm_gb"], ["interconnect_gbps"], ["name"]]
  },
  scenario: {
    numeric: [
      ["runtime", "batch_size"],
      ["runtime", "seq_len"],
      ["lm_head", "vocab_size"],
      ["parallelism", "tp"],
      ["layers", "0", "repeat"]
    ],
    required: [["hardware"], ["layers", "0", "config"], ["layers", "0", "type"], ["lm_head", "vocab_size"]]
  },
  dense: {
    numeric: [
      ["attn_config", "d_model"],
      ["attn_config", "num_attention_heads"],
      ["ffn_config", "d_ff"],
      ["ffn_config", "d_model"]
    ],
    required: [
      ["ffn_config", "d_ff"],
      ["attn_config", "num_attention_heads"],
      ["ffn_config", "hidden_act"]
    ]
  },
  moe: {
    numeric: [
      ["moe_config", "n_routed_experts"],
      ["moe_config", "moe_intermediate_size"],
      ["moe_config", "num_experts_per_tok"]
    ],
    required: [
      ["moe_config", "n_routed_experts"],
      ["moe_config", "moe_intermediate_size"]
    ]
  }
}

const kindOf = (file: string) =>
  file === SCENARIO ? "scenario" : file === HARDWARE ? "hardware" : file.includes("moe") ? "moe" : file.includes("dense") ? "dense" : undefined

const clone = <A>(a: A): A => JSON.parse(JSON.stringify(a))

const at = (o: unknown, p: ReadonlyArray<string>): any => p.reduce((x: any, k) => x?.[k], o)

/** A valid project with one field broken. */
export const brokenArb: fc.Arbitrary<BrokenProject> = fc
  .record({
    project: projectArb,
    kind: fc.constantFrom<Breakage>("wrong-type", "negative", "missing", "unknown-key", "cross-field"),
    pick: fc.nat(),
    negative: fc.constantFrom(-1, -64, -0.5),
    junk: fc.constantFrom("abc", "12x", "true", "[1, 2]")
  })
  .map(({ project, kind, pick, negative, junk }) => {
    const files = Object.keys(project.files).filter((f) => kindOf(f) !== undefined)
    // Cross-field: each field valid alone, the pair not (src/config/validate.ts); layer templates only.
    const templates = files.filter((f) => (project.files[f] as Obj).attn_config !== undefined)
    if (kind === "cross-field" && templates.length > 0) {
      const file = templates[pick % templates.length]
      const content = clone(project.files[file]) as Obj
      const moe = content.moe_config as Obj | undefined
      const attn = content.attn_config as Obj
      let fieldPath: string
      if (moe !== undefined && pick % 2 === 0) {
        moe.num_experts_per_tok = (moe.n_routed_experts as number) + 1 // more experts per token than exist
        fieldPath = "moe_config.num_experts_per_tok"
      } else if (attn.type === "GQA") {
        attn.num_key_value_heads = (attn.num_attention_heads as number) * 2 // more KV heads than query heads
        fieldPath = "attn_config.num_key_value_heads"
      } else {
        attn.kv_lora_rank = (attn.d_model as number) * 2 // a latent wider than the model
        fieldPath = "attn_config.kv_lora_rank"
      }
      return { project: { ...project, files: { ...project.files, [file]: content } }, file, path: fieldPath, kind }
    }
    const file = files[pick % files.length]
    const content = clone(project.files[file])
    const t = TARGETS[kindOf(file)!]
    const list = kind === "missing" ? t.required : t.numeric
    const p = list[Math.floor(pick / files.length) % list.length]
    const parent = at(content, p.slice(0, -1))
    const key = p[p.length - 1]
    let fieldPath = p.join(".")
    if (kind === "wrong-type") parent[key] = junk === "[1, 2]" ? [1, 2] : junk
    else if (kind === "negative") parent[key] = negative
    else if (kind === "missing") delete parent[key]
    else {
      parent.bogus_field = 1
      fieldPath = [...p.slice(0, -1), "bogus_field"].join(".")
    }
    return { project: { ...project, files: { ...project.files, [file]: content } }, file, path: fieldPath, kind }
  })

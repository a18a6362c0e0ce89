/**
 * Scenario: what to simulate. A relative path inside a scenario resolves against the scenario's
 * own folder first, then the project root (the folder that holds `llmsim.config.ts`, else the
 * current directory); src/config/load.ts.
 */
import { Schema } from "effect"
import { Dtype } from "./dtype.ts"
import { PositiveInt } from "./common.ts"
import { LayerPrecision, LayerType, templateSchemaFor, type LayerTemplate } from "./layer.ts"
import { RuntimeDefaults } from "./runtime.ts"
import { DeploymentSpec } from "./deployment.ts"
import { EngineSpec } from "./engine.ts"
import { DisaggregationSpec } from "./disaggregation.ts"
import { Parallelism } from "./parallelism.ts"
import { SweepSpec } from "./sweep.ts"

/**
 * One entry per layer kind, told apart by `type`: `config` is a template file's path or the
 * template itself, inline. Built from LayerType, so a new layer kind needs no change here.
 */
const layerEntryOf = (type: LayerType) =>
  Schema.Struct({
    type: Schema.Literal(type),
    /** A layer template file (relative to this scenario's folder, else the project root), or the template inline. */
    config: Schema.Union([Schema.String, templateSchemaFor(type)]),
    /** Consecutive identical layers (DeepSeek-V3: 3 dense then 58 MoE). */
    repeat: Schema.optionalKey(PositiveInt),
    /** Optional label used in layer names instead of the type. */
    name: Schema.optionalKey(Schema.String),
    /**
     * Multi-token-prediction module (DeepSeek-V3 MTP, GLM-4.5, Qwen3-Next): not part of the main
     * stack. In decode each of its `repeat` layers proposes one draft token per sequence per step
     * (run once per draft, one token per sequence), and the main stack and LM head verify 1 + k
     * tokens per sequence, k = the MTP layers; runtime.mtp_acceptance_rate says how many are kept
     * (src/layers/mtp.ts). In prefill it runs over the prompt like any layer.
     */
    mtp: Schema.optionalKey(Schema.Boolean),
    /** Precision of these layers only, over the scenario's `precision` (src/schema/layer.ts LayerPrecision). */
    precision: Schema.optionalKey(LayerPrecision)
  })

export const LayerEntry = Schema.Union(LayerType.literals.map(layerEntryOf))
export interface LayerEntry {
  readonly type: LayerType
  readonly config: string | LayerTemplate["config"]
  readonly repeat?: number
  readonly name?: string
  readonly mtp?: boolean
  readonly precision?: LayerPrecision
}

/** Final norm + vocabulary projection. */
export const LmHead = Schema.Struct({
  vocab_size: PositiveInt,
  d_model: PositiveInt
})
export type LmHead = typeof LmHead.Type

export const Precision = Schema.Struct({
  /** GEMM weights (attention projections, dense FFN, shared experts). */
  weights: Dtype,
  /** Activations between ops and attention math. */
  activations: Dtype,
  kv_cache: Dtype,
  /** Routed expert weights; defaults to `weights` (gpt-oss: mxfp4). */
  moe_experts: Schema.optionalKey(Dtype),
  /** LM head and embedding weights; defaults to `activations` (DeepSeek-V3 keeps them BF16). */
  lm_head: Schema.optionalKey(Dtype)
})
export type Precision = typeof Precision.Type

export const ScenarioSpec = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  hardware: Schema.String,
  layers: Schema.Array(LayerEntry).check(Schema.isMinLength(1)),
  /**
   * The embedding and LM head; `none` models a stack without them (a warning is printed when
   * the key is simply missing, since that silently drops their weights and time).
   */
  lm_head: Schema.optionalKey(Schema.Union([LmHead, Schema.Literal("none")])),
  precision: Schema.optionalKey(Precision),
  parallelism: Schema.optionalKey(Parallelism),
  runtime: Schema.optionalKey(RuntimeDefaults),
  /**
   * Deployment model for the playbooks (large EP, AFD). Without a `parallelism` block, the core
   * `run` takes its layout from here too (attention tp/dp, ep, redundant experts).
   */
  deployment: Schema.optionalKey(DeploymentSpec),
  /** The serving engine `llmsim bench` runs the model on, and settings overriding its defaults (src/schema/engine.ts). */
  engine: Schema.optionalKey(EngineSpec),
  /** Prefill/decode disaggregation for `llmsim bench`: the two pools and the KV transfer (src/schema/disaggregation.ts). */
  disaggregation: Schema.optionalKey(DisaggregationSpec),
  /** What `llmsim sweep` varies, constrains and ranks (src/schema/sweep.ts); other commands ignore it. */
  sweep: Schema.optionalKey(SweepSpec)
})
/** A scenario as decoded from its file (`lm_head` may be the literal `none`). */
export type ScenarioFileSpec = typeof ScenarioSpec.Type
/** A loaded scenario: `lm_head: none` is resolved to an absent LM head (src/config/load.ts). */
export type ScenarioSpec = Omit<ScenarioFileSpec, "lm_head"> & { readonly lm_head?: LmHead }

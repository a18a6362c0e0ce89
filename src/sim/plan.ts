/**
 * Turns a loaded scenario and a runtime into build-graph nodes:
 *
 *   op nodes (one per fused op of each layer entry)  ->  layer nodes  ->  scenario node (per phase)
 *
 * An op node's params are the op spec (only the config slice its formula reads), the timing
 * slice of the hardware and the estimator id; a layer node's params are its composition knobs,
 * memory figures and shape features; its deps are its ops. Identical layer entries produce
 * identical keys and are computed once.
 */
import { Effect } from "effect"
import { defineNodeType, type GraphNode } from "../graph/node.ts"
import {
  activationBytesPerGpu,
  kvBytesPerTokenPerGpu,
  layerWeightBytesPerGpu,
  lmHeadWeightBytesPerGpu,
  planLayer,
  planLmHead
} from "../module/index.ts"
import type { LayerContext } from "../module/context.ts"
import { tokensPerStep } from "../module/context.ts"
import { evaluateOpCost, OP_FORMULAS } from "../ops/registry.ts"
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtype.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { ESTIMATORS, type Estimator } from "../timing/estimator.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import type { LoadedScenario } from "../config/load.ts"
import { composeLayer, rollUp, type Composition, type Instance, type LayerMemory } from "./compose.ts"
import type { LayerSummary, OpExecution, SimulationResult } from "./records.ts"

/** Version of op timing (timeOp in src/timing/roofline.ts): part of every op node's code. */
export const TIMING_CODE_VERSION = 2
/** Version of composeLayer and rollUp (src/sim/compose.ts): part of layer and scenario codes. */
export const COMPOSE_CODE_VERSION = 1

const flatten = (prefix: string, obj: unknown, out: Record<string, number>) => {
  if (typeof obj === "number") out[prefix] = obj
  else if (typeof obj === "boolean") out[prefix] = obj ? 1 : 0
  else if (obj && typeof obj === "object") for (const [k, v] of Object.entries(obj)) flatten(prefix === "" ? k : `${prefix}.${k}`, v, out)
}

const contextFeatures = (ctx: LayerContext): Record<string, number> => ({
  tokens: tokensPerStep(ctx),
  batch_size: ctx.batch_size,
  seq_len: ctx.seq_len,
  tp: ctx.parallel.tp,
  dp: ctx.parallel.dp,
  ep: ctx.parallel.ep,
  weight_dtype_bytes: DTYPE_BYTES[ctx.precision.weights],
  activation_dtype_bytes: DTYPE_BYTES[ctx.precision.activations],
  kv_cache_dtype_bytes: DTYPE_BYTES[ctx.precision.kv_cache],
  moe_expert_dtype_bytes: DTYPE_BYTES[ctx.precision.moe_experts]
})

export interface PlanInput {
  readonly scenario: LoadedScenario
  readonly phase: SinglePhase
  readonly ctx: LayerContext
  readonly timing: TimingHardware
  readonly estimator: Estimator
  readonly composition: Composition
}

/** Op node computation: a pure function of its params. */
export const computeOp = (params: { spec: OpSpec; hw: TimingHardware; estimator: string }): OpExecution => {
  const { spec, hw } = params
  const estimator = ESTIMATORS[params.estimator]
  if (!estimator) throw new Error(`unknown estimator ${params.estimator}`)
  const cost = evaluateOpCost(spec)
  const t = estimator.time(spec, cost, hw)
  return {
    op: spec.name,
    kind: spec.kind,
    category: spec.category,
    flops: cost.flops,
    bytes_read: cost.bytes_read,
    bytes_written: cost.bytes_written,
    comm_bytes: cost.comm_bytes,
    link: cost.link ?? null,
    math_dtype: cost.math_dtype ?? null,
    compute_time_ms: t.compute_time_ms,
    memory_time_ms: t.memory_time_ms,
    comm_time_ms: t.comm_time_ms,
    dominant_latency_ms: t.dominant_latency_ms,
    bound: t.bound,
    notes: cost.notes
  }
}

export interface LayerParams {
  readonly layer_type: string
  readonly composition: Composition
  readonly memory: LayerMemory
  readonly features: Record<string, number>
}

export const computeLayer = (p: LayerParams, rows: ReadonlyArray<OpExecution>): LayerSummary =>
  composeLayer(p.layer_type, rows, p.composition, p.memory, p.features)

export interface ScenarioParams {
  readonly phase: SinglePhase
  readonly instances: ReadonlyArray<Instance>
  readonly kv_tokens: number
}

export const computeScenario = (p: ScenarioParams, summaries: ReadonlyArray<LayerSummary>): SimulationResult =>
  rollUp(p.phase, summaries, p.instances, p.kv_tokens)

export const opCodeVersion = (kind: string, estimator: Estimator): string =>
  `op-${kind}-v${OP_FORMULAS[kind]?.version ?? 0}.timing-v${TIMING_CODE_VERSION}.${estimator.id}-v${estimator.version}`
export const LAYER_CODE = `compose-v${COMPOSE_CODE_VERSION}`
export const SCENARIO_CODE = `rollup-v${COMPOSE_CODE_VERSION}`

export type OpNodeParams = Parameters<typeof computeOp>[0]

/** One fused op's cost and times. Its code version names the op's formula, so bumping one
 *  formula invalidates only that op kind. */
export const OpNode = defineNodeType<OpNodeParams, OpExecution>({
  kind: "op",
  code: (p) => {
    const estimator = ESTIMATORS[p.estimator]
    if (!estimator) throw new Error(`unknown estimator ${p.estimator}`)
    return opCodeVersion(p.spec.kind, estimator)
  },
  compute: (p) => Effect.sync(() => computeOp(p))
})

/** One layer: its ops' rows composed (deps: the op nodes). */
export const LayerNode = defineNodeType<LayerParams, LayerSummary, never, OpExecution>({
  kind: "layer",
  code: LAYER_CODE,
  compute: (p, rows) => Effect.sync(() => computeLayer(p, rows))
})

/** One phase: layer summaries expanded into instances and totalled (deps: the layer nodes). */
export const ScenarioNode = defineNodeType<ScenarioParams, SimulationResult, never, LayerSummary>({
  kind: "scenario",
  code: SCENARIO_CODE,
  compute: (p, summaries) => Effect.sync(() => computeScenario(p, summaries))
})

export const opNode = (
  idPrefix: string,
  spec: OpSpec,
  layer_type: string,
  timing: TimingHardware,
  estimator: Estimator
): GraphNode<OpExecution> =>
  OpNode.make({
    id: `op:${idPrefix}/${spec.name}`,
    name: `${spec.kind}:${spec.name}`,
    params: { spec, hw: timing, estimator: estimator.id },
    deps: [],
    attributes: { layer_type, category: spec.category }
  })

const layerNode = (
  id: string,
  name: string,
  layer_type: string,
  ops: ReadonlyArray<GraphNode<OpExecution>>,
  composition: Composition,
  memory: LayerMemory,
  features: Record<string, number>
): GraphNode<LayerSummary> =>
  LayerNode.make({
    id: `layer:${id}`,
    name,
    params: { layer_type, composition, memory, features },
    deps: ops,
    attributes: { layer_type }
  })

const entryLabel = (e: { entry: { name?: string; type: string } }) => e.entry.name ?? e.entry.type

/** Layer node for one template under a context. */
export const templateLayerNode = (input: PlanInput, idBase: string, label: string, template: LayerTemplate) => {
  const { ctx, timing, estimator, composition, phase } = input
  const specs = planLayer(template, ctx)
  const ops = specs.map((s) => opNode(`${phase}/${idBase}`, s, template.type, timing, estimator))
  const memory: LayerMemory = {
    weight_bytes: layerWeightBytesPerGpu(template, ctx),
    kv_cache_bytes_per_token: kvBytesPerTokenPerGpu(template, ctx),
    activation_bytes: activationBytesPerGpu(template, ctx)
  }
  const features: Record<string, number> = contextFeatures(ctx)
  flatten("", template.config, features)
  return layerNode(`${phase}/${idBase}`, label, template.type, ops, composition, memory, features)
}

/** The scenario node for one phase: every layer entry expanded by `repeat`, plus the LM head. */
export const scenarioNode = (input: PlanInput): GraphNode<SimulationResult> => {
  const { scenario, ctx, timing, estimator, composition, phase } = input
  const layerNodes: Array<GraphNode<LayerSummary>> = []
  const instances: Array<Instance> = []
  let index = 0
  for (const e of scenario.entries) {
    const label = entryLabel(e)
    layerNodes.push(templateLayerNode(input, `${e.index}.${label}`, label, e.template))
    for (let r = 0; r < (e.entry.repeat ?? 1); r++) {
      instances.push({ summary: layerNodes.length - 1, layer_name: `L${index}.${label}` })
      index++
    }
  }
  const lm = scenario.spec.lm_head
  if (lm) {
    const specs = planLmHead(lm, ctx)
    const ops = specs.map((s) => opNode(`${phase}/lm_head`, s, "lm_head", timing, estimator))
    const memory: LayerMemory = {
      weight_bytes: lmHeadWeightBytesPerGpu(lm, ctx),
      kv_cache_bytes_per_token: 0,
      activation_bytes: ctx.batch_size * lm.vocab_size * 4
    }
    const features: Record<string, number> = contextFeatures(ctx)
    flatten("lm_head", lm, features)
    layerNodes.push(layerNode(`${phase}/lm_head`, "lm_head", "lm_head", ops, composition, memory, features))
    instances.push({ summary: layerNodes.length - 1, layer_name: `L${index}.lm_head` })
  }
  const params: ScenarioParams = { phase, instances, kv_tokens: ctx.batch_size * ctx.seq_len }
  return ScenarioNode.make({ id: `scenario:${phase}`, name: phase, params, deps: layerNodes })
}

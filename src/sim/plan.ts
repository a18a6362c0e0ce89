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
import type { LayerContext } from "../layers/context.ts"
import { OP_FORMULAS } from "../ops/registry.ts"
import type { OpSpec } from "../ops/types.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { estimatorFor, type Estimator } from "../timing/estimator.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import type { Model } from "../kernel/model.ts"
import { timeSpec } from "../kernel/opTiming.ts"
import { composeLayer, instancesOf, modelPlans, rollUp, type Instance, type LayerMemory, type LayerPlan } from "../kernel/step.ts"
import type { Composition } from "../kernel/strategies.ts"
import type { LayerSummary, OpExecution, SimulationResult } from "../kernel/records.ts"
import { progress } from "../base/debug.ts"

/** Version of op timing (timeOp in src/timing/roofline.ts, timeSpec in src/kernel/opTiming.ts): part of every op node's code. */
export const TIMING_CODE_VERSION = 3
/** Version of composeLayer and rollUp (src/kernel/step.ts, strategies.ts): part of layer and scenario codes. */
export const COMPOSE_CODE_VERSION = 1

export interface PlanInput {
  readonly model: Model
  readonly phase: SinglePhase
  readonly ctx: LayerContext
  readonly timing: TimingHardware
  readonly estimator: Estimator
  readonly composition: Composition
}

/** An op node's params: the spec, the timing slice of the hardware, the estimator id and, for a
 *  learned estimator only, its model file's digest (so swapping the model re-keys timing nodes). */
export interface OpNodeParams {
  readonly spec: OpSpec
  readonly hw: TimingHardware
  readonly estimator: string
  readonly model?: string
}

const nodeEstimator = (p: OpNodeParams): Estimator => {
  const estimator = estimatorFor(p.estimator, p.model)
  if (!estimator) throw new Error(`unknown estimator ${p.estimator}${p.model === undefined ? "" : ` (model ${p.model} not loaded)`}`)
  return estimator
}

/** Op node computation: a pure function of its params. */
export const computeOp = (params: OpNodeParams): OpExecution => timeSpec(params.spec, params.hw, nodeEstimator(params))

export interface LayerParams {
  readonly layer_type: string
  readonly composition: Composition
  readonly memory: LayerMemory
  readonly features: Record<string, number>
}

const computeLayer = (p: LayerParams, rows: ReadonlyArray<OpExecution>): LayerSummary => composeLayer(p.layer_type, rows, p.composition, p.memory, p.features)

export interface ScenarioParams {
  readonly phase: SinglePhase
  readonly instances: ReadonlyArray<Instance>
  readonly kv_tokens: number
}

const computeScenario = (p: ScenarioParams, summaries: ReadonlyArray<LayerSummary>): SimulationResult => rollUp(p.phase, summaries, p.instances, p.kv_tokens)

const opCodeVersion = (kind: string, estimator: Estimator): string =>
  `op-${kind}-v${OP_FORMULAS[kind]?.version ?? 0}.timing-v${TIMING_CODE_VERSION}.${estimator.id}-v${estimator.version}`
const LAYER_CODE = `compose-v${COMPOSE_CODE_VERSION}`
const SCENARIO_CODE = `rollup-v${COMPOSE_CODE_VERSION}`

/** One fused op's cost and times. Its code version names the op's formula, so bumping one
 *  formula invalidates only that op kind. */
export const OpNode = defineNodeType<OpNodeParams, OpExecution>({
  kind: "op",
  code: (p) => opCodeVersion(p.spec.kind, nodeEstimator(p)),
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
  // Sums over the layer summaries: cheaper to redo than to store, hash and read back.
  stored: false,
  compute: (p, summaries) =>
    Effect.sync(() => {
      const result = computeScenario(p, summaries)
      // In the same step as the roll-up, the phase's last: a run stopped before it never says so.
      progress(() => `${p.phase}: evaluated`)
      return result
    })
})

const opNode = (idPrefix: string, spec: OpSpec, layer_type: string, timing: TimingHardware, estimator: Estimator): GraphNode<OpExecution> =>
  OpNode.make({
    id: `op:${idPrefix}/${spec.name}`,
    name: `${spec.kind}:${spec.name}`,
    params: { spec, hw: timing, estimator: estimator.id, ...(estimator.model === undefined ? {} : { model: estimator.model }) },
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

/** Layer node for one layer plan (its op nodes as deps) under a phase. */
const planLayerNode = (input: PlanInput, idBase: string, label: string, plan: LayerPlan) => {
  const { timing, estimator, composition, phase } = input
  const ops = plan.specs.map((s) => opNode(`${phase}/${idBase}`, s, plan.layer_type, timing, estimator))
  return layerNode(`${phase}/${idBase}`, label, plan.layer_type, ops, composition, plan.memory, plan.features)
}

/** The scenario node for one phase: every layer entry expanded by `repeat`, plus the LM head. */
export const scenarioNode = (input: PlanInput): GraphNode<SimulationResult> => {
  const { model, ctx, phase } = input
  const plans = modelPlans(model, ctx)
  const layerNodes = plans.map((plan, i) => {
    const e = model.entries[i]
    return e === undefined ? planLayerNode(input, "lm_head", "lm_head", plan) : planLayerNode(input, `${e.index}.${e.label}`, e.label, plan)
  })
  const instances: ReadonlyArray<Instance> = instancesOf(model)
  const params: ScenarioParams = { phase, instances, kv_tokens: ctx.batch_size * ctx.seq_len }
  return ScenarioNode.make({ id: `scenario:${phase}`, name: phase, params, deps: layerNodes })
}

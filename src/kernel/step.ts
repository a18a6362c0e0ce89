/**
 * The one step roll-up of the kernel: a model under a context in, a phase result out.
 *
 *   plan       layerPlan / lmHeadPlan: a layer's op specs (src/module), its memory per GPU and
 *              its shape features
 *   time       timeSpec (opTiming.ts) on every op
 *   compose    composeLayer: ops -> layer, under the core strategies (strategies.ts)
 *   roll up    rollUp: layer summaries expanded over the layer instances (repeat), totals,
 *              memory and the bottleneck
 * and serving.ts turns the phases into TTFT, TPOT, tokens/s and fit (servingSummary).
 * `simulatePhase` runs the whole chain in one call (the accuracy checks use it); the build graph
 * (src/sim/plan.ts) runs the same functions as cached nodes, so `llmsim run` equals it exactly
 * (test/kernel/equality.test.ts).
 *
 * Layer latency. Ops of one layer run back to back on one stream, so the layer's compute side
 * is the sum of each op's max(compute, memory) (a sum of maxes, not a max of sums: a
 * memory-bound op cannot borrow idle tensor cores from a compute-bound neighbour). Communication
 * depends on the op before it, so it adds serially, unless the `overlapped` strategy applies
 * (strategies.ts): latency = compute_side + comm - overlap_efficiency * min(compute_side, comm).
 */
import type { LayerContext } from "../layers/context.ts"
import { layerContext, tokensPerStep } from "../layers/context.ts"
import { activationBytesPerGpu, kvBytesPerTokenPerGpu, layerWeightBytesPerGpu, planLayer } from "../layers/layer.ts"
import { lmHeadWeightBytesPerGpu, planLmHead } from "../layers/lmHead.ts"
import type { OpSpec } from "../ops/types.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import type { LmHead } from "../schema/scenario.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { Bound, TimingHardware } from "../timing/roofline.ts"
import { instanceNames, type Model } from "./model.ts"
import { checkedMs, timeSpecs } from "./opTiming.ts"
import type { LayerExecution, LayerSummary, OpExecution, SimulationResult } from "./records.ts"
import { hiddenCommMs, type Composition } from "./strategies.ts"

export interface LayerMemory {
  readonly weight_bytes: number
  readonly kv_cache_bytes_per_token: number
  readonly activation_bytes: number
}

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

export const composeLayer = (
  layer_type: string,
  ops: ReadonlyArray<OpExecution>,
  composition: Composition,
  memory: LayerMemory,
  shapeFeatures: Readonly<Record<string, number>>
): LayerSummary => {
  const comm = sum(ops.filter((o) => o.bound === "comm").map((o) => o.dominant_latency_ms))
  const computeSide = sum(ops.filter((o) => o.bound !== "comm").map((o) => o.dominant_latency_ms))
  const where = `layer ${layer_type}`
  const hidden = checkedMs(
    where,
    "hidden comm_time_ms",
    hiddenCommMs(composition, checkedMs(where, "compute side ms", computeSide), checkedMs(where, "comm_time_ms", comm))
  )
  const latency = checkedMs(where, "dominant_latency_ms", computeSide + comm - hidden)
  const byBound = (b: Bound) => sum(ops.filter((o) => o.bound === b).map((o) => o.dominant_latency_ms))
  const shares: Array<[Bound, number]> = [
    ["compute", byBound("compute")],
    ["memory", byBound("memory")],
    ["comm", comm - hidden]
  ]
  const bound = shares.reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0]
  const flops = sum(ops.map((o) => o.flops))
  const bytes_read = sum(ops.map((o) => o.bytes_read))
  const bytes_written = sum(ops.map((o) => o.bytes_written))
  const comm_bytes = sum(ops.map((o) => o.comm_bytes))
  const features: Record<string, number> = {
    ...shapeFeatures,
    flops,
    bytes_read,
    bytes_written,
    comm_bytes,
    arithmetic_intensity_flops_per_byte: bytes_read + bytes_written > 0 ? flops / (bytes_read + bytes_written) : 0,
    weight_bytes: memory.weight_bytes,
    kv_cache_bytes_per_token: memory.kv_cache_bytes_per_token,
    num_ops: ops.length
  }
  for (const o of ops) features[`flops.${o.category}`] = (features[`flops.${o.category}`] ?? 0) + o.flops
  return {
    layer_type,
    flops,
    bytes_read,
    bytes_written,
    comm_bytes,
    compute_time_ms: sum(ops.map((o) => o.compute_time_ms)),
    memory_time_ms: sum(ops.map((o) => o.memory_time_ms)),
    comm_time_ms: comm,
    dominant_latency_ms: latency,
    estimated_execution_time_ms: latency,
    bound,
    weight_bytes: memory.weight_bytes,
    kv_cache_bytes_per_token: memory.kv_cache_bytes_per_token,
    activation_bytes: memory.activation_bytes,
    features,
    breakdown: ops
  }
}

/** A layer's ops, memory and shape features under a context: what a layer node is computed from. */
export interface LayerPlan {
  readonly layer_type: string
  readonly specs: ReadonlyArray<OpSpec>
  readonly memory: LayerMemory
  readonly features: Record<string, number>
}

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

const layerPlan = (template: LayerTemplate, ctx: LayerContext): LayerPlan => {
  const features = contextFeatures(layerContext(template, ctx))
  flatten("", template.config, features)
  return {
    layer_type: template.type,
    specs: planLayer(template, ctx),
    memory: {
      weight_bytes: layerWeightBytesPerGpu(template, ctx),
      kv_cache_bytes_per_token: kvBytesPerTokenPerGpu(template, ctx),
      activation_bytes: activationBytesPerGpu(template, ctx)
    },
    features
  }
}

/** The LM head as a layer; its live activations are the batch's FP32 logits. */
const lmHeadPlan = (lm: LmHead, ctx: LayerContext): LayerPlan => {
  const features = contextFeatures(ctx)
  flatten("lm_head", lm, features)
  return {
    layer_type: "lm_head",
    specs: planLmHead(lm, ctx),
    memory: { weight_bytes: lmHeadWeightBytesPerGpu(lm, ctx), kv_cache_bytes_per_token: 0, activation_bytes: ctx.batch_size * lm.vocab_size * 4 },
    features
  }
}

/** The layer plans of a model's entries (one per entry, in order), then the LM head if any. */
export const modelPlans = (model: Model, ctx: LayerContext): Array<LayerPlan> => [
  ...model.entries.map((e) => layerPlan(e.template, ctx)),
  ...(model.lm_head ? [lmHeadPlan(model.lm_head, ctx)] : [])
]

export interface Instance {
  /** Index into the layer summaries passed to rollUp. */
  readonly summary: number
  readonly layer_name: string
}

/** Layer instances in step order: every entry expanded by `repeat`, then the LM head (indices into modelPlans). */
export const instancesOf = (model: Model): Array<Instance> => {
  const out: Array<Instance> = instanceNames(model).map(({ entry, name }) => ({ summary: entry, layer_name: name }))
  if (model.lm_head) out.push({ summary: model.entries.length, layer_name: `L${out.length}.lm_head` })
  return out
}

/** Expand layer summaries into per-instance records and total them. */
export const rollUp = (phase: SinglePhase, summaries: ReadonlyArray<LayerSummary>, instances: ReadonlyArray<Instance>, kvTokens: number): SimulationResult => {
  for (const s of summaries) checkedMs(`layer ${s.layer_type}`, "dominant_latency_ms", s.dominant_latency_ms)
  const layers: Array<LayerExecution> = instances.map((i) => ({ layer_name: i.layer_name, ...summaries[i.summary] }))
  let bottleneck = layers[0]
  for (const l of layers) if (l.dominant_latency_ms > bottleneck.dominant_latency_ms) bottleneck = l
  const weights_bytes = sum(layers.map((l) => l.weight_bytes))
  const kv_cache_bytes = kvTokens * sum(layers.map((l) => l.kv_cache_bytes_per_token))
  const activation_bytes = layers.reduce((m, l) => Math.max(m, l.activation_bytes), 0)
  return {
    phase,
    layers,
    total_latency_ms: checkedMs(`${phase} step`, "total_latency_ms", sum(layers.map((l) => l.dominant_latency_ms))),
    total_flops: sum(layers.map((l) => l.flops)),
    total_bytes: sum(layers.map((l) => l.bytes_read + l.bytes_written)),
    total_comm_bytes: sum(layers.map((l) => l.comm_bytes)),
    peak_memory_bytes: weights_bytes + kv_cache_bytes + activation_bytes,
    memory: { weights_bytes, kv_cache_bytes, activation_bytes },
    bottleneck_layer: bottleneck.layer_name
  }
}

/**
 * The memory rollUp reports for `model` under `ctx` (weights + KV of batch x seq_len tokens +
 * the widest live activations), from the layer estimators' byte counts alone: no op is planned
 * or timed, so a batch search can ask for it at every candidate batch. Summed over the same
 * instances in the same order as rollUp, so the numbers are identical (test/kernel/step.test.ts).
 */
export const phaseMemory = (model: Model, ctx: LayerContext): SimulationResult["memory"] => {
  let weights = 0
  let kvPerToken = 0
  let act = 0
  for (const e of model.entries) {
    const w = layerWeightBytesPerGpu(e.template, ctx)
    const kv = kvBytesPerTokenPerGpu(e.template, ctx)
    const a = activationBytesPerGpu(e.template, ctx)
    for (let r = 0; r < e.repeat; r++) {
      weights += w
      kvPerToken += kv
    }
    act = Math.max(act, a)
  }
  if (model.lm_head) {
    weights += lmHeadWeightBytesPerGpu(model.lm_head, ctx)
    act = Math.max(act, ctx.batch_size * model.lm_head.vocab_size * 4)
  }
  return { weights_bytes: weights, kv_cache_bytes: ctx.batch_size * ctx.seq_len * kvPerToken, activation_bytes: act }
}

/** Time every op of a plan and compose the layer. */
const composePlan = (plan: LayerPlan, timing: TimingHardware, estimator: Estimator, composition: Composition): LayerSummary =>
  composeLayer(plan.layer_type, timeSpecs(plan.specs, timing, estimator), composition, plan.memory, plan.features)

/** One phase of a model, start to finish, without the build graph: the pure kernel. */
export const simulatePhase = (model: Model, ctx: LayerContext, timing: TimingHardware, estimator: Estimator, composition: Composition): SimulationResult =>
  rollUp(
    ctx.phase,
    modelPlans(model, ctx).map((p) => composePlan(p, timing, estimator, composition)),
    instancesOf(model),
    ctx.batch_size * ctx.seq_len
  )

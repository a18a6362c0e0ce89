/**
 * Large expert parallelism (DeepSeek's production layout: DP attention on every GPU, routed
 * experts spread over the EP group, DeepEP all-to-all, two-batch overlap). Pure functions of the
 * model, the hardware timing and a resolved deployment.
 *
 * Per layer and micro-batch (batch_size / micro_batches sequences per attention DP rank), the
 * layer estimator's ops (src/module planLayer under the deployment's layout, redundant expert
 * slots included) are timed with the core roofline and split into the attention stage (norms,
 * attention, router), the FFN stage (shared + routed experts, or the dense FFN), and TP
 * collectives (before / after the FFN stage). The estimator's own dispatch / combine ops are
 * replaced by the deployment's all-to-all (alltoall.ts): bytes per token from top-k, d_model and
 * the dispatch / combine dtype, split between NVLink and the NIC by the kernel mode, each link
 * timed by the roofline's link model (bytes / (GB/s x efficiency) + link latency), the two links
 * running concurrently, plus a fixed latency per call:
 *     call ms = max(NVLink ms, NIC ms) + a2a latency
 * Load imbalance (imbalance.ts) multiplies the hottest GPU's routed tokens (expert GEMMs) and
 * its all-to-all bytes. Layers then compose serially or with two-batch overlap (overlap.ts), and
 * the LM head (full batch, after the last layer) is added:
 *     step = sum over layer instances of layer ms + LM head ms
 * TTFT = the prefill step of batch_size prompts of seq_len tokens; TPOT = the decode step at KV
 * length seq_len. Decode tokens/s of the unit = batch_size x dp / TPOT; per GPU / gpus; per node
 * = per GPU x gpus_per_node.
 */
import { largestSatisfying, largestWithinCapacity } from "../kernel/search.ts"
import type { LayerContext } from "../layers/context.ts"
import { tokensPerStep } from "../layers/context.ts"
import { planAttentionHalf, planMlpHalf } from "../layers/layer.ts"
import { validateLayout } from "../layers/layout.ts"
import { planLmHead } from "../layers/lmHead.ts"
import { collectiveOp } from "../layers/spec.ts"
import type { OpSpec } from "../ops/types.ts"
import type { KernelMode, LinkDtype } from "../schema/deployment.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { MoeConfig } from "../schema/layer.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import { a2aBytesPerToken, deepepLowLatencyBufferBytes, deepepNormalBufferBytes } from "./alltoall.ts"
import type { LargeEpDeployment } from "./deployment.ts"
import { contextFor } from "../kernel/layout.ts"
import { imbalanceFactor } from "./imbalance.ts"
import { activationBytes, addParts, kvBytesPerSequence, totalBytes, weightParts, type MemoryParts } from "./memory.ts"
import { instanceNames, moeConfigs, type Model } from "../kernel/model.ts"
import { ATTENTION_STAGE, FFN_STAGE, smSlowdown, sumMs, timeSpec, timeSpecs } from "../kernel/opTiming.ts"
import { boundOf, serialLayer, tboLayer, type LargeEpBound } from "../kernel/twoBatchOverlap.ts"
import type { EfficiencySummary } from "../timing/efficiency.ts"
import type { CalibrationSummary } from "../timing/calibration.ts"

/** What the playbooks need besides the deployment: the model and how to time ops on the hardware. */
export interface PlaybookInput {
  readonly model: Model
  readonly hardware: HardwareSpec
  readonly timing: TimingHardware
  readonly estimator: Estimator
  /** What the results say about the timing constants (src/timing/efficiency.ts); not read by the timing. */
  readonly efficiency?: EfficiencySummary
  /** Where those constants come from (src/timing/calibration.ts); not read by the timing. */
  readonly calibration?: CalibrationSummary
  /** Share timed layer halves between steps (a sweep's many points); off for one evaluation. */
  readonly shareOps?: boolean
}

export interface PhaseRun {
  readonly phase: SinglePhase
  /** Sequences per attention DP rank (per GPU when tp = 1), all micro-batches together. */
  readonly batch_size: number
  /** Prompt length (prefill) or KV length (decode), tokens. */
  readonly seq_len: number
  /** Override of routed tokens per local expert slot (disables the imbalance factor on experts). */
  readonly tokens_per_expert?: number
}

export interface A2aCall {
  readonly nvlink_bytes: number
  readonly nic_bytes: number
  readonly nvlink_ms: number
  readonly nic_ms: number
  readonly latency_ms: number
  readonly time_ms: number
}

/** One dispatch or combine call of `tokens` tokens sent by one GPU. */
export const a2aCall = (
  mode: KernelMode,
  m: Pick<MoeConfig, "n_routed_experts" | "num_experts_per_tok" | "d_model">,
  d: Pick<LargeEpDeployment, "ep" | "gpus_per_node" | "a2a_latency_us">,
  dtype: LinkDtype,
  tokens: number,
  hw: TimingHardware,
  estimator: Estimator
): A2aCall => {
  const perToken = a2aBytesPerToken(
    mode,
    { experts: m.n_routed_experts, top_k: m.num_experts_per_tok, d_model: m.d_model, ep: d.ep, gpus_per_node: d.gpus_per_node },
    dtype
  )
  const nvlink = perToken.nvlink_bytes * tokens
  const nic = perToken.nic_bytes * tokens
  const linkMs = (name: string, bytes: number, link: "interconnect" | "nic") =>
    bytes > 0 ? timeSpec(collectiveOp(name, "p2p", bytes, 1, link), hw, estimator).dominant_latency_ms : 0
  const nvlinkMs = linkMs("a2a_nvlink", nvlink, "interconnect")
  const nicMs = linkMs("a2a_nic", nic, "nic")
  const latency = d.a2a_latency_us[mode] / 1e3
  return { nvlink_bytes: nvlink, nic_bytes: nic, nvlink_ms: nvlinkMs, nic_ms: nicMs, latency_ms: latency, time_ms: Math.max(nvlinkMs, nicMs) + latency }
}

export interface LargeEpLayer {
  readonly layer_name: string
  readonly layer_type: string
  /** Busy time per step (all micro-batches) of the attention stage, ms. */
  readonly attention_ms: number
  /** ... of the FFN / MoE stage (shared + routed experts, or the dense FFN), ms. */
  readonly ffn_ms: number
  /** ... of communication (dispatch + combine + TP collectives), ms. */
  readonly comm_ms: number
  readonly dispatch_ms: number
  readonly combine_ms: number
  readonly tp_comm_ms: number
  /** The layer's time in the step after overlap, ms. */
  readonly layer_ms: number
  /** Communication left on the critical path: layer_ms - attention_ms - ffn_ms, ms. */
  readonly exposed_comm_ms: number
  readonly bound: LargeEpBound | "lm_head"
  /** Bytes this GPU sends per step on each link (dispatch + combine; the hottest GPU). */
  readonly nvlink_bytes: number
  readonly nic_bytes: number
  /** max/mean expert load applied to this layer (1 for dense layers). */
  readonly load_imbalance: number
  /** The all-to-all split per step (dispatch + combine, all micro-batches): NVLink time, NIC time, per-call latency, ms. Each call takes max(NVLink, NIC) + latency. */
  readonly a2a_nvlink_ms: number
  readonly a2a_nic_ms: number
  readonly a2a_latency_ms: number
  /** Compute-time multiplier from the SMs the overlapped high-throughput kernels take (sm_count / (sm_count - comm_sms); 1 for low-latency kernels or no overlap). */
  readonly compute_slowdown: number
}

export interface LargeEpPhase {
  readonly phase: SinglePhase
  readonly kernel_mode: KernelMode
  readonly batch_size: number
  readonly micro_batch_size: number
  readonly seq_len: number
  readonly step_ms: number
  readonly lm_head_ms: number
  readonly layers: ReadonlyArray<LargeEpLayer>
  /** Time charged to each binding term over the step (overlap.ts). */
  readonly bound_ms: Readonly<Record<LargeEpBound, number>>
  readonly bottleneck: LargeEpBound
  readonly bottleneck_layer: string
  readonly memory_parts_bytes: MemoryParts
  readonly memory_per_gpu_bytes: number
  readonly fits_in_hbm: boolean
  readonly max_batch_per_gpu: number
}

type EntryResult = Omit<LargeEpLayer, "layer_name"> & { readonly charged: Readonly<Record<LargeEpBound, number>> }

const scaleTokens = (spec: OpSpec, factor: number): OpSpec =>
  factor === 1 || spec.kind !== "moe_experts" || typeof spec.params.tokens !== "number"
    ? spec
    : { ...spec, params: { ...spec.params, tokens: spec.params.tokens * factor } }

/** Expected max/mean expert load of one micro-batch step under `ctx`. */
const stepImbalance = (d: LargeEpDeployment, m: MoeConfig, ctx: LayerContext): number => {
  const copies =
    ctx.tokens_per_expert !== undefined
      ? ctx.tokens_per_expert * ((m.n_routed_experts + d.redundant_experts) / d.ep)
      : (tokensPerStep(ctx) * d.dp * m.num_experts_per_tok) / d.ep
  return imbalanceFactor(d.load_imbalance, copies, d.ep, d.redundant_experts)
}

/** Where an op's time goes in the stage terms of a layer: 0 attention, 1 FFN, 2 communication before the FFN stage, 3 after it. */
type Stage = 0 | 1 | 2 | 3
/**
 * The timed ops of one half of a layer, in order: each op's stage and dominant ms. Typed arrays:
 * a sweep keeps up to MEMO_LIMIT of these, and an array of pairs took ~1 KB each.
 */
interface StagedOps {
  readonly stages: Uint8Array
  readonly ms: Float64Array
}

/**
 * Time the ops of one half and put each in its stage term. Communication before the first FFN
 * stage or router op of the layer is `pre`, after it `post`: the attention half has neither, so
 * its collectives are all `pre`, and the MLP half's split is its own.
 */
const stagedOps = (specs: ReadonlyArray<OpSpec>, input: PlaybookInput, expertFactor: number, slowdown: number, mlpHalf: boolean): StagedOps => {
  const boundary = mlpHalf ? specs.findIndex((s) => FFN_STAGE.has(s.category) || s.category === "moe_router") : -1
  const stages: Array<Stage> = []
  const times: Array<number> = []
  const push = (stage: Stage, ms: number) => {
    stages.push(stage)
    times.push(ms)
  }
  specs.forEach((s, i) => {
    if (s.kind === "ep_all_to_all") return
    const timed = timeSpec(scaleTokens(s, expertFactor), input.timing, input.estimator, s.category === "comm" ? 1 : slowdown)
    const ms = timed.dominant_latency_ms
    if (timed.bound === "comm") push(boundary >= 0 && i > boundary ? 3 : 2, ms)
    else if (FFN_STAGE.has(s.category)) push(1, ms)
    else if (ATTENTION_STAGE.has(s.category)) push(0, ms)
    else throw new Error(`op ${s.name}: category ${s.category} has no stage`)
  })
  return { stages: Uint8Array.from(stages), ms: Float64Array.from(times) }
}

/**
 * Staged ops shared between steps that agree on everything a half reads (src/layers/layer.ts
 * planAttentionHalf / planMlpHalf): a sweep over EP, batch and length re-plans and re-times only
 * what changed (attention does not depend on EP, the experts not on the sequence length in
 * decode). Keyed per timing hardware, estimator and template object; a hit is the same list the
 * half would compute, so every sum below is the same to the last bit (test/sweep/sweep.test.ts
 * compares shared and unshared steps). Bounded: a map is dropped when it reaches MEMO_LIMIT.
 */
const MEMO_LIMIT = 250_000
const stageMemo = new WeakMap<TimingHardware, Map<string, WeakMap<object, Map<string, StagedOps>>>>()
const memoFor = (input: PlaybookInput, template: object): Map<string, StagedOps> => {
  let byEstimator = stageMemo.get(input.timing)
  if (!byEstimator) stageMemo.set(input.timing, (byEstimator = new Map()))
  const est = `${input.estimator.id}@${input.estimator.version}@${input.estimator.model ?? ""}`
  let byTemplate = byEstimator.get(est)
  if (!byTemplate) byEstimator.set(est, (byTemplate = new WeakMap()))
  let memo = byTemplate.get(template)
  if (!memo || memo.size >= MEMO_LIMIT) byTemplate.set(template, (memo = new Map()))
  return memo
}

const precisionKeys = new WeakMap<object, string>()
const precisionKey = (p: LayerContext["precision"]): string => {
  let k = precisionKeys.get(p)
  if (k === undefined) precisionKeys.set(p, (k = `${p.weights}/${p.activations}/${p.kv_cache}/${p.moe_experts}/${p.lm_head}`))
  return k
}

/**
 * Dispatch and combine of one micro-batch step. They read the mode, the MoE config, the
 * deployment and the tokens sent; a sweep shares them between points that agree (every length
 * of one batch and layout), as the layer halves above.
 */
const a2aMemo = new WeakMap<TimingHardware, WeakMap<LargeEpDeployment, WeakMap<MoeConfig, Map<string, readonly [A2aCall, A2aCall]>>>>()
const a2aPair = (input: PlaybookInput, mode: KernelMode, m: MoeConfig, d: LargeEpDeployment, tokens: number): readonly [A2aCall, A2aCall] => {
  const pair = (): readonly [A2aCall, A2aCall] => [
    a2aCall(mode, m, d, d.dispatch_dtype, tokens, input.timing, input.estimator),
    a2aCall(mode, m, d, d.combine_dtype, tokens, input.timing, input.estimator)
  ]
  if (input.shareOps !== true) return pair()
  let byD = a2aMemo.get(input.timing)
  if (!byD) a2aMemo.set(input.timing, (byD = new WeakMap()))
  let byM = byD.get(d)
  if (!byM) byD.set(d, (byM = new WeakMap()))
  let memo = byM.get(m)
  if (!memo || memo.size >= MEMO_LIMIT) byM.set(m, (memo = new Map()))
  const key = `${mode}|${tokens}|${input.estimator.id}@${input.estimator.version}@${input.estimator.model ?? ""}`
  let hit = memo.get(key)
  if (!hit) memo.set(key, (hit = pair()))
  return hit
}

const entryTimes = (input: PlaybookInput, d: LargeEpDeployment, entry: Model["entries"][number], ctx: LayerContext, mode: KernelMode): EntryResult => {
  const t = entry.template
  const m = t.type === "moe_layer" ? t.config.moe_config : undefined
  const factor = m && d.ep > 1 ? stepImbalance(d, m, ctx) : 1
  const expertFactor = ctx.tokens_per_expert === undefined ? factor : 1
  const slowdown = d.two_batch_overlap && mode === "high_throughput" ? smSlowdown(input.hardware.sm_count ?? 0, d.comm_sms) : 1
  let attention: StagedOps
  let mlp: StagedOps
  if (input.shareOps === true) {
    const memo = memoFor(input, t)
    const p = precisionKey(ctx.precision)
    const aKey = `a|${ctx.phase}|${ctx.batch_size}|${ctx.seq_len}|${ctx.parallel.tp}|${p}|${slowdown}`
    const mKey = `m|${ctx.phase}|${tokensPerStep(ctx)}|${ctx.parallel.tp}|${ctx.parallel.dp}|${ctx.parallel.ep}|${ctx.redundant_experts ?? 0}|${ctx.gpus_per_node}|${ctx.tokens_per_expert ?? ""}|${p}|${slowdown}|${expertFactor}`
    let a = memo.get(aKey)
    let b = memo.get(mKey)
    if (a === undefined || b === undefined) {
      const problem = validateLayout(t, ctx)
      if (problem !== undefined) throw new Error(`invalid parallel layout for ${t.type}: ${problem}`)
    }
    if (a === undefined) memo.set(aKey, (a = stagedOps(planAttentionHalf(t, ctx), input, expertFactor, slowdown, false)))
    if (b === undefined) memo.set(mKey, (b = stagedOps(planMlpHalf(t, ctx), input, expertFactor, slowdown, true)))
    attention = a
    mlp = b
  } else {
    const problem = validateLayout(t, ctx)
    if (problem !== undefined) throw new Error(`invalid parallel layout for ${t.type}: ${problem}`)
    attention = stagedOps(planAttentionHalf(t, ctx), input, expertFactor, slowdown, false)
    mlp = stagedOps(planMlpHalf(t, ctx), input, expertFactor, slowdown, true)
  }
  // The sums in op order, as one pass over the layer's ops would make them.
  const sums = [0, 0, 0, 0]
  for (let i = 0; i < attention.ms.length; i++) sums[attention.stages[i]] += attention.ms[i]
  for (let i = 0; i < mlp.ms.length; i++) sums[mlp.stages[i]] += mlp.ms[i]
  const [a, f, pre, post] = sums
  const tokens = (tokensPerStep(ctx) / d.tp) * factor
  const none: A2aCall = { nvlink_bytes: 0, nic_bytes: 0, nvlink_ms: 0, nic_ms: 0, latency_ms: 0, time_ms: 0 }
  const [disp, comb] = m && d.ep > 1 ? a2aPair(input, mode, m, d, tokens) : [none, none]
  const terms = { a, d: pre + disp.time_ms, f, c: comb.time_ms + post }
  const mb = d.micro_batches
  const composed = d.two_batch_overlap ? tboLayer(terms, input.hardware.overlap_efficiency) : serialLayer(terms, mb)
  return {
    layer_type: t.type,
    attention_ms: mb * a,
    ffn_ms: mb * f,
    comm_ms: mb * (terms.d + terms.c),
    dispatch_ms: mb * disp.time_ms,
    combine_ms: mb * comb.time_ms,
    tp_comm_ms: mb * (pre + post),
    layer_ms: composed.layer_ms,
    exposed_comm_ms: Math.max(0, composed.layer_ms - mb * (a + f)),
    bound: composed.bound,
    nvlink_bytes: mb * (disp.nvlink_bytes + comb.nvlink_bytes),
    nic_bytes: mb * (disp.nic_bytes + comb.nic_bytes),
    load_imbalance: factor,
    a2a_nvlink_ms: mb * (disp.nvlink_ms + comb.nvlink_ms),
    a2a_nic_ms: mb * (disp.nic_ms + comb.nic_ms),
    a2a_latency_ms: mb * (disp.latency_ms + comb.latency_ms),
    compute_slowdown: slowdown,
    charged: composed.charged
  }
}

/** Communication buffers of the deployment's all-to-all kernels for one GPU. */
const commBufferBytes = (model: Model, d: LargeEpDeployment, mode: KernelMode, microCtx: LayerContext): number => {
  const moes = moeConfigs(model)
  if (moes.length === 0 || d.ep <= 1) return 0
  return moes
    .map((m) =>
      mode === "low_latency"
        ? deepepLowLatencyBufferBytes(tokensPerStep(microCtx) / d.tp, m.d_model, m.n_routed_experts + d.redundant_experts)
        : deepepNormalBufferBytes(m.d_model * Math.max(DTYPE_BYTES[d.dispatch_dtype], DTYPE_BYTES[d.combine_dtype]), d.ep, d.gpus_per_node, d.comm_sms)
    )
    .reduce((a, b) => Math.max(a, b), -Infinity)
}

/**
 * Weights do not depend on the batch, the sequence or the phase: computed once per model and
 * deployment object (a batch search or a sweep asks for the same deployment many times).
 */
const weightMemo = new WeakMap<Model, WeakMap<LargeEpDeployment, MemoryParts>>()
const weightsOf = (model: Model, d: LargeEpDeployment, ctx: LayerContext): MemoryParts => {
  let byDeployment = weightMemo.get(model)
  if (!byDeployment) weightMemo.set(model, (byDeployment = new WeakMap()))
  let parts = byDeployment.get(d)
  if (!parts) byDeployment.set(d, (parts = weightParts(model, ctx)))
  return parts
}

/** Memory parts of one GPU at `batch` sequences per attention DP rank. */
export const largeEpMemory = (model: Model, d: LargeEpDeployment, phase: SinglePhase, batch: number, seqLen: number): MemoryParts => {
  const full = contextFor(model, d, phase, batch, seqLen)
  const micro = contextFor(model, d, phase, batch / d.micro_batches, seqLen)
  return addParts(weightsOf(model, d, full), {
    kv_cache_bytes: batch * kvBytesPerSequence(model, full),
    activation_bytes: activationBytes(model, micro, d.two_batch_overlap ? 2 : 1, batch),
    comm_buffer_bytes: commBufferBytes(model, d, d.kernel_mode[phase], micro)
  })
}

export const capacityBytes = (hw: HardwareSpec, reserved: number): number => hw.hbm_gb * 1e9 - reserved

/** Largest batch per attention DP rank whose memory fits in HBM (0 if none). */
export const largeEpMaxBatch = (model: Model, hw: HardwareSpec, d: LargeEpDeployment, phase: SinglePhase, seqLen: number): number =>
  largestWithinCapacity((b) => totalBytes(largeEpMemory(model, d, phase, b, seqLen)), capacityBytes(hw, d.reserved_bytes))

export type LargeEpStep = Pick<
  LargeEpPhase,
  "phase" | "kernel_mode" | "batch_size" | "micro_batch_size" | "seq_len" | "step_ms" | "lm_head_ms" | "layers" | "bound_ms" | "bottleneck" | "bottleneck_layer"
>

/** What a step is rolled up from: each entry's times once (not per instance), and the LM head's ops. */
const stepParts = (input: PlaybookInput, d: LargeEpDeployment, run: PhaseRun) => {
  const { model } = input
  const mode = d.kernel_mode[run.phase]
  const micro = run.batch_size / d.micro_batches
  const ctx = contextFor(model, d, run.phase, micro, run.seq_len, run.tokens_per_expert)
  const perEntry = model.entries.map((e) => entryTimes(input, d, e, ctx, mode))
  const lm = model.lm_head
  const lmOps = () => (lm ? timeSpecs(planLmHead(lm, contextFor(model, d, run.phase, run.batch_size, run.seq_len)), input.timing, input.estimator) : [])
  // The LM head reads the full batch, its length and tp: shared between points like a layer half.
  const lmHeadMs = () => {
    if (!lm || input.shareOps !== true) return sumMs(lmOps())
    const memo = memoFor(input, lm)
    const key = `lm|${run.phase}|${run.batch_size}|${run.seq_len}|${d.tp}|${precisionKey(model.precision)}`
    let ms = memo.get(key)
    if (ms === undefined) memo.set(key, (ms = { stages: Uint8Array.of(0), ms: Float64Array.of(sumMs(lmOps())) }))
    return ms.ms[0]
  }
  return { mode, micro, perEntry, lmOps, lmHeadMs }
}

/** Step totals without per-instance rows (a sweep point): the same sums, in the same order, as largeEpStep. */
export interface LargeEpStepTotals {
  readonly step_ms: number
  readonly lm_head_ms: number
  readonly bound_ms: Readonly<Record<LargeEpBound, number>>
  readonly bottleneck: LargeEpBound
}

export const largeEpStepTotals = (input: PlaybookInput, d: LargeEpDeployment, run: PhaseRun): LargeEpStepTotals => {
  const parts = stepParts(input, d, run)
  const perEntry = parts.perEntry
  const lmHeadMs = parts.lmHeadMs()
  const charged: Record<LargeEpBound, number> = { attention: 0, ffn: 0, comm: 0 }
  let step = 0
  input.model.entries.forEach((e, i) => {
    const r = perEntry[i]
    for (let k = 0; k < e.repeat; k++) {
      step += r.layer_ms
      charged.attention += r.charged.attention
      charged.ffn += r.charged.ffn
      charged.comm += r.charged.comm
    }
  })
  if (input.model.lm_head) step += lmHeadMs
  return { step_ms: step, lm_head_ms: lmHeadMs, bound_ms: charged, bottleneck: boundOf(charged, ["attention", "ffn", "comm"]) as LargeEpBound }
}

/** The step time of one phase (a prefill or a decode step), per layer, without memory. */
export const largeEpStep = (input: PlaybookInput, d: LargeEpDeployment, run: PhaseRun): LargeEpStep => {
  const { model } = input
  const parts = stepParts(input, d, run)
  const { mode, micro, perEntry } = parts
  const ops = parts.lmOps()
  const lmHeadMs = sumMs(ops)
  const charged: Record<LargeEpBound, number> = { attention: 0, ffn: 0, comm: 0 }
  const layers: Array<LargeEpLayer> = instanceNames(model).map(({ entry, name }) => {
    const { charged: c, ...rest } = perEntry[entry]
    for (const k of ["attention", "ffn", "comm"] as const) charged[k] += c[k]
    return { layer_name: name, ...rest }
  })
  if (model.lm_head) {
    const comm = sumMs(ops.filter((o) => o.bound === "comm"))
    layers.push({
      layer_name: `L${layers.length}.lm_head`,
      layer_type: "lm_head",
      attention_ms: 0,
      ffn_ms: 0,
      comm_ms: comm,
      dispatch_ms: 0,
      combine_ms: 0,
      tp_comm_ms: comm,
      layer_ms: lmHeadMs,
      exposed_comm_ms: comm,
      bound: "lm_head",
      nvlink_bytes: ops.filter((o) => o.link === "interconnect").reduce((s, o) => s + o.comm_bytes, 0),
      nic_bytes: ops.filter((o) => o.link === "nic").reduce((s, o) => s + o.comm_bytes, 0),
      load_imbalance: 1,
      a2a_nvlink_ms: 0,
      a2a_nic_ms: 0,
      a2a_latency_ms: 0,
      compute_slowdown: 1
    })
  }
  const slowest = layers.reduce((best, l) => (l.layer_ms > best.layer_ms ? l : best), layers[0])
  return {
    phase: run.phase,
    kernel_mode: mode,
    batch_size: run.batch_size,
    micro_batch_size: micro,
    seq_len: run.seq_len,
    step_ms: layers.reduce((s, l) => s + l.layer_ms, 0),
    lm_head_ms: lmHeadMs,
    layers,
    bound_ms: charged,
    bottleneck: boundOf(charged, ["attention", "ffn", "comm"]) as LargeEpBound,
    bottleneck_layer: slowest.layer_name
  }
}

/** One phase (a prefill or a decode step) of a large-EP deployment: step time, memory, fit. */
export const largeEpPhase = (input: PlaybookInput, d: LargeEpDeployment, run: PhaseRun): LargeEpPhase => {
  const step = largeEpStep(input, d, run)
  const parts = largeEpMemory(input.model, d, run.phase, run.batch_size, run.seq_len)
  const total = totalBytes(parts)
  return {
    ...step,
    memory_parts_bytes: parts,
    memory_per_gpu_bytes: total,
    fits_in_hbm: total <= capacityBytes(input.hardware, d.reserved_bytes),
    max_batch_per_gpu: largeEpMaxBatch(input.model, input.hardware, d, run.phase, run.seq_len)
  }
}

export interface LargeEpDecode extends LargeEpPhase {
  readonly tpot_ms: number
  /** Output tokens/s of one sequence: 1000 / TPOT. */
  readonly tokens_per_s_per_request: number
  readonly tokens_per_s: number
  readonly tokens_per_s_per_gpu: number
  readonly tokens_per_s_per_node: number
}

/**
 * The decode step of a large-EP unit at `batch_size` sequences per attention DP rank and KV
 * length `kv_len`: TPOT and output tokens/s per request, GPU and node, memory and fit. This is
 * the entry point for checks against DeepSeek's published decode figures (EP144, average KV
 * length 4,989, 20-22 tokens/s per request, ~14.8k output tokens/s per node).
 */
export const largeEpDecode = (
  input: PlaybookInput,
  d: LargeEpDeployment,
  run: { readonly batch_size: number; readonly kv_len: number; readonly tokens_per_expert?: number }
): LargeEpDecode => {
  const p = largeEpPhase(input, d, {
    phase: "decode",
    batch_size: run.batch_size,
    seq_len: run.kv_len,
    ...(run.tokens_per_expert === undefined ? {} : { tokens_per_expert: run.tokens_per_expert })
  })
  const tokens = (run.batch_size * d.dp * 1e3) / p.step_ms
  const perGpu = tokens / d.gpus
  return {
    ...p,
    tpot_ms: p.step_ms,
    tokens_per_s_per_request: 1e3 / p.step_ms,
    tokens_per_s: tokens,
    tokens_per_s_per_gpu: perGpu,
    tokens_per_s_per_node: perGpu * d.gpus_per_node
  }
}

/**
 * The largest batch per attention DP rank (<= the HBM limit) whose decode TPOT is at most
 * `tpotMs`; 0 when even batch 1 misses it or nothing fits. TPOT grows with the batch.
 */
export const largeEpBatchForTpot = (input: PlaybookInput, d: LargeEpDeployment, kvLen: number, tpotMs: number): number => {
  const cap = largeEpMaxBatch(input.model, input.hardware, d, "decode", kvLen)
  const meets = (b: number) => b <= cap && largeEpStepTotals(input, d, { phase: "decode", batch_size: b, seq_len: kvLen }).step_ms <= tpotMs
  return cap === 0 ? 0 : largestSatisfying(meets, cap)
}

/**
 * Attention-FFN disaggregation (MegaScale-Infer arXiv 2504.02263; StepFun Step-3 arXiv
 * 2507.19427; AIC's AFD model, ai-dynamo/aiconfigurator src/aiconfigurator/sdk/inference_session.py). Attention instances hold the attention
 * weights, the router, the embeddings / LM head and the KV cache; FFN instances hold the experts
 * (expert parallel over every FFN GPU, redundant slots allowed), the shared experts and the dense
 * FFNs (replicated: each FFN GPU runs them on 1 / (FFN GPUs) of the tokens). Every layer sends
 * the hidden states A -> F and the expert outputs F -> A.
 *
 * Per layer and micro-batch (batch_size / micro_batches sequences per attention DP rank; all
 * attention ranks step together), with T the micro-batch's tokens over all attention ranks:
 *   t_a    attention-side ops (norms, attention, TP all-reduce inside an instance, router), timed
 *          by the core roofline on one attention GPU;
 *   t_f    FFN-side ops on one FFN GPU: shared experts and dense FFN on T / F_gpus tokens,
 *          routed experts on T * k / F_gpus copies x the load-imbalance factor;
 *   copies a token goes to every FFN GPU holding at least one of its k experts, once:
 *          D = F_gpus * (1 - C(E - E/F_gpus, k) / C(E, k))  (AIC's p_send per rank times ranks),
 *          one FFN GPU for a dense layer (D = 1);
 *   t_a2f  = max(A GPU sends x * D * d_model * bytes, F GPU receives T * D / F_gpus * d_model *
 *          bytes * imbalance) over the a2f link (roofline link time + link latency), plus the
 *          transfer call latency; x = the attention GPU's tokens / attention tp;
 *   t_f2a  the same copies back in the f2a dtype.
 * The pipeline regime and step time follow afdPipeline.ts; the LM head runs on the attention
 * side after the last layer. Decode tokens/s = batch_size x attention dp / TPOT over all
 * attention + FFN GPUs.
 *
 * Memory: attention GPU = attention weights, norms, router, embeddings / LM head, the KV cache
 * of its batch_size sequences (every micro-batch's cache stays resident), one micro-batch's
 * attention activations and the transfer buffers of every micro-batch in flight (its a2f sends
 * and f2a receives); FFN GPU = expert slots, shared experts, dense FFNs, one micro-batch's FFN
 * activations and the transfer buffers of every micro-batch in flight.
 */
import { largestSatisfying } from "../kernel/search.ts"
import { attentionActivationElements, planAttention } from "../layers/attention.ts"
import type { LayerContext } from "../layers/context.ts"
import { tokensPerStep } from "../layers/context.ts"
import { ffnActivationElements, planFfn } from "../layers/ffn.ts"
import { planComm } from "../layers/comm.ts"
import { planLmHead } from "../layers/lmHead.ts"
import { moeActivationElements, planMoe } from "../layers/moe.ts"
import { collectiveOp, rmsnormOp } from "../layers/spec.ts"
import type { OpSpec } from "../ops/types.ts"
import type { AfdLink, LinkDtype } from "../schema/deployment.ts"
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { afdLayerTime, afdStepMs, type AfdBound, type AfdStages, type ResolvedRegime } from "../kernel/afdPipeline.ts"
import { distinctGpusPerToken } from "./alltoall.ts"
import { afdAttentionContext, afdFfnContext, type AfdPlan } from "./deployment.ts"
import { imbalanceFactor } from "./imbalance.ts"
import { capacityBytes, type PhaseRun, type PlaybookInput } from "./largeEp.ts"
import { addParts, kvBytesPerSequence, totalBytes, weightParts, type MemoryParts } from "./memory.ts"
import { instanceNames, type ModelEntry } from "../kernel/model.ts"
import { sumMs, timeSpec, timeSpecs } from "../kernel/opTiming.ts"

export interface AfdLayer {
  readonly layer_name: string
  readonly layer_type: string
  /** Busy time per step (all micro-batches) of one attention GPU, ms. */
  readonly attention_ms: number
  /** ... of one FFN GPU, ms. */
  readonly ffn_ms: number
  readonly a2f_ms: number
  readonly f2a_ms: number
  /** a2f_ms + f2a_ms. */
  readonly comm_ms: number
  /** One micro-batch's stage times, ms. */
  readonly stage_ms: AfdStages
  readonly regime: ResolvedRegime | "lm_head"
  /** The requested regime could not hold (too few micro-batches) and a slower one was used. */
  readonly regime_fell_back: boolean
  readonly cycle_ms: number
  /** micro_batches x cycle_ms: the layer's time in the step, ms. */
  readonly layer_ms: number
  readonly bound: AfdBound | "lm_head"
  /** Bytes per step (all micro-batches) one attention GPU sends A -> F and receives F -> A. */
  readonly a2f_bytes_per_attention_gpu: number
  readonly f2a_bytes_per_attention_gpu: number
  /** Bytes per step the most loaded FFN GPU receives A -> F and sends F -> A. */
  readonly a2f_bytes_per_ffn_gpu: number
  readonly f2a_bytes_per_ffn_gpu: number
  readonly load_imbalance: number
}

export interface AfdPhase {
  readonly phase: SinglePhase
  readonly batch_size: number
  readonly micro_batch_size: number
  readonly seq_len: number
  readonly step_ms: number
  readonly lm_head_ms: number
  readonly fill_ms: number
  readonly layers: ReadonlyArray<AfdLayer>
  /** The regime most layers run in. */
  readonly pipeline_regime: ResolvedRegime
  readonly bound_ms: Readonly<Record<AfdBound, number>>
  readonly bottleneck: AfdBound
  readonly bottleneck_layer: string
  readonly memory: { readonly attention_gpu: MemoryParts; readonly ffn_gpu: MemoryParts }
  readonly memory_per_gpu_bytes: number
  readonly fits_in_hbm: boolean
  readonly max_batch_per_gpu: number
}

interface Transfer {
  readonly a_bytes: number
  readonly f_bytes: number
  readonly ms: number
}

const transfer = (input: PlaybookInput, plan: AfdPlan, link: AfdLink, aBytes: number, fBytes: number, name: string): Transfer => {
  const t = (bytes: number) => (bytes > 0 ? timeSpec(collectiveOp(name, "p2p", bytes, 1, link), input.timing, input.estimator).dominant_latency_ms : 0)
  const ms = Math.max(t(aBytes), t(fBytes)) + (aBytes > 0 || fBytes > 0 ? plan.transfer_latency_us / 1e3 : 0)
  return { a_bytes: aBytes, f_bytes: fBytes, ms }
}

const bytesPer = (d: LinkDtype) => DTYPE_BYTES[d]

/** Tokens of one micro-batch on one attention DP rank, and over all attention ranks. */
const microTokens = (ctxA: LayerContext, plan: AfdPlan) => {
  const perRank = tokensPerStep(ctxA)
  return { perRank, total: perRank * plan.attention.dp }
}

/** Attention-side op specs of one layer entry under ctxA. */
const attentionSideSpecs = (e: ModelEntry, ctxA: LayerContext): ReadonlyArray<OpSpec> => {
  const t = e.template
  if (t.type === "comm_layer") return planComm(t.config.comm_config, ctxA)
  const a = t.config.attn_config
  const tokens = tokensPerStep(ctxA)
  const act = ctxA.precision.activations
  return [
    rmsnormOp("attn_norm", "other", tokens, a.d_model, act),
    ...planAttention(a, ctxA),
    rmsnormOp("ffn_norm", "other", tokens, a.d_model, act),
    ...(t.type === "moe_layer" ? planMoe(t.config.moe_config, ctxA).filter((s) => s.category === "moe_router") : [])
  ]
}

/** FFN-side op specs of one layer entry under ctxF (experts scaled to the hottest GPU). */
const ffnSideSpecs = (e: ModelEntry, ctxF: LayerContext, factor: number): ReadonlyArray<OpSpec> => {
  const t = e.template
  if (t.type === "ffn_layer") return planFfn(t.config.ffn_config, ctxF).filter((s) => s.category !== "comm")
  if (t.type !== "moe_layer") return []
  return planMoe(t.config.moe_config, ctxF)
    .filter((s) => s.category === "moe_shared" || s.category === "moe_experts")
    .map((s) =>
      s.category === "moe_experts" && typeof s.params.tokens === "number" && factor !== 1
        ? { ...s, params: { ...s.params, tokens: s.params.tokens * factor } }
        : s
    )
}

interface EntryAfd {
  readonly stages: AfdStages
  readonly a2f: Transfer
  readonly f2a: Transfer
  readonly factor: number
}

const entryAfd = (input: PlaybookInput, plan: AfdPlan, e: ModelEntry, ctxA: LayerContext, tokensPerExpert: number | undefined): EntryAfd => {
  const { perRank, total } = microTokens(ctxA, plan)
  const ctxF = afdFfnContext(input.model, plan, total / plan.ffn.gpus, tokensPerExpert)
  const t = e.template
  const m = t.type === "moe_layer" ? t.config.moe_config : undefined
  const factor = m
    ? imbalanceFactor(
        plan.load_imbalance,
        tokensPerExpert !== undefined
          ? tokensPerExpert * ((m.n_routed_experts + plan.ffn.redundant_experts) / plan.ffn.ep)
          : (total * m.num_experts_per_tok) / plan.ffn.ep,
        plan.ffn.ep,
        plan.ffn.redundant_experts
      )
    : 1
  const attention = sumMs(timeSpecs(attentionSideSpecs(e, ctxA), input.timing, input.estimator))
  const ffn = sumMs(timeSpecs(ffnSideSpecs(e, ctxF, tokensPerExpert === undefined ? factor : 1), input.timing, input.estimator))
  if (t.type === "comm_layer") {
    const none = { a_bytes: 0, f_bytes: 0, ms: 0 }
    return { stages: { attention, a2f: 0, ffn: 0, f2a: 0 }, a2f: none, f2a: none, factor }
  }
  const d = t.config.attn_config.d_model
  const copies = m ? distinctGpusPerToken(m.n_routed_experts, m.num_experts_per_tok, plan.ffn.gpus) : 1
  const x = perRank / plan.attention.tp
  const fCopies = ((total * copies) / plan.ffn.gpus) * factor
  const a2f = transfer(input, plan, plan.a2f.link, x * copies * d * bytesPer(plan.a2f.dtype), fCopies * d * bytesPer(plan.a2f.dtype), "a2f")
  const f2a = transfer(input, plan, plan.f2a.link, x * copies * d * bytesPer(plan.f2a.dtype), fCopies * d * bytesPer(plan.f2a.dtype), "f2a")
  return { stages: { attention, a2f: a2f.ms, ffn, f2a: f2a.ms }, a2f, f2a, factor }
}

/** Per-GPU memory of both roles at `batch` sequences per attention DP rank. */
export const afdMemory = (
  input: PlaybookInput,
  plan: AfdPlan,
  phase: SinglePhase,
  batch: number,
  seqLen: number
): { attention_gpu: MemoryParts; ffn_gpu: MemoryParts } => {
  const { model } = input
  const m = plan.micro_batches
  const full = afdAttentionContext(model, plan, phase, batch, seqLen)
  const micro = afdAttentionContext(model, plan, phase, batch / m, seqLen)
  const { total } = microTokens(micro, plan)
  const ctxF = afdFfnContext(model, plan, total / plan.ffn.gpus)
  const act = DTYPE_BYTES[model.precision.activations]
  let aAct = 0
  let fAct = 0
  let aBuf = 0
  let fBuf = 0
  for (const e of model.entries) {
    const t = e.template
    if (t.type === "comm_layer") continue
    const a = t.config.attn_config
    const tokA = tokensPerStep(micro)
    aAct = Math.max(aAct, (2 * tokA * a.d_model + attentionActivationElements(a, micro)) * act)
    const tokF = tokensPerStep(ctxF)
    const ffnEl = t.type === "ffn_layer" ? ffnActivationElements(t.config.ffn_config, ctxF) : moeActivationElements(t.config.moe_config, ctxF)
    fAct = Math.max(fAct, (2 * tokF * a.d_model + ffnEl) * act)
    const x = entryAfd(input, plan, e, micro, undefined)
    aBuf = Math.max(aBuf, m * (x.a2f.a_bytes + x.f2a.a_bytes))
    fBuf = Math.max(fBuf, m * (x.a2f.f_bytes + x.f2a.f_bytes))
  }
  const logits = model.lm_head ? batch * model.lm_head.vocab_size * 4 : 0
  const attentionGpu = addParts(weightParts(model, full, { attention: true, ffn: false, router: true, lm_head: true }), {
    kv_cache_bytes: batch * kvBytesPerSequence(model, full),
    activation_bytes: Math.max(aAct, logits),
    comm_buffer_bytes: aBuf
  })
  const ffnGpu = addParts(weightParts(model, ctxF, { attention: false, ffn: true, router: false, lm_head: false }), {
    activation_bytes: fAct,
    comm_buffer_bytes: fBuf
  })
  return { attention_gpu: attentionGpu, ffn_gpu: ffnGpu }
}

const fitsBoth = (input: PlaybookInput, plan: AfdPlan, phase: SinglePhase, batch: number, seqLen: number): boolean => {
  const mem = afdMemory(input, plan, phase, batch, seqLen)
  const cap = capacityBytes(input.hardware, plan.reserved_bytes)
  return totalBytes(mem.attention_gpu) <= cap && totalBytes(mem.ffn_gpu) <= cap
}

export const afdMaxBatch = (input: PlaybookInput, plan: AfdPlan, phase: SinglePhase, seqLen: number): number =>
  largestSatisfying((b) => fitsBoth(input, plan, phase, b, seqLen))

export type AfdStep = Pick<
  AfdPhase,
  | "phase"
  | "batch_size"
  | "micro_batch_size"
  | "seq_len"
  | "step_ms"
  | "lm_head_ms"
  | "fill_ms"
  | "layers"
  | "pipeline_regime"
  | "bound_ms"
  | "bottleneck"
  | "bottleneck_layer"
>

/** The step time of one phase through the AFD pipeline, per layer, without memory. */
export const afdStep = (input: PlaybookInput, plan: AfdPlan, run: PhaseRun): AfdStep => {
  const { model } = input
  const m = plan.micro_batches
  const micro = run.batch_size / m
  const ctxA = afdAttentionContext(model, plan, run.phase, micro, run.seq_len)
  const perEntry = model.entries.map((e) => {
    const x = entryAfd(input, plan, e, ctxA, run.tokens_per_expert)
    return { ...x, time: afdLayerTime(plan.regime, m, x.stages) }
  })
  const bound: Record<AfdBound, number> = { attention: 0, ffn: 0, transfer: 0 }
  const counts: Record<ResolvedRegime, number> = { cyclic: 0, three_stage: 0, conservative: 0, serial: 0 }
  const layers: Array<AfdLayer> = instanceNames(model).map(({ entry, name }) => {
    const x = perEntry[entry]
    bound[x.time.bound] += x.time.layer_ms
    counts[x.time.regime] += 1
    return {
      layer_name: name,
      layer_type: model.entries[entry].template.type,
      attention_ms: m * x.stages.attention,
      ffn_ms: m * x.stages.ffn,
      a2f_ms: m * x.stages.a2f,
      f2a_ms: m * x.stages.f2a,
      comm_ms: m * (x.stages.a2f + x.stages.f2a),
      stage_ms: x.stages,
      regime: x.time.regime,
      regime_fell_back: x.time.regime_fell_back,
      cycle_ms: x.time.cycle_ms,
      layer_ms: x.time.layer_ms,
      bound: x.time.bound,
      a2f_bytes_per_attention_gpu: m * x.a2f.a_bytes,
      f2a_bytes_per_attention_gpu: m * x.f2a.a_bytes,
      a2f_bytes_per_ffn_gpu: m * x.a2f.f_bytes,
      f2a_bytes_per_ffn_gpu: m * x.f2a.f_bytes,
      load_imbalance: x.factor
    }
  })
  const fill = afdStepMs(instanceNames(model).map(({ entry }) => perEntry[entry].time)) - layers.reduce((s, l) => s + l.layer_ms, 0)
  let lmHeadMs = 0
  if (model.lm_head) {
    const full = afdAttentionContext(model, plan, run.phase, run.batch_size, run.seq_len)
    lmHeadMs = sumMs(timeSpecs(planLmHead(model.lm_head, full), input.timing, input.estimator))
    layers.push({
      layer_name: `L${layers.length}.lm_head`,
      layer_type: "lm_head",
      attention_ms: lmHeadMs,
      ffn_ms: 0,
      a2f_ms: 0,
      f2a_ms: 0,
      comm_ms: 0,
      stage_ms: { attention: lmHeadMs, a2f: 0, ffn: 0, f2a: 0 },
      regime: "lm_head",
      regime_fell_back: false,
      cycle_ms: lmHeadMs,
      layer_ms: lmHeadMs,
      bound: "lm_head",
      a2f_bytes_per_attention_gpu: 0,
      f2a_bytes_per_attention_gpu: 0,
      a2f_bytes_per_ffn_gpu: 0,
      f2a_bytes_per_ffn_gpu: 0,
      load_imbalance: 1
    })
  }
  const regime = (Object.entries(counts) as Array<[ResolvedRegime, number]>).reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0]
  const slowest = layers.reduce((best, l) => (l.layer_ms > best.layer_ms ? l : best), layers[0])
  return {
    phase: run.phase,
    batch_size: run.batch_size,
    micro_batch_size: micro,
    seq_len: run.seq_len,
    step_ms: layers.reduce((s, l) => s + l.layer_ms, 0) + fill,
    lm_head_ms: lmHeadMs,
    fill_ms: fill,
    layers,
    pipeline_regime: regime,
    bound_ms: bound,
    bottleneck: (["attention", "ffn", "transfer"] as const).reduce((best, k) => (bound[k] > bound[best] ? k : best), "attention" as AfdBound),
    bottleneck_layer: slowest.layer_name
  }
}

/** One phase of an AFD deployment: step time, memory of both roles, fit. */
export const afdPhase = (input: PlaybookInput, plan: AfdPlan, run: PhaseRun): AfdPhase => {
  const step = afdStep(input, plan, run)
  const memory = afdMemory(input, plan, run.phase, run.batch_size, run.seq_len)
  const perGpu = Math.max(totalBytes(memory.attention_gpu), totalBytes(memory.ffn_gpu))
  return {
    ...step,
    memory,
    memory_per_gpu_bytes: perGpu,
    fits_in_hbm: perGpu <= capacityBytes(input.hardware, plan.reserved_bytes),
    max_batch_per_gpu: afdMaxBatch(input, plan, run.phase, run.seq_len)
  }
}

/** The largest batch per attention DP rank (<= the HBM limit) whose decode TPOT is at most `tpotMs`; 0 if none. */
export const afdBatchForTpot = (input: PlaybookInput, plan: AfdPlan, kvLen: number, tpotMs: number): number => {
  const cap = afdMaxBatch(input, plan, "decode", kvLen)
  const meets = (b: number) => b <= cap && afdStep(input, plan, { phase: "decode", batch_size: b, seq_len: kvLen }).step_ms <= tpotMs
  return cap === 0 ? 0 : largestSatisfying(meets, cap)
}

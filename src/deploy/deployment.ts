/**
 * Resolving a scenario's `deployment` block (src/schema/deployment.ts), its `parallelism` and
 * command-line overrides into the concrete deployments the playbook models take. Pure: a
 * problem comes back as a value naming where the bad value came from (a flag, or a field path
 * in the scenario) so the CLI can point at it.
 *
 * Precedence per field: flag > deployment block > scenario `parallelism` / `runtime` > default.
 *
 * Large EP defaults: the layout (gpus per node, attention tp x dp, ep, redundant experts, and
 * `--ep N` resizing) follows the one layout rule of src/kernel/layout.ts; dispatch FP8 when the weights are FP8
 * (DeepSeek dispatches FP8 and combines BF16, deepseek_inference_overview.yaml) else the
 * activations dtype; combine in the activations dtype; kernels high_throughput for prefill and
 * low_latency for decode (SGLang's choice, lmsys blog 2025-05-05 "Deploying DeepSeek with PD
 * Disaggregation and Large-scale Expert Parallelism"); two-batch overlap on when the
 * hardware runs two streams (max_concurrency >= 2) and the EP group is > 1 GPU; perfectly
 * balanced experts (factor 1); all-to-all call latency 50 us (high_throughput) and 5 us
 * (low_latency), shallowsim's static a2a latencies 0.05 ms prefill and 0.005 ms decode
 * (Yingzi2021/shallowsim, "Notes/DeepSeek architecture & analytical model.md"); 20 communication SMs for high_throughput kernels (DeepEP
 * Buffer.num_sms default); nothing reserved.
 */
import { attentionLayoutProblem, validateLayout } from "../layers/layout.ts"
import type { LayerContext } from "../layers/context.ts"
import type { AfdDeployment, AfdLink, AfdRegime, KernelMode, LinkDtype } from "../schema/deployment.ts"
import type { ImbalanceSource } from "./imbalance.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { Precision } from "../schema/scenario.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { contextFor, fail, ok, resolveLayout, scaleUpGpus, type Layout, type Problem, type Resolved, type ScenarioBase } from "../kernel/layout.ts"
import { moeConfigs, type Model } from "../kernel/model.ts"

export const DEFAULT_A2A_LATENCY_US = { high_throughput: 50, low_latency: 5 } as const
const DEFAULT_COMM_SMS = 20
/** Smallest micro-batch count for which AIC's three-stage regime can hold when transfers are shorter than compute (2 + ratio < 3). */
const DEFAULT_AFD_MICRO_BATCHES = 3
/** AFD transfers are point-to-point like low-latency dispatch: the same static latency (5 us). */
const DEFAULT_AFD_TRANSFER_LATENCY_US = DEFAULT_A2A_LATENCY_US.low_latency

export interface LargeEpDeployment extends Layout {
  readonly dispatch_dtype: LinkDtype
  readonly combine_dtype: LinkDtype
  readonly two_batch_overlap: boolean
  readonly micro_batches: number
  readonly load_imbalance: ImbalanceSource
  readonly kernel_mode: { readonly prefill: KernelMode; readonly decode: KernelMode }
  readonly a2a_latency_us: { readonly high_throughput: number; readonly low_latency: number }
  readonly comm_sms: number
  readonly reserved_bytes: number
}

export interface AfdPlan {
  readonly gpus_per_node: number
  readonly attention: { readonly instances: number; readonly gpus_per_instance: number; readonly tp: number; readonly gpus: number; readonly dp: number }
  readonly ffn: {
    readonly instances: number
    readonly gpus_per_instance: number
    readonly gpus: number
    readonly ep: number
    readonly redundant_experts: number
  }
  readonly micro_batches: number
  readonly a2f: { readonly link: AfdLink; readonly dtype: LinkDtype }
  readonly f2a: { readonly link: AfdLink; readonly dtype: LinkDtype }
  readonly regime: AfdRegime
  readonly transfer_latency_us: number
  readonly load_imbalance: ImbalanceSource
  readonly reserved_bytes: number
}

export interface LargeEpOverrides {
  readonly ep?: number
  readonly redundant_experts?: number
  readonly dispatch_dtype?: LinkDtype
  readonly combine_dtype?: LinkDtype
  readonly two_batch_overlap?: boolean
  readonly micro_batches?: number
  readonly load_imbalance?: ImbalanceSource
  readonly kernel_mode?: KernelMode
}

export interface AfdOverrides {
  readonly attention_instances?: number
  readonly ffn_instances?: number
  readonly micro_batches?: number
  readonly regime?: AfdRegime
  readonly load_imbalance?: ImbalanceSource
}

const LINK_DTYPES: ReadonlyArray<string> = ["fp8", "bf16", "fp16", "fp32"]
const asLinkDtype = (d: string): LinkDtype => (LINK_DTYPES.includes(d) ? (d as LinkDtype) : "bf16")

/** Default dispatch dtype: FP8 when the GEMM weights are FP8 (as src/layers/moe.ts), else the activations dtype. */
const defaultDispatchDtype = (p: Required<Precision>): LinkDtype => (p.weights === "fp8" ? "fp8" : asLinkDtype(p.activations))
const defaultCombineDtype = (p: Required<Precision>): LinkDtype => asLinkDtype(p.activations)

const checkExpertLoads = (model: Model, li: ImbalanceSource, where: Problem): Problem | undefined => {
  if (typeof li !== "object") return undefined
  const moe = moeConfigs(model)
  if ("measured" in li) {
    // A load file names its own place (src/cli/expertLoad.ts checks its rows); here: does it fit the model?
    const { file, steps } = li.measured
    const at: Problem = { flag: "--expert-load", path: [], message: "" }
    if (moe.length === 0) return { ...at, message: `${file}: the model has no MoE layer to load` }
    const experts = steps[0]?.[0]?.length ?? 0
    for (const m of moe) {
      if (experts !== m.n_routed_experts) {
        return { ...at, message: `${file}: expected experts 0 to ${m.n_routed_experts - 1} (the model's routed experts), got ${experts}` }
      }
    }
    return undefined
  }
  for (const m of moe) {
    if (li.expert_loads.length !== m.n_routed_experts) {
      return { ...where, message: `expected one load per routed expert (${m.n_routed_experts}), got ${li.expert_loads.length}` }
    }
  }
  return undefined
}

export const resolveLargeEp = (model: Model, hw: HardwareSpec, base: ScenarioBase, o: LargeEpOverrides): Resolved<LargeEpDeployment> => {
  const spec = base.deployment ?? {}
  const dep = (...p: Array<PropertyKey>): Array<PropertyKey> => (base.deployment !== undefined ? ["deployment", ...p] : ["deployment"])
  const resolved = resolveLayout(model, hw, base, o)
  if (!resolved.ok) return resolved
  const { layout, tpWhere, epWhere } = resolved.value
  const { gpus_per_node: gpn, ep } = layout
  if (ep > gpn && ep % gpn !== 0)
    return fail({ ...epWhere, message: `an EP group that spans nodes fills them: ep ${ep} is not a multiple of gpus_per_node ${gpn}` })

  const concurrency = hw.max_concurrency >= 2
  const mExplicit = o.micro_batches ?? spec.micro_batches ?? base.micro_batch
  const tboExplicit = o.two_batch_overlap ?? spec.two_batch_overlap
  const tbo = tboExplicit ?? (mExplicit === undefined ? ep > 1 && concurrency : mExplicit === 2 && concurrency)
  const micro = mExplicit ?? (tbo ? 2 : 1)
  if (tbo && micro !== 2) {
    const where: Problem =
      o.micro_batches !== undefined
        ? { flag: "--micro-batch", path: [], message: "" }
        : spec.micro_batches !== undefined
          ? { path: dep("micro_batches"), message: "" }
          : { path: ["runtime", "micro_batch"], message: "" }
    return fail({ ...where, message: `two-batch overlap runs exactly 2 micro-batches, got ${micro} (turn it off with two_batch_overlap: false or --no-tbo)` })
  }
  if (tbo && !concurrency && tboExplicit !== undefined) {
    return fail({
      ...(o.two_batch_overlap !== undefined ? { flag: "--tbo", path: [] } : { path: dep("two_batch_overlap") }),
      message: `hardware ${hw.name} has max_concurrency ${hw.max_concurrency}: no second stream to overlap on`
    })
  }
  const loadImbalance = o.load_imbalance ?? spec.load_imbalance ?? 1
  const liWhere: Problem =
    o.load_imbalance !== undefined ? { flag: "--load-imbalance", path: [], message: "" } : { path: dep("load_imbalance", "expert_loads"), message: "" }
  const liProblem = checkExpertLoads(model, loadImbalance, liWhere)
  if (liProblem) return fail(liProblem)
  const commSms = spec.comm_sms ?? DEFAULT_COMM_SMS
  if (hw.sm_count !== undefined && commSms >= hw.sm_count)
    return fail({ path: dep("comm_sms"), message: `comm_sms ${commSms} leaves no SM of the ${hw.sm_count} for compute` })

  const d: LargeEpDeployment = {
    ...layout,
    dispatch_dtype: o.dispatch_dtype ?? spec.dispatch_dtype ?? defaultDispatchDtype(base.precision),
    combine_dtype: o.combine_dtype ?? spec.combine_dtype ?? defaultCombineDtype(base.precision),
    two_batch_overlap: tbo,
    micro_batches: micro,
    load_imbalance: loadImbalance,
    kernel_mode: {
      prefill: o.kernel_mode ?? spec.kernel_mode?.prefill ?? "high_throughput",
      decode: o.kernel_mode ?? spec.kernel_mode?.decode ?? "low_latency"
    },
    a2a_latency_us: {
      high_throughput: spec.a2a_latency_us?.high_throughput ?? DEFAULT_A2A_LATENCY_US.high_throughput,
      low_latency: spec.a2a_latency_us?.low_latency ?? DEFAULT_A2A_LATENCY_US.low_latency
    },
    comm_sms: commSms,
    reserved_bytes: (spec.reserved_gb ?? 0) * 1e9
  }
  // The module's own checks (heads divisible by tp, expert intermediate by the expert TP size).
  for (const e of model.entries) {
    const problem = validateLayout(e.template, contextFor(model, d, "decode", 1, 1))
    if (problem !== undefined) return fail({ ...(o.ep !== undefined ? epWhere : tpWhere), message: `layers.${e.index} (${e.label}): ${problem}` })
  }
  return ok(d)
}

/** Parse `3A2F` (attention and FFN instance counts). */
export const parseInstances = (text: string): { attention: number; ffn: number } | undefined => {
  const m = /^\s*(\d+)\s*A\s*(\d+)\s*F\s*$/i.exec(text)
  if (!m) return undefined
  const a = Number(m[1])
  const f = Number(m[2])
  return a >= 1 && f >= 1 ? { attention: a, ffn: f } : undefined
}

export const resolveAfd = (model: Model, hw: HardwareSpec, base: ScenarioBase, o: AfdOverrides): Resolved<AfdPlan> => {
  const spec = base.deployment ?? {}
  const afd: AfdDeployment = spec.afd ?? {}
  const hasAfd = spec.afd !== undefined
  const at = (...p: Array<PropertyKey>): Array<PropertyKey> => (hasAfd ? ["deployment", "afd", ...p] : base.deployment !== undefined ? ["deployment"] : [])
  // Instances are servers (gpus_per_node); links reach the scale-up domain.
  const gpn = spec.gpus_per_node ?? hw.gpus_per_node ?? 8
  const domain = spec.gpus_per_node ?? scaleUpGpus(hw)
  const aInst = o.attention_instances ?? afd.attention?.instances ?? 1
  const aGpi = afd.attention?.gpus_per_instance ?? gpn
  const aTp = afd.attention?.tp ?? 1
  if (aGpi % aTp !== 0) return fail({ path: at("attention", "tp"), message: `tp ${aTp} does not divide gpus_per_instance ${aGpi}` })
  const fInst = o.ffn_instances ?? afd.ffn?.instances ?? 1
  const fGpi = afd.ffn?.gpus_per_instance ?? gpn
  const fGpus = fInst * fGpi
  const redundant = afd.ffn?.redundant_experts ?? 0
  const instWhere: Problem = o.ffn_instances !== undefined ? { flag: "--instances", path: [], message: "" } : { path: at("ffn"), message: "" }
  for (const e of moeConfigs(model).map((m) => m.n_routed_experts)) {
    if ((e + redundant) % fGpus !== 0) {
      return fail({
        ...instWhere,
        message: `n_routed_experts ${e} + redundant_experts ${redundant} = ${e + redundant} expert slots are not divisible by the ${fGpus} FFN GPUs (${fInst} instances x ${fGpi})`
      })
    }
  }
  const micro = o.micro_batches ?? afd.micro_batches ?? base.micro_batch ?? DEFAULT_AFD_MICRO_BATCHES
  const a2fLink = afd.a2f?.link ?? "nic"
  const f2aLink = afd.f2a?.link ?? "nic"
  const aGpus = aInst * aGpi
  for (const [dir, link] of [
    ["a2f", a2fLink],
    ["f2a", f2aLink]
  ] as const) {
    if (link === "interconnect" && aGpus + fGpus > domain) {
      return fail({
        path: at(dir, "link"),
        message: `interconnect (scale-up) links reach ${domain} GPUs, but the ${aGpus} attention + ${fGpus} FFN GPUs span ${Math.ceil((aGpus + fGpus) / domain)} scale-up domains; use nic`
      })
    }
  }
  const loadImbalance = o.load_imbalance ?? spec.load_imbalance ?? 1
  const liProblem = checkExpertLoads(
    model,
    loadImbalance,
    o.load_imbalance !== undefined
      ? { flag: "--load-imbalance", path: [], message: "" }
      : { path: ["deployment", "load_imbalance", "expert_loads"], message: "" }
  )
  if (liProblem) return fail(liProblem)
  const plan: AfdPlan = {
    gpus_per_node: domain,
    attention: { instances: aInst, gpus_per_instance: aGpi, tp: aTp, gpus: aGpus, dp: aGpus / aTp },
    ffn: { instances: fInst, gpus_per_instance: fGpi, gpus: fGpus, ep: fGpus, redundant_experts: redundant },
    micro_batches: micro,
    a2f: { link: a2fLink, dtype: afd.a2f?.dtype ?? defaultDispatchDtype(base.precision) },
    f2a: { link: f2aLink, dtype: afd.f2a?.dtype ?? defaultCombineDtype(base.precision) },
    regime: o.regime ?? afd.regime ?? "cyclic",
    transfer_latency_us: afd.transfer_latency_us ?? DEFAULT_AFD_TRANSFER_LATENCY_US,
    load_imbalance: loadImbalance,
    reserved_bytes: (spec.reserved_gb ?? 0) * 1e9
  }
  for (const e of model.entries) {
    if (e.template.type === "comm_layer") continue
    const attnProblem = attentionLayoutProblem(e.template.config.attn_config, afdAttentionContext(model, plan, "decode", 1, 1))
    if (attnProblem !== undefined) return fail({ path: at("attention", "tp"), message: `layers.${e.index} (${e.label}): ${attnProblem}` })
    // The FFN side runs the template's FFN / experts expert-parallel over every FFN GPU.
    const problem = validateLayout(e.template, afdFfnContext(model, plan, 1))
    if (problem !== undefined) return fail({ ...instWhere, message: `layers.${e.index} (${e.label}): ${problem}` })
  }
  return ok(plan)
}

/**
 * FFN-side context: expert parallel over every FFN GPU (tp 1, dp = ep = FFN GPUs), the
 * `tokensPerGpu` tokens of one micro-batch per FFN GPU (phase decode: one token per "sequence").
 */
export const afdFfnContext = (model: Model, plan: AfdPlan, tokensPerGpu: number, tokensPerExpert?: number): LayerContext =>
  contextFor(
    model,
    { tp: 1, dp: plan.ffn.gpus, ep: plan.ffn.ep, redundant_experts: plan.ffn.redundant_experts, gpus_per_node: plan.gpus_per_node },
    "decode",
    tokensPerGpu,
    1,
    tokensPerExpert
  )

/** Attention-side context: tp inside an instance, data parallel over the rest. */
export const afdAttentionContext = (model: Model, plan: AfdPlan, phase: SinglePhase, batch: number, seqLen: number): LayerContext =>
  contextFor(model, { tp: plan.attention.tp, dp: plan.attention.dp, ep: 1, redundant_experts: 0, gpus_per_node: plan.gpus_per_node }, phase, batch, seqLen)

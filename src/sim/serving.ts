/**
 * A loaded scenario as an engine instance serving requests: the layout by the one layout rule,
 * the engine's settings (its defaults, then the scenario's `engine:` block, then the flags), the
 * KV budget by the engine's memory rule on the model's bytes per GPU, and the step pricer on the
 * kernel. `llmsim bench` and `sweep --bench` both start here.
 */
import { Effect } from "effect"
import { ConfigError, UsageError } from "../config/errors.ts"
import { scenarioFieldError, type LoadedScenario } from "../config/load.ts"
import { contextFor, resolveLayout, scaleUpGpus, type Layout } from "../kernel/layout.ts"
import { modelOf, resolvePrecision, type Model } from "../kernel/model.ts"
import { phaseMemory } from "../kernel/step.ts"
import type { Composition } from "../kernel/strategies.ts"
import type { EngineSpec } from "../schema/engine.ts"
import type { EngineSettings } from "../serve/engine.ts"
import { ENGINE_NAMES, ENGINES, type EngineContext, type EngineModel } from "../serve/engines.ts"
import { deviceMemoryBytes, type KvBudget, type MemoryInputs } from "../serve/memory.ts"
import { StepCost } from "../serve/stepCost.ts"
import { afdCost, wideEpCost, type PlaybookCost } from "../serve/playbookCost.ts"
import { resolveAfd, resolveLargeEp, type AfdOverrides, type AfdPlan, type LargeEpOverrides } from "../deploy/deployment.ts"
import { capacityBytes, largeEpMemory } from "../deploy/largeEp.ts"
import { afdMemory } from "../deploy/afd.ts"
import { totalBytes } from "../deploy/memory.ts"
import { longestRequest, type Workload, type WorkloadSpec } from "../serve/workload.ts"
import type { Deployment } from "../serve/capacity.ts"
import type { TransferLink } from "../serve/kvTransfer.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { Parallelism } from "../schema/parallelism.ts"
import type { Precision } from "../schema/scenario.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { scenarioBase } from "./simulate.ts"

/** Settings a user may override: the scenario's `engine:` block, then the bench flags (same names). */
export type EngineOverrides = Omit<EngineSpec, "name">

/** The large-EP overrides of a wide-EP instance with two-batch overlap on or off (and its micro-batch count); undefined: the scenario's. */
export const wideEpOverrides = (tbo: boolean | undefined): LargeEpOverrides => (tbo === undefined ? {} : { two_batch_overlap: tbo, micro_batches: tbo ? 2 : 1 })

/** Tokens per rank DeepEP's low-latency buffer is sized for (SGLang's default; see servingInstance). */
const LL_DISPATCH_TOKENS = 128

/** Without a `max_model_len`, the engine accepts any length its KV cache holds. */
const UNBOUNDED_CONTEXT = 1 << 30

export interface ServingInstance {
  readonly model: Model
  readonly layout: Layout
  readonly engine: EngineModel
  readonly settings: EngineSettings
  readonly memory: MemoryInputs
  readonly kv: KvBudget
  /** The step pricer: the core layout's (stepCost.ts), or a deployment playbook's (playbookCost.ts). */
  readonly pricer: StepCost | PlaybookCost
  /** Wide EP: DeepEP all-to-all, two-batch overlap and load imbalance of src/deploy/largeEp.ts price the steps. */
  readonly wide_ep: boolean
  /** Wide EP with two-batch overlap (two micro-batches per step, communication of one under compute of the other). */
  readonly two_batch_overlap: boolean
  /** An AFD unit (afdInstance): its attention and FFN GPUs; null for an engine instance of one layout. */
  readonly afd: { readonly attention_gpus: number; readonly ffn_gpus: number; readonly micro_batches: number } | null
  readonly hardware: string
  /** Longest prompt + output accepted, tokens (undefined: no limit but the KV cache). */
  readonly max_model_len: number | undefined
}

/** Overrides on top of the engine's defaults; `cuda_graph_max_bs` picks the engine's own capture list up to it (0: none). */
const applied = (engine: EngineModel, d: EngineSettings, o: EngineOverrides): { settings: EngineSettings; userSet: Set<keyof EngineSettings> } => {
  const { max_model_len: _, cuda_graph_max_bs, ...rest } = o
  const settings: EngineSettings = { ...d, ...rest }
  const userSet = new Set(Object.keys(rest) as Array<keyof EngineSettings>)
  if (cuda_graph_max_bs === undefined) return { settings, userSet }
  const sizes = cuda_graph_max_bs === 0 ? [] : engine.cudaGraphSizes(cuda_graph_max_bs)
  userSet.add("cuda_graph_sizes")
  return { settings: { ...settings, cuda_graph_sizes: sizes }, userSet }
}

/** The engine model a serving instance runs (`--engine`, else the scenario's engine block, else vLLM) and the block's settings over which flags apply. */
const engineOf = (loaded: LoadedScenario, engineName: string | undefined, flags: EngineOverrides) =>
  Effect.gen(function* () {
    const block = loaded.spec.engine ?? {}
    const name = engineName ?? block.name ?? "vllm"
    const engine = ENGINES[name]
    if (engine === undefined) return yield* Effect.fail(new UsageError({ message: `--engine ${name}: expected one of ${ENGINE_NAMES.join(", ")}` }))
    const { name: _, ...blockOverrides } = block
    const overrides: EngineOverrides = { ...blockOverrides, ...flags }
    return { engine, overrides }
  })

/**
 * The engine's settings on a layout: its defaults under the overrides, the KV budget its memory
 * rule leaves from `memoryOf` (the bytes per GPU, given the first settings), and the settings that
 * follow from that budget.
 */
const engineSettings = (
  engine: EngineModel,
  ctx: EngineContext,
  overrides: EngineOverrides,
  memoryOf: (first: EngineSettings) => MemoryInputs
): { settings: EngineSettings; memory: MemoryInputs; kv: KvBudget } => {
  const first = applied(engine, engine.defaults(ctx), overrides)
  const memory = memoryOf(first.settings)
  const kv = engine.kvBudget(memory, first.settings)
  return { settings: engine.afterBudget(first.settings, kv.kv_tokens, ctx, first.userSet), memory, kv }
}

export const servingInstance = (
  loaded: LoadedScenario,
  engineName: string | undefined,
  flags: EngineOverrides,
  estimator: Estimator,
  efficiency: EfficiencyMode,
  /** A typical request's prompt + output, tokens: sliding-window and linear-attention state is per sequence, so bytes per token depend on it. */
  typicalContext: number,
  /** Serve the layout as a wide expert-parallel deployment (src/deploy/largeEp.ts), with these overrides of the scenario's `deployment` block. */
  wideEp?: LargeEpOverrides
): Effect.Effect<ServingInstance, ConfigError | UsageError> =>
  Effect.gen(function* () {
    const { engine, overrides } = yield* engineOf(loaded, engineName, flags)
    const model = modelOf(loaded)
    const r = resolveLayout(model, loaded.hardware, scenarioBase(loaded, model))
    if (!r.ok) return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
    const hw = loaded.hardware
    const wide = wideEp === undefined ? undefined : resolveLargeEp(model, hw, scenarioBase(loaded, model), wideEp)
    if (wide !== undefined && !wide.ok)
      return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, wide.problem.path, wide.problem.message))
    const layout = wide === undefined ? r.value.layout : wide.value
    const maxModelLen = overrides.max_model_len
    const ctx: EngineContext = { hbm_gb: hw.hbm_gb, tp: layout.tp, dp: layout.dp, ep: layout.ep, max_model_len: maxModelLen ?? UNBOUNDED_CONTEXT }
    const context = Math.max(1, typicalContext)
    const { settings, memory, kv } = engineSettings(engine, ctx, overrides, (first) => {
      // Bytes per GPU: weights and KV per token do not depend on the batch; activations are the largest step's.
      const step = phaseMemory(model, contextFor(model, layout, "prefill", 1, first.max_step_tokens))
      const perToken = phaseMemory(model, contextFor(model, layout, "decode", 1, context)).kv_cache_bytes / context
      // Wide EP: DeepEP's communication buffers are held besides the activations (the larger of its two kernels').
      const buffers =
        wide === undefined
          ? 0
          : Math.max(
              largeEpMemory(model, wide.value, "prefill", 1, first.max_step_tokens).comm_buffer_bytes,
              // The low-latency buffer holds a fixed number of tokens per rank a micro-batch, not the batch:
              // SGLang's SGLANG_DEEPEP_NUM_MAX_DISPATCH_TOKENS_PER_RANK, default 128 (srt/layers/moe/token_dispatcher/deepep.py).
              largeEpMemory(model, wide.value, "decode", LL_DISPATCH_TOKENS * wide.value.micro_batches, context).comm_buffer_bytes
            )
      return {
        device_bytes: deviceMemoryBytes(hw.hbm_gb),
        weights_bytes: step.weights_bytes,
        activation_bytes: step.activation_bytes + buffers,
        kv_bytes_per_token: perToken
      }
    })
    const composition: Composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
    const timing = timingHardware(hw, efficiency)
    const pricer =
      wide === undefined
        ? new StepCost({ model, layout, timing, estimator, composition })
        : wideEpCost({ model, hardware: hw, timing, estimator, shareOps: true }, wide.value)
    return {
      model,
      layout,
      engine,
      settings,
      memory,
      kv,
      pricer,
      wide_ep: wide !== undefined,
      two_batch_overlap: wide?.value.two_batch_overlap ?? false,
      afd: null,
      hardware: hw.name,
      max_model_len: maxModelLen
    }
  })

/**
 * An attention-FFN disaggregated unit (src/deploy/afd.ts) as the engine instance of a decode pool:
 * its attention GPUs are the engine's ranks (attention tp x dp) and hold the KV cache, by the
 * engine's memory rule on an attention GPU's weights (attention, router, embedding and LM head);
 * its FFN GPUs hold the experts and must fit them; every step goes through the AFD pipeline
 * (playbookCost.ts afdCost). GPUs counted: attention + FFN. The scenario's `deployment.afd` block
 * over `o` (instances, micro-batches, regime, load imbalance).
 */
export const afdInstance = (
  loaded: LoadedScenario,
  engineName: string | undefined,
  flags: EngineOverrides,
  estimator: Estimator,
  efficiency: EfficiencyMode,
  typicalContext: number,
  o: AfdOverrides
): Effect.Effect<ServingInstance, ConfigError | UsageError> =>
  Effect.gen(function* () {
    const { engine, overrides } = yield* engineOf(loaded, engineName, flags)
    const model = modelOf(loaded)
    const hw = loaded.hardware
    const r = resolveAfd(model, hw, scenarioBase(loaded, model), o)
    if (!r.ok) return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
    const plan: AfdPlan = r.value
    const input = { model, hardware: hw, timing: timingHardware(hw, efficiency), estimator, shareOps: true }
    const context = Math.max(1, typicalContext)
    const one = afdMemory(input, plan, "decode", 1, context)
    if (totalBytes(one.ffn_gpu) > capacityBytes(hw, plan.reserved_bytes))
      return yield* Effect.fail(
        new UsageError({
          message: `the experts need ${(totalBytes(one.ffn_gpu) / 2 ** 30).toFixed(1)} GiB on each of the ${plan.ffn.gpus} FFN GPUs, more than the ${(capacityBytes(hw, plan.reserved_bytes) / 2 ** 30).toFixed(1)} GiB each holds (more FFN instances spread them)`
        })
      )
    const a = one.attention_gpu
    const weights = totalBytes(a) - a.kv_cache_bytes - a.activation_bytes - a.comm_buffer_bytes
    const layout: Layout = {
      gpus_per_node: plan.gpus_per_node,
      nodes: Math.ceil((plan.attention.gpus + plan.ffn.gpus) / plan.gpus_per_node),
      gpus: plan.attention.gpus + plan.ffn.gpus,
      tp: plan.attention.tp,
      dp: plan.attention.dp,
      ep: plan.ffn.ep,
      redundant_experts: plan.ffn.redundant_experts
    }
    const maxModelLen = overrides.max_model_len
    const ctx: EngineContext = { hbm_gb: hw.hbm_gb, tp: layout.tp, dp: layout.dp, ep: 1, max_model_len: maxModelLen ?? UNBOUNDED_CONTEXT }
    const { settings, memory, kv } = engineSettings(engine, ctx, overrides, (first) => {
      const big = afdMemory(input, plan, "decode", first.max_running, context).attention_gpu
      return {
        device_bytes: deviceMemoryBytes(hw.hbm_gb),
        weights_bytes: weights,
        activation_bytes: big.activation_bytes + big.comm_buffer_bytes,
        kv_bytes_per_token: a.kv_cache_bytes / context
      }
    })
    return {
      model,
      layout,
      engine,
      settings,
      memory,
      kv,
      pricer: afdCost(input, plan),
      wide_ep: false,
      two_batch_overlap: false,
      afd: { attention_gpus: plan.attention.gpus, ffn_gpus: plan.ffn.gpus, micro_batches: plan.micro_batches },
      hardware: hw.name,
      max_model_len: maxModelLen
    }
  })

/**
 * Why a generated workload cannot run on `inst` at all, checked on its longest request: longer
 * than max_model_len, more than one rank's KV cache holds (the engine could never finish it), or
 * a prompt over the step budget without chunked prefill. Undefined: it can.
 */
export const workloadMisfit = (inst: ServingInstance, w: WorkloadSpec): string | undefined => {
  const longest = longestRequest(w)
  const where = w.dataset === "random" ? "--random-input-len + --random-output-len" : "the sharegpt filter's max_total_len"
  if (inst.max_model_len !== undefined && longest.total > inst.max_model_len)
    return `${where}: a request of up to ${longest.total} tokens is longer than max_model_len ${inst.max_model_len}`
  if (longest.total > inst.kv.kv_tokens)
    return `${where}: a request of up to ${longest.total} tokens does not fit the KV cache of one rank (${inst.kv.kv_tokens} tokens by ${inst.engine.name}'s rule: ${inst.kv.rule})`
  if (!inst.settings.chunked_prefill && longest.input > inst.settings.max_step_tokens)
    return `--random-input-len: a prompt of up to ${longest.input} tokens exceeds the step budget ${inst.settings.max_step_tokens} without chunked prefill (raise --max-step-tokens or pass --chunked-prefill)`
  return undefined
}

/**
 * The scenario with another hardware, layout or precision, as a scenario file saying so would
 * load: `sweep --bench` varies layouts with it, bench's disaggregated pools take theirs.
 */
export const scenarioVariant = (
  loaded: LoadedScenario,
  o: { readonly hardware?: HardwareSpec; readonly parallelism?: Parallelism; readonly precision?: Partial<Precision> }
): LoadedScenario => {
  const spec = loaded.spec
  // Unset keys stay unset, so routed experts follow changed weights unless the scenario names their own dtype.
  const given = spec.precision ?? (({ weights, activations, kv_cache }) => ({ weights, activations, kv_cache }))(resolvePrecision(undefined))
  const precision = o.precision === undefined || Object.keys(o.precision).length === 0 ? spec.precision : { ...given, ...o.precision }
  const parallelism = o.parallelism === undefined ? spec.parallelism : { ...spec.parallelism, ...o.parallelism }
  return {
    ...loaded,
    hardware: o.hardware ?? loaded.hardware,
    spec: { ...spec, ...(precision === undefined ? {} : { precision }), ...(parallelism === undefined ? {} : { parallelism }) }
  }
}

/**
 * KV bytes per token of one request, every layer (as one GPU holding the whole model would store
 * it): what a prefill instance sends a decode instance. At `context` tokens, so sliding-window and
 * linear-attention state counts as a request of that length holds it.
 */
export const requestKvBytesPerToken = (model: Model, context: number): number => {
  const one: Layout = { gpus_per_node: 1, nodes: 1, gpus: 1, tp: 1, dp: 1, ep: 1, redundant_experts: 0 }
  const c = Math.max(1, context)
  return phaseMemory(model, contextFor(model, one, "decode", 1, c)).kv_cache_bytes / c
}

/** Transformer layers of the model (layer entries x repeats), for layer-by-layer KV sending. */
export const modelLayers = (model: Model): number => model.entries.reduce((n, e) => n + e.repeat, 0)

/**
 * The link a prefill rank sends its KV over (src/serve/kvTransfer.ts): NVLink when `sameNode`
 * (both pools inside one scale-up domain), else the NIC; bandwidth and efficiency of the slower
 * end, the sender's per-message latency, min(prefill tp, decode tp) lanes. Undefined with the
 * reason when a NIC transfer meets hardware without a NIC.
 */
export const transferLink = (
  prefill: HardwareSpec,
  decode: HardwareSpec,
  efficiency: EfficiencyMode,
  o: { readonly kind: "nic" | "nvlink"; readonly lanes: number }
): TransferLink | string => {
  const a = timingHardware(prefill, efficiency)
  const b = timingHardware(decode, efficiency)
  if (o.kind === "nic") {
    const missing = [prefill, decode].find((h) => h.nic_gbps === undefined || h.nic_gbps <= 0)
    if (missing !== undefined)
      return `${missing.name} has no nic_gbps: a KV transfer between nodes needs the NIC's bandwidth (set nic_gbps, or transfer.link: nvlink within a node)`
    const end = a.nic_gbps * a.nic_efficiency <= b.nic_gbps * b.nic_efficiency ? a : b
    return { kind: "nic", gbps: end.nic_gbps, efficiency: end.nic_efficiency, latency_us: a.link_latency_us, lanes: o.lanes }
  }
  const end = a.interconnect_gbps * a.interconnect_efficiency <= b.interconnect_gbps * b.interconnect_efficiency ? a : b
  return { kind: "nvlink", gbps: end.interconnect_gbps, efficiency: end.interconnect_efficiency, latency_us: a.link_latency_us, lanes: o.lanes }
}

/** One engine instance as a deployment a probe runs (src/serve/capacity.ts). */
export const instanceDeployment = (inst: ServingInstance, acceptance: number, w: Workload): Deployment => ({
  settings: inst.settings,
  kv: inst.kv,
  pricer: inst.pricer,
  ranks: inst.layout.dp,
  gpus: inst.layout.gpus,
  acceptance,
  seed: w.seed,
  hashBlockTokens: w.hash_block_tokens
})

/** An instance with its hardware (`key` names the file: pools on the same file may share a node). */
export interface PoolSide {
  readonly inst: ServingInstance
  readonly hardware: HardwareSpec
  readonly key: string
}

/**
 * x prefill instances of `p` and y decode instances of `d` as one disaggregated deployment (a
 * count of 0 measures the other pool alone: src/serve/disaggregate.ts): NVLink when both pools fit
 * one node of the same hardware, else the NIC. The reason, when the link cannot exist.
 */
export const pairDeployment = (
  p: PoolSide,
  x: number,
  d: PoolSide,
  y: number,
  o: { readonly acceptance: number; readonly workload: Workload; readonly typical: number; readonly efficiency: EfficiencyMode }
): Deployment | string => {
  const gpus = x * p.inst.layout.gpus + y * d.inst.layout.gpus
  const node = Math.min(scaleUpGpus(p.hardware), scaleUpGpus(d.hardware))
  const kind = p.key === d.key && gpus <= node ? "nvlink" : "nic"
  const link = transferLink(p.hardware, d.hardware, o.efficiency, { kind, lanes: Math.min(p.inst.layout.tp, d.inst.layout.tp) })
  if (typeof link === "string") return link
  const pool = (s: PoolSide, n: number) => ({
    settings: s.inst.settings,
    pricer: s.inst.pricer,
    ranks: s.inst.layout.dp,
    instances: n,
    kvTokensPerRank: s.inst.kv.kv_tokens
  })
  return {
    ...instanceDeployment(d.inst, o.acceptance, o.workload),
    gpus,
    disaggregated: {
      prefill: pool(p, x),
      decode: pool(d, y),
      link,
      kvBytesPerToken: requestKvBytesPerToken(d.inst.model, o.typical),
      layers: modelLayers(d.inst.model),
      layerwise: false
    }
  }
}

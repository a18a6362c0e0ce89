/**
 * The deployment models side by side, one entry each: the one place that decides which model
 * answers a strategy (`run --strategy`, `report`, `large-ep evaluate`, `sweep`), and the one
 * interface a sweep point evaluates through.
 *
 *   core       the kernel roll-up (src/kernel/step.ts): the scenario's layout by the one layout
 *              rule, ops composed serially or overlapped; `llmsim run`
 *   large-ep   DeepSeek-style large expert parallelism (largeEp.ts): DP attention, DeepEP
 *              all-to-all, two-batch overlap or serial micro-batches; `llmsim large-ep evaluate`
 *   afd        attention-FFN disaggregation (afd.ts): attention and FFN instances pipelined
 *              over micro-batches; `llmsim afd simulate`
 *
 * A model resolves a scenario (and overrides: a sweep point's axes, a command's flags) into a
 * `Deployment`: its strategy, its serving unit, and step, memory and largest-batch functions over
 * that layout. Step times become tokens/s by the one serving arithmetic (src/kernel/serving.ts).
 * Pure.
 */
import { contextFor, fail, ok, resolveLayout, type Layout, type Resolved, type ScenarioBase } from "../kernel/layout.ts"
import { largestWithinCapacity } from "../kernel/search.ts"
import { servingRates, type ServingRates } from "../kernel/serving.ts"
import { phaseMemory, simulatePhase } from "../kernel/step.ts"
import { coreStrategy, type Composition, type CoreStrategyName, type StrategyName } from "../kernel/strategies.ts"
import { validateLayout } from "../layers/layout.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { afdMaxBatch, afdMemory, afdStep } from "./afd.ts"
import { resolveAfd, resolveLargeEp, type AfdPlan, type LargeEpDeployment } from "./deployment.ts"
import { capacityBytes, largeEpMaxBatch, largeEpMemory, largeEpStepTotals, type PhaseRun, type PlaybookInput } from "./largeEp.ts"
import { totalBytes, weightBytes, type MemoryParts } from "./memory.ts"

export type DeploymentModelName = "core" | "large-ep" | "afd"

/** What a command's flags or a sweep point's axes ask of a deployment, besides the scenario. */
interface DeploymentOverrides {
  readonly ep?: number
  readonly redundant_experts?: number
  readonly micro_batches?: number
  /** The strategy asked for (`--strategy`, a sweep's `strategy`). */
  readonly strategy?: StrategyName
  /** large-ep: two-batch overlap on or off (the `tbo` axis; else from the strategy, else the deployment's default). */
  readonly two_batch_overlap?: boolean
  /** afd: attention and FFN instances (`3A2F`). */
  readonly instances?: { readonly attention: number; readonly ffn: number }
}

/** The GPUs a deployment serves on and how its sequences spread over them. */
interface DeploymentUnit {
  /** Attention tensor parallelism. */
  readonly tp: number
  /** Attention data-parallel ranks: sequences in flight = batch per rank x dp. */
  readonly dp: number
  /** Expert parallelism (the FFN GPUs in AFD). */
  readonly ep: number
  readonly gpus: number
  readonly gpus_per_node: number
}

/** Memory per GPU in the parts a sweep point reports, bytes. */
export interface DeploymentMemory {
  readonly weights_bytes: number
  readonly kv_cache_bytes: number
  readonly activation_bytes: number
  readonly comm_buffer_bytes: number
  readonly total_bytes: number
}

/** A resolved deployment: what a model answers about one layout. */
export interface Deployment {
  readonly model: DeploymentModelName
  readonly strategy: StrategyName
  readonly unit: DeploymentUnit
  /** HBM per GPU less reserved bytes. */
  readonly capacity_bytes: number
  /** One step: its time and what binds it (the core model names the slowest layer; the others the slowest stage). */
  readonly step: (run: PhaseRun) => { readonly step_ms: number; readonly bottleneck: string }
  /** Memory of the GPU that holds most, at `batch` sequences per DP rank of `seqLen` tokens. */
  readonly memory: (phase: SinglePhase, batch: number, seqLen: number) => DeploymentMemory
  /** Largest batch per DP rank whose memory fits (0: none). */
  readonly maxBatch: (phase: SinglePhase, seqLen: number) => number
  /** Tokens/s of the unit at `batch` per rank from the step times (src/kernel/serving.ts). */
  readonly rates: (batch: number, seqLen: number, ttftMs: number | null, tpotMs: number | null) => ServingRates
}

export interface DeploymentModel {
  readonly name: DeploymentModelName
  /** The composition strategies this model answers. */
  readonly strategies: ReadonlyArray<StrategyName>
  /** Sweep axes only this model has: sweeping one selects it. */
  readonly axes: ReadonlyArray<string>
  readonly deploy: (input: PlaybookInput, base: ScenarioBase, o: DeploymentOverrides) => Resolved<Deployment>
}

const withRates = (d: Omit<Deployment, "rates">): Deployment => ({
  ...d,
  rates: (batch, seqLen, ttft, tpot) =>
    servingRates({ sequences: batch * d.unit.dp, gpus: d.unit.gpus, gpus_per_node: d.unit.gpus_per_node }, seqLen, ttft, tpot)
})

/** Memory parts of a deployment model (MemoryParts, memory.ts) as the parts a point reports. */
const fromParts = (p: MemoryParts): DeploymentMemory => ({
  weights_bytes: weightBytes(p),
  kv_cache_bytes: p.kv_cache_bytes,
  activation_bytes: p.activation_bytes,
  comm_buffer_bytes: p.comm_buffer_bytes,
  total_bytes: totalBytes(p)
})

const core: DeploymentModel = {
  name: "core",
  strategies: ["serial", "overlapped"],
  axes: [],
  deploy: (input, base, o) => {
    const { model, hardware: hw } = input
    const r = resolveLayout(model, hw, base, {
      ...(o.ep === undefined ? {} : { ep: o.ep }),
      ...(o.redundant_experts === undefined ? {} : { redundant_experts: o.redundant_experts })
    })
    if (!r.ok) return r
    const layout: Layout = r.value.layout
    const probe = contextFor(model, layout, "decode", 1, 1)
    for (const e of model.entries) {
      const problem = validateLayout(e.template, probe)
      if (problem !== undefined) return fail({ ...r.value.tpWhere, message: problem })
    }
    const composition: Composition = {
      overlap_efficiency: hw.overlap_efficiency,
      max_concurrency: hw.max_concurrency,
      micro_batch: o.micro_batches ?? (o.strategy === "overlapped" ? 2 : 1)
    }
    const capacity = hw.hbm_gb * 1e9
    const memory = (phase: SinglePhase, batch: number, seqLen: number): DeploymentMemory => {
      const m = phaseMemory(model, contextFor(model, layout, phase, batch, seqLen))
      return { ...m, comm_buffer_bytes: 0, total_bytes: m.weights_bytes + m.kv_cache_bytes + m.activation_bytes }
    }
    return ok(
      withRates({
        model: "core",
        strategy: coreStrategy(composition),
        unit: { tp: layout.tp, dp: layout.dp, ep: layout.ep, gpus: layout.tp * layout.dp, gpus_per_node: layout.gpus_per_node },
        capacity_bytes: capacity,
        step: (run) => {
          const res = simulatePhase(
            model,
            contextFor(model, layout, run.phase, run.batch_size, run.seq_len, run.tokens_per_expert),
            input.timing,
            input.estimator,
            composition
          )
          return { step_ms: res.total_latency_ms, bottleneck: res.bottleneck_layer }
        },
        memory,
        maxBatch: (phase, seqLen) => largestWithinCapacity((b) => memory(phase, b, seqLen).total_bytes, capacity)
      })
    )
  }
}

const largeEp: DeploymentModel = {
  name: "large-ep",
  strategies: ["two-batch-overlap", "serial-micro-batches"],
  axes: ["tbo"],
  deploy: (input, base, o) => {
    const tbo = o.two_batch_overlap ?? (o.strategy === "two-batch-overlap" ? true : o.strategy === "serial-micro-batches" ? false : undefined)
    const r = resolveLargeEp(input.model, input.hardware, base, {
      ...(o.ep === undefined ? {} : { ep: o.ep }),
      ...(o.redundant_experts === undefined ? {} : { redundant_experts: o.redundant_experts }),
      ...(tbo === undefined ? {} : { two_batch_overlap: tbo }),
      ...(o.micro_batches === undefined ? {} : { micro_batches: o.micro_batches })
    })
    if (!r.ok) return r
    const d: LargeEpDeployment = r.value
    return ok(
      withRates({
        model: "large-ep",
        strategy: d.two_batch_overlap ? "two-batch-overlap" : "serial-micro-batches",
        unit: { tp: d.tp, dp: d.dp, ep: d.ep, gpus: d.gpus, gpus_per_node: d.gpus_per_node },
        capacity_bytes: capacityBytes(input.hardware, d.reserved_bytes),
        step: (run) => {
          const t = largeEpStepTotals(input, d, run)
          return { step_ms: t.step_ms, bottleneck: t.bottleneck }
        },
        memory: (phase, batch, seqLen) => fromParts(largeEpMemory(input.model, d, phase, batch, seqLen)),
        maxBatch: (phase, seqLen) => largeEpMaxBatch(input.model, input.hardware, d, phase, seqLen)
      })
    )
  }
}

const afd: DeploymentModel = {
  name: "afd",
  strategies: ["afd-pipeline"],
  axes: ["instances"],
  deploy: (input, base, o) => {
    const r = resolveAfd(input.model, input.hardware, base, {
      ...(o.instances === undefined ? {} : { attention_instances: o.instances.attention, ffn_instances: o.instances.ffn }),
      ...(o.micro_batches === undefined ? {} : { micro_batches: o.micro_batches })
    })
    if (!r.ok) return r
    const plan: AfdPlan = r.value
    return ok(
      withRates({
        model: "afd",
        strategy: "afd-pipeline",
        unit: { tp: plan.attention.tp, dp: plan.attention.dp, ep: plan.ffn.ep, gpus: plan.attention.gpus + plan.ffn.gpus, gpus_per_node: plan.gpus_per_node },
        capacity_bytes: capacityBytes(input.hardware, plan.reserved_bytes),
        step: (run) => {
          const t = afdStep(input, plan, run)
          return { step_ms: t.step_ms, bottleneck: t.bottleneck }
        },
        // The role that holds more (attention on a tie).
        memory: (phase, batch, seqLen) => {
          const m = afdMemory(input, plan, phase, batch, seqLen)
          return fromParts(totalBytes(m.attention_gpu) >= totalBytes(m.ffn_gpu) ? m.attention_gpu : m.ffn_gpu)
        },
        maxBatch: (phase, seqLen) => afdMaxBatch(input, plan, phase, seqLen)
      })
    )
  }
}

/** Every deployment model, in the order a model is chosen (the most specific first). */
export const DEPLOYMENT_MODELS: Readonly<Record<DeploymentModelName, DeploymentModel>> = { afd, "large-ep": largeEp, core }

/**
 * The model that answers a strategy and a set of swept axes: the first (AFD, large EP, core)
 * whose strategies include the strategy or whose own axes are swept; the core roll-up otherwise.
 */
export const deploymentModelFor = (strategy: StrategyName | undefined, axes: ReadonlyArray<string> = []): DeploymentModelName => {
  for (const m of Object.values(DEPLOYMENT_MODELS)) {
    if ((strategy !== undefined && m.strategies.includes(strategy)) || m.axes.some((a) => axes.includes(a))) return m.name
  }
  return "core"
}

/** Whether the core roll-up answers `strategy` (no strategy: it does). */
export const isCoreStrategy = (strategy: StrategyName | undefined): strategy is CoreStrategyName | undefined => deploymentModelFor(strategy) === "core"

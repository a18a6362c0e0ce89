/**
 * One sweep point, evaluated: pure, on the one model kernel.
 *
 * A point is the scenario with some axes set (src/sweep/axes.ts). It is evaluated by the model
 * its strategy names, exactly as the single-point commands evaluate it:
 *   core      the kernel roll-up (simulatePhase), layout by the one layout rule with the
 *             point's tp / dp / ep / redundant experts: as `llmsim run`
 *   large-ep  the large-EP deployment model (largeEpStepTotals, largeEpMemory): as
 *             `large-ep evaluate` / `run --strategy two-batch-overlap`
 *   afd       the AFD deployment model (afdPhase): as `afd simulate`
 * Serving terms: TTFT = the prefill step of `batch` prompts of `seq` tokens; TPOT = the decode
 * step at the mean KV length over the generation, seq + floor(output / 2) (seq itself when
 * output is 0, as `run`); memory holds the KV of seq + output tokens per sequence (the end of the
 * generation), so a point fits only if its longest context fits.
 *   tokens/s per GPU  = batch x dp x 1000 / TPOT / GPUs (decode output), prefill likewise
 *   tokens/s per user = 1000 / TPOT
 * The largest batch that fits (`max_batch`) is found at the point's layout and lengths by
 * largestWithinCapacity on the same memory function (src/kernel/search.ts).
 * A point whose layout cannot exist (ep does not divide the GPUs, heads not divisible by tp) is
 * `invalid` with the reason, never skipped silently.
 */
import { contextFor, resolveLayout, type Layout, type ScenarioBase } from "../kernel/layout.ts"
import type { Model } from "../kernel/model.ts"
import { largestWithinCapacity } from "../kernel/search.ts"
import { phaseMemory, simulatePhase } from "../kernel/step.ts"
import { coreStrategy, type Composition, type StrategyName } from "../kernel/strategies.ts"
import { validateLayout } from "../layers/index.ts"
import { afdPhase } from "../deploy/afd.ts"
import { parseInstances, resolveAfd, resolveLargeEp, type AfdPlan, type LargeEpDeployment } from "../deploy/deployment.ts"
import { capacityBytes, largeEpMaxBatch, largeEpMemory, largeEpStepTotals, type PlaybookInput } from "../deploy/largeEp.ts"
import { totalBytes, type MemoryParts } from "../deploy/memory.ts"
import type { Dtype } from "../schema/dtypes.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode, type TimingHardware } from "../timing/roofline.ts"
import { LAYOUT_AXES, type AxisName } from "./axes.ts"
import type { Coordinates } from "./space.ts"

export type PointModel = "core" | "large-ep" | "afd"

/** Everything a point is evaluated from besides its coordinates (plain data: it crosses to worker threads). */
export interface SweepBase {
  readonly model: Model
  readonly base: ScenarioBase
  /** The scenario's explicit `precision.moe_experts`, if any (else routed experts follow `weights`). */
  readonly explicit_moe_experts?: Dtype
  /** Hardware by the `hardware` axis value; the scenario's own under `scenario_hardware`. */
  readonly hardware: Readonly<Record<string, HardwareSpec>>
  readonly scenario_hardware: string
  readonly estimator_id: string
  /** `--estimator ml`: the model file (absolute) and its digest; worker threads load it themselves. */
  readonly estimator_model?: { readonly file: string; readonly digest: string }
  readonly efficiency: EfficiencyMode
  readonly point_model: PointModel
  /** Core roll-up only: the requested strategy (serial / overlapped), as `run --strategy`. */
  readonly strategy?: StrategyName
  readonly phases: ReadonlyArray<SinglePhase>
  /** Values of the axes a sweep does not vary. */
  readonly defaults: { readonly batch: number; readonly seq: number; readonly output: number; readonly micro_batches?: number }
}

/** What a point evaluates to: independent of constraints and prices, so it can be cached and replayed. */
export interface PointResult {
  readonly model: PointModel
  readonly strategy: StrategyName | null
  readonly hardware: string
  readonly batch: number
  readonly seq: number
  readonly output: number
  readonly tp: number | null
  readonly dp: number | null
  readonly ep: number | null
  readonly gpus: number | null
  /** Why the point's layout cannot exist; every figure below is null then. */
  readonly invalid: string | null
  readonly ttft_ms: number | null
  readonly tpot_ms: number | null
  readonly tokens_per_s_per_gpu: number | null
  readonly tokens_per_s_per_user: number | null
  readonly prefill_tokens_per_s_per_gpu: number | null
  readonly memory_per_gpu_bytes: number | null
  readonly weights_bytes: number | null
  readonly kv_cache_bytes: number | null
  readonly activation_bytes: number | null
  readonly comm_buffer_bytes: number | null
  /** HBM per GPU less reserved bytes. */
  readonly capacity_bytes: number | null
  readonly fits_in_hbm: boolean
  /** Largest batch per attention DP rank that fits at this layout and these lengths (0: none). */
  readonly max_batch: number | null
  readonly bottleneck: string | null
}

/** The mean KV length of a decode step over a generation of `output` tokens after a `seq`-token prompt. */
export const decodeKvLength = (seq: number, output: number): number => seq + Math.floor(output / 2)

const num = (c: Coordinates, axis: AxisName): number | undefined => (typeof c[axis] === "number" ? c[axis] as number : undefined)
const str = (c: Coordinates, axis: AxisName): string | undefined => (typeof c[axis] === "string" ? c[axis] as string : undefined)

/** Layout-level facts shared by every point with the same layout axes: computed once per sweep. */
interface LayoutEntry {
  readonly invalid?: string
  readonly model: Model
  readonly hw: HardwareSpec
  readonly input: PlaybookInput
  readonly layout?: Layout
  readonly deployment?: LargeEpDeployment
  readonly afd?: AfdPlan
  readonly composition?: Composition
  /** Largest batch per (phase, KV length), filled lazily. */
  readonly maxBatch: Map<string, number>
}

/** An evaluator of points over one base, with its per-layout memo (one per sweep, or per worker). */
export const pointEvaluator = (sb: SweepBase, estimator: Estimator) => {
  const timings = new Map<string, TimingHardware>()
  const layouts = new Map<string, LayoutEntry>()
  const timingOf = (name: string, hw: HardwareSpec) => {
    let t = timings.get(name)
    if (!t) timings.set(name, t = timingHardware(hw, sb.efficiency))
    return t
  }

  const layoutKey = (c: Coordinates) => {
    let key = ""
    for (const a of LAYOUT_AXES) key += `${c[a] ?? ""}|`
    return key
  }

  const resolve = (c: Coordinates): LayoutEntry => {
    const key = layoutKey(c)
    const hit = layouts.get(key)
    if (hit) return hit
    const hwName = str(c, "hardware") ?? sb.scenario_hardware
    const hw = sb.hardware[hwName]
    const weights = (str(c, "weights") ?? sb.model.precision.weights) as Dtype
    const precision = {
      ...sb.model.precision,
      weights,
      kv_cache: (str(c, "kv_cache") ?? sb.model.precision.kv_cache) as Dtype,
      moe_experts: (str(c, "moe_experts") ?? (c.weights !== undefined ? sb.explicit_moe_experts ?? weights : sb.model.precision.moe_experts)) as Dtype
    }
    const model: Model = { ...sb.model, precision }
    const tp = num(c, "tp")
    const dp = num(c, "dp")
    const micro = num(c, "micro_batches") ?? sb.defaults.micro_batches
    const base: ScenarioBase = withLayoutAxes({ ...sb.base, precision, ...(micro === undefined ? {} : { micro_batch: micro }) }, tp, dp)
    const input: PlaybookInput = { model, hardware: hw, timing: timingOf(hwName, hw), estimator, shareOps: true }
    const entry = (extra: Partial<LayoutEntry>): LayoutEntry => ({ model, hw, input, maxBatch: new Map(), ...extra })
    const ep = num(c, "ep")
    const redundant = num(c, "redundant_experts")
    let out: LayoutEntry
    if (sb.point_model === "core") {
      const r = resolveLayout(model, hw, base, { ...(ep === undefined ? {} : { ep }), ...(redundant === undefined ? {} : { redundant_experts: redundant }) })
      if (!r.ok) out = entry({ invalid: r.problem.message })
      else {
        const layout = r.value.layout
        const ctx = contextFor(model, layout, "decode", 1, 1)
        const problem = model.entries.map((e) => validateLayout(e.template, ctx)).find((p) => p !== undefined)
        const composition: Composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: micro ?? (sb.strategy === "overlapped" ? 2 : 1) }
        out = problem !== undefined ? entry({ invalid: problem }) : entry({ layout, composition })
      }
    } else if (sb.point_model === "large-ep") {
      const tbo = str(c, "tbo")
      const r = resolveLargeEp(model, hw, base, {
        ...(ep === undefined ? {} : { ep }),
        ...(redundant === undefined ? {} : { redundant_experts: redundant }),
        ...(tbo === undefined ? (sb.strategy === "two-batch-overlap" || sb.strategy === "serial-micro-batches" ? { two_batch_overlap: sb.strategy === "two-batch-overlap" } : {}) : { two_batch_overlap: tbo === "on" }),
        ...(micro === undefined ? {} : { micro_batches: micro })
      })
      out = r.ok ? entry({ deployment: r.value }) : entry({ invalid: r.problem.message })
    } else {
      const inst = str(c, "instances")
      const parsed = inst === undefined ? undefined : parseInstances(inst)
      const r = resolveAfd(model, hw, base, {
        ...(parsed === undefined ? {} : { attention_instances: parsed.attention, ffn_instances: parsed.ffn }),
        ...(micro === undefined ? {} : { micro_batches: micro })
      })
      out = r.ok ? entry({ afd: r.value }) : entry({ invalid: r.problem.message })
    }
    layouts.set(key, out)
    return out
  }

  const memo = (e: LayoutEntry, key: string, f: () => number): number => {
    let v = e.maxBatch.get(key)
    if (v === undefined) e.maxBatch.set(key, v = f())
    return v
  }

  return (c: Coordinates): PointResult => {
    const batch = num(c, "batch") ?? sb.defaults.batch
    const seq = num(c, "seq") ?? sb.defaults.seq
    const output = num(c, "output") ?? sb.defaults.output
    const e = resolve(c)
    const hardware = str(c, "hardware") ?? sb.scenario_hardware
    if (e.invalid !== undefined) {
      return {
        // The swept layout values stay in the row, so it says which layout was impossible.
        model: sb.point_model, strategy: null, hardware, batch, seq, output, tp: num(c, "tp") ?? null, dp: num(c, "dp") ?? null, ep: num(c, "ep") ?? null, gpus: null, invalid: e.invalid,
        ttft_ms: null, tpot_ms: null, tokens_per_s_per_gpu: null, tokens_per_s_per_user: null, prefill_tokens_per_s_per_gpu: null,
        memory_per_gpu_bytes: null, weights_bytes: null, kv_cache_bytes: null, activation_bytes: null, comm_buffer_bytes: null,
        capacity_bytes: null, fits_in_hbm: false, max_batch: null, bottleneck: null
      }
    }
    const kvMean = decodeKvLength(seq, output)
    const kvFull = seq + output
    const lengthOf = (phase: SinglePhase) => (phase === "prefill" ? seq : kvMean)
    const memoryLength = (phase: SinglePhase) => (phase === "prefill" ? seq : kvFull)
    let step: Partial<Record<SinglePhase, number>> = {}
    let parts: MemoryParts | { weights_bytes: number; kv_cache_bytes: number; activation_bytes: number; comm_buffer_bytes: number } | undefined
    let peak = -1
    let maxBatch = Infinity
    let bottleneck = ""
    let layout: { tp: number; dp: number; ep: number; gpus: number }
    let strategy: StrategyName
    let capacity: number
    if (e.layout !== undefined) {
      const l = e.layout
      layout = { tp: l.tp, dp: l.dp, ep: l.ep, gpus: l.tp * l.dp }
      strategy = coreStrategy(e.composition!)
      capacity = e.hw.hbm_gb * 1e9
      const memAt = (phase: SinglePhase, b: number) => {
        const m = phaseMemory(e.model, contextFor(e.model, l, phase, b, memoryLength(phase)))
        return { weights_bytes: m.weights_bytes, kv_cache_bytes: m.kv_cache_bytes, activation_bytes: m.activation_bytes, comm_buffer_bytes: 0 }
      }
      for (const phase of sb.phases) {
        const r = simulatePhase(e.model, contextFor(e.model, l, phase, batch, lengthOf(phase)), e.input.timing, e.input.estimator, e.composition!)
        step[phase] = r.total_latency_ms
        if (phase === "decode" || bottleneck === "") bottleneck = r.bottleneck_layer
        const m = memAt(phase, batch)
        const total = m.weights_bytes + m.kv_cache_bytes + m.activation_bytes
        if (total > peak) {
          peak = total
          parts = m
        }
        const mb = memo(e, `${phase}|${memoryLength(phase)}`, () => largestWithinCapacity((b) => { const x = memAt(phase, b); return x.weights_bytes + x.kv_cache_bytes + x.activation_bytes }, capacity))
        maxBatch = Math.min(maxBatch, mb)
      }
    } else if (e.deployment !== undefined) {
      const d = e.deployment
      layout = { tp: d.tp, dp: d.dp, ep: d.ep, gpus: d.gpus }
      strategy = d.two_batch_overlap ? "two-batch-overlap" : "serial-micro-batches"
      capacity = capacityBytes(e.hw, d.reserved_bytes)
      for (const phase of sb.phases) {
        const t = largeEpStepTotals(e.input, d, { phase, batch_size: batch, seq_len: lengthOf(phase) })
        step[phase] = t.step_ms
        if (phase === "decode" || bottleneck === "") bottleneck = t.bottleneck
        const m = largeEpMemory(e.model, d, phase, batch, memoryLength(phase))
        const total = totalBytes(m)
        if (total > peak) {
          peak = total
          parts = m
        }
        maxBatch = Math.min(maxBatch, memo(e, `${phase}|${memoryLength(phase)}`, () => largeEpMaxBatch(e.model, e.hw, d, phase, memoryLength(phase))))
      }
    } else {
      const plan = e.afd!
      layout = { tp: plan.attention.tp, dp: plan.attention.dp, ep: plan.ffn.ep, gpus: plan.attention.gpus + plan.ffn.gpus }
      strategy = "afd-pipeline"
      capacity = capacityBytes(e.hw, plan.reserved_bytes)
      for (const phase of sb.phases) {
        const p = afdPhase(e.input, plan, { phase, batch_size: batch, seq_len: lengthOf(phase) })
        step[phase] = p.step_ms
        if (phase === "decode" || bottleneck === "") bottleneck = p.bottleneck
        // Memory at the full context, on the role that holds more.
        const full = memoryLength(phase) === lengthOf(phase) ? p : afdPhase(e.input, plan, { phase, batch_size: batch, seq_len: memoryLength(phase) })
        const role = totalBytes(full.memory.attention_gpu) >= totalBytes(full.memory.ffn_gpu) ? full.memory.attention_gpu : full.memory.ffn_gpu
        const total = totalBytes(role)
        if (total > peak) {
          peak = total
          parts = role
        }
        maxBatch = Math.min(maxBatch, full.max_batch_per_gpu)
      }
    }
    const sequences = batch * layout.dp
    const ttft = step.prefill ?? null
    const tpot = step.decode ?? null
    const p = parts!
    const weights = "attention_weights_bytes" in p
      ? p.attention_weights_bytes + p.dense_ffn_weights_bytes + p.routed_expert_weights_bytes + p.shared_expert_weights_bytes + p.router_weights_bytes + p.norm_weights_bytes + p.embedding_lm_head_weights_bytes
      : p.weights_bytes
    return {
      model: sb.point_model,
      strategy,
      tp: layout.tp,
      dp: layout.dp,
      ep: layout.ep,
      gpus: layout.gpus,
      hardware,
      batch,
      seq,
      output,
      invalid: null,
      ttft_ms: ttft,
      tpot_ms: tpot,
      // The same expressions as each model's own serving summary (src/kernel/step.ts servingSummary,
      // src/deploy/serving.ts), so a point equals the single-point command to the last bit.
      tokens_per_s_per_gpu: tpot !== null && tpot > 0 ? (e.layout !== undefined ? ((sequences / tpot) * 1e3) / layout.gpus : (sequences * 1e3) / tpot / layout.gpus) : null,
      tokens_per_s_per_user: tpot !== null && tpot > 0 ? 1e3 / tpot : null,
      prefill_tokens_per_s_per_gpu: ttft !== null && ttft > 0 ? (e.layout !== undefined ? (((sequences * seq) / ttft) * 1e3) / layout.gpus : (sequences * seq * 1e3) / ttft / layout.gpus) : null,
      memory_per_gpu_bytes: peak,
      weights_bytes: weights,
      kv_cache_bytes: p.kv_cache_bytes,
      activation_bytes: p.activation_bytes,
      comm_buffer_bytes: p.comm_buffer_bytes,
      capacity_bytes: capacity,
      fits_in_hbm: peak <= capacity,
      max_batch: maxBatch === Infinity ? 0 : maxBatch,
      bottleneck
    }
  }
}

/** The scenario base with the tp / dp axes applied (to `parallelism`, and to a deployment block's attention layout). */
export const withLayoutAxes = (base: ScenarioBase, tp: number | undefined, dp: number | undefined): ScenarioBase => {
  if (tp === undefined && dp === undefined) return base
  const par = { ...base.parallelism, ...(tp === undefined ? {} : { tp }), ...(dp === undefined ? {} : { dp }) }
  if (base.deployment === undefined) return { ...base, parallelism: par }
  const { nodes: _nodes, ...rest } = base.deployment
  // With dp given the unit is tp x dp GPUs (nodes no longer apply); with tp alone the node count still sizes it.
  const deployment = dp === undefined ? { ...base.deployment, attention: { ...base.deployment.attention, tp: tp! } } : { ...rest, attention: { ...base.deployment.attention, ...(tp === undefined ? {} : { tp }), dp } }
  return { ...base, parallelism: par, deployment }
}

/**
 * One sweep point, evaluated: pure, on the one model kernel.
 *
 * A point is the scenario with some axes set (src/sweep/axes.ts). It is evaluated by the
 * deployment model its strategy and axes name (src/deploy/registry.ts), exactly as the
 * single-point commands evaluate it: core as `llmsim run`, large-ep as `large-ep evaluate` /
 * `run --strategy two-batch-overlap`, afd as `afd simulate`.
 * Serving terms: TTFT = the prefill step of `batch` prompts of `seq` tokens; TPOT = the decode
 * step at the mean KV length over the generation, seq + floor(output / 2) (seq itself when
 * output is 0, as `run`); memory holds the KV of seq + output tokens per sequence (the end of the
 * generation), so a point fits only if its longest context fits. Tokens/s come from the one
 * serving arithmetic (src/kernel/serving.ts): per GPU = batch x dp x 1000 / TPOT / GPUs (decode
 * output), prefill likewise; per user = 1000 / TPOT.
 * The largest batch that fits (`max_batch`) is the model's, at the point's layout and lengths.
 * A point whose layout cannot exist (ep does not divide the GPUs, heads not divisible by tp) is
 * `invalid` with the reason, never skipped silently.
 */
import type { ScenarioBase } from "../kernel/layout.ts"
import type { Model } from "../kernel/model.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import { parseInstances } from "../deploy/deployment.ts"
import type { PlaybookInput } from "../deploy/largeEp.ts"
import { DEPLOYMENT_MODELS, type Deployment, type DeploymentMemory, type DeploymentModelName } from "../deploy/registry.ts"
import type { Dtype } from "../schema/dtypes.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode, type TimingHardware } from "../timing/roofline.ts"
import { LAYOUT_AXES, type AxisName } from "./axes.ts"
import type { Coordinates } from "./space.ts"

export type PointModel = DeploymentModelName

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
const decodeKvLength = (seq: number, output: number): number => seq + Math.floor(output / 2)

const num = (c: Coordinates, axis: AxisName): number | undefined => (typeof c[axis] === "number" ? (c[axis] as number) : undefined)
const str = (c: Coordinates, axis: AxisName): string | undefined => (typeof c[axis] === "string" ? (c[axis] as string) : undefined)

/** The coordinates a point's row carries whatever its layout: the axes' values, else the sweep's defaults. */
export const coordinatesOf = (sb: SweepBase, c: Coordinates) => ({
  hardware: str(c, "hardware") ?? sb.scenario_hardware,
  batch: num(c, "batch") ?? sb.defaults.batch,
  seq: num(c, "seq") ?? sb.defaults.seq,
  output: num(c, "output") ?? sb.defaults.output
})

/** Layout-level facts shared by every point with the same layout axes: computed once per sweep. */
interface LayoutEntry {
  readonly invalid?: string
  readonly deployment?: Deployment
  /** Largest batch per (phase, KV length), filled lazily. */
  readonly maxBatch: Map<string, number>
}

/** An evaluator of points over one base, with its per-layout memo (one per sweep, or per worker). */
export const pointEvaluator = (sb: SweepBase, estimator: Estimator) => {
  const timings = new Map<string, TimingHardware>()
  const layouts = new Map<string, LayoutEntry>()
  const dm = DEPLOYMENT_MODELS[sb.point_model]
  const timingOf = (name: string, hw: HardwareSpec) => {
    let t = timings.get(name)
    if (!t) timings.set(name, (t = timingHardware(hw, sb.efficiency)))
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
      moe_experts: (str(c, "moe_experts") ?? (c.weights !== undefined ? (sb.explicit_moe_experts ?? weights) : sb.model.precision.moe_experts)) as Dtype
    }
    const model: Model = { ...sb.model, precision }
    const micro = num(c, "micro_batches") ?? sb.defaults.micro_batches
    const base: ScenarioBase = withLayoutAxes({ ...sb.base, precision, ...(micro === undefined ? {} : { micro_batch: micro }) }, num(c, "tp"), num(c, "dp"))
    const input: PlaybookInput = { model, hardware: hw, timing: timingOf(hwName, hw), estimator, shareOps: true }
    const ep = num(c, "ep")
    const redundant = num(c, "redundant_experts")
    const tbo = str(c, "tbo")
    const inst = str(c, "instances")
    const instances = inst === undefined ? undefined : parseInstances(inst)
    const r = dm.deploy(input, base, {
      ...(ep === undefined ? {} : { ep }),
      ...(redundant === undefined ? {} : { redundant_experts: redundant }),
      ...(micro === undefined ? {} : { micro_batches: micro }),
      ...(sb.strategy === undefined ? {} : { strategy: sb.strategy }),
      ...(tbo === undefined ? {} : { two_batch_overlap: tbo === "on" }),
      ...(instances === undefined ? {} : { instances })
    })
    const out: LayoutEntry = r.ok ? { deployment: r.value, maxBatch: new Map() } : { invalid: r.problem.message, maxBatch: new Map() }
    layouts.set(key, out)
    return out
  }

  return (c: Coordinates): PointResult => {
    const { hardware, batch, seq, output } = coordinatesOf(sb, c)
    const e = resolve(c)
    const d = e.deployment
    if (d === undefined) {
      return {
        // The swept layout values stay in the row, so it says which layout was impossible.
        model: sb.point_model,
        strategy: null,
        hardware,
        batch,
        seq,
        output,
        tp: num(c, "tp") ?? null,
        dp: num(c, "dp") ?? null,
        ep: num(c, "ep") ?? null,
        gpus: null,
        invalid: e.invalid ?? null,
        ttft_ms: null,
        tpot_ms: null,
        tokens_per_s_per_gpu: null,
        tokens_per_s_per_user: null,
        prefill_tokens_per_s_per_gpu: null,
        memory_per_gpu_bytes: null,
        weights_bytes: null,
        kv_cache_bytes: null,
        activation_bytes: null,
        comm_buffer_bytes: null,
        capacity_bytes: null,
        fits_in_hbm: false,
        max_batch: null,
        bottleneck: null
      }
    }
    const kvMean = decodeKvLength(seq, output)
    const kvFull = seq + output
    const lengthOf = (phase: SinglePhase) => (phase === "prefill" ? seq : kvMean)
    const memoryLength = (phase: SinglePhase) => (phase === "prefill" ? seq : kvFull)
    const step: Partial<Record<SinglePhase, number>> = {}
    let memory: DeploymentMemory | undefined
    let maxBatch = Infinity
    let bottleneck = ""
    for (const phase of sb.phases) {
      const t = d.step({ phase, batch_size: batch, seq_len: lengthOf(phase) })
      step[phase] = t.step_ms
      if (phase === "decode" || bottleneck === "") bottleneck = t.bottleneck
      const m = d.memory(phase, batch, memoryLength(phase))
      if (memory === undefined || m.total_bytes > memory.total_bytes) memory = m
      const memoKey = `${phase}|${memoryLength(phase)}`
      let mb = e.maxBatch.get(memoKey)
      if (mb === undefined) e.maxBatch.set(memoKey, (mb = d.maxBatch(phase, memoryLength(phase))))
      maxBatch = Math.min(maxBatch, mb)
    }
    const ttft = step.prefill ?? null
    const tpot = step.decode ?? null
    const rates = d.rates(batch, seq, ttft, tpot)
    const m = memory!
    return {
      model: sb.point_model,
      strategy: d.strategy,
      tp: d.unit.tp,
      dp: d.unit.dp,
      ep: d.unit.ep,
      gpus: d.unit.gpus,
      hardware,
      batch,
      seq,
      output,
      invalid: null,
      ttft_ms: ttft,
      tpot_ms: tpot,
      tokens_per_s_per_gpu: rates.decode_tokens_per_s_per_gpu,
      tokens_per_s_per_user: rates.tokens_per_s_per_user,
      prefill_tokens_per_s_per_gpu: rates.prefill_tokens_per_s_per_gpu,
      memory_per_gpu_bytes: m.total_bytes,
      weights_bytes: m.weights_bytes,
      kv_cache_bytes: m.kv_cache_bytes,
      activation_bytes: m.activation_bytes,
      comm_buffer_bytes: m.comm_buffer_bytes,
      capacity_bytes: d.capacity_bytes,
      fits_in_hbm: m.total_bytes <= d.capacity_bytes,
      max_batch: maxBatch === Infinity ? 0 : maxBatch,
      bottleneck
    }
  }
}

/** The scenario base with the tp / dp axes applied (to `parallelism`, and to a deployment block's attention layout). */
const withLayoutAxes = (base: ScenarioBase, tp: number | undefined, dp: number | undefined): ScenarioBase => {
  if (tp === undefined && dp === undefined) return base
  const par = { ...base.parallelism, ...(tp === undefined ? {} : { tp }), ...(dp === undefined ? {} : { dp }) }
  if (base.deployment === undefined) return { ...base, parallelism: par }
  const { nodes: _nodes, ...rest } = base.deployment
  // With dp given the unit is tp x dp GPUs (nodes no longer apply); with tp alone the node count still sizes it.
  const deployment =
    dp === undefined
      ? { ...base.deployment, attention: { ...base.deployment.attention, tp: tp! } }
      : { ...rest, attention: { ...base.deployment.attention, ...(tp === undefined ? {} : { tp }), dp } }
  return { ...base, parallelism: par, deployment }
}

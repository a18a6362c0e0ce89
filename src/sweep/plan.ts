/**
 * `llmsim plan`: what to deploy for a model, candidate hardware, a GPU budget, a workload and
 * SLOs. Four modes are planned side by side, each by simulation (src/serve/capacity.ts) on the
 * engine models of `llmsim bench`:
 *
 *   aggregated     replicas of one engine instance. Every candidate layout of every hardware
 *                  (layoutCandidates) gets its largest Poisson rate within the SLOs; replicas
 *                  scale it (a router spreads requests evenly), so a layout's goodput per GPU is
 *                  its instance's, and the budget holds floor(budget / GPUs) of them (or, with a
 *                  target rate, as many as the target needs).
 *   disaggregated  x prefill instances and y decode instances (src/serve/disaggregate.ts). Each
 *                  layout is measured in each role apart, the other side left out so it never
 *                  binds: Rp, the rate one prefill instance sustains within the TTFT SLO (its
 *                  queueing, prefill and KV transfer), and Rd, the rate one decode instance
 *                  sustains within the TPOT (and E2E) SLO. An xPyD pair then serves
 *                  min(x Rp, y Rd) on x GPUs_p + y GPUs_d GPUs; the pair and ratio with the most
 *                  requests/s per GPU (within the budget; with a target rate, that meet it) is
 *                  simulated whole to confirm it, and its simulated figures are the answer.
 *   wide_ep        (MoE) the disaggregated search over the DP-attention layouts, each served as a
 *                  wide expert-parallel deployment (src/serve/playbookCost.ts wideEpCost), with
 *                  two-batch overlap and without.
 *   afd            (MoE) decode pools of attention-FFN units (xAyF of a node each: afdInstance),
 *                  paired with the prefill roles measured in the modes above (each role measured once).
 * The goodput compared is requests/s within the SLOs per GPU; cost per 1M output tokens comes from
 * each hardware's price_per_gpu_hour_usd (or --price-per-gpu-hour).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { estimatorOf } from "../app/estimator.ts"
import { withSession, type RunOptions, type Session } from "../app/session.ts"
import { UsageError } from "../config/errors.ts"
import { displayPath, loadHardwareFile } from "../config/load.ts"
import { resolvePath } from "../config/paths.ts"
import { resolveLayout, scaleUpGpus } from "../kernel/layout.ts"
import { moeConfigs, modelOf, type Model } from "../kernel/model.ts"
import { scenarioBase } from "../sim/simulate.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { Parallelism } from "../schema/parallelism.ts"
import { physicalProblem } from "../schema/physical.ts"
import { DEFAULT_PROBE_REQUESTS, type CapacitySearch, type Deployment, type LoadPoint, type SloTarget } from "../serve/capacity.ts"
import type { RateSearchOptions } from "../serve/rateSearch.ts"
import { instanceRecipe, searchCapacity, searchesAreNodes, type DeploymentRecipe, type InstanceRecipe } from "../sim/capacityNode.ts"
import type { GoodputSlo } from "../serve/metrics.ts"
import { typicalContext, validateWorkload, type Workload, type WorkloadSpec } from "../serve/workload.ts"
import {
  afdInstance,
  instanceDeployment,
  pairDeployment,
  scenarioVariant,
  servingInstance,
  workloadMisfit,
  wideEpOverrides,
  type EngineOverrides,
  type ServingInstance
} from "../sim/serving.ts"
import { costPer1M } from "./judge.ts"
import { parseAxis } from "./axes.ts"
import { CLUSTER_IN_FLIGHT, servedFrontier } from "./bench.ts"
import { sweepHardware } from "./run.ts"

export interface PlanOptions {
  readonly run: RunOptions
  /** --hardware: files (comma separated), or `all` (every hardware file of the project with a price); default the scenario's. */
  readonly hardware?: string
  /** --gpus: the most GPUs a deployment may use (default: twice the scenario's layout, at least one node). */
  readonly budget?: number
  readonly engine?: string
  readonly engineFlags: EngineOverrides
  readonly workload: WorkloadSpec
  readonly slo?: GoodputSlo
  /** The percentile the SLOs hold at (default 90). */
  readonly percentile?: number
  /** --request-rate: the rate to serve (default: as much as the budget allows). */
  readonly target_rate?: number
  readonly price_per_gpu_hour_usd?: number
  readonly mtpAcceptance?: number
  readonly onProgress?: (done: number, total: number) => void
}

/** A layout a plan tries (attention tp x dp, experts over ep). */
interface Candidate {
  readonly hardware: string
  readonly spec: HardwareSpec
  readonly parallelism: Required<Parallelism>
}

/** A candidate that can serve the workload, its instance built. */
interface Served extends Candidate {
  /** Wide EP: with two-batch overlap or not (undefined: the core layout). */
  readonly tbo?: boolean
  /** An AFD unit: attention and FFN instances of a node each. */
  readonly afd?: { readonly attention: number; readonly ffn: number }
  readonly inst: ServingInstance
  /** How `inst` was built, as data: the key of its capacity searches (src/sim/capacityNode.ts). */
  readonly recipe: InstanceRecipe
  readonly gpus: number
  readonly price: number | null
}

/** What a planned deployment serves, at the rate it was found to sustain. */
export interface PlannedFigures {
  readonly rate_rps: number
  readonly goodput_per_gpu: number
  readonly output_tokens_per_s_per_gpu: number
  readonly tokens_per_s_per_user: number
  readonly ttft_ms: number
  readonly tpot_ms: number
  readonly cost_per_1m_output_tokens_usd: number | null
}

/** One pool of a planned deployment, as a scenario's disaggregation block writes it (hardware: its path from the project root). */
export interface PlannedPool {
  readonly instances: number
  readonly hardware: string
  readonly parallelism: Required<Parallelism>
  /** Served as a wide expert-parallel deployment (the wide_ep mode's pools), with or without two-batch overlap. */
  readonly wide_ep?: true
  readonly two_batch_overlap?: boolean
  /** An AFD unit of this many attention and FFN instances of gpus_per_node GPUs each (the afd mode's decode pool; parallelism: tp 1, dp = attention GPUs, ep = FFN GPUs). */
  readonly afd?: { readonly attention_instances: number; readonly ffn_instances: number }
}

/** The modes a plan compares: replicas of one engine; prefill and decode pools; the same pools as wide expert-parallel deployments; decode pools of attention-FFN units. */
export type PlanMode = "aggregated" | "disaggregated" | "wide_ep" | "afd"
export const PLAN_MODES: ReadonlyArray<PlanMode> = ["aggregated", "disaggregated", "wide_ep", "afd"]

export interface PlannedDeployment {
  readonly mode: PlanMode
  /** What to deploy: aggregated, `server` replicas; disaggregated, the two pools (what `export --plan` reads). */
  readonly pools: { readonly server: PlannedPool } | { readonly prefill: PlannedPool; readonly decode: PlannedPool }
  /** `2 x TP8 on H200-SXM`, `2P TP4 + 1D DEP8 on H200-SXM`. */
  readonly text: string
  readonly gpus: number
  /** Per GPU: weights and KV cache of the (decode-side) instance, and the HBM. */
  readonly memory: { readonly weights_gb: number; readonly kv_cache_gb: number; readonly hbm_gb: number }
  readonly figures: PlannedFigures
  /** Disaggregated: the roles' rates apart (requests/s of one instance) and the predicted pair rate before the whole simulation. */
  readonly roles?: { readonly prefill_rps: number; readonly decode_rps: number; readonly predicted_rps: number }
}

/** A candidate that lost, and why. */
export interface PlanAlternative {
  readonly mode: PlanMode
  readonly text: string
  readonly goodput_per_gpu: number | null
  readonly why: string
}

/** A probe that met the SLOs: one point of a mode's frontier. */
export interface PlanPoint {
  readonly text: string
  readonly rate_rps: number
  readonly output_tokens_per_s_per_gpu: number
  readonly tokens_per_s_per_user: number
  readonly cost_per_1m_output_tokens_usd: number | null
}

export interface PlanResult {
  readonly scenario: string
  readonly engine: string
  readonly workload: { readonly input_len: number; readonly output_len: number }
  readonly slo: GoodputSlo
  readonly percentile: number
  readonly budget: number
  readonly target_rate_rps: number | null
  readonly hardware: ReadonlyArray<{ readonly name: string; readonly price_per_gpu_hour_usd: number | null }>
  readonly best: Readonly<Record<PlanMode, PlannedDeployment | null>>
  readonly alternatives: ReadonlyArray<PlanAlternative>
  /** Per mode, the Pareto frontier (output tokens/s per GPU against tokens/s per user) of every probe that met the SLOs. */
  readonly frontier: Readonly<Record<PlanMode, ReadonlyArray<PlanPoint>>>
  readonly simulated_requests: number
}

/**
 * SLOs without --goodput: a 2 s first token (an interactive chat answer starts within a couple of
 * seconds) and 50 ms per output token (20 tokens/s, faster than reading speed), at P90.
 */
export const DEFAULT_SLO: GoodputSlo = { ttft: 2000, tpot: 50 }

/**
 * The rate searches of a plan stop at a 5% bracket (sweep --bench's 2% would take about two more
 * probes each): candidates are ranked by goodput per GPU, and the answer is simulated whole.
 */
const SEARCH = { relative: 0.05 } as const

/** xPyD pairs simulated whole, best predicted first. */
const VERIFIED = 3

/** One capacity search of a plan, as `search` takes it. */
interface SearchSpec {
  readonly name: string
  readonly deployment: DeploymentRecipe
  readonly built: Deployment
  readonly target: SloTarget
  readonly full: number
  readonly opts?: RateSearchOptions
}
/** Most instances of one side in an xPyD pair. */
const MAX_SIDE = 16

const powersOfTwo = (max: number): Array<number> => {
  const out: Array<number> = []
  for (let k = 1; k <= max; k *= 2) out.push(k)
  return out
}

/**
 * The layouts a plan tries on one hardware within `budget` GPUs: tensor parallel within a node
 * (tp 1, 2, 4, 8 up to gpus_per_node); for MoE models also experts over the same GPUs (ep = tp)
 * and DP attention with expert parallelism over 2, 4, 8, ... GPUs (tp 1, dp = ep = k). Layouts the
 * model cannot take (heads not divisible) drop out when the instance is built.
 */
export const layoutCandidates = (model: Model, hw: HardwareSpec, budget: number): Array<Required<Parallelism>> => {
  // Tensor parallel within the scale-up domain, at most 8 (beyond, attention heads rarely divide and all-reduce dominates).
  const tps = powersOfTwo(Math.min(scaleUpGpus(hw), 8, budget))
  if (moeConfigs(model).length === 0) return tps.map((tp) => ({ tp, dp: 1, ep: 1 }))
  return [
    ...tps.map((tp) => ({ tp, dp: 1, ep: tp })),
    ...powersOfTwo(budget)
      .filter((k) => k > 1)
      .map((k) => ({ tp: 1, dp: k, ep: k }))
  ]
}

const layoutText = (p: Required<Parallelism>): string => (p.dp > 1 ? `DEP${p.dp}` : p.ep > 1 ? `TEP${p.tp}` : `TP${p.tp}`)

/** A candidate's layout, and for wide EP whether two-batch overlap is on: `DEP16`, `DEP16 TBO`. */
const servedText = (x: { readonly parallelism: Required<Parallelism>; readonly tbo?: boolean; readonly afd?: { attention: number; ffn: number } }): string =>
  x.afd !== undefined ? `AFD ${x.afd.attention}A${x.afd.ffn}F` : `${layoutText(x.parallelism)}${x.tbo === true ? " TBO" : ""}`

/** x prefill instances of `p` and y decode instances of `d`, as one deployment. */
const paired = (
  p: Served,
  x: number,
  d: Served,
  y: number,
  acceptance: number,
  w: Workload,
  typical: number,
  efficiency: RunOptions["efficiency"]
): Deployment | string =>
  pairDeployment({ inst: p.inst, hardware: p.spec, key: p.hardware }, x, { inst: d.inst, hardware: d.spec, key: d.hardware }, y, {
    acceptance,
    workload: w,
    typical,
    efficiency
  })

/** Requests one instance of `s` holds at once. */
const concurrencyOf = (s: Served, typical: number): number =>
  s.inst.layout.dp * Math.min(s.inst.settings.max_running, Math.floor(s.inst.kv.kv_tokens / Math.max(1, typical)))

/** How close a probe that missed came: `: at 0.52 req/s P90 TPOT 61.0 ms > 50 ms`, each SLO it broke. */
const closest = (p: LoadPoint | undefined, slo: GoodputSlo, percentile: number): string => {
  if (p === undefined) return ""
  const over = (["ttft", "tpot", "e2el"] as const).flatMap((k) => {
    const limit = slo[k]
    const v = k === "ttft" ? p.ttft_ms : k === "tpot" ? p.tpot_ms : p.e2el_ms
    return limit !== undefined && v > limit ? [`P${percentile} ${k.toUpperCase()} ${v.toFixed(1)} ms > ${limit} ms`] : []
  })
  return over.length === 0 ? "" : `: at ${p.rate.toFixed(2)} req/s ${over.join(", ")}`
}

/** The rate a probe shows sustained: its rate, or at max load (rate inf) the rate it completed requests at. */
const sustained = (p: LoadPoint): number => (p.rate === Number.POSITIVE_INFINITY ? p.request_throughput : p.rate)

const figuresOf = (p: LoadPoint, gpus: number, price: number | null): PlannedFigures => ({
  rate_rps: sustained(p),
  goodput_per_gpu: p.goodput / gpus,
  output_tokens_per_s_per_gpu: p.output_tokens_per_s / gpus,
  tokens_per_s_per_user: p.mean_tpot_ms > 0 ? 1000 / p.mean_tpot_ms : 0,
  ttft_ms: p.ttft_ms,
  tpot_ms: p.tpot_ms,
  cost_per_1m_output_tokens_usd: costPer1M(price, p.output_tokens_per_s / gpus)
})

const memoryOf = (s: Served) => ({
  weights_gb: s.inst.memory.weights_bytes / 1e9,
  kv_cache_gb: s.inst.kv.kv_bytes / 1e9,
  hbm_gb: s.spec.hbm_gb
})

/** Every hardware file of the project with a price (`--hardware all`). */
const pricedHardware = (s: Session) =>
  Effect.gen(function* () {
    const dir = path.join(s.project.root, "configs", "hardware")
    const files = fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
      : []
    const out: Array<{ key: string; spec: HardwareSpec }> = []
    for (const f of files) {
      const spec = yield* loadHardwareFile(s.evaluator, s.project.root, path.join(dir, f))
      if (spec.price_per_gpu_hour_usd !== undefined) out.push({ key: displayPath(s.project.root, path.join(dir, f)), spec })
    }
    return out
  })

export const runPlan = (o: PlanOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const w = o.workload
      const checked = validateWorkload({ ...w, request_rate: Number.POSITIVE_INFINITY })
      if (!checked.ok) return yield* Effect.fail(new UsageError({ message: `${checked.problems[0]!.field}: ${checked.problems[0]!.message}` }))
      const badPrice = o.price_per_gpu_hour_usd === undefined ? undefined : physicalProblem("usd_per_gpu_hour", o.price_per_gpu_hour_usd)
      if (badPrice !== undefined) return yield* Effect.fail(new UsageError({ message: `--price-per-gpu-hour: ${badPrice}` }))
      let hardware: Array<{ key: string; spec: HardwareSpec }>
      if (o.hardware === "all") {
        hardware = yield* pricedHardware(s)
        if (hardware.length === 0)
          return yield* Effect.fail(new UsageError({ message: "--hardware all: no hardware file under configs/hardware has a price_per_gpu_hour_usd" }))
      } else if (o.hardware !== undefined) {
        const parsed = parseAxis("hardware", o.hardware)
        if (!parsed.ok) return yield* Effect.fail(new UsageError({ message: `--hardware: ${parsed.message}` }))
        const loaded = yield* sweepHardware(s, { axes: { hardware: o.hardware }, run: o.run }, { hardware: parsed.value })
        // Keyed by the file's path from the project root, so `export --plan` finds it from anywhere.
        hardware = parsed.value.map((v) => ({
          key: displayPath(s.project.root, resolvePath("flag", String(v), { cwd: o.run.cwd, root: s.project.root })),
          spec: loaded[String(v)]!
        }))
      } else hardware = [{ key: displayPath(s.loaded.root, s.loaded.hardwareFile), spec: s.loaded.hardware }]
      // Without --gpus: room for one prefill and one decode instance of the scenario's own layout
      // (so both modes can be compared on the layout it names), at least one node.
      const own = resolveLayout(modelOf(s.loaded), s.loaded.hardware, scenarioBase(s.loaded, modelOf(s.loaded)))
      const budget = o.budget ?? Math.max(hardware[0]!.spec.gpus_per_node ?? 8, own.ok ? 2 * own.value.layout.gpus : 1)
      const estimator = yield* estimatorOf(o.run, { cwd: o.run.cwd, root: s.project.root })
      if (o.run.cluster !== undefined && !searchesAreNodes(estimator))
        return yield* Effect.fail(
          new UsageError({ message: `--cluster: runners compute searches with the analytic estimator only, not --estimator ${o.run.estimator}` })
        )
      const model = modelOf(s.loaded)
      const acceptance = model.mtp_draft_tokens === undefined ? 0 : (o.mtpAcceptance ?? s.runtime.mtp_acceptance_rate ?? 0)
      const typical = typicalContext(w)
      // What every instance recipe shares (src/sim/capacityNode.ts).
      const recipeBase = { engine: o.engine ?? null, engine_flags: o.engineFlags, efficiency: o.run.efficiency, typical_context: typical }
      const percentile = o.percentile ?? 90
      const slo = o.slo ?? DEFAULT_SLO
      const target: SloTarget = { ...(slo === undefined ? {} : { slo }), percentile }
      const ttftOnly: SloTarget = { ...(slo?.ttft === undefined ? {} : { slo: { ttft: slo.ttft } }), percentile }
      const decodeSlo =
        slo === undefined ? undefined : { ...(slo.tpot === undefined ? {} : { tpot: slo.tpot }), ...(slo.e2el === undefined ? {} : { e2el: slo.e2el }) }
      const decodeOnly: SloTarget = { ...(decodeSlo === undefined || Object.keys(decodeSlo).length === 0 ? {} : { slo: decodeSlo }), percentile }
      const alternatives: Array<PlanAlternative> = []
      const points: Record<PlanMode, Array<PlanPoint>> = { aggregated: [], disaggregated: [], wide_ep: [], afd: [] }
      const collect = (mode: keyof typeof points, text: string, c: CapacitySearch, gpus: number, price: number | null) => {
        for (const p of c.probes)
          if (p.meets) {
            const f = figuresOf(p, gpus, price)
            points[mode].push({
              text,
              rate_rps: f.rate_rps,
              output_tokens_per_s_per_gpu: f.output_tokens_per_s_per_gpu,
              tokens_per_s_per_user: f.tokens_per_s_per_user,
              cost_per_1m_output_tokens_usd: f.cost_per_1m_output_tokens_usd
            })
          }
      }

      // Every candidate layout that can serve the workload.
      const served: Array<Served> = []
      for (const h of hardware) {
        for (const p of layoutCandidates(model, h.spec, budget)) {
          const text = `${layoutText(p)} on ${h.spec.name}`
          const loaded = scenarioVariant(s.loaded, { hardware: h.spec, parallelism: p })
          const made = yield* Effect.result(servingInstance(loaded, o.engine, o.engineFlags, estimator, o.run.efficiency, typical))
          if (made._tag === "Failure") {
            const e = made.failure
            alternatives.push({ mode: "aggregated", text, goodput_per_gpu: null, why: "issues" in e ? (e.issues[0]?.message ?? "invalid layout") : e.message })
            continue
          }
          const inst = made.success
          const misfit =
            inst.kv.kv_tokens <= 0
              ? `no memory is left for the KV cache: weights ${(inst.memory.weights_bytes / 2 ** 30).toFixed(1)} GiB per GPU of ${(inst.memory.device_bytes / 2 ** 30).toFixed(1)} GiB (${inst.kv.rule})`
              : workloadMisfit(inst, w)
          if (misfit !== undefined) {
            alternatives.push({ mode: "aggregated", text, goodput_per_gpu: null, why: misfit })
            continue
          }
          served.push({
            hardware: h.key,
            spec: h.spec,
            parallelism: p,
            inst,
            recipe: instanceRecipe(loaded, { ...recipeBase, build: { kind: "serving" } }),
            gpus: inst.layout.gpus,
            price: o.price_per_gpu_hour_usd ?? h.spec.price_per_gpu_hour_usd ?? null
          })
        }
      }
      // Wide EP (MoE models): the DP-attention layouts again, served as wide expert-parallel
      // deployments, with two-batch overlap and without (it pays at large batches, where the
      // all-to-all is long, and costs at small ones, where each micro-batch reads the weights again).
      const wide: Array<Served> = []
      if (moeConfigs(model).length > 0)
        for (const x of served)
          for (const tbo of [false, true]) {
            if (x.parallelism.dp < 2) continue
            const text = `${servedText({ ...x, tbo })} on ${x.spec.name}`
            const made = yield* Effect.result(
              servingInstance(
                scenarioVariant(s.loaded, { hardware: x.spec, parallelism: x.parallelism }),
                o.engine,
                o.engineFlags,
                estimator,
                o.run.efficiency,
                typical,
                wideEpOverrides(tbo)
              )
            )
            if (made._tag === "Failure") {
              const e = made.failure
              alternatives.push({ mode: "wide_ep", text, goodput_per_gpu: null, why: "issues" in e ? (e.issues[0]?.message ?? "invalid layout") : e.message })
              continue
            }
            const inst = made.success
            const misfit = inst.kv.kv_tokens <= 0 ? `no memory is left for the KV cache with DeepEP's buffers (${inst.kv.rule})` : workloadMisfit(inst, w)
            if (misfit !== undefined) {
              alternatives.push({ mode: "wide_ep", text, goodput_per_gpu: null, why: misfit })
              continue
            }
            wide.push({
              ...x,
              tbo,
              inst,
              // The core layout's scenario variant, built as a wide-EP deployment.
              recipe: { ...x.recipe, build: { kind: "wide_ep", overrides: wideEpOverrides(tbo) } }
            })
          }
      // AFD (MoE models): decode units of 1, 2 or 4 attention instances and 1, 2 or 4 FFN instances
      // of one node each (Step-3's xAyF), with room left for a prefill instance.
      const afdUnits: Array<Served> = []
      if (moeConfigs(model).length > 0)
        for (const h of hardware) {
          const node = h.spec.gpus_per_node ?? 8
          for (const a of [1, 2, 4])
            for (const f of [1, 2, 4]) {
              if ((a + f) * node >= budget) continue
              const text = `AFD ${a}A${f}F on ${h.spec.name}`
              const loaded = scenarioVariant(s.loaded, { hardware: h.spec })
              const made = yield* Effect.result(
                afdInstance(loaded, o.engine, o.engineFlags, estimator, o.run.efficiency, typical, {
                  attention_instances: a,
                  ffn_instances: f
                })
              )
              if (made._tag === "Failure") {
                const e = made.failure
                alternatives.push({ mode: "afd", text, goodput_per_gpu: null, why: "issues" in e ? (e.issues[0]?.message ?? "invalid layout") : e.message })
                continue
              }
              const inst = made.success
              const misfit = inst.kv.kv_tokens <= 0 ? `no memory is left for the KV cache on the attention GPUs (${inst.kv.rule})` : workloadMisfit(inst, w)
              if (misfit !== undefined) {
                alternatives.push({ mode: "afd", text, goodput_per_gpu: null, why: misfit })
                continue
              }
              afdUnits.push({
                hardware: h.key,
                spec: h.spec,
                parallelism: { tp: 1, dp: a * node, ep: f * node },
                afd: { attention: a, ffn: f },
                inst,
                recipe: instanceRecipe(loaded, {
                  ...recipeBase,
                  build: { kind: "afd", overrides: { attention_instances: a, ffn_instances: f } }
                }),
                gpus: inst.layout.gpus,
                price: o.price_per_gpu_hour_usd ?? h.spec.price_per_gpu_hour_usd ?? null
              })
            }
        }
      if (served.length === 0) {
        const last = alternatives.at(-1)
        const why = last === undefined ? "no layout fits the budget" : `${last.text}: ${last.why}`
        return yield* Effect.fail(
          new UsageError({
            message: `plan: no layout of ${displayPath(s.project.root, s.loaded.file)} can serve the workload within ${budget} GPU${budget === 1 ? "" : "s"} (the largest tried, ${why}); raise --gpus`
          })
        )
      }
      const steps = served.length * 3 + wide.length * 2 + afdUnits.length + 3
      let done = 0
      const tick = () => o.onProgress?.(++done, steps)
      let simulated = 0
      const fullOf = (c: number) => (w.num_prompts === undefined ? Math.max(DEFAULT_PROBE_REQUESTS, 2 * c) : w.num_prompts)
      const count = (c: CapacitySearch) => {
        simulated += c.simulated
        return c
      }
      // One capacity search: a graph node with the analytic estimator (replayed when stored), else run on `built`.
      let searches = 0
      const search = (name: string, deployment: DeploymentRecipe, built: Deployment, tgt: SloTarget, full: number, opts: RateSearchOptions = {}) =>
        Effect.map(
          searchCapacity(
            s.evaluator.evaluate,
            estimator,
            { id: `capacity:${searches++}`, name },
            { deployment, workload: checked.workload, target: tgt, full, search: opts },
            built
          ),
          count
        )
      const pairRecipe = (p: Served, x: number, d: Served, y: number): DeploymentRecipe => ({
        kind: "pair",
        prefill: { instance: p.recipe, hardware_key: p.hardware, count: x },
        decode: { instance: d.recipe, hardware_key: d.hardware, count: y },
        acceptance,
        typical_context: typical,
        efficiency: o.run.efficiency
      })

      /** A layout's search in a role, the other side ample; or why it cannot be paired. */
      const roleSearch = (x: Served, role: "prefill" | "decode"): SearchSpec | string => {
        // No instance of the other side: it never binds (src/serve/disaggregate.ts measures a pool alone).
        const [px, dy] = role === "prefill" ? [1, 0] : [0, 1]
        const dep = paired(x, px, x, dy, acceptance, checked.workload, typical, o.run.efficiency)
        if (typeof dep === "string") return dep
        return {
          name: `capacity:${role}:${servedText(x)}:${x.spec.name}`,
          deployment: pairRecipe(x, px, x, dy),
          built: dep,
          target: role === "prefill" ? ttftOnly : decodeOnly,
          full: fullOf(concurrencyOf(x, typical)),
          opts: SEARCH
        }
      }
      const aggregatedSearch = (x: Served): SearchSpec => ({
        name: `capacity:aggregated:${layoutText(x.parallelism)}:${x.spec.name}`,
        deployment: { kind: "instance", instance: x.recipe, acceptance },
        built: instanceDeployment(x.inst, acceptance, checked.workload),
        target,
        full: fullOf(concurrencyOf(x, typical)),
        opts: SEARCH
      })
      const pairSearch = (pick: { p: Served; x: number; d: Served; y: number }): SearchSpec => ({
        name: `capacity:pair:${pick.x}P ${servedText(pick.p)}:${pick.y}D ${servedText(pick.d)}`,
        deployment: pairRecipe(pick.p, pick.x, pick.d, pick.y),
        built: paired(pick.p, pick.x, pick.d, pick.y, acceptance, checked.workload, typical, o.run.efficiency) as Deployment,
        target,
        full: fullOf(pick.y * concurrencyOf(pick.d, typical))
      })
      /**
       * With --cluster: the searches a phase will make, sent at once so the runners work on them
       * together; the phase then finds each in the evaluator's memory (same node, same key), so
       * the answer and its order are those of a run without a cluster.
       */
      // The specs are built only with --cluster (building a pair's deployment is not free).
      const prefetch = (specs: () => ReadonlyArray<SearchSpec>) =>
        o.run.cluster === undefined
          ? Effect.void
          : Effect.forEach(
              specs(),
              (sp) =>
                searchCapacity(
                  s.evaluator.evaluate,
                  estimator,
                  { id: `prefetch:${sp.name}`, name: sp.name },
                  { deployment: sp.deployment, workload: checked.workload, target: sp.target, full: sp.full, search: sp.opts ?? {} },
                  sp.built
                ),
              { concurrency: CLUSTER_IN_FLIGHT, discard: true }
            )
      // Every layout's aggregated search, and its role searches for each mode that may pair it.
      const rolesOf = (prefills: ReadonlyArray<Served>, decodes: ReadonlyArray<Served>) =>
        (
          [
            ["prefill", prefills, decodes],
            ["decode", decodes, prefills]
          ] as const
        ).flatMap(([role, pool, partners]) => {
          const smallest = Math.min(...partners.map((x) => x.gpus))
          return pool.flatMap((x) => {
            if (x.gpus + smallest > budget) return []
            const spec = roleSearch(x, role)
            return typeof spec === "string" ? [] : [spec]
          })
        })
      yield* prefetch(() => [
        ...served.map(aggregatedSearch),
        ...rolesOf(served, served),
        ...rolesOf(wide, wide),
        ...(afdUnits.length === 0 ? [] : rolesOf([...served, ...wide], afdUnits))
      ])

      // Aggregated: each layout's instance, replicated.
      let bestAgg: { s: Served; p: LoadPoint; replicas: number } | undefined
      const aggRows: Array<{ s: Served; p: LoadPoint | undefined; replicas: number; lowest: LoadPoint | undefined }> = []
      for (const x of served) {
        const sp = aggregatedSearch(x)
        const c = yield* search(sp.name, sp.deployment, sp.built, sp.target, sp.full, sp.opts)
        collect("aggregated", `${layoutText(x.parallelism)} on ${x.spec.name}`, c, x.gpus, x.price)
        tick()
        const p = c.best
        const replicas = p === undefined ? 0 : o.target_rate === undefined ? Math.floor(budget / x.gpus) : Math.ceil(o.target_rate / sustained(p))
        // The lowest-rate probe: how close a layout that misses the SLOs comes.
        const lowest = c.probes.reduce<LoadPoint | undefined>((a, q) => (a === undefined || q.rate < a.rate ? q : a), undefined)
        aggRows.push({ s: x, p, replicas, lowest })
        if (p === undefined || replicas < 1 || replicas * x.gpus > budget) continue
        if (bestAgg === undefined || p.goodput / x.gpus > bestAgg.p.goodput / bestAgg.s.gpus) bestAgg = { s: x, p, replicas }
      }

      // Disaggregated (and wide EP): each layout in each role, the other side ample.
      // Each layout's rate in a role, measured once (AFD pairs reuse the prefill roles measured before).
      const roleCache = new Map<Served, { prefill?: number; decode?: number; failed?: string }>()
      const roleRate = (x: Served, role: "prefill" | "decode") =>
        Effect.gen(function* () {
          let c = roleCache.get(x)
          if (c === undefined) roleCache.set(x, (c = {}))
          if (c.failed !== undefined) return c.failed
          const known = c[role]
          if (known !== undefined) return known
          const spec = roleSearch(x, role)
          if (typeof spec === "string") return (c.failed = spec)
          const r = yield* search(spec.name, spec.deployment, spec.built, spec.target, spec.full, spec.opts)
          tick()
          return (c[role] = r.best === undefined ? 0 : sustained(r.best))
        })
      const pairMode = (mode: "disaggregated" | "wide_ep" | "afd", prefills: ReadonlyArray<Served>, decodes: ReadonlyArray<Served>) =>
        Effect.gen(function* () {
          const roles = { prefill: new Map<Served, number>(), decode: new Map<Served, number>() }
          // A layout no pair can use (with the smallest partner it is over the budget) is not measured in its role.
          for (const [role, pool, partners] of [
            ["prefill", prefills, decodes],
            ["decode", decodes, prefills]
          ] as const) {
            const smallest = Math.min(...partners.map((x) => x.gpus))
            for (const x of pool) {
              if (x.gpus + smallest > budget) continue
              const r = yield* roleRate(x, role)
              if (typeof r === "string") {
                if (!alternatives.some((a) => a.mode === mode && a.why === r && a.text === `${servedText(x)} on ${x.spec.name}`))
                  alternatives.push({ mode, text: `${servedText(x)} on ${x.spec.name}`, goodput_per_gpu: null, why: r })
                continue
              }
              roles[role].set(x, r)
            }
          }
          // xPyD pairs by predicted requests/s per GPU; the best few are simulated whole.
          const pairs: Array<{ p: Served; x: number; d: Served; y: number; rate: number; gpus: number }> = []
          for (const [p, rp] of roles.prefill)
            for (const [d, rd] of roles.decode) {
              if (!(rp > 0) || !(rd > 0)) continue
              let best: (typeof pairs)[number] | undefined
              for (let x = 1; x <= MAX_SIDE; x++)
                for (let y = 1; y <= MAX_SIDE; y++) {
                  const gpus = x * p.gpus + y * d.gpus
                  if (gpus > budget) continue
                  const rate = Math.min(x * rp, y * rd)
                  if (o.target_rate !== undefined && rate < o.target_rate) continue
                  if (best === undefined || rate / gpus > best.rate / best.gpus + 1e-12) best = { p, x, d, y, rate, gpus }
                }
              if (best !== undefined) pairs.push(best)
            }
          pairs.sort((a, b) => b.rate / b.gpus - a.rate / a.gpus)
          let bestPd: PlannedDeployment | null = null
          yield* prefetch(() => pairs.slice(0, VERIFIED).map(pairSearch))
          for (const pick of pairs.slice(0, VERIFIED)) {
            const sp = pairSearch(pick)
            const c = yield* search(sp.name, sp.deployment, sp.built, sp.target, sp.full)
            const same = pick.p.spec.name === pick.d.spec.name
            const text = `${pick.x}P ${servedText(pick.p)}${same ? "" : ` on ${pick.p.spec.name}`} + ${pick.y}D ${servedText(pick.d)} on ${pick.d.spec.name}`
            const pairPrice =
              pick.p.price === null || pick.d.price === null ? null : (pick.x * pick.p.gpus * pick.p.price + pick.y * pick.d.gpus * pick.d.price) / pick.gpus
            collect(mode, text, c, pick.gpus, pairPrice)
            if (c.best === undefined || (o.target_rate !== undefined && sustained(c.best) < o.target_rate)) {
              alternatives.push({
                mode,
                text,
                goodput_per_gpu: null,
                why: `predicted ${pick.rate.toFixed(2)} req/s, but simulated whole it ${c.best === undefined ? "misses the SLOs at any rate" : `sustains ${sustained(c.best).toFixed(2)}`}`
              })
              continue
            }
            const price =
              pick.p.price === null || pick.d.price === null ? null : (pick.x * pick.p.gpus * pick.p.price + pick.y * pick.d.gpus * pick.d.price) / pick.gpus
            const planned: PlannedDeployment = {
              mode,
              pools: {
                prefill: {
                  instances: pick.x,
                  hardware: pick.p.hardware,
                  parallelism: pick.p.parallelism,
                  ...(pick.p.tbo !== undefined ? { wide_ep: true as const, two_batch_overlap: pick.p.tbo } : {})
                },
                decode: {
                  instances: pick.y,
                  hardware: pick.d.hardware,
                  parallelism: pick.d.parallelism,
                  ...(pick.d.tbo !== undefined ? { wide_ep: true as const, two_batch_overlap: pick.d.tbo } : {}),
                  ...(pick.d.afd !== undefined ? { afd: { attention_instances: pick.d.afd.attention, ffn_instances: pick.d.afd.ffn } } : {})
                }
              },
              text,
              gpus: pick.gpus,
              memory: memoryOf(pick.d),
              figures: figuresOf(c.best, pick.gpus, price),
              roles: { prefill_rps: roles.prefill.get(pick.p)!, decode_rps: roles.decode.get(pick.d)!, predicted_rps: pick.rate }
            }
            if (bestPd === null || planned.figures.goodput_per_gpu > bestPd.figures.goodput_per_gpu) {
              if (bestPd !== null)
                alternatives.push({
                  mode,
                  text: bestPd.text,
                  goodput_per_gpu: bestPd.figures.goodput_per_gpu,
                  why: "less goodput per GPU simulated whole"
                })
              bestPd = planned
            } else alternatives.push({ mode, text, goodput_per_gpu: planned.figures.goodput_per_gpu, why: "less goodput per GPU simulated whole" })
          }
          tick()
          for (const pick of pairs.slice(VERIFIED))
            alternatives.push({
              mode,
              text: `${pick.x}P ${servedText(pick.p)} + ${pick.y}D ${servedText(pick.d)} on ${pick.d.spec.name}`,
              goodput_per_gpu: pick.rate / pick.gpus,
              why: `predicted ${(pick.rate / pick.gpus).toFixed(3)} req/s per GPU, below the ${VERIFIED} pairs simulated whole`
            })

          if (pairs.length === 0 && prefills.length > 0 && decodes.length > 0) {
            const smallest = Math.min(...prefills.map((x) => x.gpus)) + Math.min(...decodes.map((x) => x.gpus))
            alternatives.push({
              mode,
              text: "xPyD",
              goodput_per_gpu: null,
              why:
                smallest > budget
                  ? `no pair fits ${budget} GPUs (the smallest, one prefill and one decode instance, takes ${smallest})`
                  : o.target_rate !== undefined
                    ? `no pair within ${budget} GPUs reaches ${o.target_rate} req/s`
                    : "no layout meets the TTFT SLO as a prefill instance and the TPOT SLO as a decode instance"
            })
          }
          return bestPd
        })
      const bestPd = yield* pairMode("disaggregated", served, served)
      const bestWide = yield* pairMode("wide_ep", wide, wide)
      // AFD: decode pools of attention-FFN units, prefill pools of any layout measured above.
      const bestAfd = afdUnits.length === 0 ? null : yield* pairMode("afd", [...served, ...wide], afdUnits)
      // `steps` counts every role a mode might measure; roles out of the budget or measured before are not: end the bar full.
      if (done < steps) o.onProgress?.(steps, steps)

      let bestAggregated: PlannedDeployment | null = null
      if (bestAgg !== undefined) {
        const g = bestAgg.s.gpus
        const f = figuresOf(bestAgg.p, g, bestAgg.s.price)
        bestAggregated = {
          mode: "aggregated",
          pools: { server: { instances: bestAgg.replicas, hardware: bestAgg.s.hardware, parallelism: bestAgg.s.parallelism } },
          text: `${bestAgg.replicas} x ${layoutText(bestAgg.s.parallelism)} on ${bestAgg.s.spec.name}`,
          gpus: bestAgg.replicas * g,
          memory: memoryOf(bestAgg.s),
          figures: { ...f, rate_rps: f.rate_rps * bestAgg.replicas }
        }
      }
      // Why the other aggregated layouts lost.
      for (const r of aggRows) {
        if (bestAgg !== undefined && r.s === bestAgg.s) continue
        const text = `${layoutText(r.s.parallelism)} on ${r.s.spec.name}`
        if (r.p === undefined)
          alternatives.push({ mode: "aggregated", text, goodput_per_gpu: null, why: `misses the SLOs at any rate${closest(r.lowest, slo, percentile)}` })
        else if (r.replicas * r.s.gpus > budget || r.replicas < 1)
          alternatives.push({
            mode: "aggregated",
            text,
            goodput_per_gpu: r.p.goodput / r.s.gpus,
            why: `needs ${Math.max(1, r.replicas) * r.s.gpus} GPUs for the target, over the budget of ${budget}`
          })
        else {
          const gap = bestAgg === undefined ? 0 : 1 - r.p.goodput / r.s.gpus / (bestAgg.p.goodput / bestAgg.s.gpus)
          alternatives.push({
            mode: "aggregated",
            text,
            goodput_per_gpu: r.p.goodput / r.s.gpus,
            why: `${(gap * 100).toFixed(0)}% less goodput per GPU (${sustained(r.p).toFixed(2)} req/s per instance of ${r.s.gpus} GPUs)`
          })
        }
      }
      const result: PlanResult = {
        scenario: displayPath(s.project.root, s.loaded.file),
        engine: o.engine ?? s.loaded.spec.engine?.name ?? "vllm",
        workload: { input_len: w.input_len ?? 1024, output_len: w.output_len ?? 128 },
        slo,
        percentile,
        budget,
        target_rate_rps: o.target_rate ?? null,
        hardware: hardware.map((h) => ({ name: h.spec.name, price_per_gpu_hour_usd: o.price_per_gpu_hour_usd ?? h.spec.price_per_gpu_hour_usd ?? null })),
        best: { aggregated: bestAggregated, disaggregated: bestPd, wide_ep: bestWide, afd: bestAfd },
        alternatives: alternatives.sort((a, b) => (b.goodput_per_gpu ?? -1) - (a.goodput_per_gpu ?? -1)),
        frontier: {
          aggregated: servedFrontier(points.aggregated),
          disaggregated: servedFrontier(points.disaggregated),
          wide_ep: servedFrontier(points.wide_ep),
          afd: servedFrontier(points.afd)
        },
        simulated_requests: simulated
      }
      return result
    })
  )

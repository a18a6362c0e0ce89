/**
 * `llmsim sweep --bench`: planning under load. For each layout of the sweep (hardware, tp, dp,
 * ep, weights, kv_cache, moe_experts), the scenario becomes an engine instance (src/sim/serving.ts,
 * as `llmsim bench` makes it), and the largest Poisson request rate whose P-percentile TTFT, TPOT
 * and E2E latency meet the SLOs is searched (src/serve/rateSearch.ts), each probe one simulated
 * benchmark of the same seeded workload. At that rate: goodput (requests meeting every SLO, per
 * second and per GPU), output tokens/s per GPU, tokens/s per user (1000 / mean TPOT), and USD per
 * 1M output tokens at the hardware's price. The best layout per objective, and the Pareto
 * frontier of every probe that met the SLOs (output tokens/s per GPU against tokens/s per user),
 * are the answer. Without SLOs every layout's answer is its max-load run.
 *
 * Length axes (seq, output, batch) and the deployment playbooks' axes do not apply: the workload
 * sets the lengths, the engine sets the batch, and bench serves the core layout.
 */
import { Effect } from "effect"
import { UsageError } from "../config/errors.ts"
import { displayPath, type LoadedScenario } from "../config/load.ts"
import { estimatorOf } from "../app/estimator.ts"
import { withSession, type RunOptions } from "../app/session.ts"
import type { GoodputSlo } from "../serve/metrics.ts"
import { DEFAULT_PROBE_REQUESTS } from "../serve/capacity.ts"
import { typicalContext, validateWorkload, type WorkloadSpec } from "../serve/workload.ts"
import { instanceDeployment, scenarioVariant, servingInstance, workloadMisfit, type EngineOverrides } from "../sim/serving.ts"
import { instanceRecipe, searchCapacity, searchesAreNodes } from "../sim/capacityNode.ts"
import { physicalProblem } from "../schema/physical.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { Dtype } from "../schema/dtypes.ts"
import { BENCH_OBJECTIVES, costPer1M, type BenchObjective } from "./judge.ts"
import { AXES, flagName, type AxisName, type AxisValue } from "./axes.ts"
import { parsedAxes, sweepHardware } from "./run.ts"
import { makeSpace, pointAt, shardRange, type Coordinates, type Shard } from "./space.ts"

/** The axes a bench sweep varies: what makes a different engine instance. */
export const BENCH_AXES: ReadonlyArray<AxisName> = ["hardware", "weights", "kv_cache", "moe_experts", "tp", "dp", "ep"]

export interface BenchSweepOptions {
  readonly run: RunOptions
  readonly axes: Partial<Record<AxisName, string>>
  readonly engine?: string
  readonly engineFlags: EngineOverrides
  /** A generated workload (random or sharegpt); its rate is what the search sets. */
  readonly workload: WorkloadSpec
  /** SLOs on the `percentile` of each metric, ms (none: every layout at max load). */
  readonly slo?: GoodputSlo
  /** The percentile the SLOs hold at (default 99). */
  readonly percentile?: number
  readonly objective?: BenchObjective
  readonly price_per_gpu_hour_usd?: number
  readonly max_gpus?: number
  readonly mtpAcceptance?: number
  readonly onProgress?: (done: number, total: number) => void
  readonly stopped?: () => boolean
  /**
   * `--shard k/n`: search only the k-th contiguous slice of the layouts (CI matrices). Each
   * search is a node of the store, so with a shared remote cache (docs/caching.md) a later run
   * without --shard replays every shard's searches: no merge step.
   */
  readonly shard?: Shard
}

/** One layout's answer. */
export interface BenchSweepRow {
  readonly index: number
  readonly coordinates: Readonly<Partial<Record<AxisName, AxisValue>>>
  readonly hardware: string
  readonly tp: number | null
  readonly dp: number | null
  readonly ep: number | null
  readonly gpus: number | null
  /** Why the layout cannot serve the workload (no layout, no KV room, a request that cannot fit); every figure is null then. */
  readonly invalid: string | null
  readonly kv_tokens_per_rank: number | null
  readonly max_running_per_rank: number | null
  /** Requests/s the instance completes at max load. */
  readonly capacity_rps: number | null
  /** The largest rate meeting the SLOs (Infinity: even all at once); null: none meets them. */
  readonly max_rate_rps: number | null
  readonly bound: "offline" | "capacity" | "bracket" | "none" | null
  readonly goodput_rps: number | null
  readonly goodput_per_gpu: number | null
  readonly output_tokens_per_s_per_gpu: number | null
  readonly tokens_per_s_per_user: number | null
  readonly ttft_ms: number | null
  readonly tpot_ms: number | null
  readonly e2el_ms: number | null
  readonly price_per_gpu_hour_usd: number | null
  readonly cost_per_1m_output_tokens_usd: number | null
  readonly probes: number
  /** Requests of the max-load probe, and the most the engine holds at once (dp x min(max running, KV tokens / a typical request)). */
  readonly probe_requests: number | null
  readonly engine_concurrency: number | null
  /** Refused by --max-gpus. */
  readonly over_budget: boolean
}

/** A frontier point: one probe that met the SLOs. */
export interface FrontierPoint {
  readonly index: number
  readonly rate_rps: number
  readonly output_tokens_per_s_per_gpu: number
  readonly tokens_per_s_per_user: number
  readonly goodput_per_gpu: number
}

export interface BenchSweepResult {
  readonly scenario: string
  readonly engine: string
  readonly workload: {
    readonly dataset: string /** --num-prompts (null: per layout, twice the engine's concurrency, at least 1000). */
    readonly num_prompts: number | null
    readonly input_len: number | null
    readonly output_len: number | null
    readonly seed: number
  }
  readonly slo: GoodputSlo | null
  readonly percentile: number
  readonly objective: BenchObjective
  readonly axes: Readonly<Partial<Record<AxisName, ReadonlyArray<AxisValue>>>>
  readonly rows: ReadonlyArray<BenchSweepRow>
  readonly best: Partial<Record<BenchObjective, number>>
  readonly frontier: ReadonlyArray<FrontierPoint>
  readonly simulated_requests: number
  /** With --shard: which slice of how many layouts this answer covers (best and frontier are the slice's). */
  readonly shard?: { readonly k: number; readonly n: number; readonly first_index: number; readonly end_index: number; readonly total_layouts: number }
}

const num = (c: Coordinates, a: AxisName): number | undefined => (typeof c[a] === "number" ? (c[a] as number) : undefined)
const str = (c: Coordinates, a: AxisName): string | undefined => (typeof c[a] === "string" ? (c[a] as string) : undefined)

/** The scenario with one layout's axes applied, as a scenario file saying so would load. */
const variant = (loaded: LoadedScenario, c: Coordinates, hardware: Readonly<Record<string, HardwareSpec>>): LoadedScenario => {
  const hw = str(c, "hardware")
  const dtype = (a: AxisName) => str(c, a) as Dtype | undefined
  const precision = { weights: dtype("weights"), kv_cache: dtype("kv_cache"), moe_experts: dtype("moe_experts") }
  const parallelism = { tp: num(c, "tp"), dp: num(c, "dp"), ep: num(c, "ep") }
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  return scenarioVariant(loaded, {
    ...(hw === undefined ? {} : { hardware: hardware[hw]! }),
    ...(Object.keys(defined(parallelism)).length === 0 ? {} : { parallelism: defined(parallelism) }),
    precision: defined(precision)
  })
}

/**
 * Searches a `--cluster` sweep or plan hands the executor at once, each holding its built
 * instance until answered (the executor's own window decides what is on the wire).
 */
export const CLUSTER_IN_FLIGHT = 256

/** A layout answered without a search. */
const none = (row: BenchSweepRow) => ({ row, feasible: [] as Array<FrontierPoint>, simulated: 0 })

const empty = {
  kv_tokens_per_rank: null,
  max_running_per_rank: null,
  capacity_rps: null,
  max_rate_rps: null,
  bound: null,
  goodput_rps: null,
  goodput_per_gpu: null,
  output_tokens_per_s_per_gpu: null,
  tokens_per_s_per_user: null,
  ttft_ms: null,
  tpot_ms: null,
  e2el_ms: null,
  cost_per_1m_output_tokens_usd: null,
  probes: 0,
  probe_requests: null,
  engine_concurrency: null,
  over_budget: false
} as const

/** A served point on the frontier's two axes (a probe that met the SLOs). */
interface Served2D {
  readonly output_tokens_per_s_per_gpu: number
  readonly tokens_per_s_per_user: number
}

/**
 * Points no other point beats on both output tokens/s per GPU and tokens/s per user, by tokens/s
 * per user ascending (ties keep their order): `sweep --bench` and `plan` draw it.
 */
export const servedFrontier = <T extends Served2D>(points: ReadonlyArray<T>): Array<T> =>
  points
    .filter(
      (p) =>
        !points.some(
          (q) =>
            q.output_tokens_per_s_per_gpu >= p.output_tokens_per_s_per_gpu &&
            q.tokens_per_s_per_user >= p.tokens_per_s_per_user &&
            (q.output_tokens_per_s_per_gpu > p.output_tokens_per_s_per_gpu || q.tokens_per_s_per_user > p.tokens_per_s_per_user)
        )
    )
    .sort((a, b) => a.tokens_per_s_per_user - b.tokens_per_s_per_user)

export class BenchSweepStopped extends Error {
  readonly _tag = "BenchSweepStopped"
}

export const runBenchSweep = (o: BenchSweepOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const values = yield* parsedAxes(s, o)
      const foreign = AXES.filter((a) => values[a] !== undefined && !BENCH_AXES.includes(a))
      if (foreign.length > 0) {
        const from = o.axes[foreign[0]!] !== undefined ? `--${flagName(foreign[0]!)}` : `sweep.axes.${foreign[0]}`
        return yield* Effect.fail(
          new UsageError({
            message: `${from}: sweep --bench varies ${BENCH_AXES.map(flagName).join(", ")} (the workload sets the lengths, the engine the batch); got ${foreign.map(flagName).join(", ")}`
          })
        )
      }
      if (o.workload.dataset === "trace")
        return yield* Effect.fail(new UsageError({ message: "--dataset-name: sweep --bench generates its workload (random or sharegpt)" }))
      const checked = validateWorkload({ ...o.workload, request_rate: Number.POSITIVE_INFINITY })
      if (!checked.ok) return yield* Effect.fail(new UsageError({ message: `${checked.problems[0]!.field}: ${checked.problems[0]!.message}` }))
      const badPrice = o.price_per_gpu_hour_usd === undefined ? undefined : physicalProblem("usd_per_gpu_hour", o.price_per_gpu_hour_usd)
      if (badPrice !== undefined) return yield* Effect.fail(new UsageError({ message: `--price-per-gpu-hour: ${badPrice}` }))
      const hardware = yield* sweepHardware(s, o, values)
      const estimator = yield* estimatorOf(o.run, { cwd: o.run.cwd, root: s.project.root })
      if (o.run.cluster !== undefined && !searchesAreNodes(estimator))
        return yield* Effect.fail(
          new UsageError({ message: `--cluster: runners compute searches with the analytic estimator only, not --estimator ${o.run.estimator}` })
        )
      const space = makeSpace(values)
      const percentile = o.percentile ?? 99
      const objective = o.objective ?? "goodput_per_gpu"
      const scenarioHw = displayPath(s.loaded.root, s.loaded.hardwareFile)
      const range = shardRange(space.size, o.shard)
      let done = 0
      const progressed = () => o.onProgress?.(++done, range.to - range.from)
      /** One layout's row, the probes of its search that met the SLOs, and the requests it simulated. */
      const answer = (i: number) =>
        Effect.gen(function* () {
          if (o.stopped?.() === true) return yield* Effect.fail(new BenchSweepStopped("stopped"))
          const c = pointAt(space, i)
          const hwKey = str(c, "hardware") ?? scenarioHw
          const hw = hardware[hwKey]!
          const price = o.price_per_gpu_hour_usd ?? hw.price_per_gpu_hour_usd ?? null
          const head = { index: i, coordinates: c, hardware: hwKey, price_per_gpu_hour_usd: price }
          const loaded = variant(s.loaded, c, hardware)
          const made = yield* Effect.result(servingInstance(loaded, o.engine, o.engineFlags, estimator, o.run.efficiency, typicalContext(o.workload)))
          if (made._tag === "Failure") {
            const e = made.failure
            const why = "issues" in e ? (e.issues[0]?.message ?? "invalid layout") : e.message
            progressed()
            return none({ ...head, tp: num(c, "tp") ?? null, dp: num(c, "dp") ?? null, ep: num(c, "ep") ?? null, gpus: null, invalid: why, ...empty })
          }
          const inst = made.success
          const layout = { tp: inst.layout.tp, dp: inst.layout.dp, ep: inst.layout.ep, gpus: inst.layout.gpus }
          const misfit = inst.kv.kv_tokens <= 0 ? `no memory is left for the KV cache (${inst.kv.rule})` : workloadMisfit(inst, o.workload)
          if (misfit !== undefined || (o.max_gpus !== undefined && layout.gpus > o.max_gpus)) {
            progressed()
            return none({
              ...head,
              ...layout,
              invalid: misfit ?? null,
              ...empty,
              kv_tokens_per_rank: inst.kv.kv_tokens,
              over_budget: misfit === undefined
            })
          }
          const acceptance = inst.model.mtp_draft_tokens === undefined ? 0 : (o.mtpAcceptance ?? s.runtime.mtp_acceptance_rate ?? 0)
          // Requests in the max-load probe: --num-prompts, else enough to fill the engine twice over.
          const concurrency = inst.layout.dp * Math.min(inst.settings.max_running, Math.floor(inst.kv.kv_tokens / Math.max(1, typicalContext(o.workload))))
          const full = o.workload.num_prompts ?? Math.max(DEFAULT_PROBE_REQUESTS, 2 * concurrency)
          // With the analytic estimator the search is a build-graph node (src/sim/capacityNode.ts):
          // a rerun, or a runner sharing the remote cache, replays it instead of simulating it again.
          const search = yield* searchCapacity(
            s.evaluator.evaluate,
            estimator,
            { id: `capacity:${i}`, name: `capacity:${hwKey}:tp${layout.tp}:dp${layout.dp}:ep${layout.ep}` },
            {
              deployment: {
                kind: "instance",
                instance: instanceRecipe(loaded, {
                  engine: o.engine ?? null,
                  engine_flags: o.engineFlags,
                  efficiency: o.run.efficiency,
                  typical_context: typicalContext(o.workload),
                  build: { kind: "serving" }
                }),
                acceptance
              },
              workload: checked.workload,
              target: { ...(o.slo === undefined ? {} : { slo: o.slo }), percentile },
              full,
              search: {}
            },
            instanceDeployment(inst, acceptance, checked.workload)
          )
          const capacity = search.probes[0]!.request_throughput
          const perGpu = (x: number) => x / layout.gpus
          const feasible: Array<FrontierPoint> = []
          for (const p of search.probes)
            if (p.meets)
              feasible.push({
                index: i,
                rate_rps: p.rate,
                output_tokens_per_s_per_gpu: perGpu(p.output_tokens_per_s),
                tokens_per_s_per_user: p.mean_tpot_ms > 0 ? 1000 / p.mean_tpot_ms : 0,
                goodput_per_gpu: perGpu(p.goodput)
              })
          const b = search.best
          const row: BenchSweepRow = {
            ...head,
            ...layout,
            invalid: null,
            kv_tokens_per_rank: inst.kv.kv_tokens,
            max_running_per_rank: inst.settings.max_running,
            capacity_rps: capacity,
            max_rate_rps: b === undefined ? null : b.rate,
            bound: search.bound,
            goodput_rps: b?.goodput ?? null,
            goodput_per_gpu: b === undefined ? null : perGpu(b.goodput),
            output_tokens_per_s_per_gpu: b === undefined ? null : perGpu(b.output_tokens_per_s),
            tokens_per_s_per_user: b === undefined || !(b.mean_tpot_ms > 0) ? null : 1000 / b.mean_tpot_ms,
            ttft_ms: b?.ttft_ms ?? null,
            tpot_ms: b?.tpot_ms ?? null,
            e2el_ms: b?.e2el_ms ?? null,
            cost_per_1m_output_tokens_usd: b === undefined ? null : costPer1M(price, perGpu(b.output_tokens_per_s)),
            probes: search.probes.length,
            probe_requests: full,
            engine_concurrency: concurrency,
            over_budget: false
          }
          progressed()
          return { row, feasible, simulated: search.simulated }
        })
      // In index order whatever finishes first. Locally one layout at a time (a search is
      // synchronous: more at once would only hold more instances); with --cluster, enough in
      // flight to keep every runner busy.
      const answers = yield* Effect.forEach(
        Array.from({ length: range.to - range.from }, (_, k) => range.from + k),
        answer,
        { concurrency: o.run.cluster === undefined ? 1 : CLUSTER_IN_FLIGHT }
      )
      const rows = answers.map((a) => a.row)
      const feasible = answers.flatMap((a) => a.feasible)
      const simulated = answers.reduce((n, a) => n + a.simulated, 0)
      const best: Partial<Record<BenchObjective, number>> = {}
      for (const k of Object.keys(BENCH_OBJECTIVES) as Array<BenchObjective>) {
        let at: BenchSweepRow | undefined
        for (const r of rows) {
          const v = r[k]
          if (v === null || r.max_rate_rps === null) continue
          const cur = at?.[k]
          if (cur === undefined || cur === null || (BENCH_OBJECTIVES[k] === "max" ? v > cur : v < cur)) at = r
        }
        if (at !== undefined) best[k] = at.index
      }
      const w = o.workload
      const result: BenchSweepResult = {
        scenario: displayPath(s.project.root, s.loaded.file),
        engine: o.engine ?? s.loaded.spec.engine?.name ?? "vllm",
        workload: {
          dataset: w.dataset,
          num_prompts: o.workload.num_prompts ?? null,
          input_len: w.dataset === "random" ? (w.input_len ?? 1024) : null,
          output_len: w.dataset === "random" ? (w.output_len ?? 128) : (w.output_len ?? null),
          seed: checked.workload.seed
        },
        slo: o.slo ?? null,
        percentile,
        objective,
        axes: Object.fromEntries(space.axes.map((a) => [a.name, a.values])),
        rows,
        best,
        frontier: servedFrontier(feasible),
        simulated_requests: simulated,
        ...(o.shard === undefined ? {} : { shard: { k: o.shard.k, n: o.shard.n, first_index: range.from, end_index: range.to, total_layouts: space.size } })
      }
      return result
    })
  )

/**
 * `llmsim bench`: a simulated `vllm bench serve` of a scenario on an engine model. Loads the
 * scenario (withSession), makes it an engine instance (src/sim/serving.ts: layout, engine
 * settings, KV budget, step pricer), checks the workload against it, then runs the requests
 * through the discrete-event core (src/serve/benchmark.ts).
 *
 * Workloads: generated (`random`, `sharegpt`; src/serve/workload.ts) or a trace replayed from a
 * CSV or JSON Lines file (src/serve/trace.ts). A trace is read twice, a line at a time: once to
 * check every line (a bad line stops the command before anything runs, with file:line:col and
 * the field) and to learn its lengths, once to feed the simulation, so memory stays flat however
 * long it is.
 *
 * Checked before the run, each a one-line error: a request longer than the engine's
 * max_model_len, one that cannot fit the KV cache of one rank whole (the engine could never
 * finish it), a prompt longer than the step budget without chunked prefill, an empty KV budget.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { linesGuarded, refusalText } from "../base/guardedRead.js"
import { estimatorOf } from "../app/estimator.ts"
import { withSession, type RunOptions, type Session } from "../app/session.ts"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, loadHardwareFile, scenarioBlockPath, scenarioFieldError } from "../config/load.ts"
import { runBenchmark, type BenchmarkRun } from "../serve/benchmark.ts"
import type { EngineSettings } from "../serve/engine.ts"
import type { KvBudget, MemoryInputs } from "../serve/memory.ts"
import type { GoodputSlo, PercentileMetric } from "../serve/metrics.ts"
import { StuckError } from "../serve/simulate.ts"
import { readTrace, type TraceFormat } from "../serve/trace.ts"
import type { RequestOutcome, ServeRequest } from "../serve/types.ts"
import { HASH_BLOCK_TOKENS, requests, typicalContext, validateWorkload, type WorkloadSpec } from "../serve/workload.ts"
import {
  modelLayers,
  requestKvBytesPerToken,
  scenarioVariant,
  servingInstance,
  afdInstance,
  wideEpOverrides,
  transferLink,
  workloadMisfit,
  type EngineOverrides,
  type ServingInstance
} from "../sim/serving.ts"
import type { PoolInput } from "../serve/disaggregate.ts"
import type { TransferLink } from "../serve/kvTransfer.ts"
import type { Estimator } from "../timing/estimator.ts"
import { scaleUpGpus } from "../kernel/layout.ts"
import type { Parallelism } from "../schema/parallelism.ts"

/** Largest trace file read, bytes: it is streamed, so only time bounds it. */
const MAX_TRACE_BYTES = 64 * 2 ** 30

export interface BenchOptions {
  readonly run: RunOptions
  /** --engine (default: the scenario's engine block, else vllm). */
  readonly engine?: string
  /** Engine settings from flags (over the scenario's engine block). */
  readonly engineFlags: EngineOverrides
  readonly workload: WorkloadSpec
  /** --dataset-path of a trace workload. */
  readonly tracePath?: string
  readonly maxConcurrency?: number
  readonly goodput?: GoodputSlo
  readonly percentileMetrics: ReadonlyArray<PercentileMetric>
  readonly metricPercentiles: ReadonlyArray<number>
  /** --mtp-acceptance (default: the scenario's runtime.mtp_acceptance_rate, else 0). */
  readonly mtpAcceptance?: number
  readonly onOutcome?: (o: RequestOutcome) => void
  readonly onProgress?: (finished: number, total: number) => void
  /** --prefill-instances / --decode-instances: serve disaggregated (over the scenario's disaggregation block's counts). */
  readonly prefillInstances?: number
  readonly decodeInstances?: number
  /** --layerwise-transfer (over the block's transfer.layerwise). */
  readonly layerwiseTransfer?: boolean
  /** --wide-ep: serve every instance as a wide expert-parallel deployment (src/serve/playbookCost.ts), over the pools' wide_ep. */
  readonly wideEp?: boolean
  /**
   * A deployment chosen elsewhere (`export --plan`): the layout of one engine instance, or the two
   * pools, over the scenario's parallelism and disaggregation block. Hardware paths are from the project root.
   */
  readonly deployment?: { readonly server: PoolChoice } | { readonly prefill: PoolChoice; readonly decode: PoolChoice }
}

/** One pool of a chosen deployment. */
interface PoolChoice {
  readonly instances: number
  readonly hardware: string
  readonly parallelism: Parallelism
  /** Served as a wide expert-parallel deployment (DeepEP all-to-all: src/deploy/largeEp.ts). */
  readonly wide_ep?: boolean
  /** Wide EP: two-batch overlap on or off (default: the scenario's deployment block, else on with EP). */
  readonly two_batch_overlap?: boolean
  /** An AFD unit of this many attention and FFN instances (over the scenario's deployment.afd block). */
  readonly afd?: { readonly attention_instances: number; readonly ffn_instances: number }
}

/**
 * An instance's layout as a result states it; wide_ep: the steps priced by the large-EP deployment
 * model (DeepEP all-to-all, optionally two-batch overlap) instead of the core layout's.
 */
interface LayoutFacts {
  readonly tp: number
  readonly dp: number
  readonly ep: number
  readonly gpus: number
  readonly wide_ep: boolean
  readonly two_batch_overlap: boolean
}

/** One pool of a disaggregated bench: its engine instance and how many of it. */
interface PoolSetup {
  readonly hardware: string
  readonly instances: number
  readonly engine: EngineSettings
  readonly layout: LayoutFacts
  /** An AFD unit: its attention and FFN GPUs (null: an engine instance of one layout). */
  readonly afd: { readonly attention_gpus: number; readonly ffn_gpus: number; readonly micro_batches: number } | null
  readonly memory: MemoryInputs
  readonly kv_cache: KvBudget
  readonly priced_step_points: number
}

/** The disaggregated deployment a bench ran: both pools and the KV transfer. */
interface DisaggregatedSetup {
  readonly prefill: PoolSetup
  readonly decode: PoolSetup
  readonly transfer: { readonly link: TransferLink; readonly kv_bytes_per_token: number; readonly layers: number; readonly layerwise: boolean }
}

/** The layout and engine facts a bench result states. */
interface BenchSetup {
  readonly scenario: string
  readonly hardware: string
  readonly engine: EngineSettings
  readonly layout: LayoutFacts
  readonly memory: MemoryInputs
  readonly kv_cache: KvBudget
  readonly max_model_len: number | null
  readonly estimator: string
  /** Grid points of the step pricer planned and timed by the kernel. */
  readonly priced_step_points: number
  /** Prefill/decode disaggregation (the fields above are then the decode pool's; layout.gpus counts both pools). */
  readonly disaggregated: DisaggregatedSetup | null
}

export interface BenchOutput {
  readonly setup: BenchSetup
  readonly workload: {
    readonly dataset: string
    readonly num_prompts: number
    readonly request_rate: number
    readonly burstiness: number
    readonly max_concurrency: number | null
    readonly seed: number
    readonly mtp_acceptance: number
    /** --goodput's SLOs, ms (null: none given). */
    readonly goodput: GoodputSlo | null
  }
  readonly bench: BenchmarkRun
}

interface TraceFacts {
  readonly count: number
  readonly meanContext: number
}

const traceFormat = (file: string): TraceFormat => (/\.csv$/i.test(file) ? "csv" : "jsonl")

const openLines = (file: string) => {
  const r = linesGuarded(file, MAX_TRACE_BYTES)
  if ("lines" in r) return Effect.succeed(r.lines)
  return Effect.fail(
    new UsageError({ message: `--dataset-path: cannot read ${file}: ${"refused" in r ? refusalText(r.refused) : (r.error.code ?? r.error.message)}` })
  )
}

/** Every line checked (the first bad one is the error), with the count and the mean prompt + output. */
const checkTrace = (file: string, shown: string, maxContext: number | undefined, limit: number | undefined) =>
  Effect.gen(function* () {
    const lines = yield* openLines(file)
    let count = 0
    let total = 0
    for (const item of readTrace(lines, { format: traceFormat(file), ...(maxContext === undefined ? {} : { max_context: maxContext }) })) {
      if (item.kind === "problem") {
        lines.return(undefined)
        const p = item.problem
        return yield* Effect.fail(
          new ConfigError({
            issues: [{ file: shown, line: p.line, col: p.column, path: p.field, message: `${p.message}${maxContext === undefined ? "" : ""}` }]
          })
        )
      }
      count++
      total += item.request.input_len + item.request.output_len
      if (limit !== undefined && count >= limit) {
        lines.return(undefined)
        break
      }
    }
    if (count === 0) return yield* Effect.fail(new ConfigError({ issues: [{ file: shown, line: 1, col: 1, path: "", message: "the trace has no requests" }] }))
    const facts: TraceFacts = { count, meanContext: total / count }
    return facts
  })

/** The trace's requests, streamed (already checked: a problem now means the file changed under us). */
function* traceRequests(file: string, shown: string, limit: number): Generator<ServeRequest> {
  const r = linesGuarded(file, MAX_TRACE_BYTES)
  if (!("lines" in r)) throw new TraceChanged(`${shown}: the trace could not be read again`)
  let n = 0
  for (const item of readTrace(r.lines, { format: traceFormat(file) })) {
    if (item.kind === "problem")
      throw new TraceChanged(`${shown}:${item.problem.line}:${item.problem.column}: ${item.problem.message} (the file changed during the run)`)
    yield item.request
    if (++n >= limit) {
      r.lines.return(undefined)
      return
    }
  }
}

interface Pools {
  readonly prefill: { readonly inst: ServingInstance; readonly instances: number }
  readonly decode: { readonly inst: ServingInstance; readonly instances: number }
  readonly transfer: DisaggregatedSetup["transfer"]
}

/**
 * The scenario's disaggregated deployment (its `disaggregation` block, the instance flags), or
 * undefined when it is served aggregated. Each pool is the scenario on the pool's hardware and
 * layout, its engine settings the pool's over the scenario's, the flags over both.
 */
const disaggregatedPools = (s: Session, o: BenchOptions, estimator: Estimator, typical: number) =>
  Effect.gen(function* () {
    const chosen = o.deployment !== undefined && "prefill" in o.deployment ? o.deployment : undefined
    if (o.deployment !== undefined && chosen === undefined) return undefined
    const block = chosen ?? s.loaded.spec.disaggregation
    if (block === undefined && o.prefillInstances === undefined && o.decodeInstances === undefined) return undefined
    const pool = (role: "prefill" | "decode") =>
      Effect.gen(function* () {
        const b = block?.[role]
        const hardware =
          b?.hardware === undefined
            ? undefined
            : chosen !== undefined
              ? yield* loadHardwareFile(s.evaluator, s.project.root, path.join(s.project.root, b.hardware))
              : yield* loadHardwareFile(s.evaluator, s.loaded.root, yield* scenarioBlockPath(s.loaded, b.hardware, ["disaggregation", role, "hardware"]))
        const variant = scenarioVariant(s.loaded, {
          ...(hardware === undefined ? {} : { hardware }),
          ...(b?.parallelism === undefined ? {} : { parallelism: b.parallelism })
        })
        const wide = o.wideEp ?? b?.wide_ep ?? false
        const afd = b === undefined || !("afd" in b) || b.afd === undefined || b.afd === false ? undefined : b.afd === true ? {} : b.afd
        const flags = { ...(b !== undefined && "engine" in b ? b.engine : {}), ...o.engineFlags }
        const inst =
          afd !== undefined
            ? yield* afdInstance(variant, o.engine, flags, estimator, o.run.efficiency, typical, afd)
            : yield* servingInstance(
                variant,
                o.engine,
                flags,
                estimator,
                o.run.efficiency,
                typical,
                wide ? wideEpOverrides(b !== undefined && "two_batch_overlap" in b ? b.two_batch_overlap : undefined) : undefined
              )
        const instances = (role === "prefill" ? o.prefillInstances : o.decodeInstances) ?? b?.instances ?? 1
        return { inst, instances, hw: variant.hardware }
      })
    const p = yield* pool("prefill")
    const d = yield* pool("decode")
    const gpus = p.inst.layout.gpus * p.instances + d.inst.layout.gpus * d.instances
    const wanted = (block !== undefined && "transfer" in block ? block.transfer?.link : undefined) ?? "auto"
    const nodeGpus = Math.min(scaleUpGpus(p.hw), scaleUpGpus(d.hw))
    const kind = wanted === "auto" ? (p.hw.name === d.hw.name && gpus <= nodeGpus ? "nvlink" : "nic") : wanted
    const link = transferLink(p.hw, d.hw, o.run.efficiency, { kind, lanes: Math.min(p.inst.layout.tp, d.inst.layout.tp) })
    if (typeof link === "string") {
      // At the block's transfer.link when it chose the NIC, else on the scenario.
      if (chosen === undefined && s.loaded.spec.disaggregation?.transfer?.link !== undefined)
        return yield* Effect.fail(scenarioFieldError(s.loaded.root, s.loaded.file, s.loaded.text, ["disaggregation", "transfer", "link"], link))
      return yield* Effect.fail(new UsageError({ message: `${displayPath(s.project.root, s.loaded.file)}: disaggregation: ${link}` }))
    }
    const pools: Pools = {
      prefill: { inst: p.inst, instances: p.instances },
      decode: { inst: d.inst, instances: d.instances },
      transfer: {
        link,
        kv_bytes_per_token: requestKvBytesPerToken(d.inst.model, typical),
        layers: modelLayers(d.inst.model),
        layerwise: o.layerwiseTransfer ?? (chosen === undefined ? s.loaded.spec.disaggregation?.transfer?.layerwise : undefined) ?? false
      }
    }
    return pools
  })

const poolSetup = (x: Pools["prefill"]): PoolSetup => ({
  hardware: x.inst.hardware,
  instances: x.instances,
  engine: x.inst.settings,
  layout: {
    tp: x.inst.layout.tp,
    dp: x.inst.layout.dp,
    ep: x.inst.layout.ep,
    gpus: x.inst.layout.gpus,
    wide_ep: x.inst.wide_ep,
    two_batch_overlap: x.inst.two_batch_overlap
  },
  afd: x.inst.afd,
  memory: x.inst.memory,
  kv_cache: x.inst.kv,
  priced_step_points: x.inst.pricer.pricedPoints
})

class TraceChanged extends Error {
  readonly _tag = "TraceChanged"
}

export const runBench = (o: BenchOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const estimator = yield* estimatorOf(o.run, { cwd: o.run.cwd, root: s.project.root })
      const w = o.workload
      let trace: TraceFacts | undefined
      let shownTrace = ""
      let tracePath = ""
      const maxModelLen = o.engineFlags.max_model_len ?? s.loaded.spec.engine?.max_model_len
      if (w.dataset === "trace") {
        if (o.tracePath === undefined)
          return yield* Effect.fail(new UsageError({ message: "--dataset-name trace needs --dataset-path FILE (CSV or JSON Lines)" }))
        tracePath = path.resolve(o.run.cwd, o.tracePath)
        shownTrace = o.tracePath
        trace = yield* checkTrace(tracePath, shownTrace, maxModelLen, w.num_prompts)
      }
      const checked = w.dataset === "trace" ? undefined : validateWorkload(w)
      if (checked !== undefined && !checked.ok) {
        const p = checked.problems[0]
        return yield* Effect.fail(new UsageError({ message: `--${flagOf(p.field)}: ${p.message}` }))
      }
      const workload = checked?.ok === true ? checked.workload : undefined
      const typical = trace !== undefined ? trace.meanContext : typicalContext(w)
      const pools = yield* disaggregatedPools(s, o, estimator, typical)
      const server = o.deployment !== undefined && "server" in o.deployment ? o.deployment.server : undefined
      const aggregated =
        server === undefined
          ? s.loaded
          : scenarioVariant(s.loaded, {
              hardware: yield* loadHardwareFile(s.evaluator, s.project.root, path.join(s.project.root, server.hardware)),
              parallelism: server.parallelism
            })
      const wide = o.wideEp ?? server?.wide_ep ?? false
      const inst =
        pools?.decode.inst ??
        (yield* servingInstance(
          aggregated,
          o.engine,
          o.engineFlags,
          estimator,
          o.run.efficiency,
          typical,
          wide ? wideEpOverrides(server?.two_batch_overlap) : undefined
        ))
      const st = inst.settings
      const scenario = displayPath(s.project.root, s.loaded.file)
      const prefillInst = pools?.prefill.inst
      if (prefillInst !== undefined && prefillInst.kv.kv_tokens <= 0) {
        return yield* Effect.fail(
          new UsageError({
            message: `${scenario}: no memory is left for the KV cache of the prefill pool on ${prefillInst.hardware} (${prefillInst.kv.rule}, memory fraction ${prefillInst.settings.memory_fraction}: weights ${gib(prefillInst.memory.weights_bytes)} GiB per GPU of ${gib(prefillInst.memory.device_bytes)} GiB; set --memory-fraction)`
          })
        )
      }
      if (inst.kv.kv_tokens <= 0) {
        return yield* Effect.fail(
          new UsageError({
            message: `${scenario}: no memory is left for the KV cache on ${inst.hardware} (${inst.kv.rule}, memory fraction ${st.memory_fraction}: weights ${gib(inst.memory.weights_bytes)} GiB per GPU of ${gib(inst.memory.device_bytes)} GiB; set --memory-fraction)`
          })
        )
      }
      // The longest request of a generated workload, checked once; a trace's lines were checked above.
      if (workload !== undefined) {
        // Disaggregated: the decode pool holds prompt + output, the prefill pool the prompt and its first token.
        const decodeMisfit = workloadMisfit(inst, w)
        const prefillMisfit = prefillInst === undefined ? undefined : workloadMisfit(prefillInst, { ...w, output_len: 1 })
        if (decodeMisfit !== undefined)
          return yield* Effect.fail(new UsageError({ message: pools === undefined ? decodeMisfit : `${decodeMisfit} (decode pool)` }))
        if (prefillMisfit !== undefined) return yield* Effect.fail(new UsageError({ message: `${prefillMisfit} (prefill pool)` }))
      }
      const num = trace !== undefined ? trace.count : (workload?.num_prompts ?? 0)
      const reqs: Iterable<ServeRequest> =
        trace !== undefined
          ? {
              [Symbol.iterator]: () => checkedTrace(traceRequests(tracePath, shownTrace, trace.count), inst.kv.kv_tokens, st, shownTrace)[Symbol.iterator]()
            }
          : { [Symbol.iterator]: () => requests(workload!)[Symbol.iterator]() }
      const acceptance = o.mtpAcceptance ?? s.runtime.mtp_acceptance_rate ?? 0
      const seed = w.seed ?? 0
      const bench = yield* Effect.try({
        try: () =>
          runBenchmark({
            settings: st,
            kv: inst.kv,
            pricer: inst.pricer,
            ranks: inst.layout.dp,
            gpus: pools === undefined ? inst.layout.gpus : pools.prefill.inst.layout.gpus * pools.prefill.instances + inst.layout.gpus * pools.decode.instances,
            requests: reqs,
            ...(pools === undefined
              ? {}
              : {
                  disaggregated: {
                    prefill: poolInput(pools.prefill),
                    decode: poolInput(pools.decode),
                    link: pools.transfer.link,
                    kvBytesPerToken: pools.transfer.kv_bytes_per_token,
                    layers: pools.transfer.layers,
                    layerwise: pools.transfer.layerwise
                  }
                }),
            ...(o.maxConcurrency === undefined ? {} : { maxConcurrency: o.maxConcurrency }),
            acceptance: inst.model.mtp_draft_tokens === undefined ? 0 : acceptance,
            seed,
            hashBlockTokens: w.hash_block_tokens ?? HASH_BLOCK_TOKENS,
            ...(o.goodput === undefined ? {} : { goodput: o.goodput }),
            percentileMetrics: o.percentileMetrics,
            metricPercentiles: o.metricPercentiles,
            ...(o.onOutcome === undefined ? {} : { onOutcome: o.onOutcome }),
            ...(o.onProgress === undefined ? {} : { onProgress: (done: number) => o.onProgress?.(done, num) })
          }),
        catch: (e) =>
          e instanceof StuckError || e instanceof TraceChanged || e instanceof TooLong
            ? new UsageError({ message: e.message })
            : new UsageError({ message: `bench: ${e instanceof Error ? e.message : String(e)}` })
      })
      const out: BenchOutput = {
        setup: {
          scenario,
          hardware: inst.hardware,
          engine: st,
          layout: {
            tp: inst.layout.tp,
            dp: inst.layout.dp,
            ep: inst.layout.ep,
            gpus: pools === undefined ? inst.layout.gpus : pools.prefill.inst.layout.gpus * pools.prefill.instances + inst.layout.gpus * pools.decode.instances,
            wide_ep: inst.wide_ep,
            two_batch_overlap: inst.two_batch_overlap
          },
          memory: inst.memory,
          kv_cache: inst.kv,
          max_model_len: maxModelLen ?? null,
          estimator: estimator.id,
          priced_step_points: inst.pricer.pricedPoints,
          disaggregated: pools === undefined ? null : { prefill: poolSetup(pools.prefill), decode: poolSetup(pools.decode), transfer: pools.transfer }
        },
        workload: {
          dataset: w.dataset,
          num_prompts: num,
          request_rate: trace !== undefined ? Number.NaN : (workload?.request_rate ?? Number.POSITIVE_INFINITY),
          burstiness: workload?.burstiness ?? 1,
          max_concurrency: o.maxConcurrency ?? null,
          seed,
          mtp_acceptance: inst.model.mtp_draft_tokens === undefined ? 0 : acceptance,
          goodput: o.goodput ?? null
        },
        bench
      }
      return out
    })
  )

class TooLong extends Error {
  readonly _tag = "TooLong"
}

/** A trace request the engine can never finish (longer than one rank's KV cache, or a prompt over the budget without chunking) stops the run with its position. */
function* checkedTrace(reqs: Iterable<ServeRequest>, kvTokens: number, s: EngineSettings, shown: string): Generator<ServeRequest> {
  for (const r of reqs) {
    if (r.input_len + r.output_len > kvTokens)
      throw new TooLong(
        `${shown}: request ${r.id} (line ${r.id + 1} of the requests) needs ${r.input_len + r.output_len} tokens, more than the KV cache of one rank (${kvTokens} tokens)`
      )
    if (!s.chunked_prefill && r.input_len > s.max_step_tokens)
      throw new TooLong(`${shown}: request ${r.id}: a ${r.input_len}-token prompt exceeds the step budget ${s.max_step_tokens} without chunked prefill`)
    yield r
  }
}

const poolInput = (x: Pools["prefill"]): PoolInput => ({
  settings: x.inst.settings,
  pricer: x.inst.pricer,
  ranks: x.inst.layout.dp,
  instances: x.instances,
  kvTokensPerRank: x.inst.kv.kv_tokens
})

const gib = (b: number) => (b / 2 ** 30).toFixed(1)

/** The flag a workload field came from. */
const flagOf = (field: string): string =>
  ({
    num_prompts: "num-prompts",
    request_rate: "request-rate",
    burstiness: "burstiness",
    seed: "seed",
    input_len: "random-input-len",
    output_len: "random-output-len",
    range_ratio: "random-range-ratio",
    prefix_len: "random-prefix-len",
    prefix_hit_rate: "prefix-hit-rate",
    dataset: "dataset-name",
    sharegpt: "dataset-name"
  })[field] ?? field

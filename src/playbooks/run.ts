/**
 * Running a playbook on a scenario: load it through the build graph (withSession; the scenario
 * schema decodes its `deployment` block strictly, with positions), resolve the deployment with the
 * command-line overrides, evaluate the core per-layer result (through the graph, so it is cached), and attach
 * the playbook's `serving` model (pure, src/deploy/*).
 *
 * `large-ep evaluate`: the core result is evaluated under the deployment's layout (attention tp x
 * dp, EP size, redundant expert slots); with several `--ep` values it prints one comparison over
 * EP sizes instead. `afd simulate`: the core result is the scenario under its own `parallelism`
 * (a colocated reference); with several `--instances` values it compares AFD shapes.
 */
import { Effect } from "effect"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, scenarioFieldError } from "../config/load.ts"
import { contextFor, type Problem, type Resolved } from "../kernel/layout.ts"
import { modelOf } from "../kernel/model.ts"
import { servingSummary } from "../kernel/serving.ts"
import { coreStrategy } from "../kernel/strategies.ts"
import type { ImbalanceSource } from "../deploy/imbalance.ts"
import { phasesOf, type SinglePhase } from "../schema/runtime.ts"
import { scenarioNode } from "../sim/plan.ts"
import type { RunResult, ServingSummary, SimulationResult } from "../kernel/records.ts"
import { withSession, type RunOptions, type RunOutput, type Session } from "../app/session.ts"
import { evaluateScenario, scenarioBase } from "../sim/simulate.ts"
import { estimatorOf } from "../app/estimator.ts"
import { timingHardware } from "../timing/roofline.ts"
import { resolveAfd, resolveLargeEp, type AfdOverrides, type AfdPlan, type LargeEpDeployment, type LargeEpOverrides } from "../deploy/deployment.ts"
import { largeEpBatchForTpot, largeEpMaxBatch, type PlaybookInput } from "../deploy/largeEp.ts"
import { afdBatchForTpot, afdMaxBatch } from "../deploy/afd.ts"
import { afdNotes, expertParallelNotes, withNotes } from "../deploy/notes.ts"
import { afdServing, largeEpServing, type AfdServing, type LargeEpServing, type ServingRun } from "../deploy/serving.ts"
import { efficiencySummary, type EfficiencySummary } from "../timing/efficiency.ts"
import { calibrationSummary, type CalibrationSummary } from "../timing/calibration.ts"
import { counted, progress } from "../base/debug.ts"

/** How the batch is chosen: the runtime's, the HBM limit, or the largest meeting a TPOT target. */
export type BatchPolicy = { readonly kind: "runtime" } | { readonly kind: "max" } | { readonly kind: "tpot"; readonly tpot_slo_ms: number }

export interface PlaybookRuntime {
  readonly batch_size: number
  readonly seq_len: number
  readonly phase: string
  readonly tokens_per_expert?: number
  readonly batch_policy: string
}

export interface LargeEpResult extends Omit<RunResult, "serving" | "runtime"> {
  readonly playbook: "large-ep"
  readonly runtime: PlaybookRuntime
  readonly deployment: LargeEpDeployment
  /** The core roll-up's serving summary under the same layout (no deployment model). */
  readonly core_serving: ServingSummary
  readonly serving: LargeEpServing
}

export interface EpSweepRow {
  readonly ep: number
  readonly deployment: LargeEpDeployment
  readonly experts_per_gpu: number
  readonly serving: LargeEpServing
  /** Why the batch policy found no batch for this row (it is shown at batch 1); absent when it did. */
  readonly rejected?: string
}

export interface LargeEpSweep {
  readonly playbook: "large-ep"
  readonly scenario: string
  readonly hardware: string
  readonly estimator: string
  readonly efficiency?: EfficiencySummary
  readonly calibration?: CalibrationSummary
  readonly runtime: PlaybookRuntime
  readonly ep_sweep: ReadonlyArray<EpSweepRow>
  /** What the rows' figures take for granted (src/deploy/notes.ts); absent when nothing. */
  readonly notes?: ReadonlyArray<string>
}

export interface AfdResult extends Omit<RunResult, "serving" | "runtime"> {
  readonly playbook: "afd"
  readonly runtime: PlaybookRuntime
  readonly deployment: AfdPlan
  /** The core serving summary of the scenario under its own (colocated) parallelism. */
  readonly core_serving: ServingSummary
  readonly serving: AfdServing
}

export interface AfdSweep {
  readonly playbook: "afd"
  readonly scenario: string
  readonly hardware: string
  readonly estimator: string
  readonly efficiency?: EfficiencySummary
  readonly calibration?: CalibrationSummary
  readonly runtime: PlaybookRuntime
  readonly instance_sweep: ReadonlyArray<{ readonly instances: string; readonly deployment: AfdPlan; readonly serving: AfdServing; readonly rejected?: string }>
  /** What the rows' figures take for granted (src/deploy/notes.ts); absent when nothing. */
  readonly notes?: ReadonlyArray<string>
}

export interface PlaybookOutput<A> {
  readonly result: A
  readonly run: RunOutput
}

const problemError = (s: Session, p: Problem): ConfigError | UsageError =>
  p.flag !== undefined
    ? new UsageError({ message: `${p.flag}: ${p.message}` })
    : scenarioFieldError(s.loaded.root, s.loaded.file, s.loaded.text, p.path, p.message)

const unwrap = <A>(s: Session, r: Resolved<A>): Effect.Effect<A, ConfigError | UsageError> =>
  r.ok ? Effect.succeed(r.value) : Effect.fail(problemError(s, r.problem))

const playbookInput = (s: Session, options: RunOptions) =>
  Effect.gen(function* () {
    const estimator = yield* estimatorOf(options, { cwd: options.cwd, root: s.project.root })
    const model = modelOf(s.loaded)
    const input: PlaybookInput = {
      model,
      hardware: s.loaded.hardware,
      timing: timingHardware(s.loaded.hardware, options.efficiency),
      estimator,
      efficiency: efficiencySummary(s.loaded.hardware, options.efficiency),
      calibration: calibrationSummary(s.loaded.hardware, options.efficiency)
    }
    return { input, base: scenarioBase(s.loaded, model) }
  })

/**
 * The playbook result and the session's trace for `afterRun` (--trace, --explain). A sweep has no
 * single core result: its `run.result` is left undefined (`afterRun` reads only the trace fields).
 */
const runOutput = <A>(s: Session, result: A, core: RunResult | undefined): PlaybookOutput<A> => ({
  result,
  run: {
    result: core as RunResult,
    loaded: s.loaded,
    project: s.project,
    trace: s.evaluator.trace(),
    materials: s.evaluator.materials(),
    cacheDir: s.cacheDir
  }
})

/** The core per-layer result under a large-EP deployment's layout, through the build graph. */
const coreUnderDeployment = (
  s: Session,
  input: PlaybookInput,
  d: LargeEpDeployment,
  runtime: { batch_size: number; seq_len: number; phase: string; tokens_per_expert?: number }
) =>
  Effect.gen(function* () {
    const hw = s.loaded.hardware
    const estimator = input.estimator
    const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: d.micro_batches }
    const phases: { prefill?: SimulationResult; decode?: SimulationResult } = {}
    for (const phase of phasesOf(runtime.phase as "prefill" | "decode" | "both")) {
      const ctx = contextFor(input.model, d, phase, runtime.batch_size, runtime.seq_len, runtime.tokens_per_expert)
      progress(() => `${phase}: planning ${counted(s.loaded.entries.length, "layer entry", "layer entries")}`)
      const node = scenarioNode({ model: input.model, phase, ctx, timing: input.timing, estimator, composition })
      progress(() => `${phase}: evaluating ${counted(node.deps.length, "layer node", "layer nodes")}`)
      // "<phase>: evaluated" comes from the scenario node's roll-up (src/sim/plan.ts).
      phases[phase] = (yield* s.evaluator.evaluate(node)).value
    }
    const layout = { tp: d.tp, dp: d.dp, ep: d.ep }
    const result: RunResult = {
      scenario: displayPath(s.loaded.root, s.loaded.file),
      hardware: hw.name,
      runtime: {
        batch_size: runtime.batch_size,
        seq_len: runtime.seq_len,
        phase: runtime.phase,
        micro_batch: d.micro_batches,
        ...(runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: runtime.tokens_per_expert })
      },
      parallelism: layout,
      estimator: estimator.id,
      ...(input.efficiency === undefined ? {} : { efficiency: input.efficiency }),
      ...(input.calibration === undefined ? {} : { calibration: input.calibration }),
      phases,
      serving: servingSummary(phases, runtime, layout, hw.hbm_gb, coreStrategy(composition))
    }
    return result
  })

const phasesList = (phase: string): ReadonlyArray<SinglePhase> => phasesOf(phase as "prefill" | "decode" | "both")

/** The batch per attention DP rank a policy picks (errors when nothing qualifies). */
const chooseBatch = (
  policy: BatchPolicy,
  runtimeBatch: number,
  phases: ReadonlyArray<SinglePhase>,
  maxBatch: (phase: SinglePhase) => number,
  forTpot: () => number
): Effect.Effect<number, UsageError> => {
  if (policy.kind === "runtime") return Effect.succeed(runtimeBatch)
  if (policy.kind === "max") {
    const b = phases.map(maxBatch).reduce((a, b) => Math.min(a, b), Infinity)
    return b >= 1 ? Effect.succeed(b) : Effect.fail(new UsageError({ message: "--max-batch: the deployment does not fit in HBM even at batch 1" }))
  }
  if (!phases.includes("decode")) return Effect.fail(new UsageError({ message: "--tpot-slo-ms needs the decode phase (--phase decode or both)" }))
  const b = forTpot()
  return b >= 1
    ? Effect.succeed(b)
    : Effect.fail(new UsageError({ message: `--tpot-slo-ms ${policy.tpot_slo_ms}: no batch that fits in HBM decodes within ${policy.tpot_slo_ms} ms` }))
}

const policyText = (p: BatchPolicy): string => (p.kind === "runtime" ? "runtime" : p.kind === "max" ? "max (HBM limit)" : `tpot_slo_ms ${p.tpot_slo_ms}`)

/** How a playbook model sizes and serves a batch for one deployment `D`. */
interface ServingModel<D, S> {
  readonly maxBatch: (d: D, phase: SinglePhase) => number
  readonly batchForTpot: (d: D, tpotMs: number) => number
  readonly serve: (d: D, run: ServingRun) => S
}

/** What both playbooks share: pick the batch under the policy, serve it, describe the runtime. */
const batchRunner = (s: Session, policy: BatchPolicy) => {
  const phases = phasesList(s.runtime.phase)
  const tokensPerExpert = s.runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: s.runtime.tokens_per_expert }
  const evaluateAt = <D, S>(d: D, model: ServingModel<D, S>) =>
    Effect.gen(function* () {
      const batch = yield* chooseBatch(
        policy,
        s.runtime.batch_size,
        phases,
        (phase) => model.maxBatch(d, phase),
        () => model.batchForTpot(d, policy.kind === "tpot" ? policy.tpot_slo_ms : 0)
      )
      return { batch, serving: model.serve(d, { phases, batch_size: batch, seq_len: s.runtime.seq_len, ...tokensPerExpert }) }
    })
  /**
   * One row of a comparison: a row whose policy finds no batch (nothing fits, or no batch meets
   * the TPOT target) is not an error for the whole comparison but a rejected row with the
   * reason, shown at batch 1 so its figures say by how much it misses.
   */
  const rowAt = <D, S>(d: D, model: ServingModel<D, S>) =>
    Effect.catch(
      Effect.map(evaluateAt(d, model), (x) => ({ ...x, rejected: undefined as string | undefined })),
      (e: UsageError) =>
        Effect.succeed({
          batch: 1,
          serving: model.serve(d, { phases, batch_size: 1, seq_len: s.runtime.seq_len, ...tokensPerExpert }),
          rejected: e.message
        })
    )
  const runtimeOf = (batch: number): PlaybookRuntime => ({
    batch_size: batch,
    seq_len: s.runtime.seq_len,
    phase: s.runtime.phase,
    ...tokensPerExpert,
    batch_policy: policyText(policy)
  })
  return { evaluateAt, rowAt, runtimeOf, tokensPerExpert }
}

/** What a sweep result says about its scenario (both playbooks). */
const sweepHeader = (s: Session, input: PlaybookInput, runtimeOf: (batch: number) => PlaybookRuntime) => ({
  scenario: displayPath(s.loaded.root, s.loaded.file),
  hardware: s.loaded.hardware.name,
  estimator: input.estimator.id,
  ...(input.efficiency === undefined ? {} : { efficiency: input.efficiency }),
  ...(input.calibration === undefined ? {} : { calibration: input.calibration }),
  runtime: runtimeOf(s.runtime.batch_size)
})

export interface LargeEpOptions {
  readonly run: RunOptions
  /** `--ep` values: none or one evaluates, two or more compare. */
  readonly eps: ReadonlyArray<number>
  readonly overrides: Omit<LargeEpOverrides, "ep">
  readonly batch: BatchPolicy
}

export const runLargeEp = (o: LargeEpOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const { input, base } = yield* playbookInput(s, o.run)
      const micro = o.run.runtime.micro_batch
      const overrides = (ep: number | undefined): LargeEpOverrides => ({
        ...o.overrides,
        ...(ep === undefined ? {} : { ep }),
        ...(micro === undefined ? {} : { micro_batches: micro })
      })
      const { evaluateAt: serveAt, rowAt, runtimeOf, tokensPerExpert } = batchRunner(s, o.batch)
      const model: ServingModel<LargeEpDeployment, LargeEpServing> = {
        maxBatch: (d, phase) => largeEpMaxBatch(input.model, input.hardware, d, phase, s.runtime.seq_len),
        batchForTpot: (d, tpot) => largeEpBatchForTpot(input, d, s.runtime.seq_len, tpot),
        serve: (d, run) => largeEpServing(input, d, run)
      }
      const evaluateAt = (d: LargeEpDeployment) => serveAt(d, model)
      if (o.eps.length >= 2) {
        const rows: Array<EpSweepRow> = []
        for (const ep of o.eps) {
          const d = yield* unwrap(s, resolveLargeEp(input.model, input.hardware, base, overrides(ep)))
          const { serving, rejected } = yield* rowAt(d, model)
          const experts = input.model.entries.find((e) => e.template.type === "moe_layer")
          const slots =
            experts && experts.template.type === "moe_layer" ? (experts.template.config.moe_config.n_routed_experts + d.redundant_experts) / d.ep : 0
          rows.push({ ep, deployment: d, experts_per_gpu: slots, serving, ...(rejected === undefined ? {} : { rejected }) })
        }
        const notes = [...new Set(rows.flatMap((r) => expertParallelNotes(input.model, input.hardware, r.deployment.ep, r.deployment.gpus_per_node)))]
        const sweep: LargeEpSweep = { playbook: "large-ep", ...sweepHeader(s, input, runtimeOf), ep_sweep: rows, ...withNotes(notes) }
        return runOutput(s, sweep, undefined)
      }
      const d = yield* unwrap(s, resolveLargeEp(input.model, input.hardware, base, overrides(o.eps[0])))
      const { batch, serving } = yield* evaluateAt(d)
      const runtime = { batch_size: batch, seq_len: s.runtime.seq_len, phase: s.runtime.phase, ...tokensPerExpert }
      const core = yield* coreUnderDeployment(s, input, d, runtime)
      const { serving: coreServing, runtime: _coreRuntime, ...rest } = core
      const result: LargeEpResult = {
        ...rest,
        playbook: "large-ep",
        runtime: runtimeOf(batch),
        deployment: d,
        core_serving: coreServing,
        serving,
        ...withNotes(expertParallelNotes(input.model, input.hardware, d.ep, d.gpus_per_node))
      }
      return runOutput(s, result, core)
    })
  )

export interface AfdOptions {
  readonly run: RunOptions
  /** `--instances` values (`3A2F`): none or one evaluates, two or more compare. */
  readonly instances: ReadonlyArray<{ readonly attention: number; readonly ffn: number }>
  readonly regime?: AfdOverrides["regime"]
  readonly load_imbalance?: ImbalanceSource
  readonly batch: BatchPolicy
}

export const runAfd = (o: AfdOptions) =>
  withSession(o.run, (s) =>
    Effect.gen(function* () {
      const { input, base } = yield* playbookInput(s, o.run)
      const overrides = (inst: { attention: number; ffn: number } | undefined): AfdOverrides => ({
        ...(inst === undefined ? {} : { attention_instances: inst.attention, ffn_instances: inst.ffn }),
        ...(o.run.runtime.micro_batch === undefined ? {} : { micro_batches: o.run.runtime.micro_batch }),
        ...(o.regime === undefined ? {} : { regime: o.regime }),
        ...(o.load_imbalance === undefined ? {} : { load_imbalance: o.load_imbalance })
      })
      const { evaluateAt: serveAt, rowAt, runtimeOf } = batchRunner(s, o.batch)
      const model: ServingModel<AfdPlan, AfdServing> = {
        maxBatch: (plan, phase) => afdMaxBatch(input, plan, phase, s.runtime.seq_len),
        batchForTpot: (plan, tpot) => afdBatchForTpot(input, plan, s.runtime.seq_len, tpot),
        serve: (plan, run) => afdServing(input, plan, run)
      }
      const evaluateAt = (plan: AfdPlan) => serveAt(plan, model)
      if (o.instances.length >= 2) {
        const rows: Array<{ instances: string; deployment: AfdPlan; serving: AfdServing; rejected?: string }> = []
        for (const inst of o.instances) {
          const plan = yield* unwrap(s, resolveAfd(input.model, input.hardware, base, overrides(inst)))
          const { serving, rejected } = yield* rowAt(plan, model)
          rows.push({ instances: serving.instances, deployment: plan, serving, ...(rejected === undefined ? {} : { rejected }) })
        }
        const notes = [
          ...new Set(
            rows.flatMap((r) =>
              afdNotes(input.model, input.hardware, [r.deployment.a2f.link, r.deployment.f2a.link], r.deployment.ffn.gpus, r.deployment.gpus_per_node)
            )
          )
        ]
        const sweep: AfdSweep = { playbook: "afd", ...sweepHeader(s, input, runtimeOf), instance_sweep: rows, ...withNotes(notes) }
        return runOutput(s, sweep, undefined)
      }
      const plan = yield* unwrap(s, resolveAfd(input.model, input.hardware, base, overrides(o.instances[0])))
      const { batch, serving } = yield* evaluateAt(plan)
      const core = yield* evaluateScenario(s.evaluator, s.loaded, { ...s.runtime, batch_size: batch }, input.estimator, o.run.efficiency)
      const { serving: coreServing, runtime: _coreRuntime, ...rest } = core
      // The colocated reference's notes are about its own layout, not the AFD deployment's.
      const { notes: _colocatedNotes, ...reference } = rest
      const result: AfdResult = {
        ...reference,
        playbook: "afd",
        runtime: runtimeOf(batch),
        deployment: plan,
        core_serving: coreServing,
        serving,
        ...withNotes(afdNotes(input.model, input.hardware, [plan.a2f.link, plan.f2a.link], plan.ffn.gpus, plan.gpus_per_node))
      }
      return runOutput(s, result, core)
    })
  )

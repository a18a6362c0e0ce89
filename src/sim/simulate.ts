/**
 * One scenario evaluation: build the graph for each phase of a loaded scenario, evaluate it
 * through an evaluator, and roll the phases into a serving summary. Loading the project and the
 * scenario, and committing the store, is the session's job (src/app/session.ts).
 */
import { Effect } from "effect"
import type { RuntimeOverrides } from "../config/runtime.ts"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath, scenarioFieldError, type LoadedScenario } from "../config/load.ts"
import type { Evaluator } from "../graph/evaluator.ts"
import type { LayerContext } from "../layers/context.ts"
import { validateLayout } from "../layers/layout.ts"
import { contextFor, resolveLayout, type Layout, type ScenarioBase } from "../kernel/layout.ts"
import { modelOf, type Model } from "../kernel/model.ts"
import { coreStrategy, planCore, type StrategyName } from "../kernel/strategies.ts"
import { deploymentModelFor, isCoreStrategy } from "../deploy/registry.ts"
import { expertParallelNotes, withNotes } from "../deploy/notes.ts"
import { phasesOf, type SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { servingSummary } from "../kernel/serving.ts"
import { scenarioNode } from "./plan.ts"
import type { RunResult, SimulationResult } from "../kernel/records.ts"
import { efficiencySummary } from "../timing/efficiency.ts"
import { calibrationSummary } from "../timing/calibration.ts"
import { counted, injectedDefect, progress } from "../base/debug.ts"

/** What the layout rule and the playbooks read of a scenario besides its model. */
export const scenarioBase = (loaded: LoadedScenario, model: Model): ScenarioBase => ({
  ...(loaded.spec.deployment === undefined ? {} : { deployment: loaded.spec.deployment }),
  ...(loaded.spec.parallelism === undefined ? {} : { parallelism: loaded.spec.parallelism }),
  ...(loaded.spec.runtime?.micro_batch === undefined ? {} : { micro_batch: loaded.spec.runtime.micro_batch }),
  precision: model.precision
})

/** The scenario's layout by the one layout rule (src/kernel/layout.ts), with a positioned error. */
const scenarioLayout = (loaded: LoadedScenario, model: Model): Effect.Effect<Layout, ConfigError> => {
  const r = resolveLayout(model, loaded.hardware, scenarioBase(loaded, model))
  return r.ok ? Effect.succeed(r.value.layout) : Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
}

/** The defaulted context layer estimators see for one phase. */
export const layerContext = (loaded: LoadedScenario, model: Model, runtime: RuntimeOverrides & { batch_size: number; seq_len: number }, phase: SinglePhase) =>
  Effect.map(
    scenarioLayout(loaded, model),
    (layout): LayerContext => contextFor(model, layout, phase, runtime.batch_size, runtime.seq_len, runtime.tokens_per_expert)
  )

/** Evaluate a loaded scenario for the given phases with an existing evaluator. */
export const evaluateScenario = (
  evaluator: Evaluator,
  loaded: LoadedScenario,
  runtime: Required<Omit<RuntimeOverrides, "micro_batch" | "tokens_per_expert" | "mtp_acceptance_rate">> & RuntimeOverrides,
  estimator: Estimator,
  efficiency: EfficiencyMode,
  strategy?: StrategyName
) =>
  Effect.gen(function* () {
    const spec = loaded.spec
    const hw = loaded.hardware
    // The core roll-up runs the serial and overlapped strategies; a deployment model's strategy
    // is the playbooks' (the CLI routes `run --strategy two-batch-overlap` there).
    if (!isCoreStrategy(strategy))
      return yield* Effect.fail(
        new UsageError({ message: `--strategy ${strategy} is the ${deploymentModelFor(strategy)} deployment model's, not the core roll-up's` })
      )
    const planned = planCore(strategy, runtime.micro_batch, hw.max_concurrency)
    if (!planned.ok) return yield* Effect.fail(new UsageError({ message: `--strategy ${strategy}: ${planned.message}` }))
    const microBatch = planned.micro_batch
    const model = modelOf(loaded)
    const layout = yield* scenarioLayout(loaded, model)
    const parallel = { tp: layout.tp, dp: layout.dp, ep: layout.ep }
    const timing = timingHardware(hw, efficiency)
    const composition = {
      overlap_efficiency: hw.overlap_efficiency,
      max_concurrency: hw.max_concurrency,
      micro_batch: microBatch ?? 1
    }
    const phases: { prefill?: SimulationResult; decode?: SimulationResult } = {}
    for (const phase of phasesOf(runtime.phase) as ReadonlyArray<SinglePhase>) {
      const ctx = contextFor(model, layout, phase, runtime.batch_size, runtime.seq_len, runtime.tokens_per_expert)
      for (const e of loaded.entries) {
        const problem = validateLayout(e.template, ctx)
        if (problem !== undefined) {
          return yield* Effect.fail(
            scenarioFieldError(
              loaded.root,
              loaded.file,
              loaded.text,
              spec.parallelism ? ["parallelism"] : ["layers", e.index, "config"],
              `${displayPath(loaded.root, e.file)}: ${problem}`
            )
          )
        }
      }
      progress(() => `${phase}: planning ${counted(loaded.entries.length, "layer entry", "layer entries")}`)
      const node = scenarioNode({ model, phase, ctx, timing, estimator, composition })
      progress(() => `${phase}: evaluating ${counted(node.deps.length, "layer node", "layer nodes")}`)
      injectedDefect(`${phase}: evaluating`)
      // "<phase>: evaluated" comes from the scenario node's roll-up (src/sim/plan.ts).
      phases[phase] = (yield* evaluator.evaluate(node)).value
    }
    const result: RunResult = {
      scenario: displayPath(loaded.root, loaded.file),
      hardware: hw.name,
      runtime: {
        batch_size: runtime.batch_size,
        seq_len: runtime.seq_len,
        phase: runtime.phase,
        ...(microBatch === undefined ? {} : { micro_batch: microBatch }),
        ...(runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: runtime.tokens_per_expert }),
        ...(model.mtp_draft_tokens === undefined ? {} : { mtp_draft_tokens: model.mtp_draft_tokens, mtp_acceptance_rate: runtime.mtp_acceptance_rate ?? 0 })
      },
      parallelism: parallel,
      estimator: estimator.id,
      efficiency: efficiencySummary(hw, efficiency),
      calibration: calibrationSummary(hw, efficiency),
      phases,
      serving: servingSummary(
        phases,
        {
          ...runtime,
          ...(model.mtp_draft_tokens === undefined ? {} : { mtp_draft_tokens: model.mtp_draft_tokens, mtp_acceptance_rate: runtime.mtp_acceptance_rate ?? 0 })
        },
        parallel,
        hw.hbm_gb,
        coreStrategy(composition)
      ),
      ...withNotes(expertParallelNotes(model, hw, layout.ep, layout.gpus_per_node, false))
    }
    return result
  })

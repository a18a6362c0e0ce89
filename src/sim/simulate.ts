/**
 * One scenario evaluation: build the graph for each phase of a loaded scenario, evaluate it
 * through an evaluator, and roll the phases into a serving summary. Loading the project and the
 * scenario, and committing the store, is the session's job (src/app/session.ts).
 */
import { Effect } from "effect"
import type { RuntimeOverrides } from "../app/runtime.ts"
import { UsageError } from "../config/errors.ts"
import { displayPath, scenarioFieldError, type LoadedScenario } from "../config/load.ts"
import type { Evaluator } from "../graph/evaluator.ts"
import type { LayerContext } from "../module/context.ts"
import { validateLayout } from "../module/index.ts"
import { DEFAULT_PRECISION } from "../schema/scenario.ts"
import { phasesOf, type SinglePhase } from "../schema/runtime.ts"
import { ESTIMATORS } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { servingSummary } from "./compose.ts"
import { scenarioNode } from "./plan.ts"
import type { RunResult, SimulationResult } from "./records.ts"

/**
 * The parallel layout: the scenario's `parallelism` block, else the large-EP part of its
 * `deployment` block (GPUs = nodes x gpus_per_node, attention tp x dp over them, ep over them),
 * else one GPU.
 */
export const layoutOf = (loaded: LoadedScenario) => {
  const p = loaded.spec.parallelism
  const d = loaded.spec.deployment
  if (p === undefined && d !== undefined && (d.attention !== undefined || d.ep !== undefined || d.nodes !== undefined)) {
    const gpus = d.nodes !== undefined ? d.nodes * (d.gpus_per_node ?? loaded.hardware.gpus_per_node ?? 8) : undefined
    const tp = d.attention?.tp ?? 1
    const dp = d.attention?.dp ?? (gpus !== undefined ? Math.max(1, Math.floor(gpus / tp)) : 1)
    return { tp, dp, ep: d.ep ?? tp * dp }
  }
  return { tp: p?.tp ?? 1, dp: p?.dp ?? 1, ep: p?.ep ?? 1 }
}

/** Redundant expert replicas, from the deployment block when it sets the layout. */
const redundantExperts = (loaded: LoadedScenario): number =>
  loaded.spec.parallelism === undefined ? loaded.spec.deployment?.redundant_experts ?? 0 : 0

/** The defaulted context layer estimators see for one phase. */
export const layerContext = (loaded: LoadedScenario, runtime: RuntimeOverrides & { batch_size: number; seq_len: number }, phase: SinglePhase): LayerContext => {
  const precision = { ...DEFAULT_PRECISION, ...loaded.spec.precision }
  return {
    phase,
    batch_size: runtime.batch_size,
    seq_len: runtime.seq_len,
    precision: {
      ...precision,
      moe_experts: precision.moe_experts ?? precision.weights,
      lm_head: precision.lm_head ?? precision.activations
    },
    parallel: layoutOf(loaded),
    gpus_per_node: loaded.spec.deployment?.gpus_per_node ?? loaded.hardware.gpus_per_node ?? 8,
    ...(redundantExperts(loaded) > 0 ? { redundant_experts: redundantExperts(loaded) } : {}),
    ...(runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: runtime.tokens_per_expert })
  }
}

/** Evaluate a loaded scenario for the given phases with an existing evaluator. */
export const evaluateScenario = (
  evaluator: Evaluator,
  loaded: LoadedScenario,
  scenarioText: string,
  runtime: Required<Omit<RuntimeOverrides, "micro_batch" | "tokens_per_expert">> & RuntimeOverrides,
  estimatorId: string,
  efficiency: EfficiencyMode
) =>
  Effect.gen(function*() {
    const estimator = ESTIMATORS[estimatorId]
    if (!estimator) return yield* Effect.fail(new UsageError({ message: `unknown estimator "${estimatorId}" (expected: ${Object.keys(ESTIMATORS).join(", ")})` }))
    const spec = loaded.spec
    const hw = loaded.hardware
    const parallel = layoutOf(loaded)
    const timing = timingHardware(hw, efficiency)
    const composition = {
      overlap_efficiency: hw.overlap_efficiency,
      max_concurrency: hw.max_concurrency,
      micro_batch: runtime.micro_batch ?? 1
    }
    const phases: { prefill?: SimulationResult; decode?: SimulationResult } = {}
    for (const phase of phasesOf(runtime.phase) as ReadonlyArray<SinglePhase>) {
      const ctx = layerContext(loaded, runtime, phase)
      for (const e of loaded.entries) {
        const problem = validateLayout(e.template, ctx)
        if (problem !== undefined) {
          return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, scenarioText, spec.parallelism ? ["parallelism"] : ["layers", e.index, "config"], `${displayPath(loaded.root, e.file)}: ${problem}`))
        }
      }
      const node = scenarioNode({ scenario: loaded, phase, ctx, timing, estimator, composition })
      phases[phase] = (yield* evaluator.evaluate(node)).value
    }
    const result: RunResult = {
      scenario: displayPath(loaded.root, loaded.file),
      hardware: hw.name,
      runtime: {
        batch_size: runtime.batch_size,
        seq_len: runtime.seq_len,
        phase: runtime.phase,
        ...(runtime.micro_batch === undefined ? {} : { micro_batch: runtime.micro_batch }),
        ...(runtime.tokens_per_expert === undefined ? {} : { tokens_per_expert: runtime.tokens_per_expert })
      },
      parallelism: parallel,
      estimator: estimator.id,
      phases,
      serving: servingSummary(phases, runtime, parallel, hw.hbm_gb)
    }
    return result
  })

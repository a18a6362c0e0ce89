/**
 * A loaded scenario as an engine instance serving requests: the layout by the one layout rule,
 * the engine's settings (its defaults, then the scenario's `engine:` block, then the flags), the
 * KV budget by the engine's memory rule on the model's bytes per GPU, and the step pricer on the
 * kernel. `llmsim bench` and `sweep --bench` both start here.
 */
import { Effect } from "effect"
import { ConfigError, UsageError } from "../config/errors.ts"
import { scenarioFieldError, type LoadedScenario } from "../config/load.ts"
import { contextFor, resolveLayout, type Layout } from "../kernel/layout.ts"
import { modelOf, type Model } from "../kernel/model.ts"
import { phaseMemory } from "../kernel/step.ts"
import type { Composition } from "../kernel/strategies.ts"
import type { EngineSettings } from "../serve/engine.ts"
import { ENGINE_NAMES, ENGINES, type EngineModel } from "../serve/engines.ts"
import { deviceMemoryBytes, type KvBudget, type MemoryInputs } from "../serve/memory.ts"
import { StepCost } from "../serve/stepCost.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { scenarioBase } from "./simulate.ts"

/** Settings a user may override (the scenario's `engine:` block and the bench flags). */
export type EngineOverrides = Partial<Omit<EngineSettings, "engine" | "version">>

export interface ServingInstance {
  readonly model: Model
  readonly layout: Layout
  readonly engine: EngineModel
  readonly settings: EngineSettings
  readonly memory: MemoryInputs
  readonly kv: KvBudget
  readonly pricer: StepCost
  readonly hardware: string
}

export const servingInstance = (
  loaded: LoadedScenario,
  engineName: string,
  overrides: EngineOverrides,
  estimator: Estimator,
  efficiency: EfficiencyMode,
  /** A typical request's prompt + output, tokens: sliding-window and linear-attention state is per sequence, so bytes per token depend on it. */
  typicalContext: number
): Effect.Effect<ServingInstance, ConfigError | UsageError> =>
  Effect.gen(function* () {
    const engine = ENGINES[engineName]
    if (engine === undefined) return yield* Effect.fail(new UsageError({ message: `--engine ${engineName}: expected one of ${ENGINE_NAMES.join(", ")}` }))
    const model = modelOf(loaded)
    const r = resolveLayout(model, loaded.hardware, scenarioBase(loaded, model))
    if (!r.ok) return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
    const layout = r.value.layout
    const hw = loaded.hardware
    const settings: EngineSettings = { ...engine.defaults(hw, layout), ...overrides }
    // Bytes per GPU: weights and KV per token do not depend on the batch; activations are the largest step's.
    const step = phaseMemory(model, contextFor(model, layout, "prefill", 1, settings.max_step_tokens))
    const perToken = phaseMemory(model, contextFor(model, layout, "decode", 1, typicalContext)).kv_cache_bytes / typicalContext
    const memory: MemoryInputs = {
      device_bytes: deviceMemoryBytes(hw.hbm_gb),
      weights_bytes: step.weights_bytes,
      activation_bytes: step.activation_bytes,
      kv_bytes_per_token: perToken
    }
    const composition: Composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
    const pricer = new StepCost({ model, layout, timing: timingHardware(hw, efficiency), estimator, composition })
    return { model, layout, engine, settings, memory, kv: engine.kvBudget(memory, settings), pricer, hardware: hw.name }
  })

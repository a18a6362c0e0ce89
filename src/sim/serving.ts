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
import type { EngineSpec } from "../schema/engine.ts"
import type { EngineSettings } from "../serve/engine.ts"
import { ENGINE_NAMES, ENGINES, type EngineContext, type EngineModel } from "../serve/engines.ts"
import { deviceMemoryBytes, type KvBudget, type MemoryInputs } from "../serve/memory.ts"
import { StepCost } from "../serve/stepCost.ts"
import { longestRequest, type WorkloadSpec } from "../serve/workload.ts"
import type { Estimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { scenarioBase } from "./simulate.ts"

/** Settings a user may override: the scenario's `engine:` block, then the bench flags (same names). */
export type EngineOverrides = Omit<EngineSpec, "name">

/** Without a `max_model_len`, the engine accepts any length its KV cache holds. */
const UNBOUNDED_CONTEXT = 1 << 30

export interface ServingInstance {
  readonly model: Model
  readonly layout: Layout
  readonly engine: EngineModel
  readonly settings: EngineSettings
  readonly memory: MemoryInputs
  readonly kv: KvBudget
  readonly pricer: StepCost
  readonly hardware: string
  /** Longest prompt + output accepted, tokens (undefined: no limit but the KV cache). */
  readonly max_model_len: number | undefined
}

/** Overrides on top of the engine's defaults; `cuda_graph_max_bs` picks the engine's own capture list up to it (0: none). */
const applied = (engine: EngineModel, d: EngineSettings, o: EngineOverrides): { settings: EngineSettings; userSet: Set<keyof EngineSettings> } => {
  const { max_model_len: _, cuda_graph_max_bs, ...rest } = o
  const settings: EngineSettings = { ...d, ...rest }
  const userSet = new Set(Object.keys(rest) as Array<keyof EngineSettings>)
  if (cuda_graph_max_bs === undefined) return { settings, userSet }
  const sizes = cuda_graph_max_bs === 0 ? [] : engine.cudaGraphSizes(cuda_graph_max_bs)
  userSet.add("cuda_graph_sizes")
  return { settings: { ...settings, cuda_graph_sizes: sizes }, userSet }
}

export const servingInstance = (
  loaded: LoadedScenario,
  engineName: string | undefined,
  flags: EngineOverrides,
  estimator: Estimator,
  efficiency: EfficiencyMode,
  /** A typical request's prompt + output, tokens: sliding-window and linear-attention state is per sequence, so bytes per token depend on it. */
  typicalContext: number
): Effect.Effect<ServingInstance, ConfigError | UsageError> =>
  Effect.gen(function* () {
    const block = loaded.spec.engine ?? {}
    const name = engineName ?? block.name ?? "vllm"
    const engine = ENGINES[name]
    if (engine === undefined) return yield* Effect.fail(new UsageError({ message: `--engine ${name}: expected one of ${ENGINE_NAMES.join(", ")}` }))
    const model = modelOf(loaded)
    const r = resolveLayout(model, loaded.hardware, scenarioBase(loaded, model))
    if (!r.ok) return yield* Effect.fail(scenarioFieldError(loaded.root, loaded.file, loaded.text, r.problem.path, r.problem.message))
    const layout = r.value.layout
    const hw = loaded.hardware
    const { name: _, ...blockOverrides } = block
    const overrides: EngineOverrides = { ...blockOverrides, ...flags }
    const maxModelLen = overrides.max_model_len
    const ctx: EngineContext = { hbm_gb: hw.hbm_gb, tp: layout.tp, dp: layout.dp, ep: layout.ep, max_model_len: maxModelLen ?? UNBOUNDED_CONTEXT }
    const first = applied(engine, engine.defaults(ctx), overrides)
    // Bytes per GPU: weights and KV per token do not depend on the batch; activations are the largest step's.
    const step = phaseMemory(model, contextFor(model, layout, "prefill", 1, first.settings.max_step_tokens))
    const context = Math.max(1, typicalContext)
    const perToken = phaseMemory(model, contextFor(model, layout, "decode", 1, context)).kv_cache_bytes / context
    const memory: MemoryInputs = {
      device_bytes: deviceMemoryBytes(hw.hbm_gb),
      weights_bytes: step.weights_bytes,
      activation_bytes: step.activation_bytes,
      kv_bytes_per_token: perToken
    }
    const kv = engine.kvBudget(memory, first.settings)
    const settings = engine.afterBudget(first.settings, kv.kv_tokens, ctx, first.userSet)
    const composition: Composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
    const pricer = new StepCost({ model, layout, timing: timingHardware(hw, efficiency), estimator, composition })
    return { model, layout, engine, settings, memory, kv, pricer, hardware: hw.name, max_model_len: maxModelLen }
  })

/**
 * Why a generated workload cannot run on `inst` at all, checked on its longest request: longer
 * than max_model_len, more than one rank's KV cache holds (the engine could never finish it), or
 * a prompt over the step budget without chunked prefill. Undefined: it can.
 */
export const workloadMisfit = (inst: ServingInstance, w: WorkloadSpec): string | undefined => {
  const longest = longestRequest(w)
  const where = w.dataset === "random" ? "--random-input-len + --random-output-len" : "the sharegpt filter's max_total_len"
  if (inst.max_model_len !== undefined && longest.total > inst.max_model_len)
    return `${where}: a request of up to ${longest.total} tokens is longer than max_model_len ${inst.max_model_len}`
  if (longest.total > inst.kv.kv_tokens)
    return `${where}: a request of up to ${longest.total} tokens does not fit the KV cache of one rank (${inst.kv.kv_tokens} tokens by ${inst.engine.name}'s rule: ${inst.kv.rule})`
  if (!inst.settings.chunked_prefill && longest.input > inst.settings.max_step_tokens)
    return `--random-input-len: a prompt of up to ${longest.input} tokens exceeds the step budget ${inst.settings.max_step_tokens} without chunked prefill (raise --max-step-tokens or pass --chunked-prefill)`
  return undefined
}

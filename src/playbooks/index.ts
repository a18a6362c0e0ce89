/**
 * The playbooks' public surface for other modules (the accuracy checks, scripts): build the
 * inputs from a loaded scenario, then call the pure models.
 *
 *   const { input, deployment } = largeEpSetup(loaded)                   // the scenario's deployment block
 *   const r = largeEpDecode(input, deployment, { batch_size: 88, kv_len: 4989 })
 *   r.tpot_ms, r.tokens_per_s_per_request, r.tokens_per_s_per_gpu, r.tokens_per_s_per_node,
 *   r.memory_per_gpu_bytes, r.fits_in_hbm, r.max_batch_per_gpu, r.layers[i].attention_ms ...
 *   largeEpBatchForTpot(input, deployment, 4989, 1000 / 21)               // batch at 21 tokens/s per request
 */
import { Schema } from "effect"
import type { LoadedScenario } from "../config/load.ts"
import { DeploymentSpec } from "../schema/deployment.ts"
import { ESTIMATORS } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import { resolveAfd, resolveLargeEp, type AfdOverrides, type AfdPlan, type LargeEpDeployment, type LargeEpOverrides, type Resolved, type ScenarioBase } from "./deployment.ts"
import type { PlaybookInput } from "./largeEp.ts"
import { modelOf } from "./model.ts"

export { afdPhase, afdStep, afdMaxBatch, afdBatchForTpot } from "./afd.ts"
export { largeEpDecode, largeEpPhase, largeEpStep, largeEpMaxBatch, largeEpBatchForTpot, largeEpMemory } from "./largeEp.ts"
export { largeEpServing, afdServing } from "./serving.ts"
export type { AfdPlan, LargeEpDeployment, LargeEpOverrides, AfdOverrides } from "./deployment.ts"
export type { PlaybookInput, LargeEpDecode, LargeEpPhase, LargeEpLayer } from "./largeEp.ts"

export interface SetupOptions {
  readonly efficiency?: EfficiencyMode
  readonly estimator?: string
}

const setupBase = (loaded: LoadedScenario, options: SetupOptions) => {
  const estimator = ESTIMATORS[options.estimator ?? "analytic"]
  if (!estimator) throw new Error(`unknown estimator ${options.estimator}`)
  const model = modelOf(loaded)
  const input: PlaybookInput = { model, hardware: loaded.hardware, timing: timingHardware(loaded.hardware, options.efficiency ?? "hardware"), estimator }
  const raw = loaded.spec.deployment
  const base: ScenarioBase = {
    ...(raw === undefined ? {} : { deployment: Schema.decodeUnknownSync(DeploymentSpec)(raw, { onExcessProperty: "error" }) }),
    ...(loaded.spec.parallelism === undefined ? {} : { parallelism: loaded.spec.parallelism }),
    ...(loaded.spec.runtime?.micro_batch === undefined ? {} : { micro_batch: loaded.spec.runtime.micro_batch }),
    precision: model.precision
  }
  return { input, base }
}

const orThrow = <A>(r: Resolved<A>): A => {
  if (r.ok) return r.value
  const where = r.problem.flag ?? r.problem.path.map(String).join(".")
  throw new Error(`${where}: ${r.problem.message}`)
}

/** The model input and resolved large-EP deployment of a loaded scenario (throws on a bad deployment). */
export const largeEpSetup = (loaded: LoadedScenario, overrides: LargeEpOverrides = {}, options: SetupOptions = {}): { input: PlaybookInput; deployment: LargeEpDeployment } => {
  const { input, base } = setupBase(loaded, options)
  return { input, deployment: orThrow(resolveLargeEp(input.model, input.hardware, base, overrides)) }
}

/** The model input and resolved AFD plan of a loaded scenario (throws on a bad deployment). */
export const afdSetup = (loaded: LoadedScenario, overrides: AfdOverrides = {}, options: SetupOptions = {}): { input: PlaybookInput; plan: AfdPlan } => {
  const { input, base } = setupBase(loaded, options)
  return { input, plan: orThrow(resolveAfd(input.model, input.hardware, base, overrides)) }
}

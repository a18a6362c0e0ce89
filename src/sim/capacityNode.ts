/**
 * A capacity search as a build-graph node: the largest request rate a deployment serves within
 * the SLOs (src/serve/capacity.ts maxRate), each probe a simulated benchmark. `sweep --bench`
 * evaluates one per layout and `plan` one per layout, role and pair, so a rerun, or another runner
 * sharing the remote cache (src/graph/remote.ts), replays the search instead of simulating it.
 *
 * Params are everything the search reads, as data. The deployment is a recipe, not an object:
 *
 *   instance   one engine instance: the scenario variant (decoded spec, hardware, layer
 *              templates; no file paths), engine and flags, efficiency mode, typical context, and
 *              how it is built (`serving`, `wide_ep` with its overrides, `afd` with its counts,
 *              src/sim/serving.ts), served with an MTP acceptance
 *   pair       x prefill and y decode instances (pairDeployment), each an instance recipe with its
 *              hardware key (pools on one hardware file may share a node)
 *
 * then the workload, the SLOs and percentile, the max-load probe's request count and the search
 * options. Only the analytic estimator is keyed this way (an ML model would be another input;
 * those runs compute every search). `cache verify` recomputes an entry from its params like any
 * node. Non-finite numbers (the max-load probe's rate, an unbounded workload rate) are tagged
 * through JSON (src/base/nonFinite.ts).
 */
import { Effect } from "effect"
import { decodeNonFinite, encodeNonFinite } from "../base/nonFinite.ts"
import type { LoadedScenario } from "../config/load.ts"
import { UsageError, type ConfigError } from "../config/errors.ts"
import type { AfdOverrides, LargeEpOverrides } from "../deploy/deployment.ts"
import type { RemoteExecutionError } from "../graph/executor.ts"
import { defineNodeType } from "../graph/node.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import type { LayerEntry } from "../schema/scenario.ts"
import { maxRate, type CapacitySearch, type Deployment, type SloTarget } from "../serve/capacity.ts"
import type { RateSearchOptions } from "../serve/rateSearch.ts"
import type { Workload } from "../serve/workload.ts"
import { analyticEstimator, type Estimator } from "../timing/estimator.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { afdInstance, instanceDeployment, pairDeployment, servingInstance, type EngineOverrides, type ServingInstance } from "./serving.ts"

/**
 * Bump when a capacity search's output changes for the same params: the serving simulation
 * (src/serve), the engine models, instance building (src/sim/serving.ts) or the step kernel
 * below them. test/graph/golden.test.ts ("capacity:search") fails when outputs change without it.
 */
export const CAPACITY_CODE_VERSION = 1

/** How one engine instance is built, as data. */
export interface InstanceRecipe {
  readonly scenario: {
    readonly spec: LoadedScenario["spec"]
    readonly hardware: LoadedScenario["hardware"]
    readonly entries: ReadonlyArray<{ readonly index: number; readonly entry: LayerEntry; readonly template: LayerTemplate }>
  }
  readonly engine: string | null
  readonly engine_flags: EngineOverrides
  readonly efficiency: EfficiencyMode
  readonly typical_context: number
  readonly build:
    | { readonly kind: "serving" }
    | { readonly kind: "wide_ep"; readonly overrides: LargeEpOverrides }
    | { readonly kind: "afd"; readonly overrides: AfdOverrides }
}

/** The recipe of an instance of `loaded` (a scenario variant). */
export const instanceRecipe = (loaded: LoadedScenario, rest: Omit<InstanceRecipe, "scenario">): InstanceRecipe => ({
  scenario: { spec: loaded.spec, hardware: loaded.hardware, entries: loaded.entries.map((e) => ({ index: e.index, entry: e.entry, template: e.template })) },
  ...rest
})

export type DeploymentRecipe =
  | { readonly kind: "instance"; readonly instance: InstanceRecipe; readonly acceptance: number }
  | {
      readonly kind: "pair"
      readonly prefill: { readonly instance: InstanceRecipe; readonly hardware_key: string; readonly count: number }
      readonly decode: { readonly instance: InstanceRecipe; readonly hardware_key: string; readonly count: number }
      readonly acceptance: number
      readonly typical_context: number
      readonly efficiency: EfficiencyMode
    }

export interface CapacityInputs {
  readonly deployment: DeploymentRecipe
  readonly workload: Workload
  readonly target: SloTarget
  readonly full: number
  readonly search: RateSearchOptions
}

/** The params of a search: its inputs as tagged data (no paths, no non-finite numbers). */
export const capacityParams = (inputs: CapacityInputs): unknown => encodeNonFinite(inputs)

/** A scenario variant from a recipe: its data, with empty paths (errors cannot happen here: the caller built this instance first). */
const loadedOf = (s: InstanceRecipe["scenario"]): LoadedScenario => ({
  root: "",
  paths: { root: "", allowed: [] },
  file: "",
  spec: s.spec,
  hardware: s.hardware,
  hardwareFile: "",
  entries: s.entries.map((e) => ({ ...e, file: "" })),
  text: "",
  warnings: []
})

const instanceOf = (r: InstanceRecipe): Effect.Effect<ServingInstance, ConfigError | UsageError> => {
  const loaded = loadedOf(r.scenario)
  const engine = r.engine ?? undefined
  if (r.build.kind === "afd") return afdInstance(loaded, engine, r.engine_flags, analyticEstimator, r.efficiency, r.typical_context, r.build.overrides)
  return servingInstance(
    loaded,
    engine,
    r.engine_flags,
    analyticEstimator,
    r.efficiency,
    r.typical_context,
    r.build.kind === "wide_ep" ? r.build.overrides : undefined
  )
}

/** The deployment a recipe describes, built as the caller built it. */
const deploymentOf = (r: DeploymentRecipe, workload: Workload): Effect.Effect<Deployment, ConfigError | UsageError> =>
  Effect.gen(function* () {
    if (r.kind === "instance") return instanceDeployment(yield* instanceOf(r.instance), r.acceptance, workload)
    const side = (s: typeof r.prefill) => Effect.map(instanceOf(s.instance), (inst) => ({ inst, hardware: s.instance.scenario.hardware, key: s.hardware_key }))
    const dep = pairDeployment(yield* side(r.prefill), r.prefill.count, yield* side(r.decode), r.decode.count, {
      acceptance: r.acceptance,
      workload,
      typical: r.typical_context,
      efficiency: r.efficiency
    })
    if (typeof dep === "string") return yield* Effect.fail(new UsageError({ message: dep }))
    return dep
  })

/** The search from its inputs. */
export const computeCapacity = (params: unknown) =>
  Effect.gen(function* () {
    const p = decodeNonFinite(params) as CapacityInputs
    const d = yield* deploymentOf(p.deployment, p.workload)
    return encodeNonFinite(maxRate(d, p.workload, p.target, p.full, p.search))
  })

/** Remote: its params are the whole search, so a cluster runner computes it (docs/cluster.md). */
export const CapacityNode = defineNodeType<unknown, unknown, ConfigError | UsageError | RemoteExecutionError>({
  kind: "capacity",
  code: `capacity-v${CAPACITY_CODE_VERSION}`,
  compute: (params) => computeCapacity(params),
  remote: true
})

/** A stored or computed node output as the search it encodes. */
const capacityOf = (output: unknown): CapacitySearch => decodeNonFinite(output) as CapacitySearch

/** Whether searches with `estimator` are graph nodes (stored, shared, computable by a cluster): the analytic estimator's only. */
export const searchesAreNodes = (estimator: Estimator): boolean => estimator.id === analyticEstimator.id && estimator.model === undefined

/**
 * A capacity search in a run: with the analytic estimator through the graph (`evaluate`, keyed by
 * the recipe: replayed when stored), else on `built`, the deployment the caller already has.
 */
export const searchCapacity = <E>(
  evaluate: (node: ReturnType<typeof CapacityNode.make>) => Effect.Effect<{ readonly value: unknown }, E>,
  estimator: Estimator,
  node: { readonly id: string; readonly name: string },
  inputs: CapacityInputs,
  built: Deployment
): Effect.Effect<CapacitySearch, E> =>
  searchesAreNodes(estimator)
    ? Effect.map(evaluate(CapacityNode.make({ ...node, params: capacityParams(inputs), deps: [] })), (e) => capacityOf(e.value))
    : Effect.succeed(maxRate(built, inputs.workload, inputs.target, inputs.full, inputs.search))

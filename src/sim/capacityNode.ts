/**
 * One layout's capacity search as a build-graph node: the largest request rate an engine
 * instance serves within the SLOs (src/serve/capacity.ts maxRate), each probe a simulated
 * benchmark. `sweep --bench` evaluates one per layout, so a rerun, or another runner sharing
 * the remote cache (src/graph/remote.ts), replays the search instead of simulating it again.
 *
 * Params are everything the search reads, as data: the scenario variant (its decoded spec,
 * hardware and layer templates, no file paths), the engine and its flags, the efficiency mode,
 * the typical context, the MTP acceptance, the workload, the SLOs and percentile, and the
 * max-load probe's request count. Only the analytic estimator is keyed this way (an ML model
 * would be another input; those sweeps compute every search). `cache verify` recomputes an entry
 * from its params like any node. Non-finite numbers (the max-load probe's rate, an unbounded
 * workload rate) are tagged through JSON (src/base/nonFinite.ts).
 */
import { Effect } from "effect"
import { decodeNonFinite, encodeNonFinite } from "../base/nonFinite.ts"
import type { LoadedScenario } from "../config/load.ts"
import { defineNodeType } from "../graph/node.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { LayerEntry, ScenarioSpec } from "../schema/scenario.ts"
import type { LayerTemplate } from "../schema/layer.ts"
import { maxRate, type CapacitySearch } from "../serve/capacity.ts"
import type { GoodputSlo } from "../serve/metrics.ts"
import type { Workload } from "../serve/workload.ts"
import { analyticEstimator } from "../timing/estimator.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { instanceDeployment, servingInstance, type EngineOverrides } from "./serving.ts"

/**
 * Bump when a capacity search's output changes for the same params: the serving simulation
 * (src/serve), the engine models, instance building (src/sim/serving.ts) or the step kernel
 * below them. test/graph/golden.test.ts ("capacity:search") fails when outputs change without it.
 */
export const CAPACITY_CODE_VERSION = 1

export interface CapacityInputs {
  readonly scenario: {
    readonly spec: ScenarioSpec
    readonly hardware: HardwareSpec
    readonly entries: ReadonlyArray<{ readonly index: number; readonly entry: LayerEntry; readonly template: LayerTemplate }>
  }
  readonly engine: string | null
  readonly engine_flags: EngineOverrides
  readonly efficiency: EfficiencyMode
  readonly typical_context: number
  readonly acceptance: number
  readonly workload: Workload
  readonly slo: GoodputSlo | null
  readonly percentile: number
  readonly full: number
}

/** The params of a layout's search: its inputs as tagged data (no paths, no non-finite numbers). */
export const capacityParams = (loaded: LoadedScenario, rest: Omit<CapacityInputs, "scenario">): unknown =>
  encodeNonFinite({
    scenario: { spec: loaded.spec, hardware: loaded.hardware, entries: loaded.entries.map((e) => ({ index: e.index, entry: e.entry, template: e.template })) },
    ...rest
  })

/** A scenario variant from a node's params: its data, with empty paths (errors cannot happen here: the caller built this instance first). */
const loadedOf = (s: CapacityInputs["scenario"]): LoadedScenario => ({
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

/** The search from its inputs: the instance built as `sweep --bench` builds it, then maxRate. */
export const computeCapacity = (params: unknown) =>
  Effect.gen(function* () {
    const p = decodeNonFinite(params) as CapacityInputs
    const inst = yield* servingInstance(loadedOf(p.scenario), p.engine ?? undefined, p.engine_flags, analyticEstimator, p.efficiency, p.typical_context)
    const search = maxRate(
      instanceDeployment(inst, p.acceptance, p.workload),
      p.workload,
      { ...(p.slo === null ? {} : { slo: p.slo }), percentile: p.percentile },
      p.full
    )
    return encodeNonFinite(search)
  })

export const CapacityNode = defineNodeType<unknown, unknown, unknown>({
  kind: "capacity",
  code: `capacity-v${CAPACITY_CODE_VERSION}`,
  compute: (params) => computeCapacity(params)
})

/** A stored or computed node output as the search it encodes. */
export const capacityOf = (output: unknown): CapacitySearch => decodeNonFinite(output) as CapacitySearch

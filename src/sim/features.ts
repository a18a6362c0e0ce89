/**
 * A scenario's feature rows (src/ml/features.ts): one per fused op of every layer entry (and the
 * LM head), then one per layer, for each phase, through the kernel's layer plans as `llmsim ops`
 * lists them. Times are analytic, on the hardware slice the simulator times ops with.
 */
import { Effect } from "effect"
import { displayPath, type LoadedScenario } from "../config/load.ts"
import { modelOf } from "../kernel/model.ts"
import { modelPlans } from "../kernel/step.ts"
import { layerFeatureRow, opFeatureRow, type FeatureRow } from "../ml/features.ts"
import { evaluateOpCost } from "../ops/registry.ts"
import { phasesOf } from "../schema/runtime.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import type { RuntimeOverrides } from "../config/runtime.ts"
import { layerContext } from "./simulate.ts"
import * as path from "node:path"

export const scenarioFeatures = (
  loaded: LoadedScenario,
  runtime: RuntimeOverrides & { batch_size: number; seq_len: number; phase: "prefill" | "decode" | "both" },
  efficiency: EfficiencyMode
) =>
  Effect.gen(function* () {
    const model = modelOf(loaded)
    const hw = timingHardware(loaded.hardware, efficiency)
    const hardware = path.basename(loaded.hardwareFile).replace(/\.ya?ml$/, "")
    const scenario = displayPath(loaded.root, loaded.file)
    const out: Array<FeatureRow> = []
    for (const phase of phasesOf(runtime.phase)) {
      const ctx = yield* layerContext(loaded, model, runtime, phase)
      for (const [i, plan] of modelPlans(model, ctx).entries()) {
        const e = model.entries[i]
        const place = {
          scenario,
          phase,
          batch_size: runtime.batch_size,
          seq_len: runtime.seq_len,
          layer: e === undefined ? "lm_head" : `${e.index}.${e.label}`
        }
        const ops = plan.specs.map((spec) => opFeatureRow(place, spec, evaluateOpCost(spec), hardware, hw))
        out.push(...ops, layerFeatureRow(place, plan.layer_type, ops, hardware, hw))
      }
    }
    return out
  })

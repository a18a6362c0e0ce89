/**
 * What the playbooks need of a scenario: its layer stack (templates with repeats), LM head and
 * defaulted precision, independent of any parallel layout.
 */
import type { LoadedScenario } from "../config/load.ts"
import type { LayerTemplate, MoeConfig } from "../schema/layer.ts"
import { DEFAULT_PRECISION, type LmHead, type Precision } from "../schema/scenario.ts"

export interface ModelEntry {
  /** Index of the entry in the scenario's `layers` list. */
  readonly index: number
  /** Layer label (the entry's `name`, else its type), as in the core result's layer names. */
  readonly label: string
  readonly template: LayerTemplate
  readonly repeat: number
}

export interface PlaybookModel {
  readonly entries: ReadonlyArray<ModelEntry>
  readonly lm_head?: LmHead
  readonly precision: Required<Precision>
}

export const resolvePrecision = (p: Precision | undefined): Required<Precision> => {
  const precision = { ...DEFAULT_PRECISION, ...p }
  return { ...precision, moe_experts: precision.moe_experts ?? precision.weights, lm_head: precision.lm_head ?? precision.activations }
}

export const modelOf = (loaded: LoadedScenario): PlaybookModel => ({
  entries: loaded.entries.map((e) => ({ index: e.index, label: e.entry.name ?? e.entry.type, template: e.template, repeat: e.entry.repeat ?? 1 })),
  ...(loaded.spec.lm_head ? { lm_head: loaded.spec.lm_head } : {}),
  precision: resolvePrecision(loaded.spec.precision)
})

/** Layer instance names, `L<i>.<label>`, as `llmsim run` names them. */
export const instanceNames = (model: PlaybookModel): Array<{ entry: number; name: string }> => {
  const out: Array<{ entry: number; name: string }> = []
  model.entries.forEach((e, i) => {
    for (let r = 0; r < e.repeat; r++) out.push({ entry: i, name: `L${out.length}.${e.label}` })
  })
  return out
}

export const moeConfigs = (model: PlaybookModel): Array<MoeConfig> =>
  model.entries.flatMap((e) => (e.template.type === "moe_layer" ? [e.template.config.moe_config] : []))

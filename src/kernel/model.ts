/**
 * The model the kernel evaluates: a scenario's layer stack (templates with repeats), LM head and
 * defaulted precision, independent of any parallel layout. Built once from a loaded scenario;
 * the core run, the playbooks and the accuracy checks all take this.
 */
import type { LayerTemplate, MoeConfig } from "../schema/layer.ts"
import { DEFAULT_PRECISION } from "../schema/dtypes.ts"
import type { LayerEntry, LmHead, Precision } from "../schema/scenario.ts"

export interface ModelEntry {
  /** Index of the entry in the scenario's `layers` list. */
  readonly index: number
  /** Layer label (the entry's `name`, else its type), as in the core result's layer names. */
  readonly label: string
  readonly template: LayerTemplate
  readonly repeat: number
}

export interface Model {
  readonly entries: ReadonlyArray<ModelEntry>
  readonly lm_head?: LmHead
  readonly precision: Required<Precision>
  /** Draft tokens per decode step: the MTP layers (entries with `mtp: true`, times repeat); absent = 0. */
  readonly mtp_draft_tokens?: number
}

export const resolvePrecision = (p: Precision | undefined): Required<Precision> => {
  const precision = { ...DEFAULT_PRECISION, ...p }
  return { ...precision, moe_experts: precision.moe_experts ?? precision.weights, lm_head: precision.lm_head ?? precision.activations }
}

/** What modelOf reads of a loaded scenario (src/config/load.ts LoadedScenario). */
export interface ScenarioLayers {
  readonly spec: { readonly lm_head?: LmHead; readonly precision?: Precision }
  readonly entries: ReadonlyArray<{ readonly index: number; readonly entry: LayerEntry; readonly template: LayerTemplate }>
}

export const modelOf = (loaded: ScenarioLayers): Model => {
  const drafts = loaded.entries.reduce((n, e) => n + (e.entry.mtp === true ? (e.entry.repeat ?? 1) : 0), 0)
  return {
    entries: loaded.entries.map((e) => ({
      index: e.index,
      label: e.entry.name ?? e.entry.type,
      // Per-entry precision and the MTP flag travel with the template; the layer estimators apply them (src/layers/context.ts).
      template:
        e.entry.precision === undefined && e.entry.mtp !== true
          ? e.template
          : { ...e.template, ...(e.entry.precision === undefined ? {} : { precision: e.entry.precision }), ...(e.entry.mtp === true ? { mtp: true } : {}) },
      repeat: e.entry.repeat ?? 1
    })),
    ...(loaded.spec.lm_head ? { lm_head: loaded.spec.lm_head } : {}),
    precision: resolvePrecision(loaded.spec.precision),
    ...(drafts > 0 ? { mtp_draft_tokens: drafts } : {})
  }
}

/** Layer instance names, `L<i>.<label>`, as `llmsim run` names them. */
export const instanceNames = (model: Model): Array<{ entry: number; name: string }> => {
  const out: Array<{ entry: number; name: string }> = []
  model.entries.forEach((e, i) => {
    for (let r = 0; r < e.repeat; r++) out.push({ entry: i, name: `L${out.length}.${e.label}` })
  })
  return out
}

export const moeConfigs = (model: Model): Array<MoeConfig> =>
  model.entries.flatMap((e) => (e.template.type === "moe_layer" ? [e.template.config.moe_config] : []))

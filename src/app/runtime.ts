/**
 * The runtime a run evaluates at: each field from the command line, else the scenario's
 * `runtime` block, else llmsim.config.ts's `runtime`, else the default.
 */
import type { LoadedScenario } from "../config/load.ts"
import type { ProjectShape } from "../config/project.ts"
import type { Phase } from "../schema/runtime.ts"

export interface RuntimeOverrides {
  readonly batch_size?: number
  readonly seq_len?: number
  readonly phase?: Phase
  readonly micro_batch?: number
  readonly tokens_per_expert?: number
}

const DEFAULT_RUNTIME = { batch_size: 1, seq_len: 1024, phase: "both" as Phase }

export const resolveRuntime = (project: ProjectShape, loaded: LoadedScenario, o: RuntimeOverrides) => {
  const s = loaded.spec.runtime ?? {}
  const pr = project.config.runtime ?? {}
  const pick = <K extends keyof RuntimeOverrides>(k: K) => o[k] ?? (s as RuntimeOverrides)[k] ?? (pr as RuntimeOverrides)[k]
  return {
    batch_size: pick("batch_size") ?? DEFAULT_RUNTIME.batch_size,
    seq_len: pick("seq_len") ?? DEFAULT_RUNTIME.seq_len,
    phase: pick("phase") ?? DEFAULT_RUNTIME.phase,
    ...(pick("micro_batch") === undefined ? {} : { micro_batch: pick("micro_batch") }),
    ...(pick("tokens_per_expert") === undefined ? {} : { tokens_per_expert: pick("tokens_per_expert") })
  }
}

export type ResolvedRuntime = ReturnType<typeof resolveRuntime>

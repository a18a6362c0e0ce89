/**
 * The runtime a run evaluates at: each field from the command line, else the scenario's
 * `runtime` block, else llmsim.config.ts's `runtime`, else the default. `checkedRuntime` also
 * refuses a combination no step can run (more micro-batches than sequences), naming the flag or
 * the scenario field it came from.
 */
import { Effect } from "effect"
import { ConfigError, UsageError } from "./errors.ts"
import { scenarioFieldError, type LoadedScenario } from "./load.ts"
import type { ProjectShape } from "./project.ts"
import type { Phase } from "../schema/runtime.ts"

export interface RuntimeOverrides {
  readonly batch_size?: number
  readonly seq_len?: number
  readonly phase?: Phase
  readonly micro_batch?: number
  readonly tokens_per_expert?: number
  readonly mtp_acceptance_rate?: number
}

const DEFAULT_RUNTIME = { batch_size: 1, seq_len: 1024, phase: "both" as Phase }

const resolveRuntime = (project: ProjectShape, loaded: LoadedScenario, o: RuntimeOverrides) => {
  const s = loaded.spec.runtime ?? {}
  const pr = project.config.runtime ?? {}
  const pick = <K extends keyof RuntimeOverrides>(k: K) => o[k] ?? (s as RuntimeOverrides)[k] ?? (pr as RuntimeOverrides)[k]
  return {
    batch_size: pick("batch_size") ?? DEFAULT_RUNTIME.batch_size,
    seq_len: pick("seq_len") ?? DEFAULT_RUNTIME.seq_len,
    phase: pick("phase") ?? DEFAULT_RUNTIME.phase,
    ...(pick("micro_batch") === undefined ? {} : { micro_batch: pick("micro_batch") }),
    ...(pick("tokens_per_expert") === undefined ? {} : { tokens_per_expert: pick("tokens_per_expert") }),
    ...(pick("mtp_acceptance_rate") === undefined ? {} : { mtp_acceptance_rate: pick("mtp_acceptance_rate") })
  }
}

export type ResolvedRuntime = ReturnType<typeof resolveRuntime>

/** Where the batch size came from, in words (for a message about the micro-batch). */
const batchSource = (project: ProjectShape, loaded: LoadedScenario, o: RuntimeOverrides): string =>
  o.batch_size !== undefined
    ? "--batch"
    : loaded.spec.runtime?.batch_size !== undefined
      ? "the scenario's runtime.batch_size"
      : project.config.runtime?.batch_size !== undefined
        ? "llmsim.config.ts runtime.batch_size"
        : "the default batch"

/**
 * The runtime, or an error when it cannot run: a micro-batch holds at least one sequence, so
 * micro_batch <= batch_size (else the per-micro-batch work is a fraction of a sequence).
 */
const runtimeError = (project: ProjectShape, loaded: LoadedScenario, o: RuntimeOverrides, r: ResolvedRuntime): ConfigError | UsageError | undefined => {
  if (r.micro_batch === undefined || r.micro_batch <= r.batch_size) return undefined
  const why = `micro_batch ${r.micro_batch} is more than the batch of ${r.batch_size} sequences (${batchSource(project, loaded, o)}); a micro-batch holds at least one sequence`
  if (o.micro_batch !== undefined) return new UsageError({ message: `--micro-batch: ${why}` })
  if (o.batch_size !== undefined) return new UsageError({ message: `--batch: ${why}` })
  return scenarioFieldError(loaded.root, loaded.file, loaded.text, ["runtime", "micro_batch"], `Expected at most ${r.batch_size}: ${why}`)
}

/** resolveRuntime, failing with runtimeError's error. */
export const checkedRuntime = (
  project: ProjectShape,
  loaded: LoadedScenario,
  o: RuntimeOverrides
): Effect.Effect<ResolvedRuntime, ConfigError | UsageError> => {
  const r = resolveRuntime(project, loaded, o)
  const e = runtimeError(project, loaded, o, r)
  return e === undefined ? Effect.succeed(r) : Effect.fail(e)
}

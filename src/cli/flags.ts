/**
 * Flags shared by every command that evaluates a scenario.
 */
import { Option } from "effect"
import { Flag } from "effect/cli"
import { Phase } from "../schema/runtime.ts"
import type { RunOptions } from "../sim/simulate.ts"

const positiveInt = (name: string, description: string) =>
  Flag.Int(name).pipe(
    Flag.withDescription(description),
    Flag.filter((n) => n >= 1, (n) => `--${name} must be an integer >= 1, got ${n}`),
    Flag.optional
  )

export const runtimeFlags = {
  batch: positiveInt("batch", "Sequences per attention data-parallel group (RuntimeSpec.batch_size)"),
  seq: positiveInt("seq", "Prompt length (prefill) or KV-cache length (decode), tokens"),
  phase: Flag.Literals("phase", Phase.literals).pipe(Flag.withDescription("prefill, decode or both (default both)"), Flag.optional),
  microBatch: positiveInt("micro-batch", "Micro-batches per step (enables compute/communication overlap)"),
  tokensPerExpert: Flag.Finite("tokens-per-expert").pipe(
    Flag.withDescription("Override routed tokens per local expert (else uniform routing)"),
    Flag.filter((n) => n >= 0, (n) => `--tokens-per-expert must be >= 0, got ${n}`),
    Flag.optional
  ),
  estimator: Flag.Literals("estimator", ["analytic"]).pipe(Flag.withDescription("Latency estimator"), Flag.withDefault("analytic" as const)),
  efficiency: Flag.Literals("efficiency", ["hardware", "none"]).pipe(
    Flag.withDescription("hardware: use the efficiency constants in the hardware file; none: peak-only roofline (speed of light)"),
    Flag.withDefault("hardware" as const)
  ),
  cacheDir: Flag.String("cache-dir").pipe(Flag.withDescription("Result store folder (default from llmsim.config.ts, else ./cache)"), Flag.optional),
  cache: Flag.Boolean("cache").pipe(Flag.withDescription("Use the on-disk result store (--no-cache disables it)"), Flag.withDefault(true))
}

export type RuntimeFlagValues = {
  readonly batch: Option.Option<number>
  readonly seq: Option.Option<number>
  readonly phase: Option.Option<Phase>
  readonly microBatch: Option.Option<number>
  readonly tokensPerExpert: Option.Option<number>
  readonly estimator: string
  readonly efficiency: "hardware" | "none"
  readonly cacheDir: Option.Option<string>
  readonly cache: boolean
}

export const toRunOptions = (scenario: Option.Option<string>, f: RuntimeFlagValues): RunOptions => {
  const runtime: Record<string, unknown> = {}
  if (Option.isSome(f.batch)) runtime.batch_size = f.batch.value
  if (Option.isSome(f.seq)) runtime.seq_len = f.seq.value
  if (Option.isSome(f.phase)) runtime.phase = f.phase.value
  if (Option.isSome(f.microBatch)) runtime.micro_batch = f.microBatch.value
  if (Option.isSome(f.tokensPerExpert)) runtime.tokens_per_expert = f.tokensPerExpert.value
  return {
    cwd: process.cwd(),
    ...(Option.isSome(scenario) ? { scenario: scenario.value } : {}),
    runtime,
    estimator: f.estimator,
    efficiency: f.efficiency,
    ...(Option.isSome(f.cacheDir) ? { cacheDir: f.cacheDir.value } : {}),
    noCache: !f.cache
  }
}

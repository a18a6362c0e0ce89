/**
 * Flags shared by every command that evaluates a scenario, and how a flag's text becomes a typed,
 * validated value at parse time: a bad value stops the command before anything runs, with a
 * message that names the flag (`--ep: expected positive integers ...`).
 */
import { Effect, Option, Result } from "effect"
import { CliError, Command, Flag } from "effect/cli"
import type { RunOptions } from "../app/session.ts"
import { STRATEGIES, type StrategyName } from "../kernel/strategies.ts"
import { Phase } from "../schema/runtime.ts"

/** Turn a flag's value into `B` with `parse`; a failure (its reason) is reported as `--name: reason`. */
export const parsedWith =
  <A, B>(name: string, parse: (a: A) => Result.Result<B, string>) =>
  (self: Flag.Flag<A>): Flag.Flag<B> =>
    Flag.mapEffect(self, (a) => {
      const r = parse(a)
      return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(new CliError.ValidationError({ message: `--${name}: ${r.failure}` }))
    })

/** A comma-separated list flag, each item parsed by `item` (undefined: not one of `expected`). */
export const listFlag = <A>(name: string, item: (s: string) => A | undefined, expected: string) =>
  Flag.String(name).pipe(
    parsedWith(name, (text: string) => {
      const out: Array<A> = []
      for (const p of text.split(",").map((s) => s.trim())) {
        const x = item(p)
        if (x === undefined) return Result.fail(`expected ${expected}, got "${p}" in "${text}"`)
        out.push(x)
      }
      return Result.succeed(out as ReadonlyArray<A>)
    })
  )

export const positiveInteger = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : undefined)

/** `--strategy`: how ops and layers compose in time; every name of src/kernel/strategies.ts. */
export const strategyFlag = Flag.Literals("strategy", Object.keys(STRATEGIES) as ReadonlyArray<StrategyName>).pipe(
  Flag.withDescription(
    "serial | overlapped (core roll-up; overlapped = --micro-batch >= 2 on two streams) | two-batch-overlap | serial-micro-batches (the large-EP deployment model, as large-ep evaluate) | afd-pipeline (as afd simulate)"
  ),
  Flag.optional
)

/** An optional integer flag >= 1, its error naming the flag. */
export const positiveIntFlag = (name: string, description: string) =>
  Flag.Int(name).pipe(
    Flag.withDescription(description),
    Flag.filter(
      (n) => n >= 1,
      (n) => `--${name} must be an integer >= 1, got ${n}`
    ),
    Flag.optional
  )

/**
 * One runtime value; a list or a range (`1,2,4`, `1..512:x2`) is what `llmsim sweep` takes, and
 * the error says so rather than only "expected an integer".
 */
const singleValueFlag = (name: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withDescription(description),
    parsedWith(name, (text: string) => {
      const t = text.trim()
      if (/[,]|\.\./.test(t)) return Result.fail(`takes one value, got "${t}"; to compare several, use llmsim sweep --${name} ${t}`)
      const n = positiveInteger(t)
      return n === undefined ? Result.fail(`expected an integer >= 1, got "${t}"`) : Result.succeed(n)
    }),
    Flag.optional
  )

export const runtimeFlags = {
  batch: singleValueFlag("batch", "Sequences per attention data-parallel group (runtime.batch_size); lists and ranges: llmsim sweep"),
  seq: singleValueFlag("seq", "Prompt length (prefill) or KV-cache length (decode), tokens; lists and ranges: llmsim sweep"),
  phase: Flag.Literals("phase", Phase.literals).pipe(Flag.withDescription("prefill, decode or both (default both)"), Flag.optional),
  microBatch: positiveIntFlag("micro-batch", "Micro-batches per step (enables compute/communication overlap)"),
  tokensPerExpert: Flag.Finite("tokens-per-expert").pipe(
    Flag.withDescription("Override routed tokens per local expert (else uniform routing)"),
    // The upper bound keeps every FLOP and byte count derived from it finite (as config numbers).
    Flag.filter(
      (n) => n >= 0 && n <= 1e15,
      (n) => `--tokens-per-expert must be between 0 and 1e15, got ${n}`
    ),
    Flag.optional
  ),
  estimator: Flag.Literals("estimator", ["analytic", "ml"]).pipe(
    Flag.withDescription("analytic: the roofline; ml: the roofline corrected by --model where the model covers the op (docs/ml-estimator.md)"),
    Flag.withDefault("analytic" as const)
  ),
  model: Flag.String("model").pipe(Flag.withDescription("Model file for --estimator ml (from llmsim ml train, e.g. models/reference.json)"), Flag.optional),
  efficiency: Flag.Literals("efficiency", ["hardware", "none"]).pipe(
    Flag.withDescription("hardware: use the efficiency constants in the hardware file; none: peak-only roofline (speed of light)"),
    Flag.withDefault("hardware" as const)
  ),
  cacheDir: Flag.String("cache-dir").pipe(Flag.withDescription("Result store folder (default from llmsim.config.ts, else ./cache)"), Flag.optional),
  cache: Flag.Boolean("cache").pipe(Flag.withDescription("Use the on-disk result store (--no-cache disables it)"), Flag.withDefault(true)),
  remoteCache: Flag.String("remote-cache").pipe(
    Flag.withDescription("Shared result store over the Bazel HTTP cache protocol (http(s) URL; entries signed with LLMSIM_REMOTE_CACHE_KEY; docs/caching.md)"),
    parsedWith(
      "remote-cache",
      (given: string): Result.Result<string, string> =>
        /^https?:\/\/\S+$/.test(given) ? Result.succeed(given) : Result.fail(`expected an http(s) URL, got "${given}"`)
    ),
    Flag.optional
  )
}

/**
 * `--cluster URL`: the PostgreSQL database of a cluster whose runners (`llmsim worker`) compute
 * the capacity searches (docs/cluster.md).
 */
export const clusterFlag = (what: string) =>
  Flag.String("cluster").pipe(
    Flag.withDescription(what),
    parsedWith(
      "cluster",
      (given: string): Result.Result<string, string> =>
        /^postgres(ql)?:\/\/\S+$/.test(given) ? Result.succeed(given) : Result.fail(`expected a postgres:// URL, got "${given}"`)
    )
  )

type RuntimeFlagValues = Command.Command.Config.Infer<typeof runtimeFlags>

export const toRunOptions = (scenario: Option.Option<string>, f: RuntimeFlagValues): RunOptions => {
  const some = <K extends string, A>(key: K, o: Option.Option<A>) => (Option.isSome(o) ? ({ [key]: o.value } as { [k in K]: A }) : {})
  return {
    cwd: process.cwd(),
    ...some("scenario", scenario),
    runtime: {
      ...some("batch_size", f.batch),
      ...some("seq_len", f.seq),
      ...some("phase", f.phase),
      ...some("micro_batch", f.microBatch),
      ...some("tokens_per_expert", f.tokensPerExpert)
    },
    estimator: f.estimator,
    ...some("model", f.model),
    efficiency: f.efficiency,
    ...some("cacheDir", f.cacheDir),
    ...some("remoteCache", f.remoteCache),
    noCache: !f.cache
  }
}

/** The estimator and store flags of the commands that serve a workload (bench, plan, export): no step runtime flags. */
export const servingRunFlags = {
  estimator: runtimeFlags.estimator,
  model: runtimeFlags.model,
  efficiency: runtimeFlags.efficiency,
  cacheDir: runtimeFlags.cacheDir,
  cache: runtimeFlags.cache,
  remoteCache: runtimeFlags.remoteCache
}

/** Run options of a serving command: the scenario, estimator and store; the step runtime stays the scenario's. */
export const servingRunOptions = (
  scenario: Option.Option<string>,
  f: Pick<RuntimeFlagValues, "estimator" | "model" | "efficiency" | "cacheDir" | "cache" | "remoteCache">
): RunOptions =>
  toRunOptions(scenario, { ...f, batch: Option.none(), seq: Option.none(), phase: Option.none(), microBatch: Option.none(), tokensPerExpert: Option.none() })

/** Description and examples (`[command, what it shows]`) of a command, for --help. */
export const documented =
  (description: string, examples: ReadonlyArray<readonly [string, string]>) =>
  <const Name extends string, Input, ContextInput, E, R>(self: Command.Command<Name, Input, ContextInput, E, R>) =>
    self.pipe(Command.withDescription(description), Command.withExamples(examples.map(([command, what]) => ({ command, description: what }))))

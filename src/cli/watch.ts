/**
 * `llmsim watch`: re-evaluate a scenario on every save of it, of any file it references, or of
 * llmsim.config.ts, and show what changed. Bad input is reported and watching goes on; only a
 * watcher failure (the inotify limit) stops it, with exit status 1. Ctrl-C exits with 0.
 */
import { Effect, Exit } from "effect"
import { Command, Flag } from "effect/cli"
import { makeReporter } from "../watch/reporter.ts"
import { watchSession } from "../watch/session.ts"
import { documented, runtimeFlags, toRunOptions } from "./flags.ts"
import { exitCode } from "./output.ts"
import { scenarioArg } from "./run.ts"

const watchFlags = {
  reporter: Flag.Literals("reporter", ["table", "json"]).pipe(
    Flag.withDescription("table: the screen; json: one JSON event per line on stdout (for tools)"),
    Flag.withDefault("table" as const)
  ),
  clear: Flag.Boolean("clear").pipe(
    Flag.withDescription("Redraw the screen on each result (only on a terminal outside CI; --no-clear keeps history)"),
    Flag.withDefault(true)
  )
}

/**
 * Ctrl-C (SIGINT) and SIGTERM interrupt the main fiber (NodeRuntime.runMain), which closes the
 * watchers; runMain would then exit with 130. Stopping is how a watch session normally ends,
 * so once everything is closed we exit with 0. Acquired first, so released last.
 */
const exitZeroOnSignal = Effect.acquireRelease(
  Effect.sync(() => {
    const state = { signalled: false }
    const onSignal = () => void (state.signalled = true)
    process.prependListener("SIGINT", onSignal)
    process.prependListener("SIGTERM", onSignal)
    return { state, onSignal }
  }),
  ({ state, onSignal }, exit) =>
    Effect.sync(() => {
      process.removeListener("SIGINT", onSignal)
      process.removeListener("SIGTERM", onSignal)
      if (state.signalled && Exit.isFailure(exit)) process.exit(0)
    })
)

export const watchCommand = Command.make(
  "watch",
  { scenario: scenarioArg, ...watchFlags, ...runtimeFlags },
  Effect.fn(function*(a) {
    const reporter = makeReporter(a.reporter, a.clear)
    yield* Effect.scoped(Effect.gen(function*() {
      yield* exitZeroOnSignal
      return yield* watchSession({ run: toRunOptions(a.scenario, a), reporter })
    })).pipe(
      Effect.catchTag("WatcherError", (e) => Effect.andThen(Effect.sync(() => reporter.fatal(e)), exitCode(1)))
    )
  })
).pipe(documented("Re-evaluate a scenario on every save and show what changed (Ctrl-C to quit)", [
  ["llmsim watch", "The default scenario (llmsim.config.ts)"],
  ["llmsim watch configs/scenarios/deepseek_v3_h800.yaml --batch 8 --seq 4096", "Your batch and length"],
  ["llmsim watch --reporter json", "One JSON event per line, for tools"]
]))

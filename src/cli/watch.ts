/**
 * `llmsim watch`: re-evaluate a scenario on every save of it, of any file it references, or of
 * llmsim.config.ts, and show what changed. Bad input is reported and watching goes on; only a
 * watcher failure (the inotify limit) stops it, with exit status 1. Ctrl-C exits with 0.
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { makeReporter } from "../report/watchReporter.ts"
import { documented, runtimeFlags, toRunOptions } from "./flags.ts"
import { exitCode, exitZeroOnSignal, writeStderr } from "./output.ts"
import { renderRunHtml } from "../report/html.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"
import type { RunResult } from "../kernel/records.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import { scenarioArg } from "./run.ts"
import { formatIssue, type Issue } from "../config/errors.ts"
import type { Reporter } from "../watch/reporter.ts"

const watchFlags = {
  reporter: Flag.Literals("reporter", ["table", "json"]).pipe(
    Flag.withDescription("table: the screen; json: one JSON event per line on stdout (for tools)"),
    Flag.withDefault("table" as const)
  ),
  html: Flag.Boolean("html").pipe(
    Flag.withDescription("Also serve the HTML report on 127.0.0.1 (URL on stderr) and reload open tabs on every good save"),
    Flag.withDefault(false)
  ),
  port: Flag.Int("port").pipe(
    Flag.withDescription("Port of --html (default: a free one)"),
    Flag.filter(
      (n) => n >= 0 && n <= 65535,
      (n) => `--port must be 0 to 65535, got ${n}`
    ),
    Flag.withDefault(0)
  ),
  clear: Flag.Boolean("clear").pipe(
    Flag.withDescription("Redraw the screen on each result (only on a terminal outside CI; --no-clear keeps history)"),
    Flag.withDefault(true)
  )
}

/**
 * The live report's server, and what a good result does with it: render the page (async, off
 * the watch loop) and publish it unless a newer result was rendered first.
 */
const liveHtml = (port: number, efficiency: EfficiencyMode) =>
  Effect.gen(function* () {
    // Loaded here, not at start-up: a static `node:http` import makes Node load its HTTP
    // client (undici, TLS) on every llmsim start, ~50 ms of a run.
    const { liveReport } = yield* Effect.promise(() => import("../watch/liveReport.ts"))
    const live = yield* liveReport(port)
    yield* writeStderr(`report: ${live.url} (updates on every save)\n`)
    let latest = 0
    return {
      onResult: (result: RunResult, hardware: HardwareSpec) => {
        const seq = ++latest
        renderRunHtml(result, timingHardware(hardware, efficiency)).then(
          (html) => void (seq === latest && live.publish(html)),
          (e: unknown) => void process.stderr.write(`warning: --html: the report could not be drawn: ${e instanceof Error ? e.message : String(e)}\n`)
        )
      },
      /** A bad save: the page keeps the last good figures, marked stale with the save's errors. */
      onError: (issues: ReadonlyArray<Issue>) => {
        // A page still drawing for an earlier save must not replace the banner.
        ++latest
        live.markStale(issues.map(formatIssue))
      }
    }
  })

export const watchCommand = Command.make(
  "watch",
  { scenario: scenarioArg, ...watchFlags, ...runtimeFlags },
  Effect.fn(function* (a) {
    const screen = makeReporter(a.reporter, a.clear)
    const run = toRunOptions(a.scenario, a)
    yield* Effect.scoped(
      Effect.gen(function* () {
        yield* exitZeroOnSignal
        const live = a.html ? yield* liveHtml(a.port, run.efficiency) : undefined
        const reporter: Reporter =
          live === undefined
            ? screen
            : {
                ...screen,
                error: (issues, activity, watching) => {
                  screen.error(issues, activity, watching)
                  live.onError(issues)
                }
              }
        // The session (chokidar and its file watchers) loads when a watch starts, not with every command.
        const { watchSession } = yield* Effect.promise(() => import("../watch/session.ts"))
        return yield* watchSession({ run, reporter, ...(live === undefined ? {} : { onResult: live.onResult }) })
      })
    ).pipe(
      Effect.catchTag("WatcherError", (e) =>
        Effect.andThen(
          Effect.sync(() => screen.fatal(e)),
          exitCode(1)
        )
      )
    )
  })
).pipe(
  documented("Re-evaluate a scenario on every save and show what changed (Ctrl-C to quit)", [
    ["llmsim watch", "The default scenario (llmsim.config.ts)"],
    ["llmsim watch configs/scenarios/deepseek_v3_h800.yaml --batch 8 --seq 4096", "Your batch and length"],
    ["llmsim watch --reporter json", "One JSON event per line, for tools"],
    ["llmsim watch --html --port 8750", "The HTML report at http://127.0.0.1:8750/, reloaded on every save"]
  ])
)

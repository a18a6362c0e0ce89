/**
 * The llmsim command line. Typed errors a user can fix (bad config, bad flag value) print one
 * line each on stderr, `file:line:col field: expected ...`, and exit 1; nothing is written and
 * stdout stays empty. Exit codes: 0 success, 1 a user error, 2 a finding (`diff
 * --fail-on-regression`), 70 an internal error (EX_SOFTWARE: a defect in llmsim, printed as one
 * `internal error:` line; the stack trace only with --verbose or LLMSIM_VERBOSE=1). A reader
 * that closes stdout early (`| head -1`) ends the run quietly with exit 0, as `git log | head`.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, FileSystem, Layer } from "effect"
import { CliError, CliOutput, Command, Flag, GlobalFlag } from "effect/cli"
import { cacheCommand } from "./cache.ts"
import { opsCommand } from "./ops.ts"
import { runCommand } from "./run.ts"
import { playbookCommands } from "./playbooks.ts"
import { watchCommand } from "./watch.ts"
import { diffCommand } from "./diff.ts"
import { accuracyCommands } from "./accuracy.ts"
import { guardReads } from "../config/safeRead.ts"
import { VERSION } from "../version.ts"

/** EX_SOFTWARE (sysexits.h): an internal software error, distinct from a user error (1). */
export const EXIT_INTERNAL = 70

/**
 * `--verbose`: show the stack trace of an internal error. Declared as a global flag so every
 * command accepts it (and --help lists it); the error printer runs outside the command, so it
 * reads the token from argv (before a `--`) rather than the parsed setting.
 */
const Verbose = GlobalFlag.Setting("verbose")({
  flag: Flag.Boolean("verbose").pipe(Flag.withDescription("On an internal error, print its stack trace too (or LLMSIM_VERBOSE=1)"), Flag.withDefault(false))
})
const argvBeforeDashDash = (argv: ReadonlyArray<string>) => {
  const end = argv.indexOf("--")
  return end < 0 ? argv : argv.slice(0, end)
}
const verbose = (): boolean => process.env.LLMSIM_VERBOSE === "1" || argvBeforeDashDash(process.argv.slice(2)).includes("--verbose")

const root = Command.make("llmsim").pipe(
  Command.withDescription("Plan LLM serving: latency, throughput and memory of a model on hardware with a parallel layout"),
  Command.withSubcommands([runCommand, opsCommand, ...playbookCommands, watchCommand, diffCommand, ...accuracyCommands, cacheCommand]),
  Command.withGlobalFlags([Verbose])
)

/** One line per error, then where to look; help text only when asked for (never on a bad value,
 *  so `--batch x > out.json` leaves out.json empty). */
export const usageHint = (commandPath: ReadonlyArray<string>, usage: string): string =>
  `usage: ${usage}; ${commandPath.join(" ")} --help for all flags`

const presenter: CliOutput.Presenter = {
  present: (event) => {
    if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
    const lines = event.errors.map((e) => `error: ${oneLine(e.message)}`)
    lines.push(usageHint(event.commandPath, event.helpDoc.usage))
    return Effect.sync(() => void process.stderr.write(`${lines.join("\n")}\n`))
  }
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, "; ").trim()

/** Where a defect is reported; the trace follows only when asked for. */
const reportInternal = (cause: Cause.Cause<unknown>) =>
  Effect.sync(() => {
    const squashed = Cause.squash(cause)
    const message = squashed instanceof Error ? squashed.message : String(squashed)
    process.stderr.write(
      `internal error: ${oneLine(message)} (please report it on the llmsim issue tracker, with the command and its --verbose output)\n`
    )
    if (verbose()) process.stderr.write(`${Cause.pretty(cause)}\n`)
    process.exitCode = EXIT_INTERNAL
  })

const userError = (message: string) =>
  Effect.sync(() => {
    process.stderr.write(`error: ${message}\n`)
    process.exitCode = 1
  })

/** Every failure ends here: typed user errors as one line, parse errors (already printed by the
 *  presenter) as exit 1, anything else as an internal error. Interruption passes through. */
const handleFailure = (cause: Cause.Cause<unknown>): Effect.Effect<void> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  const found = Cause.findError(cause)
  if (found._tag === "Success" && !Cause.hasDies(cause)) {
    const e = found.success as { readonly _tag?: string; readonly message?: string }
    switch (e?._tag) {
      case "ConfigError":
      case "UsageError":
      case "GitError":
      case "WatcherError":
      case "ReferenceDataError":
        return userError(String(e.message))
    }
    if (CliError.isCliError(e)) {
      if (e._tag === "ShowHelp") {
        // Errors were printed by the presenter; bare `llmsim` (help shown) stays exit 0.
        return Effect.sync(() => {
          if ((e as CliError.ShowHelp).errors.length > 0) process.exitCode = 1
        })
      }
      return userError(oneLine(e.message))
    }
  }
  return reportInternal(cause)
}

// Reads are bounded and regular-file only (src/config/safeRead.ts), for every command.
const platform = Layer.effect(FileSystem.FileSystem, Effect.gen(function*() {
  return guardReads(yield* FileSystem.FileSystem)
})).pipe(
  Layer.provideMerge(NodeServices.layer)
)

const program = Command.run(root, { version: VERSION }).pipe(
  Effect.catchCause(handleFailure),
  Effect.provide(CliOutput.layerPresenter(presenter)),
  Effect.provide(platform)
)

// A reader that closed the pipe has all it wanted: end quietly (exit 0), as `git log | head`.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0)
  process.stderr.write(`error: cannot write to stdout: ${e.message}\n`)
  process.exit(1)
})
// A throw outside any effect (a callback) is still a defect report, never a raw stack trace.
const onStray = (e: unknown) => {
  const message = e instanceof Error ? e.message : String(e)
  process.stderr.write(`internal error: ${oneLine(message)} (please report it on the llmsim issue tracker, with the command and its --verbose output)\n`)
  if (verbose() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`)
  process.exit(EXIT_INTERNAL)
}
process.on("uncaughtException", onStray)
process.on("unhandledRejection", onStray)

NodeRuntime.runMain(program as Effect.Effect<void, unknown>, { disableErrorReporting: true })


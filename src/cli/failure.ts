/**
 * How a failed command ends: a typed user error as one `error:` line on stderr (exit 1), a flag
 * parse error as one line plus a usage hint (exit 1, nothing on stdout), anything else as one
 * `internal error:` line (exit 70, EX_SOFTWARE) with the stack trace only when asked for
 * (--verbose or LLMSIM_VERBOSE=1). Kept apart from main.ts so tests can drive it in process.
 */
import { Cause, Effect } from "effect"
import { CliError, CliOutput, Flag, GlobalFlag } from "effect/cli"

/** EX_SOFTWARE (sysexits.h): an internal software error, distinct from a user error (1). */
export const EXIT_INTERNAL = 70

/**
 * `--verbose`: show the stack trace of an internal error. Declared as a global flag so every
 * command accepts it (and --help lists it); the error printer runs outside the command, so it
 * reads the token from argv (before a `--`) rather than the parsed setting.
 */
export const Verbose = GlobalFlag.Setting("verbose")({
  flag: Flag.Boolean("verbose").pipe(Flag.withDescription("On an internal error, print its stack trace too (or LLMSIM_VERBOSE=1)"), Flag.withDefault(false))
})
const argvBeforeDashDash = (argv: ReadonlyArray<string>) => {
  const end = argv.indexOf("--")
  return end < 0 ? argv : argv.slice(0, end)
}
export const verbose = (): boolean => process.env.LLMSIM_VERBOSE === "1" || argvBeforeDashDash(process.argv.slice(2)).includes("--verbose")

/** One line per error, then where to look; help text only when asked for (never on a bad value,
 *  so `--batch x > out.json` leaves out.json empty). */
export const usageHint = (commandPath: ReadonlyArray<string>, usage: string): string => `usage: ${usage}; ${commandPath.join(" ")} --help for all flags`

export const presenter: CliOutput.Presenter = {
  present: (event) => {
    if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
    const lines = event.errors.map((e) => `error: ${oneLine(e.message)}`)
    lines.push(usageHint(event.commandPath, event.helpDoc.usage))
    return Effect.sync(() => void process.stderr.write(`${lines.join("\n")}\n`))
  }
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, "; ").trim()

/** Where a defect is reported; the trace follows only when asked for. */
export const internalErrorLine = (message: string): string =>
  `internal error: ${oneLine(message)} (please report it on the llmsim issue tracker, with the command and its --verbose output)\n`

const reportInternal = (cause: Cause.Cause<unknown>) =>
  Effect.sync(() => {
    const squashed = Cause.squash(cause)
    process.stderr.write(internalErrorLine(squashed instanceof Error ? squashed.message : String(squashed)))
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
export const handleFailure = (cause: Cause.Cause<unknown>): Effect.Effect<void> => {
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
      case "ModelFileError":
      case "MeasurementError":
      case "RemoteExecutionError":
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

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
import { Effect, FileSystem, Layer } from "effect"
import { CliOutput, Command } from "effect/cli"
import { cacheCommand } from "./cache.ts"
import { opsCommand } from "./ops.ts"
import { runCommand } from "./run.ts"
import { reportCommand } from "./report.ts"
import { playbookCommands } from "./playbooks.ts"
import { watchCommand } from "./watch.ts"
import { sweepCommand } from "./sweep.ts"
import { diffCommand } from "./diff.ts"
import { accuracyCommands } from "./accuracy.ts"
import { featuresCommand } from "./features.ts"
import { mlCommand } from "./ml.ts"
import { schemaCommand } from "./schema.ts"
import { listCommand } from "./list.ts"
import { initCommand } from "./init.ts"
import { importCommand } from "./importHf.ts"
import { guardReads } from "../config/safeRead.ts"
import { EXIT_INTERNAL, handleFailure, internalErrorLine, presenter, Verbose, verbose } from "./failure.ts"
import { VERSION } from "../version.ts"
import { startRecording } from "../launch/recording.ts"
import { deferStoreWrites, flushStoreWrites } from "../app/session.ts"

const root = Command.make("llmsim").pipe(
  Command.withDescription("Plan LLM serving: latency, throughput and memory of a model on hardware with a parallel layout"),
  Command.withSubcommands([runCommand, reportCommand, opsCommand, sweepCommand, ...playbookCommands, watchCommand, diffCommand, ...accuracyCommands, featuresCommand, mlCommand, cacheCommand, schemaCommand, listCommand, initCommand, importCommand]),
  Command.withGlobalFlags([Verbose])
)

// Reads are bounded and regular-file only (src/config/safeRead.ts), for every command.
const platform = Layer.effect(FileSystem.FileSystem, Effect.gen(function*() {
  return guardReads(yield* FileSystem.FileSystem)
})).pipe(
  Layer.provideMerge(NodeServices.layer)
)

// Store writes wait until the command has printed (and succeeded): src/app/session.ts.
deferStoreWrites()

const program = Command.run(root, { version: VERSION }).pipe(
  Effect.tap(() => flushStoreWrites),
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
  process.stderr.write(internalErrorLine(e instanceof Error ? e.message : String(e)))
  if (verbose() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`)
  process.exit(EXIT_INTERNAL)
}
process.on("uncaughtException", onStray)
process.on("unhandledRejection", onStray)

// A replayable command is recorded for bin/llmsim.js to replay (src/launch/command.js).
startRecording(process.argv.slice(2), process.cwd())

NodeRuntime.runMain(program as Effect.Effect<void, unknown>, { disableErrorReporting: true })


/**
 * The llmsim command line. Typed errors a user can fix (bad config, bad flag value) print one
 * line each on stderr, `file:line:col field: expected ...`, and exit 1; nothing is written and
 * stdout stays empty. Exit codes: 0 success, 1 a user error, 2 a finding (`diff
 * --fail-on-regression`), 70 an internal error (EX_SOFTWARE: a defect in llmsim, printed as one
 * `internal error:` line; the stack trace only with --verbose or LLMSIM_VERBOSE=1). A reader
 * that closes stdout early (`| head -1`) ends the run quietly with exit 0, as `git log | head`.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import { Context, Effect, FileSystem, Layer, type Path, Terminal } from "effect"
import { CliOutput, Command } from "effect/cli"
import { ChildProcessSpawner } from "effect/process"
import { commandTree, subcommandsFor } from "./commands.ts"
import { guardReads } from "../config/safeRead.ts"
import { EXIT_INTERNAL, handleFailure, internalErrorLine, presenter, verbose } from "./failure.ts"
import { VERSION } from "../base/version.ts"
import { startRecording } from "../launch/recording.ts"
import { deferStoreWrites, flushStoreWrites } from "../app/session.ts"

// The child-process spawner of NodeServices.layer, loaded on the first spawn: only `diff` starts
// a process (git), and node:child_process took ~2 ms of every start.
const spawnOnDemand = Layer.effect(
  ChildProcessSpawner.ChildProcessSpawner,
  Effect.gen(function* () {
    const services = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
    const spawner = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeChildProcessSpawner")).pipe(
        Effect.flatMap((m) => Effect.provide(Effect.service(ChildProcessSpawner.ChildProcessSpawner), m.layer)),
        Effect.provideContext(services)
      )
    )
    return ChildProcessSpawner.make((command) => Effect.flatMap(spawner, (s) => s.spawn(command)))
  })
)

// The terminal of NodeServices.layer, made on first use: only prompts and the wizard use it, and
// making it loads node:readline and opens stdin, ~1 ms of every start.
const terminalOnDemand = Layer.effect(
  Terminal.Terminal,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const terminal = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeTerminal")).pipe(
        Effect.flatMap((m) => Layer.buildWithScope(m.layer, scope)),
        Effect.map(Context.get(Terminal.Terminal))
      )
    )
    return Terminal.make({
      columns: Effect.flatMap(terminal, (t) => t.columns),
      rows: Effect.flatMap(terminal, (t) => t.rows),
      size: Effect.flatMap(terminal, (t) => t.size),
      readInput: Effect.flatMap(terminal, (t) => t.readInput),
      readLine: Effect.flatMap(terminal, (t) => t.readLine),
      display: (text) => Effect.flatMap(terminal, (t) => t.display(text))
    })
  })
)

// Reads are bounded and regular-file only (src/config/safeRead.ts), for every command.
const platform = Layer.effect(
  FileSystem.FileSystem,
  Effect.gen(function* () {
    return guardReads(yield* FileSystem.FileSystem)
  })
).pipe(Layer.provideMerge(Layer.provideMerge(spawnOnDemand, Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, terminalOnDemand))))

// Store writes wait until the command has printed (and succeeded): src/app/session.ts.
deferStoreWrites()

const program = Effect.promise(() => subcommandsFor(process.argv.slice(2))).pipe(
  Effect.flatMap((subcommands) => Command.run(commandTree(subcommands), { version: VERSION })),
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

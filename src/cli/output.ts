/**
 * Writing results: stdout, or a file written atomically (temp then rename) so a failed run never
 * leaves a half-written output behind.
 *
 * `--out`/`--trace` targets follow the one writer's rules (src/base/atomicFile.js, README
 * "Paths"): regular files only, a symlink written through, an existing file's mode kept.
 */
import { Effect, Exit } from "effect"
import * as path from "node:path"
import { checkWriteTarget, writeAtomic, writeFailure } from "../base/atomicFile.js"
import { UsageError } from "../config/errors.ts"
import { noteOutput } from "../launch/recording.ts"

export const writeStdout = (text: string) => Effect.sync(() => void process.stdout.write(text))
export const writeStderr = (text: string) => Effect.sync(() => void process.stderr.write(text))

/** `--out: cannot write FILE: a FIFO, not a regular file`: the flag that named the file, when a flag did. */
const cannotWrite = (file: string, e: unknown, flag: string | undefined) =>
  new UsageError({ message: `${flag === undefined ? "" : `${flag}: `}cannot write ${file}: ${writeFailure(e)}` })

/** Write `text` to `file` through the one writer (src/base/atomicFile.js), noting it for the command record. */
export const writeFileAtomic = (file: string, text: string, flag?: string): Effect.Effect<void, UsageError> =>
  Effect.try({
    try: () => {
      writeAtomic(file, text)
      noteOutput(path.resolve(file), text)
    },
    catch: (e) => cannotWrite(file, e, flag)
  })

/**
 * Refuse output files the one writer would refuse (a directory, FIFO, device, dangling link)
 * before anything is printed or written: `[flag, file]` pairs, a file undefined when not given.
 */
export const checkOutputs = (targets: ReadonlyArray<readonly [string, string | undefined]>): Effect.Effect<void, UsageError> =>
  Effect.forEach(
    targets,
    ([flag, file]) =>
      file === undefined
        ? Effect.void
        : Effect.try({
            try: () => checkWriteTarget(file),
            catch: (e) => cannotWrite(file, e, flag)
          }),
    { discard: true }
  )

/** Exit with `code` once the command's effects are done (a finding, not an error to print). */
export const exitCode = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

/** Result text to --out FILE or stdout. */
export const emit = (text: string, out: string | undefined) => (out === undefined ? writeStdout(text) : writeFileAtomic(out, text, "--out"))

/**
 * Ctrl-C (SIGINT) and SIGTERM interrupt the main fiber (NodeRuntime.runMain), which closes the
 * command's resources (watchers, a runner's shards); runMain would then exit with 130. Stopping is how a long-running command (watch,
 * worker) normally ends, so once everything is closed we exit with 0. Acquired first, so released last.
 */
export const exitZeroOnSignal = Effect.acquireRelease(
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

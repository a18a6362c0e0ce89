/**
 * Writing results: stdout, or a file written atomically (temp then rename) so a failed run never
 * leaves a half-written output behind.
 *
 * `--out`/`--trace` targets follow the one writer's rules (src/base/atomicFile.js, README
 * "Paths"): regular files only, a symlink written through, an existing file's mode kept.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { writeAtomic, writeFailure, WriteTargetError } from "../base/atomicFile.js"
import { UsageError } from "../config/errors.ts"
import { noteOutput } from "../launch/recording.ts"

export const writeStdout = (text: string) => Effect.sync(() => void process.stdout.write(text))
export const writeStderr = (text: string) => Effect.sync(() => void process.stderr.write(text))

/** Write `text` to `file` through the one writer (src/base/atomicFile.js), noting it for the command record. */
export const writeFileAtomic = (file: string, text: string): Effect.Effect<void, UsageError> =>
  Effect.try({
    try: () => {
      writeAtomic(file, text)
      noteOutput(path.resolve(file), text)
    },
    catch: (e) =>
      new UsageError({
        message: `cannot write ${file}: ${writeFailure(e)}${e instanceof WriteTargetError && e.notRegular ? " (--out and --trace write regular files only)" : ""}`
      })
  })

/** Exit with `code` once the command's effects are done (a finding, not an error to print). */
export const exitCode = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

/** Result text to --out FILE or stdout. */
export const emit = (text: string, out: string | undefined) => (out === undefined ? writeStdout(text) : writeFileAtomic(out, text))

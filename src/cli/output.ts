/**
 * Writing results: stdout, or a file written atomically (temp then rename) so a failed run never
 * leaves a half-written output behind.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { UsageError } from "../config/errors.ts"

export const writeStdout = (text: string) => Effect.sync(() => void process.stdout.write(text))
export const writeStderr = (text: string) => Effect.sync(() => void process.stderr.write(text))

export const writeFileAtomic = (file: string, text: string) =>
  Effect.try({
    try: () => {
      const abs = path.resolve(file)
      fs.mkdirSync(path.dirname(abs), { recursive: true })
      const tmp = `${abs}.${process.pid}.tmp`
      fs.writeFileSync(tmp, text)
      fs.renameSync(tmp, abs)
    },
    catch: (e) => new UsageError({ message: `cannot write ${file}: ${String(e)}` })
  })

/** Exit with `code` once the command's effects are done (a finding, not an error to print). */
export const exitCode = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

/** Result text to --out FILE or stdout. */
export const emit = (text: string, out: string | undefined) => (out === undefined ? writeStdout(text) : writeFileAtomic(out, text))

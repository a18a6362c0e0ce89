/**
 * Writing results: stdout, or a file written atomically (temp then rename) so a failed run never
 * leaves a half-written output behind.
 *
 * `--out`/`--trace` targets (README "Paths"): only regular files are written. A device, FIFO,
 * socket or directory is refused before anything is written (rename would replace
 * `/dev/null` with a file). A symlink is followed: its final target is written and the link
 * stays. An existing file keeps its permission bits. The temp file sits beside the target (same
 * file system, so rename is atomic) and is removed on every failure path.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { UsageError } from "../config/errors.ts"
import { noteOutput } from "../launch/recording.ts"

export const writeStdout = (text: string) => Effect.sync(() => void process.stdout.write(text))
export const writeStderr = (text: string) => Effect.sync(() => void process.stderr.write(text))

const kindOf = (st: fs.Stats): string =>
  st.isDirectory() ? "a directory" : st.isCharacterDevice() ? "a character device" : st.isBlockDevice() ? "a block device" : st.isFIFO() ? "a FIFO" : st.isSocket() ? "a socket" : "not a regular file"

/** The file a write to `abs` must replace: `abs`, or a symlink's final target. */
const writeTarget = (file: string, abs: string): { target: string; mode: number | undefined } => {
  let target = abs
  const link = fs.lstatSync(abs, { throwIfNoEntry: false })
  if (link?.isSymbolicLink()) {
    // Following keeps the link (a dotfile manager's link, a link into a shared folder); a
    // dangling link has no target to write, so it is refused rather than replaced.
    try {
      target = fs.realpathSync(abs)
    } catch {
      throw new UsageError({ message: `cannot write ${file}: a symbolic link whose target does not exist` })
    }
  }
  const st = fs.statSync(target, { throwIfNoEntry: false })
  if (st === undefined) return { target, mode: undefined }
  if (!st.isFile()) throw new UsageError({ message: `cannot write ${file}: ${kindOf(st)}, not a regular file (--out and --trace write regular files only)` })
  return { target, mode: st.mode & 0o7777 }
}

const reason = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException
  // "EACCES: permission denied, open '<temp path>'": the part before the path.
  return err.code !== undefined ? (err.message ?? err.code).split(",")[0]! : String(e)
}

export const writeFileAtomic = (file: string, text: string): Effect.Effect<void, UsageError> =>
  Effect.try({
    try: () => {
      const abs = path.resolve(file)
      fs.mkdirSync(path.dirname(abs), { recursive: true })
      const { target, mode } = writeTarget(file, abs)
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`)
      try {
        // "wx": never write through a file someone placed at the temp name.
        fs.writeFileSync(tmp, text, { flag: "wx", ...(mode === undefined ? {} : { mode }) })
        // The umask may have cleared bits of an existing file's mode: set them exactly.
        if (mode !== undefined) fs.chmodSync(tmp, mode)
        fs.renameSync(tmp, target)
        noteOutput(abs, text)
      } finally {
        fs.rmSync(tmp, { force: true })
      }
    },
    catch: (e) => (e instanceof UsageError ? e : new UsageError({ message: `cannot write ${file}: ${reason(e)}` }))
  })

/** Exit with `code` once the command's effects are done (a finding, not an error to print). */
export const exitCode = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

/** Result text to --out FILE or stdout. */
export const emit = (text: string, out: string | undefined) => (out === undefined ? writeStdout(text) : writeFileAtomic(out, text))

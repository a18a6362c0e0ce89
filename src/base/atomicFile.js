/**
 * The one writer of every file llmsim writes: `--out`, `--trace`, `--points`, store entries,
 * sweep packs, command records, run summaries. A file is written to a temp file and renamed
 * into place (POSIX rename is atomic: a reader sees the old file, the new file or nothing, and
 * a failed or killed run never leaves a half-written result behind).
 *
 * What it never replaces is what it should write into (README "Paths"):
 * - a symbolic link is followed: its final target is written and the link stays (a dotfile
 *   manager's link, a link into a shared folder); a dangling link is refused;
 * - a directory, FIFO, socket or device is refused before anything is written (a rename would
 *   replace `/dev/null` with a regular file);
 * - an existing file keeps its permission bits (the umask cannot clear them).
 * The temp file is created with `wx` (never written through a file someone placed at its name),
 * beside the target (same file system) unless a temp folder is given (the store's `tmp/`, which
 * `cache gc` sweeps), and removed on every failure path.
 *
 * Plain JavaScript on Node built-ins: the launcher replays a record's `--out` through it before
 * anything else loads.
 */
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const fs = process.getBuiltinModule("node:fs")
const path = process.getBuiltinModule("node:path")
const { randomBytes } = process.getBuiltinModule("node:crypto")

/** A target that must not be written: a directory, FIFO, socket, device or dangling link. */
export class WriteTargetError extends Error {
  /**
   * @param {string} message
   * @param {boolean} notRegular Whether the target exists and is not a regular file (else a dangling link).
   */
  constructor(message, notRegular) {
    super(message)
    this.name = "WriteTargetError"
    this.notRegular = notRegular
  }
}

/** @param {import("node:fs").Stats} st */
const kindOf = (st) =>
  st.isDirectory()
    ? "a directory"
    : st.isCharacterDevice()
      ? "a character device"
      : st.isBlockDevice()
        ? "a block device"
        : st.isFIFO()
          ? "a FIFO"
          : st.isSocket()
            ? "a socket"
            : "not a regular file"

/**
 * Where a write to `file` lands and the mode to keep: `file` itself, or a symlink's final
 * target; undefined mode for a new file.
 * @param {string} file
 * @returns {{ target: string, mode: number | undefined }}
 */
const writeTarget = (file) => {
  const abs = path.resolve(file)
  let target = abs
  if (fs.lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink()) {
    try {
      target = fs.realpathSync(abs)
    } catch {
      throw new WriteTargetError("a symbolic link whose target does not exist", false)
    }
  }
  const st = fs.statSync(target, { throwIfNoEntry: false })
  if (st === undefined) return { target, mode: undefined }
  if (!st.isFile()) throw new WriteTargetError(`${kindOf(st)}, not a regular file`, true)
  return { target, mode: st.mode & 0o7777 }
}

/**
 * Throw the WriteTargetError a write to `file` would meet, writing nothing: a command checks its
 * output files before it prints anything, so a refused `--trace` does not follow a printed result.
 * @param {string} file
 */
export const checkWriteTarget = (file) => void writeTarget(file)

/**
 * @typedef {object} AtomicFile
 * @property {(chunk: string | Uint8Array) => void} write Append to the temp file.
 * @property {(file?: string) => string} commit Close and rename into place (at `file`, when the
 *   name is known only now: a content-named pack); returns the path written.
 * @property {() => void} abort Close and remove the temp file (nothing is left behind).
 */

/**
 * @typedef {object} AtomicOptions
 * @property {string} [tmpDir] Folder for the temp file (default: beside the target).
 * @property {boolean} [contentAddressed] The name is a digest of the content (a store entry, a
 *   pack): a rename that fails while the target exists is a success (another process wrote the
 *   same bytes there).
 * @property {boolean} [exclusive] Create the file only if nothing is there (`llmsim init`): the
 *   temp file is linked into place, which fails with EEXIST on anything that appeared meanwhile.
 */

/** @param {string} target */
const tempName = (target) => `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`

/** @param {number | undefined} fd @param {string} tmp */
const discard = (fd, tmp) => {
  if (fd !== undefined) {
    try {
      fs.closeSync(fd)
    } catch {
      // already closed
    }
  }
  try {
    fs.rmSync(tmp, { force: true })
  } catch {
    // gc removes temp files older than an hour
  }
}

/**
 * Open a temp file for `file` (checked first, so a refused target gets nothing written), or,
 * with `file` undefined, for a name given to `commit`.
 * @param {string | undefined} file
 * @param {AtomicOptions} [o]
 * @returns {AtomicFile}
 */
export const openAtomic = (file, o = {}) => {
  const first = file === undefined ? undefined : writeTarget(file)
  const dir = o.tmpDir ?? (first === undefined ? undefined : path.dirname(first.target))
  if (dir === undefined) throw new TypeError("openAtomic: a file or a temp folder is needed")
  fs.mkdirSync(dir, { recursive: true })
  const tmp = path.join(dir, tempName(first?.target ?? "file"))
  /** @type {number | undefined} */
  let fd = fs.openSync(tmp, "wx", first?.mode ?? 0o666)
  return {
    write: (chunk) => {
      if (fd === undefined) throw new Error("openAtomic: write after commit or abort")
      if (typeof chunk === "string") fs.writeSync(fd, chunk)
      else fs.writeSync(fd, chunk)
    },
    commit: (finalFile) => {
      try {
        const { target, mode } = finalFile === undefined || finalFile === file ? /** @type {NonNullable<typeof first>} */ (first) : writeTarget(finalFile)
        if (fd === undefined) throw new Error("openAtomic: commit after commit or abort")
        fs.closeSync(fd)
        fd = undefined
        // The umask may have cleared bits of an existing file's mode: set them exactly.
        if (mode !== undefined) fs.chmodSync(tmp, mode)
        fs.mkdirSync(path.dirname(target), { recursive: true })
        try {
          if (o.exclusive) {
            fs.linkSync(tmp, target)
            fs.rmSync(tmp, { force: true })
          } else fs.renameSync(tmp, target)
        } catch (e) {
          if (!o.contentAddressed || !fs.existsSync(target)) throw e
          fs.rmSync(tmp, { force: true })
        }
        return target
      } catch (e) {
        discard(fd, tmp)
        fd = undefined
        throw e
      }
    },
    abort: () => {
      discard(fd, tmp)
      fd = undefined
    }
  }
}

/**
 * Write `data` to `file` atomically (see the module header); returns the path written (a
 * symlink's target).
 * @param {string} file
 * @param {string | Uint8Array} data
 * @param {AtomicOptions} [o]
 * @returns {string}
 */
export const writeAtomic = (file, data, o = {}) => {
  const w = openAtomic(file, o)
  try {
    w.write(data)
  } catch (e) {
    w.abort()
    throw e
  }
  return w.commit()
}

/**
 * Why a write failed, in a few words for a one-line message: a refused target as described
 * above, or an fs error's code and description without its (temp) path, as `EACCES:
 * permission denied`.
 * @param {unknown} e
 * @returns {string}
 */
export const writeFailure = (e) => {
  if (e instanceof WriteTargetError) return e.message
  const err = /** @type {NodeJS.ErrnoException} */ (e)
  return typeof err?.code === "string" ? ((err.message ?? err.code).split(",")[0] ?? err.code) : String(e)
}

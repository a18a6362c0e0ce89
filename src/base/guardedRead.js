/**
 * The one guarded read: every file llmsim reads or probes (configs, the scenario a command
 * names, model files, shards, store entries, command records, and the input probes of a command
 * record) goes through these functions, so none of them can hang or exhaust memory:
 * - a path is stat'ed first, and only a regular file is ever opened: a FIFO (whose open blocks
 *   until a writer comes), a device (`/dev/zero` never ends), a socket or a directory is
 *   refused without being opened;
 * - the open is non-blocking (O_NONBLOCK) and the open descriptor is checked again (fstat), so
 *   a file swapped for a FIFO between the stat and the open is refused, not waited on;
 * - at most `limit` bytes are read, whatever the file grows to while it is read.
 *
 * Plain JavaScript on Node built-ins: the launcher (src/launch/command.js) probes a record's
 * inputs with it before anything else loads.
 */
import { sha256Hasher } from "./sha256.js"
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const fs = process.getBuiltinModule("node:fs")

/** Largest input file a command reads as text (config files are a few KB, reference tables tens of KB). */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024

/**
 * A byte count for a one-line message: `2.0 KiB`, `4.0 MiB`, `12 bytes`.
 * @param {number} n
 */
export const formatBytes = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`)

/**
 * The one-line reason of a refusal: `not a regular file (a FIFO)`, `5.0 MiB, over the 4.0 MiB
 * limit for input files`.
 * @param {Refusal} r
 */
export const refusalText = (r) =>
  "kind" in r
    ? `not a regular file (${r.kind})`
    : r.size === undefined
      ? `over the ${formatBytes(r.limit)} limit for input files`
      : `${formatBytes(r.size)}, over the ${formatBytes(r.limit)} limit for input files`

/** @param {import("node:fs").Stats} st */
const fileKind = (st) =>
  st.isFile()
    ? "a regular file"
    : st.isDirectory()
      ? "a directory"
      : st.isFIFO()
        ? "a FIFO"
        : st.isCharacterDevice()
          ? "a character device"
          : st.isBlockDevice()
            ? "a block device"
            : st.isSocket()
              ? "a socket"
              : "not a regular file"

/**
 * Why a read was refused: `kind` for a file that is not a regular file (what it is: "a FIFO"),
 * `size` for a regular file over the limit (its size, or undefined when it grew past the limit
 * while it was read).
 * @typedef {{ readonly kind: string } | { readonly size: number | undefined, readonly limit: number }} Refusal
 */

/**
 * @typedef {{ readonly fd: number, readonly size: number } | { readonly refused: Refusal } | { readonly error: NodeJS.ErrnoException }} Opened
 */

/**
 * Open `file` for reading if it is a regular file of at most `limit` bytes: stat, then a
 * non-blocking open, then fstat of the descriptor. The caller closes `fd`.
 * @param {string} file
 * @param {number} limit
 * @returns {Opened}
 */
export const openGuarded = (file, limit) => {
  let st
  try {
    st = fs.statSync(file)
  } catch (e) {
    return { error: /** @type {NodeJS.ErrnoException} */ (e) }
  }
  if (!st.isFile()) return { refused: { kind: fileKind(st) } }
  if (st.size > limit) return { refused: { size: st.size, limit } }
  let fd
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (e) {
    return { error: /** @type {NodeJS.ErrnoException} */ (e) }
  }
  try {
    const again = fs.fstatSync(fd)
    if (!again.isFile()) {
      fs.closeSync(fd)
      return { refused: { kind: fileKind(again) } }
    }
    if (again.size > limit) {
      fs.closeSync(fd)
      return { refused: { size: again.size, limit } }
    }
    return { fd, size: again.size }
  } catch (e) {
    fs.closeSync(fd)
    return { error: /** @type {NodeJS.ErrnoException} */ (e) }
  }
}

/**
 * The bytes of `file` if it is a regular file of at most `limit` bytes.
 * @param {string} file
 * @param {number} limit
 * @returns {{ readonly bytes: Buffer } | { readonly refused: Refusal } | { readonly error: NodeJS.ErrnoException }}
 */
export const readGuarded = (file, limit) => {
  const o = openGuarded(file, limit)
  if (!("fd" in o)) return o
  try {
    // Read at most limit + 1 bytes, so a file that grows while it is read is still bounded.
    const buf = Buffer.alloc(Math.min(o.size, limit) + 1)
    let n = 0
    for (;;) {
      const got = fs.readSync(o.fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      // More than the size at open: it grew while read (refused as the original reader did).
      if (n === buf.length) return { refused: { size: undefined, limit } }
    }
    return { bytes: buf.subarray(0, n) }
  } catch (e) {
    return { error: /** @type {NodeJS.ErrnoException} */ (e) }
  } finally {
    fs.closeSync(o.fd)
  }
}

/**
 * The text of `file` (UTF-8) if it is a regular file of at most `limit` bytes, else undefined.
 * For the store's own files (entries, records, packs), where any problem is a miss.
 * @param {string} file
 * @param {number} limit
 * @returns {string | undefined}
 */
export const readTextGuarded = (file, limit) => {
  const r = readGuarded(file, limit)
  return "bytes" in r ? r.bytes.toString("utf8") : undefined
}

/**
 * The first `n` bytes of `file` as text when it is a regular file, else undefined (an entry's
 * checksum line, read on every replay without reading the entry).
 * @param {string} file
 * @param {number} n
 * @returns {string | undefined}
 */
export const readHeadGuarded = (file, n) => {
  const o = openGuarded(file, Number.MAX_SAFE_INTEGER)
  if (!("fd" in o)) return undefined
  try {
    const buf = Buffer.alloc(n)
    const got = fs.readSync(o.fd, buf, 0, n, 0)
    return buf.subarray(0, got).toString("utf8")
  } catch {
    return undefined
  } finally {
    fs.closeSync(o.fd)
  }
}

/** The largest file whose bytes a command record's input probe digests (a model file at most). */
export const PROBE_LIMIT = 256 * 1024 * 1024

/**
 * The state of a path as a command record keeps it: the SHA-256 of a regular file's bytes,
 * `"dir"`, `"special"` (a FIFO, device or socket: never opened), `"large"` (a regular file over
 * PROBE_LIMIT, which no command reads: only its presence can matter), `"unreadable"`, or null
 * when absent. Never blocks, never reads more than PROBE_LIMIT bytes.
 * @param {string} file
 * @returns {string | null}
 */
export const probeState = (file) => {
  let st
  try {
    st = fs.statSync(file)
  } catch (e) {
    const code = /** @type {NodeJS.ErrnoException} */ (e).code
    return code === "ENOENT" || code === "ENOTDIR" ? null : "unreadable"
  }
  if (st.isDirectory()) return "dir"
  if (!st.isFile()) return "special"
  const o = openGuarded(file, PROBE_LIMIT)
  if ("refused" in o) return "kind" in o.refused ? "special" : "large"
  if ("error" in o) return "unreadable"
  try {
    const h = sha256Hasher()
    const buf = Buffer.alloc(Math.min(Math.max(o.size, 1), 1 << 20) + 1)
    let total = 0
    for (;;) {
      const got = fs.readSync(o.fd, buf, 0, buf.length, null)
      if (got === 0) break
      total += got
      if (total > PROBE_LIMIT) return "large"
      h.update(buf.subarray(0, got))
    }
    return h.digest("hex")
  } catch {
    return "unreadable"
  } finally {
    fs.closeSync(o.fd)
  }
}

/**
 * The lines of `file` (UTF-8, without their `\n` or `\r\n`), read 1 MiB at a time so memory stays
 * flat however long the file is (a million-request trace), if it is a regular file of at most
 * `limit` bytes. Each line is decoded from its own bytes: a line sliced from a decoded chunk would
 * keep the whole chunk alive (V8 sliced strings) and push megabytes into the old generation.
 * The generator closes the file when it ends or is returned early.
 * @param {string} file
 * @param {number} limit
 * @returns {{ readonly lines: Generator<string, void, undefined> } | { readonly refused: Refusal } | { readonly error: NodeJS.ErrnoException }}
 */
export const linesGuarded = (file, limit) => {
  const o = openGuarded(file, limit)
  if (!("fd" in o)) return o
  const fd = o.fd
  function* lines() {
    let buf = Buffer.alloc(1 << 20)
    /** Bytes of a line begun in an earlier read. */
    let carry = 0
    let total = 0
    try {
      for (;;) {
        if (carry === buf.length) {
          // One line longer than the buffer: grow it.
          const bigger = Buffer.alloc(buf.length * 2)
          buf.copy(bigger, 0, 0, carry)
          buf = bigger
        }
        const got = fs.readSync(fd, buf, carry, buf.length - carry, null)
        if (got === 0) break
        total += got
        if (total > limit) throw Object.assign(new Error(refusalText({ size: undefined, limit })), { code: "EFBIG" })
        const end = carry + got
        let start = 0
        for (let nl = buf.indexOf(10, carry); nl !== -1 && nl < end; nl = buf.indexOf(10, start)) {
          yield buf.toString("utf8", start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl)
          start = nl + 1
        }
        buf.copy(buf, 0, start, end)
        carry = end - start
      }
      if (carry > 0) yield buf.toString("utf8", 0, buf[carry - 1] === 13 ? carry - 1 : carry)
    } finally {
      fs.closeSync(fd)
    }
  }
  return { lines: lines() }
}

/**
 * Bounded, regular-file-only reads for the FileSystem service the CLI provides.
 *
 * Why at the FileSystem level rather than in the loader: `watch` (records reads) and `diff`
 * (serves revisions from git, disk otherwise) wrap the same service, so a guard here covers
 * every read the loader makes without the loader ever statting a path itself. The file is
 * opened non-blocking and checked on the open descriptor (no stat-then-open race): a FIFO
 * would block `readFile` forever and `/dev/zero` would fill memory without end.
 */
import { Effect, FileSystem, PlatformError } from "effect"
import * as fs from "node:fs"
import { noteBytes, noteInput, taint } from "../launch/recording.ts"

/** Largest file any command reads: config files are a few KB, reference tables tens of KB. */
export const MAX_READ_BYTES = 4 * 1024 * 1024

export const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`

/** What a non-regular file is, for the message. */
const kindOf = (s: fs.Stats): string =>
  s.isDirectory()
    ? "a directory"
    : s.isFIFO()
      ? "a FIFO"
      : s.isCharacterDevice()
        ? "a character device"
        : s.isBlockDevice()
          ? "a block device"
          : s.isSocket()
            ? "a socket"
            : "not a regular file"

/** Marks our refusals so the loader can show the reason (anything else reads as "not found"). */
const REFUSED = "llmsim-refused: "

const refuse = (p: string, description: string) =>
  new PlatformError.PlatformError(
    new PlatformError.SystemError({
      _tag: "InvalidData",
      module: "FileSystem",
      method: "readFileString",
      pathOrDescriptor: p,
      description: `${REFUSED}${description}`
    })
  )

/** The reason text of a refusal, undefined for other read errors. */
export const refusalOf = (e: unknown): string | undefined => {
  const d = (e as { reason?: { description?: unknown } } | undefined)?.reason?.description
  return typeof d === "string" && d.startsWith(REFUSED) ? d.slice(REFUSED.length) : undefined
}

type Read = { readonly text: string } | { readonly refused: string } | { readonly error: unknown }

/** Read `file` if it is a regular file of at most `limit` bytes (synchronous: small files). */
export const readRegularFile = (file: string, limit = MAX_READ_BYTES, encoding = "utf-8"): Read => {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch (error) {
    return { error }
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile()) return { refused: `not a regular file (${kindOf(st)})` }
    if (st.size > limit) return { refused: `${formatBytes(st.size)}, over the ${formatBytes(limit)} limit for input files` }
    // Read at most limit + 1 bytes, so a file that grows while read is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, limit) + 1)
    let n = 0
    for (;;) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n === buf.length) return { refused: `over the ${formatBytes(limit)} limit for input files` }
    }
    noteBytes(file, buf.subarray(0, n))
    return { text: new TextDecoder(encoding).decode(buf.subarray(0, n)) }
  } catch (error) {
    return { error }
  } finally {
    fs.closeSync(fd)
  }
}

/** FileSystem calls a command recording (src/launch/recording.ts) accounts for; any other taints it. */
const RECORDED = new Set(["readFileString", "readFile", "exists", "stat"])

/**
 * `base` with `readFileString` guarded; an open failure is left to `base` (same error shapes).
 * Reads and probes are noted for a command recording; calls it cannot account for taint it.
 */
export const guardReads = (base: FileSystem.FileSystem): FileSystem.FileSystem => {
  const tainting: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(base)) {
    if (typeof value === "function" && !RECORDED.has(name)) {
      tainting[name] = (...args: Array<unknown>) => {
        taint()
        return (value as (...a: Array<unknown>) => unknown)(...args)
      }
    }
  }
  return FileSystem.FileSystem.of({
    ...base,
    ...tainting,
    readFileString: (p, encoding) =>
      Effect.suspend(() => {
        const r = readRegularFile(p, MAX_READ_BYTES, encoding ?? "utf-8")
        if ("text" in r) return Effect.succeed(r.text)
        noteInput(p)
        if ("refused" in r) return Effect.fail(refuse(p, r.refused))
        return base.readFileString(p, encoding)
      }),
    readFile: (p) =>
      base.readFile(p).pipe(
        Effect.tap((bytes) => Effect.sync(() => noteBytes(p, bytes))),
        Effect.tapError(() => Effect.sync(() => noteInput(p)))
      ),
    exists: (p) => Effect.sync(() => noteInput(p)).pipe(Effect.andThen(base.exists(p))),
    stat: (p) => Effect.sync(() => noteInput(p)).pipe(Effect.andThen(base.stat(p)))
  } as FileSystem.FileSystem)
}

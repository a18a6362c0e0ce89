/**
 * Bounded, regular-file-only reads for the FileSystem service the CLI provides.
 *
 * Why at the FileSystem level rather than in the loader: `watch` (records reads) and `diff`
 * (serves revisions from git, disk otherwise) wrap the same service, so a guard here covers
 * every read the loader makes without the loader ever statting a path itself. Every read and
 * probe goes through the one guarded read (src/base/guardedRead.js): regular files only, a size
 * limit, never an open that blocks (a FIFO would block `readFile` forever and `/dev/zero` would
 * fill memory without end).
 */
import { Effect, FileSystem, PlatformError } from "effect"
import { formatBytes, MAX_INPUT_BYTES, PROBE_LIMIT, readGuarded, refusalText } from "../base/guardedRead.js"
import { noteBytes, noteInput, taint } from "../launch/recording.ts"

/** Largest file any command reads as text: config files are a few KB, reference tables tens of KB. */
export const MAX_READ_BYTES = MAX_INPUT_BYTES

export { formatBytes }

/** Marks our refusals so the loader can show the reason (anything else reads as "not found"). */
const REFUSED = "llmsim-refused: "

const refuse = (p: string, description: string, method = "readFileString") =>
  new PlatformError.PlatformError(
    new PlatformError.SystemError({
      _tag: "InvalidData",
      module: "FileSystem",
      method,
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

/**
 * Read `file` if it is a regular file of at most `limit` bytes, through the one guarded read
 * (src/base/guardedRead.js: stat first, a non-blocking open checked again on its descriptor).
 */
export const readRegularFile = (file: string, limit = MAX_READ_BYTES, encoding = "utf-8"): Read => {
  const r = readGuarded(file, limit)
  if ("error" in r) return { error: r.error }
  if ("refused" in r) return { refused: refusalText(r.refused) }
  noteBytes(file, r.bytes)
  return { text: new TextDecoder(encoding).decode(r.bytes) }
}

/**
 * Largest binary file a command reads (`readFile`: an ONNX model); the guarded read's probe
 * limit, so a command record can always digest what its command read.
 */
const MAX_BINARY_READ_BYTES = PROBE_LIMIT

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
      Effect.suspend(() => {
        const r = readGuarded(p, MAX_BINARY_READ_BYTES)
        if ("bytes" in r) {
          noteBytes(p, r.bytes)
          return Effect.succeed(new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength))
        }
        noteInput(p)
        if ("refused" in r) return Effect.fail(refuse(p, refusalText(r.refused), "readFile"))
        return base.readFile(p)
      }),
    exists: (p) => Effect.sync(() => noteInput(p)).pipe(Effect.andThen(base.exists(p))),
    stat: (p) => Effect.sync(() => noteInput(p)).pipe(Effect.andThen(base.stat(p)))
  } as FileSystem.FileSystem)
}

/**
 * What an evaluation read: every file path it asked for, with the SHA-256 of the text it got
 * (null when the file was missing or unreadable).
 *
 * Why record reads instead of listing a scenario's references: an evaluation that fails half way
 * (a layer template that does not exist yet) still tells us exactly which files decided its
 * outcome, so creating the missing file triggers the next run. A file no evaluation read cannot
 * change the outcome, so it needs no watching.
 */
import { Effect, FileSystem } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { sha256 } from "../base/sha256.js"

export type Reads = Map<string, string | null>

/** A FileSystem that records every `readFileString` into `reads` (absolute path -> digest). */
export const tracingFileSystem = (inner: FileSystem.FileSystem, reads: Reads): FileSystem.FileSystem => ({
  ...inner,
  readFileString: (p, encoding) =>
    inner.readFileString(p, encoding).pipe(
      Effect.tap((text) => Effect.sync(() => void reads.set(path.resolve(p), sha256(text)))),
      Effect.tapError(() => Effect.sync(() => void reads.set(path.resolve(p), null)))
    )
})

/** Digest of a file's current text, null when it cannot be read (same form as `Reads`). */
export const currentDigest = (file: string): string | null => {
  try {
    return sha256(fs.readFileSync(file, "utf8"))
  } catch {
    return null
  }
}

/** Files whose text differs from what was read: a save the watcher may have missed. */
export const changedSince = (reads: ReadonlyMap<string, string | null>): Array<string> =>
  [...reads].filter(([file, seen]) => currentDigest(file) !== seen).map(([file]) => file)

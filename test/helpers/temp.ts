/**
 * Temp folders for tests, removed after each test file (test/helpers/cleanup.ts registers the
 * afterAll hook for every file, so a failing test still cleans up). Every helper that makes a
 * temp folder goes through `tempDir`.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const created = new Set<string>()

/** A new empty folder in the OS temp dir, removed when the test file finishes. */
export const tempDir = (prefix: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  created.add(dir)
  return dir
}

/** Remove every folder `tempDir` made so far (idempotent). */
export const removeTempDirs = (): void => {
  for (const dir of created) {
    // maxRetries: a just-killed child (watch) may still hold a file open for a moment.
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
    created.delete(dir)
  }
}

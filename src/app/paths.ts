/**
 * The one rule for relative paths (README "Paths"):
 *
 * - typed on the command line as a flag value (`--cache-dir`, `--out`, `--trace`, `--a`/`--b`,
 *   `--data`, `--reference`): relative to the current directory;
 * - written in a file (`defaultScenario` and `cacheDir` in llmsim.config.ts, every path inside a
 *   scenario): relative to the project root;
 * - a file named as a command argument (a scenario, diff's scenario tokens, calibrate's hardware
 *   file): the current directory when the file exists there, else the project root, so
 *   `llmsim run configs/scenarios/x.yaml` works from any subfolder of the project.
 *
 * Absolute paths are taken as they are.
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"

export type PathOrigin = "flag" | "file" | "argument"

/** Where relative paths can start: `cwd` is absent where none applies (a config folder side of a diff). */
export interface PathBase {
  readonly cwd?: string
  readonly root: string
}

/** The absolute paths `given` may name, in the order to try them (one, except for an argument). */
export const pathCandidates = (origin: PathOrigin, given: string, at: PathBase): ReadonlyArray<string> => {
  if (path.isAbsolute(given)) return [path.normalize(given)]
  const fromCwd = at.cwd === undefined ? [] : [path.resolve(at.cwd, given)]
  const fromRoot = [path.resolve(at.root, given)]
  const all = origin === "flag" ? (at.cwd === undefined ? fromRoot : fromCwd) : origin === "file" ? fromRoot : [...fromCwd, ...fromRoot]
  return [...new Set(all)]
}

/** A flag value or a path written in a file: exactly one candidate. */
export const resolvePath = (origin: "flag" | "file", given: string, at: PathBase): string => pathCandidates(origin, given, at)[0]!

/** The first candidate that exists, read through `fs` (a diff side's revision) or the FileSystem service. */
export const firstExisting = (candidates: ReadonlyArray<string>, fs?: FileSystem.FileSystem) =>
  Effect.gen(function*() {
    const files = fs ?? (yield* FileSystem.FileSystem)
    for (const c of candidates) {
      if (yield* files.exists(c).pipe(Effect.orElseSucceed(() => false))) return c
    }
    return undefined
  })

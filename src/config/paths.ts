/**
 * The one rule for relative paths (README "Paths"):
 *
 * - typed on the command line as a flag value (`--cache-dir`, `--out`, `--trace`, `--a`/`--b`,
 *   `--data`, `--reference`): relative to the current directory;
 * - written in a file (`defaultScenario` and `cacheDir` in llmsim.config.ts): relative to the
 *   project root; inside a scenario (hardware, layer templates): the scenario's folder when the
 *   file exists there, else the project root;
 * - a file named as a command argument (a scenario, diff's scenario tokens, calibrate's hardware
 *   file): the current directory when the file exists there, else the project root, so
 *   `llmsim run configs/scenarios/x.yaml` works from any subfolder of the project.
 *
 * Absolute paths are taken as they are.
 *
 * A path written in a file must name something inside the project root, or inside a folder
 * listed in `allowPaths` of llmsim.config.ts (README "Paths"): a scenario cannot make the CLI
 * read (and echo in an error) any file on the machine. The test is lexical, on the resolved
 * path (`..` segments collapsed); flag values and arguments are the user's own and not limited.
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"
import { ConfigError, type Issue } from "./errors.ts"

export type PathOrigin = "flag" | "file" | "argument"

/** Where relative paths can start: `cwd` is absent where none applies (a config folder side of a diff). */
export interface PathBase {
  readonly cwd?: string
  readonly root: string
  /** The folder of the file the path is written in (a scenario's), tried before the root. */
  readonly dir?: string
}

/** The absolute paths `given` may name, in the order to try them (one, except for an argument). */
export const pathCandidates = (origin: PathOrigin, given: string, at: PathBase): ReadonlyArray<string> => {
  if (path.isAbsolute(given)) return [path.normalize(given)]
  const fromCwd = at.cwd === undefined ? [] : [path.resolve(at.cwd, given)]
  const fromRoot = [path.resolve(at.root, given)]
  const fromDir = at.dir === undefined ? [] : [path.resolve(at.dir, given)]
  const all = origin === "flag" ? (at.cwd === undefined ? fromRoot : fromCwd) : origin === "file" ? [...fromDir, ...fromRoot] : [...fromCwd, ...fromRoot]
  return [...new Set(all)]
}

/** A flag value or a path written in a file without `dir`: exactly one candidate. */
export const resolvePath = (origin: "flag" | "file", given: string, at: Omit<PathBase, "dir">): string => pathCandidates(origin, given, at)[0]!

/** The first candidate that exists, read through `fs` (a diff side's revision) or the FileSystem service. */
export const firstExisting = (candidates: ReadonlyArray<string>, fs?: FileSystem.FileSystem) =>
  Effect.gen(function* () {
    const files = fs ?? (yield* FileSystem.FileSystem)
    for (const c of candidates) {
      if (yield* files.exists(c).pipe(Effect.orElseSucceed(() => false))) return c
    }
    return undefined
  })

/** Whether `abs` is `dir` or lies below it. */
export const isInside = (abs: string, dir: string): boolean => {
  const rel = path.relative(dir, abs)
  return rel === "" || (!path.isAbsolute(rel) && rel !== ".." && !rel.startsWith(".." + path.sep))
}

/** Where paths written in a project's files may point: its root, then the folders of `allowPaths`. */
export interface ProjectPaths {
  readonly root: string
  /** Absolute folders, the root first. */
  readonly allowed: ReadonlyArray<string>
}

/** The paths of the project at `root` with `allowPaths` of its llmsim.config.ts (relative entries resolve against `root`). */
export const projectPaths = (root: string, allowPaths: ReadonlyArray<string> = []): ProjectPaths => ({
  root: path.resolve(root),
  allowed: [path.resolve(root), ...allowPaths.map((a) => path.resolve(root, a))]
})

/** Whether `abs` lies inside the project root or an allowed folder. */
export const insideProject = (abs: string, paths: ProjectPaths): boolean => paths.allowed.some((dir) => isInside(abs, dir))

/**
 * Fail unless `abs` (a path written at `at`) lies inside the project root or an allowed folder.
 * The message names the field and says how to allow a folder.
 */
export const requireInsideProject = (abs: string, given: string, paths: ProjectPaths, at: () => Omit<Issue, "message">): Effect.Effect<void, ConfigError> =>
  insideProject(abs, paths)
    ? Effect.void
    : Effect.fail(
        new ConfigError({
          issues: [
            {
              ...at(),
              message: `${given} is outside the project root ${paths.root} (paths in configs stay inside the project; list a folder in allowPaths of llmsim.config.ts to allow it)`
            }
          ]
        })
      )

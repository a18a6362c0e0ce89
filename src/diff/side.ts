/**
 * One side of a diff: a version of the project's configs and how to read it.
 *
 * A side is a project root plus a FileSystem. At a git revision the FileSystem answers reads
 * under the repository from `git cat-file` at that commit, so the unchanged scenario loader
 * (which reads through the FileSystem service) resolves every referenced path exactly as it
 * would on disk, with no checkout or temp folder to clean up. Every read at a revision comes
 * from that revision: a path outside the repository (an absolute path in an allowed folder) has
 * no version there and reads as missing, never from the live disk (docs/diff.md). Only reads
 * are redirected: the loader never writes, lists or stats.
 */
import { Effect, FileSystem, Option, PlatformError } from "effect"
import { ChildProcessSpawner } from "effect/process"
import * as path from "node:path"
import type { PathBase } from "../config/paths.ts"
import { ConfigError } from "../config/errors.ts"
import { readBlob, type GitRepo } from "./git.ts"

export type SideName = "a" | "b"

export interface Side {
  readonly name: SideName
  /** The revision as given, `working tree`, or null when the side is a plain path. */
  readonly rev: string | null
  /** Full commit id at a revision, else null. */
  readonly commit: string | null
  /** Project root: paths inside scenarios resolve against it. */
  readonly root: string
  readonly fs: FileSystem.FileSystem
  /** Where this side's files live, for messages: `at HEAD~1`, `in the working tree`. */
  readonly where: string
  /** A file as shown in messages from this side (`HEAD~1:configs/x.yaml`). */
  readonly qualify: (shown: string) => string
  /** Where scenario tokens from the command line resolve (src/config/paths.ts, "argument"). */
  readonly paths: PathBase
  /** The scenario itself, when the side is a scenario file (--a/--b FILE). */
  readonly scenarioFile?: string
}

/** `abs` as a `/`-separated path from the repository top; undefined outside the repository. */
const repoPathOf = (repo: GitRepo, root: string, abs: string): string | undefined => {
  const rel = path.relative(root, abs)
  if (path.isAbsolute(rel)) return undefined
  const p = path.posix.normalize(repo.prefix + rel.split(path.sep).join("/"))
  return p === ".." || p.startsWith("../") ? undefined : p
}

const notFound = (method: string, p: string, where: string) =>
  PlatformError.systemError({ _tag: "NotFound", module: "FileSystem", method, pathOrDescriptor: p, description: `no such file ${where}` })

/** A FileSystem whose reads under the repository come from `commit`. */
const revisionFileSystem = (
  base: FileSystem.FileSystem,
  repo: GitRepo,
  root: string,
  commit: string,
  where: string,
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"]
): FileSystem.FileSystem => {
  // A commit's files never change: each is read from git once (the scenario is checked,
  // loaded, then read again for error positions).
  const seen = new Map<string, Option.Option<string>>()
  const blob = (repoPath: string) =>
    Effect.suspend(() => {
      const known = seen.get(repoPath)
      if (known !== undefined) return Effect.succeed(known)
      return readBlob(repo, commit, repoPath).pipe(
        Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
        Effect.tap((text) => Effect.sync(() => seen.set(repoPath, text))),
        // A git failure after the revision resolved (not remembered) reads as a missing file:
        // the loader then reports the path and the scenario field that referenced it.
        Effect.orElseSucceed(() => Option.none<string>())
      )
    })
  return FileSystem.FileSystem.of({
    ...base,
    readFileString: (p) => {
      const repoPath = repoPathOf(repo, root, path.resolve(p))
      if (repoPath === undefined) return Effect.fail(notFound("readFileString", p, `${where}: outside the repository`))
      return blob(repoPath).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(notFound("readFileString", p, where)),
            onSome: (text) => Effect.succeed(text)
          })
        )
      )
    },
    exists: (p) => {
      const repoPath = repoPathOf(repo, root, path.resolve(p))
      return repoPath === undefined ? Effect.succeed(false) : Effect.map(blob(repoPath), Option.isSome)
    }
  })
}

export const revisionSide = (
  name: SideName,
  rev: string,
  commit: string,
  repo: GitRepo,
  { cwd, root }: { readonly cwd: string; readonly root: string },
  base: FileSystem.FileSystem,
  spawner: ChildProcessSpawner.ChildProcessSpawner["Service"]
): Side => {
  const where = `at ${rev}`
  return {
    name,
    rev,
    commit,
    root,
    fs: revisionFileSystem(base, repo, root, commit, where, spawner),
    where,
    qualify: (shown) => `${rev}:${shown}`,
    paths: { cwd, root }
  }
}

export const workingTreeSide = (name: SideName, { cwd, root }: { readonly cwd: string; readonly root: string }, base: FileSystem.FileSystem): Side => ({
  name,
  rev: "working tree",
  commit: null,
  root,
  fs: base,
  where: "in the working tree",
  qualify: (shown) => shown,
  paths: { cwd, root }
})

/** A config folder given with --a/--b: it is the project root of its side, and scenario tokens resolve only there. */
export const folderSide = (name: SideName, given: string, root: string, base: FileSystem.FileSystem): Side => ({
  name,
  rev: null,
  commit: null,
  root,
  fs: base,
  where: `in ${given}`,
  qualify: (shown) => (path.isAbsolute(shown) ? shown : path.join(given, shown)),
  paths: { root }
})

/** A scenario file given with --a/--b (absolute): its paths resolve against `root`. */
export const fileSide = (name: SideName, file: string, root: string, base: FileSystem.FileSystem): Side => ({
  name,
  rev: null,
  commit: null,
  root,
  fs: base,
  where: `for ${file}`,
  qualify: (shown) => shown,
  paths: { root },
  scenarioFile: file
})

/** Point every issue of a config error at this side's copy of the file. */
export const qualifyError = (side: Side, e: ConfigError): ConfigError =>
  new ConfigError({ issues: e.issues.map((i) => ({ ...i, file: side.qualify(i.file) })) })

/**
 * Read-only access to a git repository: where the project sits inside it, which commit a
 * revision names, and a file's text at a commit.
 *
 * We shell out to the `git` binary through Effect's process module rather than use a git
 * library: the binary is the reference implementation (packed refs, worktrees, alternates,
 * `safe.directory`, every revision syntax such as `HEAD~1` or `origin/main`), CI images carry it,
 * and the ChildProcessSpawner service is already provided by the CLI's NodeServices layer, so
 * spawning is scoped (the child is reaped on interruption) and failures are typed.
 */
import { Effect, Option, Schema, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"

/** A git operation that could not be done: not a repository, unknown revision, no git. */
export class GitError extends Schema.TaggedError<GitError>()("GitError", {
  message: Schema.String
}) {}

interface GitOutput {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

const firstLine = (text: string): string => text.trim().split("\n")[0] ?? ""

/** Run `git args` in `cwd`; a non-zero exit is a value (callers decide what it means). */
const git = (cwd: string, args: ReadonlyArray<string>): Effect.Effect<GitOutput, GitError, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.scoped(
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const handle = yield* spawner.spawn(ChildProcess.make("git", args, { cwd }))
      // Both pipes are drained concurrently: a child blocked on a full stderr pipe never exits.
      const [stdout, stderr, code] = yield* Effect.all(
        [Stream.mkString(Stream.decodeText(handle.stdout)), Stream.mkString(Stream.decodeText(handle.stderr)), handle.exitCode],
        { concurrency: "unbounded" }
      )
      return { stdout, stderr, code: Number(code) }
    })
  ).pipe(
    Effect.mapError(
      (e) =>
        new GitError({
          message:
            e.reason._tag === "NotFound"
              ? "git was not found on PATH (llmsim diff <rev> reads configs from git; use --a PATH --b PATH to compare without git)"
              : `git ${args[0]} failed in ${cwd}: ${String(e)}`
        })
    )
  )

/** A project folder inside a git work tree. */
export interface GitRepo {
  /** The project root (git commands run here). */
  readonly cwd: string
  /** The project root's path inside the repository, `""` or `sub/dir/` (git's --show-prefix). */
  readonly prefix: string
}

export const openRepo = (dir: string) =>
  Effect.gen(function* () {
    const r = yield* git(dir, ["rev-parse", "--show-prefix"])
    if (r.code !== 0) {
      return yield* Effect.fail(
        new GitError({
          message: /not a git repository/i.test(r.stderr)
            ? `${dir} is not inside a git repository (llmsim diff <rev> reads configs from git; use --a PATH --b PATH to compare two files or folders without git)`
            : `git rev-parse failed in ${dir}: ${firstLine(r.stderr)}`
        })
      )
    }
    const repo: GitRepo = { cwd: dir, prefix: r.stdout.trim() }
    return repo
  })

/** The full commit id a revision names (`HEAD~1`, a branch, a tag, a short id). */
export const resolveCommit = (repo: GitRepo, rev: string) =>
  Effect.gen(function* () {
    const r = yield* git(repo.cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`])
    const sha = r.stdout.trim()
    if (r.code !== 0 || sha === "") {
      return yield* Effect.fail(new GitError({ message: `unknown revision: ${rev} (not a commit in the repository at ${repo.cwd})` }))
    }
    return sha
  })

/**
 * A file's text at a commit (`repoPath` is relative to the repository top, `/`-separated);
 * none when the commit has no such file. `cat-file blob` gives the stored bytes with no
 * textconv filter, unlike `git show`.
 */
export const readBlob = (repo: GitRepo, commit: string, repoPath: string) =>
  Effect.gen(function* () {
    const r = yield* git(repo.cwd, ["cat-file", "blob", `${commit}:${repoPath}`])
    return r.code === 0 ? Option.some(r.stdout) : Option.none<string>()
  })

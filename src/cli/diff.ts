/**
 * `llmsim diff`: what a config change does to every layer and to the serving profile, between
 * two git revisions (or two files or folders), with a CI regression gate.
 */
import { Effect, FileSystem, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { pathCandidates } from "../config/paths.ts"
import { appLayer, Project } from "../app/services.ts"
import { UsageError } from "../config/errors.ts"
import type { ProjectShape } from "../config/project.ts"
import { classifyArgs } from "../diff/args.ts"
import { diffWith } from "../diff/compare.ts"
import type { GitError } from "../diff/git.ts"
import { regressionLines, renderDiff, unfitLines } from "../report/diff.ts"
import { documented, runtimeFlags, toRunOptions } from "./flags.ts"
import { checkOutputs, emit, exitCode, writeFileAtomic, writeStderr } from "./output.ts"
import { layersFlag } from "./run.ts"
import { renderDiffVisual } from "../report/html.ts"

const diffFlags = {
  format: Flag.Literals("format", ["table", "json", "markdown", "html", "svg"]).pipe(
    Flag.withDescription(
      "table (terminal), json, markdown (a pull request comment), html (a page with per-layer before / after bars) or svg (the first of those charts)"
    ),
    Flag.withDefault("table" as const)
  ),
  out: Flag.String("out").pipe(Flag.withDescription("Write the diff to FILE instead of stdout"), Flag.optional),
  trace: Flag.String("trace").pipe(Flag.withDescription("Write the build-graph trace of both sides (ids prefixed a: / b:) to FILE"), Flag.optional),
  failOnRegression: Flag.Finite("fail-on-regression").pipe(
    Flag.withDescription("Exit 1 when a phase's total latency or TPOT rises, or its tokens/s drops, by more than PCT percent"),
    Flag.filter(
      (n) => n >= 0,
      (n) => `--fail-on-regression must be a percentage >= 0, got ${n}`
    ),
    Flag.optional
  ),
  requireFit: Flag.Boolean("require-fit").pipe(
    Flag.withDescription("Exit 2 when side B does not fit in HBM in some phase (a gate failure, exit 1, comes first)"),
    Flag.withDefault(false)
  ),
  a: Flag.String("a").pipe(Flag.withDescription("Side A as a path (a scenario file or a config folder) instead of a revision"), Flag.optional),
  b: Flag.String("b").pipe(Flag.withDescription("Side B as a path (with --a)"), Flag.optional),
  layers: layersFlag
}

const positional = Argument.String("rev-or-scenario").pipe(
  Argument.withDescription(
    "<revA> [revB] [scenario ...]: revB defaults to the working tree; the second argument is a scenario when it ends in .yaml/.yml or names a file"
  ),
  Argument.variadic()
)

/** Which of the first two positionals name an existing file, found as a scenario argument would be (the revB-or-scenario rule). */
const existingFiles = (project: ProjectShape, tokens: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const found = new Set<string>()
    for (const t of tokens.slice(0, 2)) {
      for (const candidate of pathCandidates("argument", t, project)) {
        const info = yield* fs.stat(candidate).pipe(Effect.option)
        if (Option.isSome(info) && info.value.type === "File") found.add(t)
      }
    }
    return found
  })

export const diffCommand = Command.make(
  "diff",
  { args: positional, ...diffFlags, ...runtimeFlags },
  Effect.fn(
    function* (f) {
      const run = toRunOptions(Option.none(), f)
      const project = yield* Project
      const parsed = classifyArgs(f.args, Option.getOrUndefined(f.a), Option.getOrUndefined(f.b), yield* existingFiles(project, f.args))
      if (parsed instanceof UsageError) return yield* Effect.fail(parsed)
      const limit = Option.getOrUndefined(f.failOnRegression)
      const out = yield* diffWith({
        cwd: run.cwd,
        target: parsed.target,
        scenarios: parsed.scenarios,
        runtime: run.runtime,
        estimator: run.estimator,
        ...(run.model === undefined ? {} : { model: run.model }),
        efficiency: run.efficiency,
        limitPct: limit ?? 0
      }).pipe(Effect.catchTag("GitError", (e: GitError) => Effect.fail(new UsageError({ message: e.message }))))
      const gate = limit !== undefined
      const text =
        f.format === "html" || f.format === "svg"
          ? yield* Effect.tryPromise({
              try: () => renderDiffVisual(out.diffs, f.format as "html" | "svg", { gate, layers: f.layers }),
              catch: (e) => new UsageError({ message: `--format ${f.format}: ${e instanceof Error ? e.message : String(e)}` })
            })
          : renderDiff(out.diffs, f.format, { gate, layers: f.layers })
      yield* checkOutputs([
        ["--out", Option.getOrUndefined(f.out)],
        ["--trace", Option.getOrUndefined(f.trace)]
      ])
      yield* emit(text, Option.getOrUndefined(f.out))
      if (Option.isSome(f.trace)) {
        const nodes = out.trace.map((n) => ({ ...n, side: n.id.slice(0, 1) }))
        yield* writeFileAtomic(f.trace.value, JSON.stringify({ nodes }, null, 2) + "\n", "--trace")
      }
      if (limit !== undefined && out.diffs.some((d) => d.regression)) {
        yield* writeStderr(regressionLines(out.diffs))
        return yield* exitCode(1)
      }
      const unfit = unfitLines(out.diffs)
      if (f.requireFit && unfit !== "") {
        yield* writeStderr(unfit)
        yield* exitCode(2)
      }
    },
    (effect, f) => Effect.provide(effect, appLayer(toRunOptions(Option.none(), f)))
  )
).pipe(
  documented("Diff configs and results between two git revisions (or two files or folders), per phase and per layer; gate CI on regressions", [
    ["llmsim diff HEAD~1", "The default scenario at HEAD~1 against the working tree"],
    ["llmsim diff main HEAD configs/scenarios/deepseek_v3_h800.yaml --format markdown", "Two commits, as a pull request comment"],
    [
      "llmsim diff origin/main HEAD --fail-on-regression 2",
      "CI gate: exit 1 when latency, TPOT or tokens/s worsens by more than 2%, or B stops fitting in HBM"
    ],
    ["llmsim diff --a old/scenario.yaml --b new/scenario.yaml", "Two scenario files, no git"]
  ])
)

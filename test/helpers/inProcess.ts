/**
 * The library entry points the CLI commands call, run in the test process (no `llmsim` spawn,
 * which costs about a second each). Every in-process test goes through this one module, so a
 * move of the entry points (a composition root) is re-pointed here only. Each call is provided
 * with the Node platform services, exactly as bin/llmsim.js does; rendering uses the same
 * functions the commands print with. Entry points used: runSimulation, runLargeEp, runAfd,
 * runDiff (+ classifyArgs), loadValidationInputs + buildReport, calibrate, the store maintenance
 * functions, watchSession, and the CLI's Command values (commandErrors, commandInProcess).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Exit, Fiber } from "effect"
import { Command } from "effect/cli"
import { EventEmitter } from "node:events"
import * as fs from "node:fs"
import * as path from "node:path"
import { PassThrough } from "node:stream"
import { calibrate, DEFAULT_TILES, efficiencyBlock, leaveOneOut, type Fittable } from "../../src/accuracy/calibrate.ts"
import { parseCsv } from "../../src/reference/csv.ts"
import { gemmMeasurements } from "../../src/accuracy/gemm.ts"
import { renderJson, renderMarkdown, renderText } from "../../src/report/accuracy.ts"
import { buildReport, loadValidationInputs, referenceDir } from "../../src/accuracy/validate.ts"
import { accuracyCommands } from "../../src/cli/accuracy.ts"
import { ConfigError, UsageError } from "../../src/config/errors.ts"
import { decodeYamlText } from "../../src/config/yamlFile.ts"
import { classifyArgs } from "../../src/diff/args.ts"
import { runDiff } from "../../src/diff/compare.ts"
import { renderDiff } from "../../src/report/diff.ts"
import { loadRunSummary, renderExplain, saveRunSummary } from "../../src/graph/explain.ts"
import { collectGarbage, storeStats } from "../../src/graph/maintenance.ts"
import { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "../../src/report/playbooks.ts"
import { runAfd, runLargeEp, type AfdOptions, type LargeEpOptions } from "../../src/playbooks/run.ts"
import { renderRun } from "../../src/report/run.ts"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { runSimulation, type RunOptions, type RunOutput } from "../../src/app/session.ts"
import { runSweepCommand, type SweepOptions } from "../../src/sweep/run.ts"
import { mergeShards, type MergeOptions } from "../../src/sweep/merge.ts"
import type { RuntimeOverrides } from "../../src/config/runtime.ts"
import { appLayer, Project } from "../../src/app/services.ts"
import { Store } from "../../src/graph/store.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import type { EfficiencyMode } from "../../src/timing/roofline.ts"
import { errorEvent, fatalEvent, jsonLine, resultEvent } from "../../src/report/watch.ts"
import type { Reporter } from "../../src/watch/reporter.ts"
import { watchSession } from "../../src/watch/session.ts"

type Format = "table" | "json" | "csv"

// The CLI's command values and flag parsers the tests hand to commandErrors or call directly.
export const calibrateCommand = accuracyCommands[1]
export { cacheCommand } from "../../src/cli/cache.ts"
export { diffCommand } from "../../src/cli/diff.ts"
export { batchPolicy, playbookCommands } from "../../src/cli/playbooks.ts"
export { runCommand } from "../../src/cli/run.ts"
export { mlCommand } from "../../src/cli/ml.ts"
export { opsCommand } from "../../src/cli/ops.ts"
export type { BatchPolicy } from "../../src/playbooks/run.ts"
export type { RuntimeOverrides } from "../../src/config/runtime.ts"

/** Run an effect with the Node services (file system, path) the CLI provides. */
export const runEffect = <A, E>(effect: Effect.Effect<A, E, any>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.provide(NodeServices.layer)) as Effect.Effect<A, E>)

/** Run an effect that must fail and return its typed error (the CLI prints `error: ${message}`, exit 1). */
export const failureOf = async <E>(effect: Effect.Effect<unknown, E, any>): Promise<E> => runEffect(Effect.flip(effect))

/** `llmsim sweep` in this process: the SweepResult the command renders. */
export const sweepInProcess = (o: SweepOptions) => runEffect(runSweepCommand(o))
export const sweepFailure = (o: SweepOptions) => failureOf(runSweepCommand(o))
/** `llmsim sweep merge FILES`. */
export const mergeInProcess = (files: ReadonlyArray<string>, cwd: string, o: MergeOptions = {}) => runEffect(mergeShards(files, cwd, o))

/** RunOptions as the CLI builds them from its flags' defaults (analytic, hardware efficiency, store on). */
export const runOptions = (
  cwd: string,
  scenario?: string,
  over: Partial<Omit<RunOptions, "cwd" | "scenario">> & { runtime?: RuntimeOverrides } = {}
): RunOptions => ({
  cwd,
  ...(scenario === undefined ? {} : { scenario }),
  runtime: {},
  estimator: "analytic",
  efficiency: "hardware",
  noCache: false,
  ...over
})

export interface InProcessRun {
  readonly out: RunOutput
  /** What `llmsim run --format F` prints. */
  readonly text: (format: Format) => string
  /** The `--trace FILE` document, as read back from JSON. */
  readonly trace: { nodes: Array<any> }
  /** What `--explain` prints to stderr (always computed). */
  readonly explain: string
}

/** `llmsim run`: evaluate, then save the run summary for the next `--explain` as the command does. */
export const runInProcess = async (options: RunOptions): Promise<InProcessRun> => {
  const out = await runEffect(runSimulation(options))
  const scope = `run:${out.loaded.file}`
  const explain = renderExplain(out.trace, out.materials, loadRunSummary(out.cacheDir, scope))
  saveRunSummary(out.cacheDir, scope, out.materials)
  return { out, text: (f) => renderRun(out.result, f), trace: JSON.parse(JSON.stringify({ nodes: out.trace })), explain }
}

/** The failing `llmsim run`'s typed error. */
export const runFailure = (options: RunOptions) => failureOf(runSimulation(options))

/** `llmsim large-ep evaluate`: the result and what `--format F` prints. */
export const largeEpInProcess = async (o: LargeEpOptions) => {
  const out = await runEffect(runLargeEp(o))
  const r = out.result
  const text = (f: Format) => ("ep_sweep" in r ? renderLargeEpSweep(r, f) : renderLargeEp(r, f))
  return { result: r, text, json: JSON.parse(text("json")) }
}

export const largeEpFailure = (o: LargeEpOptions) => failureOf(runLargeEp(o))

export const afdFailure = (o: AfdOptions) => failureOf(runAfd(o))

/** `llmsim afd simulate`: the result and what `--format F` prints. */
export const afdInProcess = async (o: AfdOptions) => {
  const out = await runEffect(runAfd(o))
  const r = out.result
  const text = (f: Format) => ("instance_sweep" in r ? renderAfdSweep(r, f) : renderAfd(r, f))
  return { result: r, text, json: JSON.parse(text("json")) }
}

export interface DiffFlags {
  readonly a?: string
  readonly b?: string
  readonly runtime?: RuntimeOverrides
  readonly noCache?: boolean
  readonly failOnRegression?: number
}

/** `llmsim diff ARGS...` in `cwd`: the positionals read as the command reads them, then runDiff. */
const diffEffect = (cwd: string, args: ReadonlyArray<string>, f: DiffFlags) => {
  // The command's revB-or-scenario rule needs to know which of the first two tokens are files.
  const files = new Set(args.slice(0, 2).filter((t) => fs.statSync(path.resolve(cwd, t), { throwIfNoEntry: false })?.isFile() === true))
  const parsed = classifyArgs(args, f.a, f.b, files)
  if (parsed instanceof UsageError) return Effect.fail(parsed)
  return runDiff({
    cwd,
    target: parsed.target,
    scenarios: parsed.scenarios,
    runtime: f.runtime ?? {},
    estimator: "analytic",
    efficiency: "hardware",
    noCache: f.noCache ?? false,
    limitPct: f.failOnRegression ?? 0
  })
}

/**
 * `llmsim diff`: the diffs, what `--format F` prints (with the gate's fields when
 * `failOnRegression` is given) and the `--trace FILE` document (each node with its side).
 */
export const diffInProcess = async (cwd: string, args: ReadonlyArray<string>, f: DiffFlags = {}) => {
  const out = await runEffect(diffEffect(cwd, args, f))
  const gate = f.failOnRegression !== undefined
  return {
    diffs: out.diffs,
    text: (format: "table" | "json" | "markdown", layers: "grouped" | "all" = "grouped") => renderDiff(out.diffs, format, { gate, layers }),
    json: JSON.parse(renderDiff(out.diffs, "json", { gate })),
    trace: { nodes: out.trace.map((n) => ({ ...n, side: n.id.slice(0, 1) })) } as { nodes: Array<any> }
  }
}

/** The failing `llmsim diff`'s typed error (the CLI prints `error: ${message}`, exit 1). */
export const diffFailure = (cwd: string, args: ReadonlyArray<string>, f: DiffFlags = {}) => failureOf(diffEffect(cwd, args, f))

/** `llmsim validate` in project `root`: the report and its three renderings. */
/** validate's inputs as the command loads them: the project at `root`, its reference folder. */
export const validationInputs = (root: string, reference: string | undefined) =>
  Effect.gen(function* () {
    const project = yield* Project
    return yield* loadValidationInputs(referenceDir(project, reference))
  }).pipe(Effect.provide(appLayer({ cwd: root, noCache: true })))

export const validateInProcess = async (
  root: string,
  reference: string | undefined,
  mode: EfficiencyMode = "hardware",
  estimator: "analytic" | "ml" = "analytic"
) => {
  const inputs = await runEffect(validationInputs(root, reference))
  const report = buildReport(inputs, mode, estimator)
  return { report, json: JSON.parse(renderJson(report)), markdown: renderMarkdown(report), table: renderText(report) }
}

export const validateFailure = (root: string, reference: string | undefined) => failureOf(validationInputs(root, reference))

/** `llmsim calibrate HW --data CSV --where ... --fit ...`: the fit and the printed efficiency block. */
export const calibrateInProcess = (
  root: string,
  hardwareFile: string,
  dataFile: string,
  where: ReadonlyArray<readonly [string, string]>,
  fit: ReadonlyArray<Fittable>,
  loo = false
) => {
  const hw = decodeYamlText(HardwareSpec, fs.readFileSync(path.resolve(root, hardwareFile), "utf8"), hardwareFile)
  if (hw instanceof ConfigError) throw new Error(hw.message)
  const { rows } = gemmMeasurements(parseCsv(fs.readFileSync(dataFile, "utf8")), where)
  const result = calibrate(hw, rows, fit, DEFAULT_TILES)
  const filter = where.length > 0 ? ` where ${where.map(([c, v]) => `${c}=${v}`).join(", ")}` : ""
  const provenance = `${rows.length} rows of ${path.basename(dataFile)}${filter}`
  return { rows, result, provenance, yaml: efficiencyBlock(hw, result, provenance), loo: loo ? leaveOneOut(hw, rows, fit, DEFAULT_TILES) : undefined }
}

/** `llmsim cache stats | verify | gc` on the store of the project in `cwd`. */
export const cacheInProcess = async (cwd: string) => {
  const dir = await runEffect(Effect.map(Store, (store) => store.dir!).pipe(Effect.provide(appLayer({ cwd, noCache: false }))))
  return {
    dir,
    stats: () => storeStats(dir),
    verify: () => runEffect(verifyStore(dir, NODE_TYPES)),
    gc: (opts: { maxSizeBytes?: number; maxAgeMs?: number }) => collectGarbage(dir, opts)
  }
}

/**
 * Run one of the CLI's commands (e.g. runCommand of src/cli/run.ts) on ARGS in process, in this
 * process's working directory, and return the errors the CLI would report (and exit 1 on): bad
 * flag values from its parser, or the handler's typed error. Empty when it succeeds. Only for
 * arguments that fail: a success would print to this process's stdout.
 */
/**
 * Run a CLI command value in process on `args` (as its subcommand path and flags, without the
 * program name) and return what it wrote to stdout; flag paths are best absolute (the command
 * resolves them from this process's current directory).
 */
export const commandInProcess = async (command: Command.Command<any, any, any, any, any>, args: ReadonlyArray<string>): Promise<string> => {
  const chunks: Array<string> = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    await runEffect(Command.runWith(command, { version: "test" })(args))
  } finally {
    process.stdout.write = write
  }
  return chunks.join("")
}

export const commandErrors = async (command: Command.Command<any, any, any, any, any>, args: ReadonlyArray<string>): Promise<Array<string>> => {
  // The parser prints the command's help on a bad value: keep it out of the test output.
  const silent = new Proxy({}, { get: () => () => {} }) as Console.Console
  const parse = Command.runWith(command, { version: "test", renderErrors: false })(args).pipe(Effect.provideService(Console.Console, silent))
  const outcome = await runEffect(Effect.result(parse))
  if (outcome._tag === "Success") return []
  const e = outcome.failure as { errors?: ReadonlyArray<{ message: string }>; message?: string }
  return e.errors !== undefined ? e.errors.map((x) => x.message) : [String(e.message)]
}

/**
 * `llmsim watch --reporter json` as a session in this process, shaped like the spawned child
 * test/watch/watchProcess.ts reads: its stdout carries the JSON reporter's lines (the same
 * event renderers), `kill()` interrupts the session (closing its watchers) and emits "exit".
 * A session that fails at start-up (nothing to watch) prints `error: MESSAGE` and exits 1, as the
 * CLI does. For what is watched and what each save does; signals and terminals need a process.
 */
export const watchInProcess = (run: RunOptions) => {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out = (line: string) => void stdout.write(line)
  const reporter: Reporter = {
    result: (c, a) => out(jsonLine(resultEvent(c, a))),
    error: (issues, a) => out(jsonLine(errorEvent(issues, a))),
    fatal: (e) => out(jsonLine(fatalEvent(e)))
  }
  const child = Object.assign(new EventEmitter(), {
    stdout,
    stderr,
    exitCode: null as number | null,
    signalCode: null as NodeJS.Signals | null,
    kill: (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) {
        child.signalCode = signal
        Effect.runFork(Fiber.interrupt(fiber))
      }
      return true
    }
  })
  const fiber = Effect.runFork(Effect.scoped(watchSession({ run, reporter })).pipe(Effect.provide(NodeServices.layer)))
  fiber.addObserver((exit) => {
    if (Exit.isFailure(exit) && child.signalCode === null) {
      const e = exit.cause.reasons.find((r) => r._tag === "Fail") as { error?: { message?: string } } | undefined
      stderr.write(`error: ${e?.error?.message ?? "watch session failed"}\n`)
      child.exitCode = 1
    }
    // Let the streams deliver what was written before the exit is seen.
    setImmediate(() => child.emit("exit", child.exitCode, child.signalCode))
  })
  return child
}

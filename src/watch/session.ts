/**
 * A watch session: resolve the project and scenario once, then evaluate on every relevant save
 * until interrupted (Ctrl-C) or until the watcher itself breaks down.
 *
 * Per evaluation: evaluate (through the session's memory store), move the watchers to the
 * folders of the files it read, print, then re-read those files: a save that landed between
 * the read and the watcher being ready would otherwise be missed.
 */
import { Clock, Effect, FileSystem, Queue, type Scope } from "effect"
import * as path from "node:path"
import { isInside } from "../config/paths.ts"
import { storeFor } from "../app/services.ts"
import { resolveScenarioPath, type RunOptions } from "../app/session.ts"
import type { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath } from "../config/load.ts"
import { CONFIG_FILE, loadProject } from "../config/project.ts"
import type { RunResult } from "../kernel/records.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import { triggers, watchSetOf, type WatchSet } from "./affected.ts"
import { compare } from "./delta.ts"
import type { WatcherError } from "./errors.ts"
import { evaluate, type WatchTarget } from "./evaluate.ts"
import { memoryStore } from "./memoryStore.ts"
import { changedSince } from "./reads.ts"
import type { Reporter } from "./reporter.ts"
import { schedule, type Batch } from "./schedule.ts"
import { makeFolderWatch } from "./watcher.ts"

/**
 * How long an error waits before it is shown (schedule.ts): an editor that truncates and then
 * writes a file, or saves two files in turn, ends within it, and that newer save interrupts the
 * wait. Results are shown at once.
 */
const SETTLE_MS = 150

export interface WatchOptions {
  readonly run: RunOptions
  readonly reporter: Reporter
  /** How long an error waits for a newer save before it is shown (default SETTLE_MS). */
  readonly settleMs?: number
  /** Called with every good result after the reporter (watch --html renders and serves it). */
  readonly onResult?: (result: RunResult, hardware: HardwareSpec) => void
}

/**
 * Never succeeds: it ends by interruption, or fails with a `WatcherError`. Bad input at start-up
 * that leaves nothing to watch (no scenario, an unloadable llmsim.config.ts) fails at once.
 */
export const watchSession = (o: WatchOptions): Effect.Effect<never, WatcherError | ConfigError | UsageError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const project = yield* loadProject(o.run.cwd)
    const { root } = project
    // Watched even while it does not exist: creating it changes the runtime defaults.
    const configFile = project.configFile ?? path.join(root, CONFIG_FILE)
    const scenarioFile = yield* resolveScenarioPath(project, o.run.scenario)
    // The store folder is fixed for the session; llmsim.config.ts edits change runtime defaults.
    const disk = storeFor(project, o.run)
    const cacheDir = disk.dir
    const store = memoryStore(disk)
    const fsys = yield* FileSystem.FileSystem
    const target: WatchTarget = { project, scenarioFile, configFile, options: o.run, store }
    const always = [scenarioFile, configFile]

    const folders = yield* makeFolderWatch({
      ignore: cacheDir === undefined ? () => false : (file: string) => isInside(file, cacheDir),
      onWarning: (message) => void process.stderr.write(`warning: ${message}\n`)
    })
    let watching: WatchSet = watchSetOf([], always)
    let lastGood: { result: RunResult; folders: ReadonlySet<string> } | undefined

    const run = (batch: Batch) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const outcome = yield* Effect.provideService(evaluate(target), FileSystem.FileSystem, fsys)
        const next = watchSetOf(outcome.reads.keys(), always, outcome._tag === "Bad" ? lastGood?.folders : [])
        yield* folders.sync(next.folders)
        // An error may be a half-written file whose rest is a moment away: wait (a newer save
        // interrupts this fiber) unless a read already changed, and re-evaluate then.
        if (outcome._tag === "Bad") {
          const changed = changedSince(outcome.reads)
          if (changed.length > 0) {
            for (const file of changed) yield* folders.offer({ kind: "change", path: file })
            return
          }
          yield* Effect.sleep(o.settleMs ?? SETTLE_MS)
        }
        const now = yield* Clock.currentTimeMillis
        // One synchronous step: the state and what is printed change together, never half.
        yield* Effect.sync(() => {
          watching = next
          const activity = { time: new Date(now).toISOString(), changedFiles: batch.files.map((f) => displayPath(root, f)) }
          const shown = { files: next.files.size, folders: next.folders.size }
          if (outcome._tag === "Good") {
            const comparison = compare(outcome.result, lastGood?.result)
            const memory = process.memoryUsage()
            lastGood = { result: outcome.result, folders: next.folders }
            o.reporter.result(
              comparison,
              {
                ...activity,
                computed: outcome.computed,
                replayed: outcome.replayed,
                layersRecomputed: outcome.layersRecomputed,
                elapsedMs: now - batch.since,
                evaluationMs: now - started,
                rssBytes: memory.rss,
                heapUsedBytes: memory.heapUsed
              },
              shown
            )
            o.onResult?.(outcome.result, outcome.hardware)
          } else {
            o.reporter.error(outcome.issues, activity, shown)
          }
        })
        // Store writes after printing: the answer is not kept waiting for the disk.
        if (outcome._tag === "Good") yield* outcome.commit
        for (const file of changedSince(outcome.reads)) yield* folders.offer({ kind: "change", path: file })
      })

    return yield* schedule({
      take: Queue.take(folders.events),
      poll: Queue.poll(folders.events),
      relevant: (event) => triggers(watching, event),
      run
    })
  })

/**
 * `llmsim worker`'s runner on a worker thread (entry `runner`, src/base/entries.js), for the
 * reason src/graph/clusterThread.ts gives: the CLI bundle holds no cluster code. The CLI
 * (src/cli/worker.ts) posts nothing but `"stop"` (Ctrl-C, SIGTERM), which interrupts the runner:
 * it leaves the cluster and the thread ends.
 *
 * Posts `{ log }` per log line, then `{ failed }` if the runner could not start or stopped on an
 * error; a stopped runner just ends.
 */
import { Cause, Effect, Exit, Fiber, References } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { causeText } from "../graph/executor.ts"
import { runWorker, type WorkerOptions } from "./runner.ts"

/** What the runner thread posts to the CLI. */
export type FromRunnerThread = { readonly log: string } | { readonly failed: string }

const port = parentPort!
const post = (m: FromRunnerThread) => port.postMessage(m)
const options = workerData as Omit<WorkerOptions, "log">

const fiber = Effect.runFork(
  runWorker({ ...options, log: (line) => post({ log: line }) }).pipe(
    // effect/cluster's own log: warnings and errors only (its info lines are per shard).
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
)
port.on("message", (m: unknown) => {
  if (m === "stop") Effect.runFork(Fiber.interrupt(fiber))
})
fiber.addObserver((exit) => {
  if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) post({ failed: causeText(exit.cause) })
  port.close()
})

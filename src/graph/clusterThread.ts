/**
 * The cluster client in a worker thread (entry `clusterClient`, src/base/entries.js): effect/cluster
 * and the PostgreSQL client are about 1.6 MB of code that every llmsim start would compile
 * (+20 ms on `llmsim --version`, measured) if the CLI bundle held them. A `--cluster` run starts
 * this thread instead (`threadExecutor`, src/graph/executor.ts), which builds the executor of
 * src/graph/cluster.ts and runs the requests the main thread posts.
 *
 * Protocol: the thread posts `{ ready: true }` once the executor is built, or `{ failed }` and
 * ends; then answers each `{ id, request }` with `{ id, ok: true, value }` or
 * `{ id, ok: false, message }`; `"stop"` closes the executor and ends the thread.
 */
import { Effect, Exit, Queue } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { clusterExecutor } from "./cluster.ts"
import { causeText, Executor, type FromExecutorThread, type ToExecutorThread } from "./executor.ts"

const port = parentPort!
const post = (m: FromExecutorThread) => port.postMessage(m)

const serve = Effect.gen(function* () {
  const executor = yield* Executor
  const context = yield* Effect.context<never>()
  const inbox = yield* Queue.unbounded<ToExecutorThread>()
  port.on("message", (m: ToExecutorThread) => void Queue.offerUnsafe(inbox, m))
  post({ ready: true })
  for (;;) {
    const m = yield* Queue.take(inbox)
    if (m === "stop") return
    Effect.runForkWith(context)(
      Effect.exit(executor.execute(m.request)).pipe(
        Effect.map((exit) => post(Exit.isSuccess(exit) ? { id: m.id, ok: true, value: exit.value } : { id: m.id, ok: false, message: causeText(exit.cause) }))
      )
    )
  }
}).pipe(Effect.provide(clusterExecutor((workerData as { readonly url: string }).url)))

void Effect.runPromiseExit(serve).then((exit) => {
  if (Exit.isFailure(exit)) post({ failed: causeText(exit.cause) })
  port.close()
})

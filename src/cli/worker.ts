/**
 * `llmsim worker --cluster URL`: run a cluster runner (src/app/runner.ts, docs/cluster.md) until
 * Ctrl-C or SIGTERM, which leave the cluster cleanly (its shards handed to the other runners).
 */
import { Effect, Option, Result } from "effect"
import { Command, Flag } from "effect/cli"
import * as os from "node:os"
import { clusterFlag, documented, parsedWith, runtimeFlags } from "./flags.ts"
import { exitZeroOnSignal } from "./output.ts"
import { ENTRIES, entryUrl } from "../base/entries.js"
import type { WorkerOptions } from "../app/runner.ts"
import type { FromRunnerThread } from "../app/runnerThread.ts"
import { RemoteExecutionError } from "../graph/executor.ts"

const RUNNER_THREAD = entryUrl(ENTRIES.runner, !import.meta.url.endsWith(".ts"))

/** host:port, a port from 1 to 65535. */
const address = (name: string, what: string) =>
  Flag.String(name).pipe(
    Flag.withDescription(what),
    parsedWith(name, (t: string): Result.Result<{ host: string; port: number }, string> => {
      const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(t)
      const port = m === null ? Number.NaN : Number(m[2])
      return m !== null && port >= 1 && port <= 65535
        ? Result.succeed({ host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port })
        : Result.fail(`expected HOST:PORT (a port from 1 to 65535), got "${t}"`)
    })
  )

export const workerCommand = Command.make(
  "worker",
  {
    cluster: clusterFlag("PostgreSQL URL of the cluster to join (its runner list and shard locks live there)"),
    listen: address("listen", "Where this runner listens for the cluster's clients and runners (default 127.0.0.1:34431)").pipe(Flag.optional),
    advertise: address("advertise", "The address the others reach this runner at, when not --listen's (behind NAT, in a pod)").pipe(Flag.optional),
    threads: Flag.Int("threads").pipe(
      Flag.withDescription("Capacity searches computed at once, each on its own thread (default: one per CPU core)"),
      Flag.filter(
        (n) => n >= 1 && n <= 256,
        (n) => `--threads must be 1 to 256, got ${n}`
      ),
      Flag.optional
    ),
    cacheDir: runtimeFlags.cacheDir,
    cache: runtimeFlags.cache,
    remoteCache: runtimeFlags.remoteCache
  },
  Effect.fn(function* (a) {
    yield* exitZeroOnSignal
    const options: Omit<WorkerOptions, "log"> = {
      cwd: process.cwd(),
      cluster: a.cluster,
      listen: Option.getOrElse(a.listen, () => ({ host: "127.0.0.1", port: 34431 })),
      ...(Option.isSome(a.advertise) ? { advertise: a.advertise.value } : {}),
      threads: Option.getOrElse(a.threads, () => os.availableParallelism()),
      ...(Option.isSome(a.cacheDir) ? { cacheDir: a.cacheDir.value } : {}),
      noCache: !a.cache,
      ...(Option.isSome(a.remoteCache) ? { remoteCache: a.remoteCache.value } : {})
    }
    // The runner runs on a thread (src/app/runnerThread.ts says why); a signal interrupts this
    // fiber, whose release asks the thread to leave the cluster and waits for it.
    const runner = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const { Worker } = process.getBuiltinModule("node:worker_threads")
        return new Worker(RUNNER_THREAD, { workerData: options })
      }),
      (w) =>
        Effect.promise(
          () =>
            new Promise<void>((resolve) => {
              if (w.threadId === -1) return resolve()
              w.once("exit", () => resolve())
              w.postMessage("stop")
            })
        )
    )
    return yield* Effect.callback<never, RemoteExecutionError>((resume) => {
      let failed: string | undefined
      runner.on("message", (m: FromRunnerThread) => {
        if ("log" in m) process.stderr.write(`${m.log}\n`)
        else failed = m.failed
      })
      runner.once("exit", () => resume(Effect.fail(new RemoteExecutionError({ message: failed ?? "the runner stopped" }))))
    })
  }, Effect.scoped)
).pipe(
  documented("Join a cluster as a runner: compute the capacity searches that sweep --bench --cluster and plan --cluster send (docs/cluster.md)", [
    ["llmsim worker --cluster postgres://llmsim@db:5432/llmsim", "A runner on 127.0.0.1:34431 with one thread per core"],
    [
      "llmsim worker --cluster postgres://llmsim@db:5432/llmsim --listen 0.0.0.0:34431 --advertise node-3:34431",
      "A runner other machines reach at node-3:34431"
    ]
  ])
)

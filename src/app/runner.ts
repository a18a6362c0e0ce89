/**
 * `llmsim worker --cluster URL`: a cluster runner (src/graph/cluster.ts, docs/cluster.md). It
 * serves its shards of remote nodes: for each, it derives the node's key itself (refusing a
 * request keyed by another llmsim build), replays it from its store when there (the local store
 * and the remote cache behind it, as any command in this project folder), else computes it on one
 * of its threads, stores it, and replies with the output.
 *
 * Threads (src/app/computeThread.ts): `--threads N` computations at once, each on its own worker
 * thread, queued in arrival order; the runner's event loop only moves messages.
 */
import { Deferred, Effect, Layer } from "effect"
import { Worker } from "node:worker_threads"
import { ENTRIES, entryUrl } from "../base/entries.js"
import { digest } from "../graph/canonical.ts"
import { ComputeFailed, holdsShards, runnerLayer } from "../graph/cluster.ts"
import { makeEvaluator } from "../graph/evaluator.ts"
import { failureText, shownUrl, type ExecutionRequest } from "../graph/executor.ts"
import { keyMaterial, nodeTypesByKind, type GraphNode } from "../graph/node.ts"
import { Store } from "../graph/store.ts"
import { toolchainFingerprint } from "../graph/toolchain.ts"
import { loadProject } from "../config/project.ts"
import type { ComputeDone, ComputeJob } from "./computeThread.ts"
import { NODE_TYPES } from "./nodeTypes.ts"
import { storeFor, type StoreOptions } from "./services.ts"

const THREAD_URL = entryUrl(ENTRIES.computeThread, !import.meta.url.endsWith(".ts"))

export interface WorkerOptions extends StoreOptions {
  readonly cwd: string
  /** The cluster's PostgreSQL URL. */
  readonly cluster: string
  readonly listen: { readonly host: string; readonly port: number }
  readonly advertise?: { readonly host: string; readonly port: number }
  /** Computations at once (worker threads). */
  readonly threads: number
  /** One line per event (joined, each node served), for the runner's log. */
  readonly log: (line: string) => void
}

interface Pool {
  /** The output, and the thread's milliseconds on it (time queued for a thread excluded). */
  readonly compute: (kind: string, params: unknown) => Effect.Effect<{ readonly value: unknown; readonly ms: number }, ComputeFailed>
}

/** `n` compute threads fed from one queue, terminated with the scope. */
const threadPool = (n: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const idle: Array<Worker> = []
      const queue: Array<{ job: ComputeJob; done: Deferred.Deferred<{ readonly value: unknown; readonly ms: number }, ComputeFailed> }> = []
      const running = new Map<number, Deferred.Deferred<{ readonly value: unknown; readonly ms: number }, ComputeFailed>>()
      let next = 0
      const pump = () => {
        while (idle.length > 0 && queue.length > 0) {
          const w = idle.pop()!
          const { job, done } = queue.shift()!
          running.set(job.job, done)
          w.postMessage(job)
        }
      }
      const workers = Array.from({ length: n }, () => {
        const w = new Worker(THREAD_URL)
        w.on("message", (m: ComputeDone) => {
          const done = running.get(m.job)
          running.delete(m.job)
          idle.push(w)
          if (done !== undefined)
            Deferred.doneUnsafe(done, m.ok ? Effect.succeed({ value: m.value, ms: m.ms }) : Effect.fail(new ComputeFailed({ message: m.message })))
          pump()
        })
        // A thread that dies (out of memory) takes the process down: the cluster moves its shards.
        w.on("error", (e) => {
          process.stderr.write(`llmsim worker: a compute thread failed: ${e.message}\n`)
          process.exit(70)
        })
        idle.push(w)
        return w
      })
      const pool: Pool = {
        compute: (kind, params) =>
          Effect.suspend(() => {
            const done = Deferred.makeUnsafe<{ readonly value: unknown; readonly ms: number }, ComputeFailed>()
            queue.push({ job: { job: next++, kind, params }, done })
            pump()
            return Deferred.await(done)
          })
      }
      return { pool, workers }
    }),
    ({ workers }) => Effect.promise(() => Promise.all(workers.map((w) => w.terminate())))
  ).pipe(Effect.map(({ pool }) => pool))

/** Join the cluster and serve until interrupted (SIGINT/SIGTERM leave it cleanly: shards released). */
export const runWorker = (o: WorkerOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const project = yield* loadProject(o.cwd)
      const store = storeFor(project, o)
      const pool = yield* threadPool(o.threads)
      const byKind = nodeTypesByKind(NODE_TYPES)
      const toolchain = toolchainFingerprint()
      const self = `${(o.advertise ?? o.listen).host}:${(o.advertise ?? o.listen).port}`
      const handle = (request: ExecutionRequest) =>
        Effect.gen(function* () {
          const type = byKind.get(request.kind)
          if (type === undefined || !type.remote) return yield* new ComputeFailed({ message: `runner ${self} computes no node kind "${request.kind}"` })
          // Computed on a thread; looked up, keyed and stored here.
          let threadMs: number | undefined
          const node: GraphNode<unknown, unknown> = {
            type: {
              ...type,
              compute: (params: unknown) =>
                Effect.map(pool.compute(request.kind, params), (done) => {
                  threadMs = done.ms
                  return done.value
                })
            },
            id: request.id,
            name: request.name,
            params: request.params,
            deps: []
          }
          const key = digest(keyMaterial(node, [], toolchain))
          if (key !== request.key) {
            return yield* new ComputeFailed({
              message: `runner ${self} (llmsim ${toolchain.llmsim}, Node ${toolchain.node}, effect ${toolchain.effect}) keys this node differently: run a cluster's clients and runners from one llmsim build`
            })
          }
          const evaluator = yield* Effect.provideService(makeEvaluator, Store, store)
          const out = yield* evaluator
            .evaluate(node)
            .pipe(Effect.mapError((e) => (e instanceof ComputeFailed ? e : new ComputeFailed({ message: failureText(e) }))))
          yield* evaluator.commit()
          o.log(
            threadMs === undefined
              ? `replayed ${request.name} ${key.slice(0, 12)}`
              : `computed ${request.name} ${key.slice(0, 12)} in ${threadMs.toFixed(0)} ms`
          )
          return out.value
        })
      const cluster = yield* Layer.build(
        runnerLayer({ url: o.cluster, listen: o.listen, ...(o.advertise === undefined ? {} : { advertise: o.advertise }), threads: o.threads, handle })
      )
      // "joined" once it holds shards: a client started after this line reaches it.
      const holds = yield* Effect.provide(holdsShards(60_000), cluster)
      o.log(
        holds
          ? `runner ${self} joined cluster ${shownUrl(o.cluster)} with ${o.threads} compute thread${o.threads === 1 ? "" : "s"}`
          : `runner ${self} registered with cluster ${shownUrl(o.cluster)} but holds no shard after 60 s (are the other runners handing theirs over?)`
      )
      return yield* Effect.never
    })
  )

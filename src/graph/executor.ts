/**
 * Remote execution of build-graph nodes (Bazel's remote execution, in this graph's terms): a node
 * whose type is `remote` (no dependencies, no input: its params say everything) can be computed
 * by another process when an `Executor` is in context. The evaluator still owns the node: it
 * looks the key up in its store first, sends only misses, and stores what comes back under the
 * key it computed, so a rerun replays locally and `cache verify` recomputes the entry here.
 *
 * The executor sends the key with the request; the computing side derives its own key from the
 * same params and refuses a mismatch (another llmsim version or toolchain would key, and may
 * compute, differently). src/graph/cluster.ts is the executor over effect/cluster; a command
 * runs it on a thread of its own (`threadExecutor`, src/graph/clusterThread.ts).
 */
import { Cause, Context, Deferred, Effect, Layer, Schema } from "effect"
import { ENTRIES, entryUrl } from "../base/entries.js"

/** What a remote computation needs: the node's identity and params, and the key the sender derived. */
export interface ExecutionRequest {
  readonly kind: string
  readonly id: string
  readonly name: string
  readonly params: unknown
  readonly key: string
}

/** A node that could not be computed remotely; the message says where and why. */
export class RemoteExecutionError extends Schema.TaggedError<RemoteExecutionError>()("RemoteExecutionError", {
  message: Schema.String
}) {}

export interface ExecutorShape {
  /** The node's output (JSON), computed elsewhere. */
  readonly execute: (request: ExecutionRequest) => Effect.Effect<unknown, RemoteExecutionError>
}

export class Executor extends Context.Service<Executor, ExecutorShape>()("llmsim/graph/Executor") {}

/** A failure that crosses a thread or the network, as one line: an Error's message, else its text. */
export const failureText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The same for an Effect failure cause (a typed error first, else the defect). */
export const causeText = (cause: Cause.Cause<unknown>): string => failureText(Cause.squash(cause))

/** A database URL as shown in messages: without its password. */
export const shownUrl = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/, "$1:***@")

/** What the main thread posts to an executor thread (src/graph/clusterThread.ts). */
export type ToExecutorThread = { readonly id: number; readonly request: ExecutionRequest } | "stop"
/** What an executor thread posts back. */
export type FromExecutorThread =
  | { readonly ready: true }
  | { readonly failed: string }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string }

const CLUSTER_THREAD = entryUrl(ENTRIES.clusterClient, !import.meta.url.endsWith(".ts"))

/**
 * The cluster's executor, run on a worker thread (src/graph/clusterThread.ts says why): built
 * when the thread says it is ready, or failed with the thread's one line; the thread is stopped
 * with the layer's scope.
 */
export const threadExecutor = (url: string): Layer.Layer<Executor, RemoteExecutionError> =>
  Layer.effect(
    Executor,
    Effect.gen(function* () {
      const waiting = new Map<number, Deferred.Deferred<unknown, RemoteExecutionError>>()
      const ready = Deferred.makeUnsafe<void, RemoteExecutionError>()
      const thread = yield* Effect.acquireRelease(
        Effect.sync(() => {
          // Loaded here: node:worker_threads is not needed by a run without --cluster.
          const { Worker } = process.getBuiltinModule("node:worker_threads")
          const w = new Worker(CLUSTER_THREAD, { workerData: { url } })
          w.on("message", (m: FromExecutorThread) => {
            if ("ready" in m) Deferred.doneUnsafe(ready, Effect.void)
            else if ("failed" in m) Deferred.doneUnsafe(ready, Effect.fail(new RemoteExecutionError({ message: m.failed })))
            else {
              const done = waiting.get(m.id)
              waiting.delete(m.id)
              if (done !== undefined) Deferred.doneUnsafe(done, m.ok ? Effect.succeed(m.value) : Effect.fail(new RemoteExecutionError({ message: m.message })))
            }
          })
          const lost = (why: string) => {
            const e = new RemoteExecutionError({ message: `cluster ${shownUrl(url)}: ${why}` })
            Deferred.doneUnsafe(ready, Effect.fail(e))
            for (const done of waiting.values()) Deferred.doneUnsafe(done, Effect.fail(e))
            waiting.clear()
          }
          w.on("error", (e) => lost(`its client thread failed (${e.message})`))
          w.on("exit", () => lost("its client thread ended"))
          return w
        }),
        (w) =>
          Effect.promise(
            () =>
              new Promise<void>((resolve) => {
                w.removeAllListeners("exit")
                w.once("exit", () => resolve())
                w.postMessage("stop" satisfies ToExecutorThread)
                // A thread that does not leave in time (a request stuck on the network) is ended.
                setTimeout(() => void w.terminate(), 10_000).unref()
              })
          )
      )
      yield* Deferred.await(ready)
      let next = 0
      return {
        execute: (request) =>
          Effect.suspend(() => {
            const id = next++
            const done = Deferred.makeUnsafe<unknown, RemoteExecutionError>()
            waiting.set(id, done)
            thread.postMessage({ id, request } satisfies ToExecutorThread)
            return Deferred.await(done)
          })
      }
    })
  )

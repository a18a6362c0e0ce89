/**
 * A cluster runner's compute thread (src/app/runner.ts): computes remote nodes from their kind
 * and params, one at a time, so the runner's own event loop stays free for the cluster (shard
 * lock refreshes, health checks, replies) however long a capacity search runs.
 */
import { Effect, Exit } from "effect"
import { parentPort } from "node:worker_threads"
import { causeText } from "../graph/executor.ts"
import { nodeTypesByKind } from "../graph/node.ts"
import { NODE_TYPES } from "./nodeTypes.ts"

/** What the runner sends: one node to compute. */
export interface ComputeJob {
  readonly job: number
  readonly kind: string
  readonly params: unknown
}

/** What comes back: the output and the thread's milliseconds on it, or the error's message. */
export type ComputeDone =
  | { readonly job: number; readonly ok: true; readonly value: unknown; readonly ms: number }
  | { readonly job: number; readonly ok: false; readonly message: string }

const byKind = nodeTypesByKind(NODE_TYPES)

parentPort!.on("message", async (m: ComputeJob) => {
  const type = byKind.get(m.kind)
  if (type === undefined) {
    parentPort!.postMessage({ job: m.job, ok: false, message: `no node type "${m.kind}"` } satisfies ComputeDone)
    return
  }
  const started = performance.now()
  const exit = await Effect.runPromiseExit(type.compute(m.params, [], undefined))
  parentPort!.postMessage(
    (Exit.isSuccess(exit)
      ? { job: m.job, ok: true, value: exit.value, ms: performance.now() - started }
      : { job: m.job, ok: false, message: causeText(exit.cause) }) satisfies ComputeDone
  )
})

/**
 * Evaluates graph nodes with two cache levels.
 *
 * - L1: an in-process map from key to a Deferred, so a key is computed once per process even
 *   when many nodes share it (58 identical MoE layers, the same op in two layer entries) and
 *   concurrent requests wait for the first. Failures are never cached: the entry is removed
 *   and the next request recomputes (a YAML read mid-save must not poison the run).
 * - L2: the `Store` service (on disk, or none with --no-cache).
 *
 * - Remote execution (src/graph/executor.ts): with an `Executor` in context, a `remote` node
 *   that misses the store is computed by it instead of here, and stored here like any other.
 *
 * Store writes are buffered and committed by `commit()` after the whole run succeeded, so a
 * run that fails on bad input (or is interrupted) writes nothing.
 *
 * Interruptible: a node's compute, normalize and digest are synchronous, and a signal's handler
 * (which interrupts the main fiber) runs only when the event loop turns. The evaluator yields
 * after each of those steps and every YIELD_EVERY_NODES visits, so SIGINT/SIGTERM stop a long
 * run within one such step (the largest: normalizing a scenario result with many instances).
 */
import { Deferred, Effect, Exit, Option } from "effect"
import { digest } from "./canonical.ts"
import { keyMaterial, type GraphNode, type KeyMaterial, type TraceEntry } from "./node.ts"
import { Executor } from "./executor.ts"
import { Store, type StoredEntry } from "./store.ts"
import { CurrentToolchain } from "./toolchain.ts"
import { counted, progress } from "../base/debug.ts"

export interface Evaluated<A> {
  readonly value: A
  /** Digest of the canonical JSON of `value`. */
  readonly digest: string
  readonly key: string
}

export interface NodeRecord {
  readonly material: KeyMaterial
  readonly dep_ids: ReadonlyArray<string>
}

export interface Evaluator {
  readonly evaluate: <A, E>(node: GraphNode<A, E>) => Effect.Effect<Evaluated<A>, E>
  /** Trace entries in completion order, one per node id. */
  readonly trace: () => ReadonlyArray<TraceEntry>
  /** Key material and dependency ids per node id (for --explain). */
  readonly materials: () => ReadonlyMap<string, NodeRecord>
  /** Write buffered entries to the store. */
  readonly commit: () => Effect.Effect<void>
}

/** Visits between yields: a visit is microseconds, a yield one event-loop turn. */
const YIELD_EVERY_NODES = 256

/** JSON round trip so a computed value is indistinguishable from a replayed one. */
const normalize = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A

export const makeEvaluator = Effect.gen(function* () {
  const store = yield* Store
  const toolchain = yield* CurrentToolchain
  const executor = yield* Effect.serviceOption(Executor)
  const l1 = new Map<string, Deferred.Deferred<Evaluated<unknown>, unknown>>()
  const traceById = new Map<string, TraceEntry>()
  const materialsById = new Map<string, NodeRecord>()
  const pending = new Map<string, StoredEntry>()
  let visits = 0
  const maybeYield = Effect.suspend(() => (++visits % YIELD_EVERY_NODES === 0 ? Effect.yieldNow : Effect.void))

  const record = (node: GraphNode<any, any>, key: string, status: TraceEntry["status"]) => {
    if (traceById.has(node.id)) return
    // Attributes sit between the name and the key, as layer_type/category always did.
    traceById.set(node.id, { id: node.id, kind: node.type.kind, name: node.name, ...node.attributes, key, status })
  }

  const run = <A, E>(node: GraphNode<A, E>): Effect.Effect<Evaluated<A>, E> =>
    Effect.gen(function* () {
      yield* maybeYield
      const deps = yield* Effect.forEach(node.deps, (d) => evaluate(d), { concurrency: "unbounded" })
      const material: KeyMaterial = keyMaterial(
        node,
        deps.map((d) => d.digest),
        toolchain
      )
      const key = digest(material)
      materialsById.set(node.id, { material, dep_ids: node.deps.map((d) => d.id) })

      const existing = l1.get(key)
      if (existing) {
        const shared = (yield* Deferred.await(existing)) as Evaluated<A>
        record(node, key, "replayed")
        return shared
      }
      const deferred = Deferred.makeUnsafe<Evaluated<unknown>, unknown>()
      l1.set(key, deferred)

      // An unstored node (NodeType.stored) is computed from its dependencies every time; its
      // output is used as computed (no JSON round trip: it is built from replayed values) and
      // digested only when a dependant asks.
      const transient = Effect.gen(function* () {
        const value = yield* node.type.compute(
          node.params,
          deps.map((d) => d.value),
          node.input
        )
        record(node, key, "derived")
        let cached: string | undefined
        return {
          value,
          key,
          get digest() {
            return (cached ??= digest(value))
          }
        } as Evaluated<A>
      })
      const produce = !node.type.stored
        ? transient
        : Effect.gen(function* () {
            const stored = yield* store.get(key)
            if (Option.isSome(stored)) {
              record(node, key, "replayed")
              return { value: stored.value.output as A, digest: stored.value.output_digest, key }
            }
            const computed =
              node.type.remote && Option.isSome(executor)
                ? // The error channel is the node type's: a remote type's errors include RemoteExecutionError (node.ts).
                  yield* executor.value.execute({ kind: node.type.kind, id: node.id, name: node.name, params: node.params, key }) as Effect.Effect<A, E>
                : yield* node.type.compute(
                    node.params,
                    deps.map((d) => d.value),
                    node.input
                  )
            yield* Effect.yieldNow
            const value = normalize(computed)
            yield* Effect.yieldNow
            const out = { value, digest: digest(value), key }
            yield* Effect.yieldNow
            pending.set(key, { key, kind: node.type.kind, id: node.id, output: value, output_digest: out.digest, material })
            record(node, key, "computed")
            return out
          })
      const exit = yield* Effect.exit(produce)
      if (Exit.isFailure(exit)) l1.delete(key)
      Deferred.doneUnsafe(deferred, exit as Exit.Exit<Evaluated<unknown>, unknown>)
      return yield* exit
    })

  // The same node object may be reached from several parents; L1 (by key) makes the
  // repeated visits cheap and the trace keeps the first status per id.
  const evaluate = run

  const evaluator: Evaluator = {
    evaluate,
    trace: () => [...traceById.values()],
    materials: () => materialsById,
    commit: () =>
      Effect.gen(function* () {
        const writing = store.dir !== undefined && pending.size > 0
        if (writing) progress(() => `store: writing ${counted(pending.size, "entry", "entries")}`)
        // Concurrently: a remote store uploads each entry (two requests); the local writes are synchronous anyway.
        yield* Effect.forEach(pending.values(), store.put, { concurrency: 8, discard: true })
        if (writing) progress(() => "store: written")
        pending.clear()
        if (store.flush !== undefined) yield* store.flush
      })
  }
  return evaluator
})

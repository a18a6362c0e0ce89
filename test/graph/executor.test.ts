/**
 * Remote execution in the evaluator (src/graph/executor.ts): which nodes an Executor gets, what
 * it is sent, and that its answer is stored and replayed like a computed one. The executor here
 * is the interface's contract seen from the evaluator (it computes the square itself); the real
 * one, effect/cluster over PostgreSQL, is driven in test/graph/cluster.test.ts.
 */
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { makeEvaluator } from "../../src/graph/evaluator.ts"
import { Executor, RemoteExecutionError, shownUrl, type ExecutionRequest } from "../../src/graph/executor.ts"
import { defineNodeType, keyMaterial } from "../../src/graph/node.ts"
import { diskStore, Store } from "../../src/graph/store.ts"
import { toolchainFingerprint } from "../../src/graph/toolchain.ts"
import { tempDir } from "../helpers/temp.ts"

const Square = defineNodeType<{ n: number }, number, RemoteExecutionError>({
  kind: "test-square",
  code: "square-v1",
  compute: (p) => Effect.succeed(p.n * p.n),
  remote: true
})
const Local = defineNodeType<{ n: number }, number>({ kind: "test-local", code: "local-v1", compute: (p) => Effect.succeed(p.n + 1) })

/** Evaluate `nodes` over the store in `dir`, with an executor that records what it is sent. */
const run = (dir: string, nodes: ReadonlyArray<Parameters<typeof Square.make>[0] & { local?: boolean }>, fail?: string) => {
  const sent: Array<ExecutionRequest> = []
  const executor = Layer.succeed(Executor, {
    execute: (request) =>
      fail !== undefined
        ? Effect.fail(new RemoteExecutionError({ message: fail }))
        : Effect.sync(() => {
            sent.push(request)
            return (request.params as { n: number }).n ** 2
          })
  })
  return Effect.runPromise(
    Effect.gen(function* () {
      const ev = yield* makeEvaluator
      const values = yield* Effect.forEach(nodes, (n) => Effect.map(ev.evaluate(n.local === true ? Local.make(n) : Square.make(n)), (e) => e.value))
      yield* ev.commit()
      return { values, sent, trace: ev.trace() }
    }).pipe(Effect.provide(executor), Effect.provideService(Store, diskStore(dir)), Effect.result)
  )
}

describe("remote execution in the evaluator", () => {
  it("a remote node that misses the store goes to the executor with its key; the answer is stored and replayed; other nodes stay here", async () => {
    const dir = tempDir("llmsim-executor-")
    const first = await run(dir, [
      { id: "a", name: "a", params: { n: 3 }, deps: [] },
      { id: "b", name: "b", params: { n: 4 }, deps: [], local: true }
    ])
    expect(first._tag).toBe("Success")
    if (first._tag !== "Success") return
    expect(first.success.values).toEqual([9, 5])
    // Only the remote node was sent, under the key this process derives for it.
    expect(first.success.sent.map((r) => [r.kind, r.id, r.name, r.params])).toEqual([["test-square", "a", "a", { n: 3 }]])
    const node = Square.make({ id: "a", name: "a", params: { n: 3 }, deps: [] })
    expect(first.success.sent[0]!.key).toBe(digest(keyMaterial(node, [], toolchainFingerprint())))
    expect(first.success.trace.map((t) => t.status)).toEqual(["computed", "computed"])
    // Again over the same store: nothing is sent, both are replayed.
    const again = await run(dir, [
      { id: "a", name: "a", params: { n: 3 }, deps: [] },
      { id: "b", name: "b", params: { n: 4 }, deps: [], local: true }
    ])
    expect(again._tag === "Success" && [again.success.sent.length, again.success.trace.map((t) => t.status)]).toEqual([0, ["replayed", "replayed"]])
  })

  it("the executor's failure is the evaluation's, and nothing is stored", async () => {
    const dir = tempDir("llmsim-executor-")
    const failed = await run(dir, [{ id: "a", name: "a", params: { n: 5 }, deps: [] }], "cluster postgres://db: no runner has joined")
    expect(failed._tag === "Failure" && failed.failure.message).toBe("cluster postgres://db: no runner has joined")
    const later = await run(dir, [{ id: "a", name: "a", params: { n: 5 }, deps: [] }])
    expect(later._tag === "Success" && later.success.sent.length).toBe(1)
  })

  it("a remote node type has no dependencies", () => {
    const dep = Square.make({ id: "d", name: "d", params: { n: 1 }, deps: [] })
    expect(() => Square.make({ id: "x", name: "x", params: { n: 1 }, deps: [dep as never] })).toThrow(/a remote node type has no dependencies/)
  })

  it("URLs in messages hide their password", () => {
    expect(shownUrl("postgres://llmsim:s3cret@db:5432/llmsim")).toBe("postgres://llmsim:***@db:5432/llmsim")
    expect(shownUrl("postgres://llmsim@db:5432/llmsim")).toBe("postgres://llmsim@db:5432/llmsim")
  })
})

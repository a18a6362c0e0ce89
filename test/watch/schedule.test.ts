/**
 * Watch scheduling (src/watch/schedule.ts): leading edge (a save starts an evaluation at once,
 * no quiet window), a newer save interrupts the one in flight and carries its files forward,
 * and saves already queued join one evaluation.
 */
import { Deferred, Effect, Fiber, Queue } from "effect"
import { describe, expect, it } from "vitest"
import type { FileEvent } from "../../src/watch/affected.ts"
import { schedule, type Batch } from "../../src/watch/schedule.ts"

const change = (path: string): FileEvent => ({ kind: "change", path })

/** A schedule over a queue whose runs are recorded; `hold` keeps a run in flight until released. */
const harness = Effect.gen(function*() {
  const events = yield* Queue.unbounded<FileEvent>()
  const started: Array<Batch> = []
  const finished: Array<Batch> = []
  let gate = yield* Deferred.make<void>()
  let hold = false
  const fiber = yield* schedule({
    take: Queue.take(events),
    poll: Queue.poll(events),
    relevant: (e) => e.path.endsWith(".yaml"),
    run: (batch) =>
      Effect.gen(function*() {
        started.push(batch)
        if (hold) yield* Deferred.await(gate)
        finished.push(batch)
      })
  }).pipe(Effect.scoped, Effect.forkChild)
  const settle = Effect.sleep(20)
  return {
    events, started, finished, fiber, settle,
    holdRuns: () => {
      hold = true
    },
    release: Effect.gen(function*() {
      hold = false
      yield* Deferred.succeed(gate, undefined)
      gate = yield* Deferred.make<void>()
    })
  }
})

describe("watch schedule", () => {
  it("evaluates at start and at once on a relevant save; irrelevant events start nothing", async () => {
    await Effect.runPromise(Effect.gen(function*() {
      const h = yield* harness
      yield* h.settle
      expect(h.finished.map((b) => b.files)).toEqual([[]])
      yield* Queue.offer(h.events, change("/p/notes.txt"))
      yield* h.settle
      expect(h.started).toHaveLength(1)
      yield* Queue.offer(h.events, change("/p/a.yaml"))
      // No quiet window: well within a 100 ms debounce, the run has finished.
      yield* h.settle
      expect(h.finished.map((b) => b.files)).toEqual([[], ["/p/a.yaml"]])
      yield* Fiber.interrupt(h.fiber)
    }))
  })

  it("a newer save interrupts the run in flight; its files are carried into the next run, queued saves join it", async () => {
    await Effect.runPromise(Effect.gen(function*() {
      const h = yield* harness
      yield* h.settle
      h.holdRuns()
      yield* Queue.offer(h.events, change("/p/a.yaml"))
      yield* h.settle
      expect(h.started.map((b) => b.files)).toEqual([[], ["/p/a.yaml"]])
      // Two saves arrive together while a.yaml's run is held: one new run answers all three.
      yield* Queue.offerAll(h.events, [change("/p/b.yaml"), change("/p/c.yaml")])
      yield* h.settle
      yield* h.release
      yield* h.settle
      expect(h.finished.map((b) => b.files)).toEqual([[], ["/p/a.yaml", "/p/b.yaml", "/p/c.yaml"]])
      yield* Fiber.interrupt(h.fiber)
    }))
  })
})

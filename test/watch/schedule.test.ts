/**
 * Watch scheduling (src/watch/schedule.ts): leading edge (a save starts an evaluation at once,
 * no quiet window), a newer save interrupts the one in flight and carries its files forward,
 * and saves already queued join one evaluation.
 */
import { Deferred, Effect, Fiber, Queue } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import type { FileEvent } from "../../src/watch/affected.ts"
import { schedule, type Batch } from "../../src/watch/schedule.ts"

const change = (path: string): FileEvent => ({ kind: "change", path })

/**
 * Scheduler turns until `done()` holds, failing after 1,000: the schedule's fibers are waited
 * for by their state, not by a sleep (a loaded machine can stall any wall-clock wait).
 */
const until = (what: string, done: () => boolean) =>
  Effect.gen(function* () {
    for (let turn = 0; turn < 1_000; turn++) {
      if (done()) return
      yield* Effect.yieldNow
    }
    return yield* Effect.die(new Error(`not reached after 1,000 scheduler turns: ${what}`))
  })

/**
 * Runs `test` on a TestClock that is never moved: a run that waited for a quiet window (any
 * sleep) would never start, so `until` also shows that runs start at once.
 */
const onStillClock = <A, E>(test: Effect.Effect<A, E>) => Effect.runPromise(test.pipe(Effect.provide(TestClock.layer())))

/** A schedule over a queue whose runs are recorded (started, finished, interrupted); `hold` keeps a run in flight until released. */
const harness = Effect.gen(function* () {
  const events = yield* Queue.unbounded<FileEvent>()
  const started: Array<Batch> = []
  const finished: Array<Batch> = []
  const interrupted: Array<Batch> = []
  let gate = yield* Deferred.make<void>()
  let hold = false
  const fiber = yield* schedule({
    take: Queue.take(events),
    poll: Queue.poll(events),
    relevant: (e) => e.path.endsWith(".yaml"),
    run: (batch) =>
      Effect.gen(function* () {
        started.push(batch)
        if (hold) yield* Deferred.await(gate)
        finished.push(batch)
      }).pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted.push(batch))))
  }).pipe(Effect.scoped, Effect.forkChild)
  return {
    events,
    started,
    finished,
    interrupted,
    fiber,
    holdRuns: () => {
      hold = true
    },
    release: Effect.gen(function* () {
      hold = false
      yield* Deferred.succeed(gate, undefined)
      gate = yield* Deferred.make<void>()
    })
  }
})

const files = (batches: ReadonlyArray<Batch>) => batches.map((b) => b.files)

describe("watch schedule", () => {
  it("evaluates at start and at once on a relevant save; irrelevant events start nothing", async () => {
    await onStillClock(
      Effect.gen(function* () {
        const h = yield* harness
        yield* until("the first run", () => h.finished.length === 1)
        expect(files(h.finished)).toEqual([[]])
        // The irrelevant save is taken first: had it started a run, that run would be in `started`.
        yield* Queue.offer(h.events, change("/p/notes.txt"))
        yield* Queue.offer(h.events, change("/p/a.yaml"))
        // No quiet window: the clock never moves, yet the run finishes.
        yield* until("a.yaml's run", () => h.finished.length === 2)
        expect(files(h.started)).toEqual([[], ["/p/a.yaml"]])
        expect(files(h.finished)).toEqual([[], ["/p/a.yaml"]])
        yield* Fiber.interrupt(h.fiber)
      })
    )
  })

  it("a newer save interrupts the run in flight; its files are carried into the next run, queued saves join it", async () => {
    await onStillClock(
      Effect.gen(function* () {
        const h = yield* harness
        yield* until("the first run", () => h.finished.length === 1)
        h.holdRuns()
        yield* Queue.offer(h.events, change("/p/a.yaml"))
        yield* until("a.yaml's run to start", () => h.started.length === 2)
        expect(files(h.started)).toEqual([[], ["/p/a.yaml"]])
        // Two saves arrive together while a.yaml's run is held: one new run answers all three.
        yield* Queue.offerAll(h.events, [change("/p/b.yaml"), change("/p/c.yaml")])
        yield* until("the run that answers all three to start", () => h.started.length === 3)
        expect(files(h.interrupted)).toEqual([["/p/a.yaml"]])
        yield* h.release
        yield* until("the run to finish after the release", () => h.finished.length === 2)
        expect(files(h.started)).toEqual([[], ["/p/a.yaml"], ["/p/a.yaml", "/p/b.yaml", "/p/c.yaml"]])
        expect(files(h.finished)).toEqual([[], ["/p/a.yaml", "/p/b.yaml", "/p/c.yaml"]])
        expect(files(h.interrupted)).toEqual([["/p/a.yaml"]])
        yield* Fiber.interrupt(h.fiber)
      })
    )
  })
})

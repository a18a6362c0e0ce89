/**
 * When to evaluate: once at start, then at once on every relevant save (leading edge: no quiet
 * window to wait out). A newer save interrupts the evaluation in flight (its answer is about to
 * be out of date, and unchanged nodes replay from memory, so starting over is cheap); saves
 * answered by an interrupted evaluation are carried into the next one, and saves already queued
 * (an editor's "save all", its temp-file dance) join the same evaluation.
 *
 * A half-written file is the price of the leading edge: the first read may catch it. The run
 * function shows results at once but holds errors back for `settleMs` (session.ts), and a newer
 * save interrupts that wait, so an error the next read corrects is never shown.
 *
 * Which saves are relevant is the caller's business (`affected.ts`); this module only schedules.
 */
import { Clock, Effect, FiberHandle, Option, type Scope } from "effect"
import type { FileEvent } from "./affected.ts"

export interface Batch {
  /** Absolute paths saved since the last evaluation that finished; empty for the first run. */
  readonly files: ReadonlyArray<string>
  /** Clock time (ms) of the first save of the batch, or of the start for the first run. */
  readonly since: number
}

export interface ScheduleOptions<E> {
  readonly take: Effect.Effect<FileEvent, E>
  /** The next event if one is already queued (never waits). */
  readonly poll: Effect.Effect<Option.Option<FileEvent>>
  readonly relevant: (event: FileEvent) => boolean
  /** Evaluate and report; interrupted when a newer save arrives. */
  readonly run: (batch: Batch) => Effect.Effect<void>
}

/** Runs until `take` fails (the watcher broke down) or the fiber is interrupted. */
export const schedule = <E>(o: ScheduleOptions<E>): Effect.Effect<never, E, Scope.Scope> =>
  Effect.gen(function* () {
    const handle = yield* FiberHandle.make<void, never>()
    const pending = new Set<string>()
    let since = yield* Clock.currentTimeMillis

    const start = Effect.suspend(() => {
      const files = [...pending]
      const answered = Effect.sync(() => files.forEach((f) => pending.delete(f)))
      return FiberHandle.run(handle, Effect.andThen(o.run({ files, since }), answered))
    })

    yield* start
    for (;;) {
      const event = yield* o.take
      if (!o.relevant(event)) continue
      yield* FiberHandle.clear(handle)
      if (pending.size === 0) since = yield* Clock.currentTimeMillis
      pending.add(event.path)
      for (;;) {
        const next = yield* o.poll
        if (Option.isNone(next)) break
        if (o.relevant(next.value)) pending.add(next.value.path)
      }
      yield* start
    }
  })

/**
 * When to evaluate: once at start, then after each burst of relevant saves has gone quiet for
 * `quietMs` (vitest waits 100 ms, tsc 250 ms), so "save all" or an editor's temp-file dance is
 * one evaluation. The first relevant save of a burst interrupts an evaluation in flight: its
 * answer is about to be out of date, and unchanged nodes replay from memory, so starting over
 * is cheap. Saves answered by an interrupted evaluation are carried into the next one.
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
  readonly relevant: (event: FileEvent) => boolean
  /** Evaluate and report; interrupted when a newer save arrives. */
  readonly run: (batch: Batch) => Effect.Effect<void>
  readonly quietMs: number
}

/** Runs until `take` fails (the watcher broke down) or the fiber is interrupted. */
export const schedule = <E>(o: ScheduleOptions<E>): Effect.Effect<never, E, Scope.Scope> =>
  Effect.gen(function*() {
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
        const next = yield* Effect.timeoutOption(o.take, o.quietMs)
        if (Option.isNone(next)) break
        if (o.relevant(next.value)) pending.add(next.value.path)
      }
      yield* start
    }
  })

/**
 * Folder watchers (chokidar), one per folder, reconciled to a wanted set after every evaluation.
 *
 * Why folders: editors save by writing a temp file and renaming it over the original; a watch
 * on the file follows the old inode and goes silent. Why one chokidar watcher per folder: a new
 * watcher says when it is `ready`, so a result is printed only once the files it depends on are
 * being watched (`add()` on a running watcher gives no such signal). Subfolders are ignored, as
 * is the result store, so our own cache writes never trigger a run. A folder that does not exist
 * yet is watched through its nearest existing parent, so `mkdir -p` and a write are seen.
 */
import { watch, type FSWatcher } from "chokidar"
import { Cause, Deferred, Effect, Queue, type Scope } from "effect"
import * as path from "node:path"
import type { FileEvent, FileEventKind } from "./affected.ts"
import { isFatalWatchError, watcherError, type WatcherError } from "./errors.ts"

export interface FolderWatch {
  /** File events from every folder; fails with a `WatcherError` when watching breaks down. */
  readonly events: Queue.Dequeue<FileEvent, WatcherError>
  /** Report a change found another way (a save the watchers may have missed). */
  readonly offer: (event: FileEvent) => Effect.Effect<void>
  /** Watch exactly these folders; completes when every one of them is being watched. */
  readonly sync: (folders: ReadonlySet<string>) => Effect.Effect<void>
}

const FILE_EVENTS: ReadonlySet<string> = new Set<FileEventKind>(["add", "change", "unlink", "addDir", "unlinkDir"])

interface Entry {
  readonly watcher: FSWatcher
  /** Done when the watcher is ready or has failed (failures reach `events`). */
  readonly ready: Deferred.Deferred<void>
}

export interface FolderWatchOptions {
  /** Paths never reported (the result store). */
  readonly ignore: (file: string) => boolean
  /** A watcher problem that does not stop watching (an unreadable folder). */
  readonly onWarning: (message: string) => void
}

export const makeFolderWatch = (options: FolderWatchOptions): Effect.Effect<FolderWatch, never, Scope.Scope> =>
  Effect.gen(function* () {
    const events = yield* Queue.unbounded<FileEvent, WatcherError>()
    const entries = new Map<string, Entry>()

    const start = (folder: string): Entry => {
      const ready = Deferred.makeUnsafe<void>()
      const watcher = watch(folder, {
        ignoreInitial: true,
        ignored: (p, stats) => options.ignore(path.resolve(p)) || (path.resolve(p) !== folder && stats?.isDirectory() === true)
      })
      watcher.on("all", (kind, p) => {
        if (FILE_EVENTS.has(kind)) Queue.offerUnsafe(events, { kind: kind as FileEventKind, path: path.resolve(p) })
      })
      watcher.on("ready", () => void Deferred.doneUnsafe(ready, Effect.void))
      watcher.on("error", (error) => {
        const { code, message } = error as NodeJS.ErrnoException
        if (isFatalWatchError(code)) {
          Queue.failCauseUnsafe(events, Cause.fail(watcherError(code as string, `cannot watch ${folder}: ${message}`)))
        } else {
          options.onWarning(`cannot watch ${folder}: ${message}`)
        }
        Deferred.doneUnsafe(ready, Effect.void)
      })
      return { watcher, ready }
    }

    const stop = (folder: string) => {
      const entry = entries.get(folder)
      entries.delete(folder)
      return entry === undefined ? Effect.void : Effect.promise(() => entry.watcher.close().catch(() => undefined))
    }

    yield* Effect.addFinalizer(() => Effect.forEach([...entries.keys()], stop, { discard: true }))

    return {
      events,
      offer: (event) => Effect.asVoid(Queue.offer(events, event)),
      sync: (folders) =>
        Effect.gen(function* () {
          for (const folder of [...entries.keys()]) if (!folders.has(folder)) yield* stop(folder)
          for (const folder of folders) if (!entries.has(folder)) entries.set(folder, start(folder))
          yield* Effect.forEach(folders, (folder) => Deferred.await(entries.get(folder)!.ready), { discard: true })
        })
    }
  })

/**
 * What a watch session tells its screen (the contract between the use case and src/report): a
 * result with what the evaluation did, a bad save, a watcher failure. The screens themselves
 * (a table, JSON lines) are in src/report/watch.ts and src/report/watchReporter.ts.
 */
import type { Issue } from "../config/errors.ts"
import type { Comparison } from "./delta.ts"
import type { WatcherError } from "./errors.ts"

/** What one evaluation did, besides its result. */
export interface Activity {
  /** Wall-clock time of the result (ISO 8601). */
  readonly time: string
  /** Display paths (relative to the project root) of the saves this evaluation answers. */
  readonly changedFiles: ReadonlyArray<string>
}

export interface ResultActivity extends Activity {
  readonly computed: number
  readonly replayed: number
  readonly layersRecomputed: ReadonlyArray<string>
  /** Save to result, ms: from the first event of the batch to the end of the evaluation. */
  readonly elapsedMs: number
  /** The evaluation alone, ms: from its start to its result. */
  readonly evaluationMs: number
  /** Resident set size of the watch process after the evaluation, bytes. */
  readonly rssBytes: number
  /** V8 heap in use after the evaluation (live objects plus garbage not yet collected), bytes. */
  readonly heapUsedBytes: number
}

export type ReporterName = "table" | "json"

interface Watching {
  readonly files: number
  readonly folders: number
}

export interface Reporter {
  readonly result: (c: Comparison, a: ResultActivity, w: Watching) => void
  readonly error: (issues: ReadonlyArray<Issue>, a: Activity, w: Watching) => void
  readonly fatal: (e: WatcherError) => void
}

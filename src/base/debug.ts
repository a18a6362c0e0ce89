/**
 * Diagnostics on stderr, off by default. `LLMSIM_DEBUG` is a comma-separated list of topics:
 * `progress` prints one `llmsim progress: ...` line per milestone of a scenario evaluation: the
 * scenario loaded, each phase planned, evaluating and evaluated, the store writes (README
 * "Signals"). For a person watching a slow run, and for tests that must act at a known point of a
 * real one (test/cli/signals.test.ts signals a run once its evaluation has started, not after a
 * guessed delay). `defect` raises a defect as a scenario's evaluation starts: no input can reach
 * one (every input error is a typed, positioned error), so this is how a test drives the real
 * CLI through its internal-error path (test/cli/failures.test.ts). The variable is read once, at
 * start-up: off, a milestone costs one boolean test and builds no string.
 */
import { writeSync } from "node:fs"

const topics = new Set(
  (process.env.LLMSIM_DEBUG ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
)

/** Whether `LLMSIM_DEBUG` names `progress`. */
const progressOn: boolean = topics.has("progress")

/**
 * One milestone line on stderr when `LLMSIM_DEBUG=progress`. Straight to file descriptor 2,
 * synchronously: the line is out before the work it announces starts, and it bypasses the
 * command recording (src/launch/recording.ts tees process.stderr), so a replayed command, which
 * evaluates nothing, prints no milestone. A line that cannot be written is dropped: a diagnostic
 * never fails a run.
 */
export const progress = (what: () => string): void => {
  if (!progressOn) return
  try {
    writeSync(2, `llmsim progress: ${what()}\n`)
  } catch {
    // stderr closed or not writable now
  }
}

/** Whether `LLMSIM_DEBUG` names `defect`. */
const defectOn: boolean = topics.has("defect")

/**
 * With `LLMSIM_DEBUG=defect`, a defect here (an Error no input causes); otherwise nothing.
 * A function declaration: a stack through the bundle's source map then names this frame
 * injectedDefect however esbuild splits the chunks (an arrow's frame took its parameter's name).
 */
export function injectedDefect(where: string): void {
  if (defectOn) throw new Error(`injected defect at ${where} (LLMSIM_DEBUG=defect)`)
}

/** `1 layer entry`, `2 layer entries`: a count in a milestone line. */
export const counted = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

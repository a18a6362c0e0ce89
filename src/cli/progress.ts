/**
 * The sweep's progress bar on stderr, with ETA: cli-progress (a small, well-kept terminal
 * progress library: ETA, throttled redraws, no dependencies beyond string width helpers), used
 * when stderr is a terminal (or with --progress) so pipes and CI logs stay clean by default.
 */
import cliProgress from "cli-progress"

export const progressBar = (command = "sweep", unit = "points") => {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${command} [{bar}] {percentage}% {value}/{total} ${unit}, ETA {eta_formatted}`,
      fps: 10,
      hideCursor: false,
      clearOnComplete: true,
      // --progress on a pipe (a CI log): a line every few seconds instead of redraws.
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50
    },
    cliProgress.Presets.legacy
  )
  let started = false
  return {
    update: (done: number, total: number) => {
      if (!started) {
        bar.start(total, 0)
        started = true
      }
      bar.update(done)
    },
    stop: () => {
      if (started) bar.stop()
    }
  }
}

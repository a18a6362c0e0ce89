/**
 * Where watch-mode output goes. `json`: one object per line on stdout, nothing else there.
 * `table`: the screen, redrawn from the top when it may be cleared (a terminal, outside CI, no
 * --no-clear, as Vite decides), else appended so the history stays readable; a bad save keeps
 * the last good result on screen and marks it stale.
 */
import type { WatcherError } from "../watch/errors.ts"
import type { Reporter, ReporterName } from "../watch/reporter.ts"
import { errorEvent, fatalEvent, jsonLine, renderError, renderFooter, renderResult, renderStaleBanner, resultEvent } from "./watch.ts"

/** Erase the screen and the scrollback, cursor home (what Vite and tsc --watch send). */
const CLEAR = "\x1b[2J\x1b[3J\x1b[H"

const canClearScreen = (wanted: boolean): boolean => wanted && process.stdout.isTTY === true && !process.env.CI

const out = (text: string) => void process.stdout.write(text)
const err = (text: string) => void process.stderr.write(text)

const fatalText = (e: WatcherError) => `error: watcher failed (${e.code}): ${e.message}\nhint: ${e.hint}\n`

const jsonReporter: Reporter = {
  result: (c, a) => out(jsonLine(resultEvent(c, a))),
  error: (issues, a) => out(jsonLine(errorEvent(issues, a))),
  fatal: (e) => {
    out(jsonLine(fatalEvent(e)))
    err(fatalText(e))
  }
}

const tableReporter = (clear: boolean): Reporter => {
  let lastGood: { screen: string; time: string } | undefined
  return {
    result: (c, a, w) => {
      const screen = renderResult(c, a)
      lastGood = { screen, time: a.time }
      out((clear ? CLEAR : "\n") + screen + renderFooter(w.files, w.folders))
    },
    error: (issues, a, w) => {
      const block = renderError(issues, a, lastGood?.time)
      const stale = lastGood ? renderStaleBanner(lastGood.time) + lastGood.screen + "\n" : ""
      out(clear ? CLEAR + stale + block + renderFooter(w.files, w.folders) : "\n" + block)
    },
    fatal: (e) => err(fatalText(e))
  }
}

export const makeReporter = (name: ReporterName, clear: boolean): Reporter => (name === "json" ? jsonReporter : tableReporter(canClearScreen(clear)))

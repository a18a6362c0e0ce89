/**
 * `llmsim watch --html`: the HTML report served on 127.0.0.1 and pushed to open tabs on every
 * good save. `/` is the latest page with a few lines of script that reload it when `/events`
 * (server-sent events) says a new one is there; a bad save leaves the last good page up under a
 * banner saying it is stale and why (the error of the save), until the next good save. Only the
 * loopback address is bound: the report is for this machine's browser.
 */
import { Effect, type Scope } from "effect"
import * as http from "node:http"
import { UsageError } from "../config/errors.ts"

export interface LiveReport {
  readonly url: string
  /** Serve `html` from now on and tell every open tab to reload. */
  readonly publish: (html: string) => void
  /** Keep the last page, marked stale with these lines (a bad save's errors), and tell every tab. */
  readonly markStale: (lines: ReadonlyArray<string>) => void
}

const WAITING =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>llmsim watch</title></head><body><p>Evaluating the scenario...</p></body></html>\n'

/** Reload on the next event; EventSource reconnects by itself if the server restarts. */
const LIVE_SCRIPT = `<script>new EventSource("/events").onmessage = () => location.reload()</script>\n`

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** The page under a banner: the figures below are the last good save's, not the file's now. */
const withStaleBanner = (html: string, lines: ReadonlyArray<string>): string => {
  const banner =
    `<div role="alert" id="llmsim-stale" style="background:#fde2e1;color:#5c0a06;border:2px solid #b42318;padding:8px 12px;margin:0 0 12px;font-family:monospace">` +
    `<strong>STALE</strong>: the last save has an error; the figures below are from the last good save.<br>${lines.map(escapeHtml).join("<br>")}</div>`
  const m = /<body[^>]*>/.exec(html)
  return m === null ? banner + html : html.slice(0, m.index + m[0].length) + banner + html.slice(m.index + m[0].length)
}

const withLiveScript = (html: string): string => {
  const at = html.lastIndexOf("</body>")
  return at < 0 ? html + LIVE_SCRIPT : html.slice(0, at) + LIVE_SCRIPT + html.slice(at)
}

export const liveReport = (port: number): Effect.Effect<LiveReport, UsageError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: http.Server; state: { good: string; page: string; version: number; clients: Set<http.ServerResponse> } }, UsageError>(
      (resume) => {
        const state = { good: WAITING, page: withLiveScript(WAITING), version: 0, clients: new Set<http.ServerResponse>() }
        const server = http.createServer((req, res) => {
          const url = req.url ?? "/"
          if (url === "/events") {
            res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" })
            res.write(": llmsim watch\n\n")
            state.clients.add(res)
            req.on("close", () => state.clients.delete(res))
            return
          }
          if (url === "/" || url === "/index.html") {
            res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
            res.end(state.page)
            return
          }
          res.writeHead(404, { "content-type": "text/plain" })
          res.end("not found\n")
        })
        server.once("error", (e: NodeJS.ErrnoException) =>
          resume(Effect.fail(new UsageError({ message: `--html: cannot serve on 127.0.0.1:${port}: ${e.code ?? e.message}` })))
        )
        server.listen(port, "127.0.0.1", () => resume(Effect.succeed({ server, state })))
      }
    ),
    ({ server, state }) =>
      Effect.callback<void>((resume) => {
        for (const c of state.clients) c.end()
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  ).pipe(
    Effect.map(({ server, state }) => {
      const address = server.address()
      const actual = typeof address === "object" && address !== null ? address.port : port
      return {
        url: `http://127.0.0.1:${actual}/`,
        publish: (html: string) => {
          state.good = html
          state.page = withLiveScript(html)
          state.version++
          for (const c of state.clients) c.write(`data: ${state.version}\n\n`)
        },
        markStale: (lines: ReadonlyArray<string>) => {
          state.page = withLiveScript(withStaleBanner(state.good, lines))
          state.version++
          for (const c of state.clients) c.write(`data: ${state.version}\n\n`)
        }
      }
    })
  )

/**
 * watch --html's server: the latest page with its reload script on 127.0.0.1, a server-sent
 * event per published page, a stale banner after a bad save (cleared by the next good one), a
 * clear error when the port is taken, and nothing left listening.
 */
import { Effect, Exit, Scope } from "effect"
import * as http from "node:http"
import { describe, expect, it } from "vitest"
import { liveReport } from "../../src/watch/liveReport.ts"
import { runEffect } from "../helpers/inProcess.ts"
import { WAIT_MS } from "./watchProcess.ts"

const get = (url: string) => fetch(url).then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), text: await r.text() }))

describe("watch --html live report", () => {
  it("serves the latest page and tells open tabs to reload on each publish", async () => {
    const scope = await runEffect(Scope.make())
    const live = await runEffect(Scope.provide(scope)(liveReport(0)))
    expect(live.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const waiting = await get(live.url)
    expect(waiting.status).toBe(200)
    expect(waiting.text).toContain(`new EventSource("/events")`)
    // One event stream open, as a browser tab holds it.
    const events: Array<string> = []
    const stream = await new Promise<http.IncomingMessage>((resolve) => http.get(`${live.url}events`, resolve))
    expect(stream.headers["content-type"]).toBe("text/event-stream")
    stream.setEncoding("utf8")
    // Wait for the second publish's event to arrive, not for a fixed time.
    const second = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "data: 2" event within ${WAIT_MS} ms; got ${JSON.stringify(events.join(""))}`)), WAIT_MS)
      stream.on("data", (chunk: string) => {
        events.push(chunk)
        if (events.join("").includes("data: 2\n\n")) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    live.publish("<!DOCTYPE html>\n<html><body><p>first</p></body></html>\n")
    live.publish("<!DOCTYPE html>\n<html><body><p>second</p></body></html>\n")
    await second
    expect(events.join("")).toContain("data: 1\n\ndata: 2\n\n")
    const page = await get(live.url)
    expect(page.type).toBe("text/html; charset=utf-8")
    expect(page.text).toMatch(/<p>second<\/p><script>new EventSource\("\/events"\)[^\n]*<\/script>\n<\/body>/)
    expect((await get(`${live.url}nothing`)).status).toBe(404)
    // A bad save: the last good page, under a banner saying it is stale and why; the next good save clears it.
    live.markStale(["configs/x.yaml:3:5 batch_size: Expected a positive integer, got -1 <bad>"])
    const stale = await get(live.url)
    expect(stale.text).toMatch(/<body><div role="alert" id="llmsim-stale"[^>]*><strong>STALE<\/strong>: the last save has an error/)
    expect(stale.text).toContain("configs/x.yaml:3:5 batch_size: Expected a positive integer, got -1 &lt;bad&gt;")
    expect(stale.text).toContain("<p>second</p>")
    live.publish("<!DOCTYPE html>\n<html><body><p>third</p></body></html>\n")
    const fresh = await get(live.url)
    expect(fresh.text).toContain("<p>third</p>")
    expect(fresh.text).not.toContain("STALE")
    // A second server on the same port: a usage error naming it.
    const port = Number(new URL(live.url).port)
    const taken = await runEffect(Effect.flip(Effect.scoped(liveReport(port))))
    expect(taken.message).toBe(`--html: cannot serve on 127.0.0.1:${port}: EADDRINUSE`)
    await runEffect(Scope.close(scope, Exit.void))
    await expect(fetch(live.url)).rejects.toThrow()
  })
})

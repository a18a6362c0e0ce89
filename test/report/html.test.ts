/**
 * The HTML report without a browser: self-contained (no script, no URL but the SVG namespaces),
 * byte-identical across renders, under 2 MB for the default scenario; the roofline has one point
 * per fused op with FLOPs and HBM bytes, counted from the JSON; one real-CLI smoke test.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"
import { runInProcess, runOptions } from "../helpers/inProcess.ts"
import { renderRunHtml } from "../../src/report/html.ts"
import { renumberIds } from "../../src/report/svg.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const DEFAULT = "configs/scenarios/deepseek_v3_h800.yaml"

describe("llmsim report (HTML)", () => {
  const dir = makeProject()

  it("is self-contained, deterministic and under 2 MB, with one roofline point per fused op", async () => {
    const r = await runInProcess(runOptions(dir, DEFAULT, { noCache: true }))
    const hw = timingHardware(r.out.loaded.hardware, "hardware")
    const a = await renderRunHtml(r.out.result, hw)
    const b = await renderRunHtml(r.out.result, hw)
    expect(a === b).toBe(true)
    expect(Buffer.byteLength(a)).toBeLessThan(2e6)
    expect(a).not.toMatch(/<script|<link|<img|@import/i)
    expect([...new Set(a.match(/https?:\/\/[^"' )]+/g))].sort()).toEqual(["http://www.w3.org/1999/xlink", "http://www.w3.org/2000/svg"])
    for (const id of ["roofline", "layers-prefill", "layers-decode", "memory"]) expect(a).toContain(`<figure data-chart="${id}">`)
    // From the JSON: per phase, the runs of identical consecutive layers (3 dense, 58 MoE, the
    // LM head) and in each the ops with FLOPs and HBM bytes: one point each.
    const res = JSON.parse(r.text("json"))
    let expected = 0
    for (const phase of ["prefill", "decode"]) {
      let prev = ""
      for (const l of res.phases[phase].layers) {
        const key = JSON.stringify({ ...l, layer_name: "" })
        if (key !== prev) expected += l.breakdown.filter((o: any) => o.flops > 0 && o.bytes_read + o.bytes_written > 0).length
        prev = key
      }
    }
    expect(expected).toBeGreaterThan(40)
    const roofline = a.slice(a.indexOf(`data-chart="roofline"`), a.indexOf(`data-chart="layers-prefill"`))
    expect(roofline.match(/aria-roledescription="point"/g)?.length).toBe(expected)
  })

  it("renumbers SVG ids per chart so that the page does not depend on what rendered before", () => {
    const svg = `<clipPath id="clip7"><rect/></clipPath><g clip-path="url(#clip7)"/><use href="#clip7"/><linearGradient id="g3"/>`
    expect(renumberIds(svg, "memory")).toBe(`<clipPath id="memory-1"><rect/></clipPath><g clip-path="url(#memory-1)"/><use href="#memory-1"/><linearGradient id="memory-2"/>`)
  })

  it("writes the page with --out (real CLI) and one chart with --format svg", () => {
    const out = path.join(dir, "report.html")
    const r = runCli(["report", DEFAULT, "--phase", "decode", "--no-cache", "--out", out], dir)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const html = fs.readFileSync(out, "utf8")
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true)
    expect(html).toContain(`<figure data-chart="layers-decode">`)
    expect(html).not.toContain(`data-chart="layers-prefill"`)
    const bad = runCli(["report", DEFAULT, "--phase", "decode", "--format", "svg", "--chart", "layers-prefill", "--no-cache"], dir)
    expect(bad.status).toBe(1)
    expect(bad.stderr).toBe("error: --chart layers-prefill: the run has no prefill phase (--phase)\n")
  })
})

/**
 * The HTML pages in a real headless browser (Debian's chromium through playwright-core; no
 * browser download): every chart rendered as SVG with no console error, the roofline holds one
 * point per fused op at the op's intensity (FLOPs / HBM bytes from the JSON), the Pareto chart's
 * points are the sweep's frontier, the diff bars one per layer and side. One browser launch for
 * the file; the pages are rendered in process. Without chromium the tests are reported skipped
 * with the install command (.ci/run installs it).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Browser } from "playwright-core"
import { makeProject } from "../helpers/cli.ts"
import { diffInProcess, runInProcess, runOptions, sweepInProcess } from "../helpers/inProcess.ts"
import { renderDiffVisual, renderRunHtml, renderSweepVisual } from "../../src/report/html.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const INSTALL = "install Debian's chromium: apt-get install -y chromium"
const HAVE = fs.existsSync(CHROMIUM)
if (!HAVE) console.warn(`browser tests skipped: no ${CHROMIUM}; ${INSTALL}`)
const test = HAVE ? it : it.skip

const DEFAULT = "configs/scenarios/deepseek_v3_h800.yaml"

/** `label: value` pairs of a mark's aria-label (Vega writes the tooltip fields there). */
const fields = (label: string): Record<string, string> =>
  Object.fromEntries(label.split("; ").map((kv) => [kv.slice(0, kv.indexOf(": ")), kv.slice(kv.indexOf(": ") + 2)]))

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))

describe(HAVE ? "HTML report in headless chromium" : `HTML report in headless chromium (skipped: ${INSTALL})`, () => {
  const dir = makeProject()
  let browser: Browser | undefined

  beforeAll(async () => {
    if (!HAVE) return
    const { chromium } = await import("playwright-core")
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] })
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** The page opened from a file; its console errors and uncaught exceptions collected. */
  const open = async (html: string, name: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, html)
    const page = await browser!.newPage()
    const errors: Array<string> = []
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())))
    page.on("pageerror", (e) => void errors.push(e.message))
    await page.goto(`file://${file}`)
    const charts = await page.$$eval("figure[data-chart]", (fs) => fs.map((f) => ({ id: f.getAttribute("data-chart"), svg: f.querySelectorAll("svg").length, marks: f.querySelectorAll("svg [role=graphics-symbol]").length })))
    const labels = (chart: string, role: string) =>
      page.$$eval(`figure[data-chart="${chart}"] svg [aria-roledescription="${role}"]`, (ns) => ns.map((n) => n.getAttribute("aria-label") ?? ""))
    return { page, errors, charts, labels }
  }

  test("run report: every chart drawn, the roofline's points are the fused ops at their intensity", async () => {
    const r = await runInProcess(runOptions(dir, DEFAULT, { noCache: true }))
    const p = await open(await renderRunHtml(r.out.result, timingHardware(r.out.loaded.hardware, "hardware")), "run.html")
    expect(p.errors).toEqual([])
    expect(p.charts.map((c) => c.id)).toEqual(["roofline", "layers-prefill", "layers-decode", "memory"])
    for (const c of p.charts) {
      expect(c.svg).toBe(1)
      expect(c.marks).toBeGreaterThan(0)
    }
    const json = JSON.parse(r.text("json"))
    const points = (await p.labels("roofline", "point")).map(fields)
    // Expected from the JSON: each op with FLOPs and HBM bytes of the first layer of each run of identical layers.
    const expected: Array<string> = []
    for (const phase of ["prefill", "decode"]) {
      let prev = ""
      for (const l of json.phases[phase].layers) {
        const key = JSON.stringify({ ...l, layer_name: "" })
        if (key !== prev) for (const o of l.breakdown) if (o.flops > 0 && o.bytes_read + o.bytes_written > 0) expected.push(`${phase} ${l.layer_name} ${o.op}`)
        prev = key
      }
    }
    const seen = points.map((f) => {
      const first = f.layers!.split(" ")[0]!.split("-")[0]!
      const layer = json.phases[f.phase!].layers.find((l: any) => l.layer_name.startsWith(`${first}.`))
      const op = layer.breakdown.find((o: any) => o.op === f.op)
      expect(close(Number(f["arithmetic intensity (FLOP per byte)"]), op.flops / (op.bytes_read + op.bytes_written))).toBe(true)
      return `${f.phase} ${layer.layer_name} ${f.op}`
    })
    expect(seen.sort()).toEqual(expected.sort())
    // 62 layers x 3 parts per phase in the stacked bars.
    expect((await p.labels("layers-prefill", "bar")).length).toBe(3 * json.phases.prefill.layers.length)
    await p.page.close()
  })

  test("sweep page: the Pareto chart's points are the sweep's frontier", async () => {
    const s = await sweepInProcess({
      run: runOptions(dir, DEFAULT, { noCache: true, runtime: { phase: "decode" } }),
      axes: { batch: "1..256:x2", ep: "16,32" },
      constraints: {},
      price_per_gpu_hour_usd: 2.5,
      workers: 1
    })
    expect(s.outcome.frontier.length).toBeGreaterThan(2)
    const p = await open(await renderSweepVisual(s, "html"), "sweep.html")
    expect(p.errors).toEqual([])
    const points = (await p.labels("pareto", "point")).map(fields).map((f) => [Number(f["tokens/s per user"]), Number(f["tokens/s per GPU"])] as const)
    const frontier = s.outcome.frontier.map((r) => [r.tokens_per_s_per_user!, r.tokens_per_s_per_gpu!] as const)
    const sort = (xs: ReadonlyArray<readonly [number, number]>) => [...xs].sort((a, b) => a[0] - b[0])
    expect(points.length).toBe(frontier.length)
    sort(points).forEach((pt, i) => {
      expect(close(pt[0], sort(frontier)[i]![0])).toBe(true)
      expect(close(pt[1], sort(frontier)[i]![1])).toBe(true)
    })
    await p.page.close()
  })

  test("diff page: one before / after bar per layer and side", async () => {
    const d = await diffInProcess(dir, [], { a: DEFAULT, b: "configs/scenarios/deepseek_v3_a100.yaml", noCache: true })
    const p = await open(await renderDiffVisual(d.diffs, "html", false), "diff.html")
    expect(p.errors).toEqual([])
    for (const phase of ["prefill", "decode"]) {
      const rows = d.json.layers.filter((l: any) => l.phase === phase)
      const sides = rows.filter((l: any) => l.a_ms !== null).length + rows.filter((l: any) => l.b_ms !== null).length
      expect((await p.labels(`diff-1-${phase}`, "bar")).length).toBe(sides)
    }
    await p.page.close()
  })
})

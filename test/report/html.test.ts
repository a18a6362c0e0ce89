/**
 * The HTML report. In Node: self-contained (no script, no URL but the SVG namespaces),
 * byte-identical across renders, under 2 MB for the default scenario, one roofline point per
 * fused op counted from the JSON; one real-CLI smoke test. In a real headless browser (Debian's
 * chromium through playwright-core; no browser download): every chart rendered as SVG with no
 * console error, the roofline holds one point per fused op at the op's intensity (FLOPs / HBM
 * bytes from the JSON), the Pareto chart's points are the sweep's frontier, the diff bars one
 * per layer and side. One evaluation of the default scenario and one browser launch for the
 * file. Without chromium the browser tests are reported skipped with the install command
 * (.ci/run installs it).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Browser, Page } from "playwright-core"
import { makeProject, runCli } from "../helpers/cli.ts"
import { commandErrors, diffInProcess, type InProcessRun, runInProcess, runOptions, sweepInProcess } from "../helpers/inProcess.ts"
import { renderDiffVisual, renderRunHtml, renderSweepVisual } from "../../src/report/html.ts"
import { NO_PRICE } from "../../src/report/charts.ts"
import type { SweepResult } from "../../src/sweep/run.ts"
import { renumberIds } from "../../src/report/svg.ts"
import { reportCommand } from "../../src/cli/report.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const INSTALL = "install Debian's chromium: apt-get install -y chromium"
const HAVE = fs.existsSync(CHROMIUM)
if (!HAVE) console.warn(`browser tests skipped: no ${CHROMIUM}; ${INSTALL}`)
const test = HAVE ? it : it.skip

const DEFAULT = "configs/scenarios/deepseek_v3_h800.yaml"
const dir = makeProject()
let run: InProcessRun
let page: string
let json: any
/** Sweeps whose hardware has no price (DeepSeek-V3 on H800), and mixed (Llama-3.1-70B on H800, unpriced, and H100, priced). */
let unpriced: SweepResult
let mixed: SweepResult

/** The `<figure data-chart="ID">` of a page. */
const figure = (html: string, id: string) => {
  const from = html.indexOf(`<figure data-chart="${id}">`)
  return html.slice(from, html.indexOf("</figure>", from))
}

/** `phase layer op` of each op with FLOPs and HBM bytes in the first layer of each run of identical layers, from the JSON. */
const fusedOps = (): Array<string> => {
  const out: Array<string> = []
  for (const phase of ["prefill", "decode"]) {
    let prev = ""
    for (const l of json.phases[phase].layers) {
      const key = JSON.stringify({ ...l, layer_name: "" })
      if (key !== prev) for (const o of l.breakdown) if (o.flops > 0 && o.bytes_read + o.bytes_written > 0) out.push(`${phase} ${l.layer_name} ${o.op}`)
      prev = key
    }
  }
  return out
}

/** Started before the evaluation so that the two overlap; awaited by the browser tests. */
let launching: Promise<Browser> | undefined

beforeAll(async () => {
  launching = HAVE
    ? import("playwright-core").then(({ chromium }) => chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] }))
    : undefined
  run = await runInProcess(runOptions(dir, DEFAULT, { noCache: true }))
  json = JSON.parse(run.text("json"))
  page = await renderRunHtml(run.out.result, timingHardware(run.out.loaded.hardware, "hardware"))
  const decode = { noCache: true, runtime: { phase: "decode" as const } }
  unpriced = await sweepInProcess({ run: runOptions(dir, DEFAULT, decode), axes: { batch: "1..128:x2", ep: "32" }, constraints: {}, workers: 1 })
  mixed = await sweepInProcess({
    run: runOptions(dir, "configs/scenarios/llama_3_1_70b_h100.yaml", decode),
    axes: { hardware: "configs/hardware/H800-SXM.yaml,configs/hardware/H100-SXM.yaml", tp: "4,8", batch: "1..256:x2" },
    constraints: {},
    workers: 1
  })
})

describe("llmsim report (HTML)", () => {
  it("is self-contained, deterministic and under 2 MB, with one roofline point per fused op", async () => {
    const again = await renderRunHtml(run.out.result, timingHardware(run.out.loaded.hardware, "hardware"))
    expect(again === page).toBe(true)
    expect(Buffer.byteLength(page)).toBeLessThan(2e6)
    expect(page).not.toMatch(/<script|<link|<img|@import/i)
    expect([...new Set(page.match(/https?:\/\/[^"' )]+/g))].sort()).toEqual(["http://www.w3.org/1999/xlink", "http://www.w3.org/2000/svg"])
    for (const id of ["roofline", "layers-prefill", "layers-decode", "memory"]) expect(page).toContain(`<figure data-chart="${id}">`)
    // DeepSeek-V3: per phase 3 dense layers, 58 MoE layers, the LM head: one point per op of each run.
    const expected = fusedOps().length
    expect(expected).toBeGreaterThan(40)
    const roofline = page.slice(page.indexOf(`data-chart="roofline"`), page.indexOf(`data-chart="layers-prefill"`))
    expect(roofline.match(/aria-roledescription="point"/g)?.length).toBe(expected)
  })
  it("says where each timing constant comes from: a calibration table on the run page and the sweep page", async () => {
    const table = page.slice(page.indexOf(`<table data-table="calibration">`), page.indexOf("</table>"))
    expect(page).toContain("<h2>Calibration of H800-SXM: fitted</h2>")
    expect(table.match(/<tr>/g)?.length).toBe(1 + 11)
    expect(table).toContain(
      "<tr><td>compute</td><td>0.835</td><td>fitted</td><td>18 rows of data/reference/deepgemm_dense_h800.csv where is_latest_published=yes"
    )
    const sweep = await renderSweepVisual(mixed, "html")
    const t = sweep.slice(sweep.indexOf(`<table data-table="calibration">`), sweep.indexOf("</table>"))
    expect(t).toContain("<tr><th>constant</th><th>configs/hardware/H800-SXM.yaml</th><th>configs/hardware/H100-SXM.yaml</th></tr>")
    expect(t).toContain("<tr><td>status</td><td>fitted</td><td>borrowed</td></tr>")
    // The answer's text carries the same lines as the table screen, the differences note included.
    expect(sweep).toContain("note: calibration differs between the compared hardware")
  })

  it("the sweep page draws every frontier point, priced or not: no price is grey under its own legend entry, never NaN", async () => {
    expect(unpriced.outcome.frontier.length).toBeGreaterThan(2)
    expect(unpriced.outcome.frontier.every((r) => r.cost_per_1m_output_tokens_usd === null)).toBe(true)
    const html = await renderSweepVisual(unpriced, "html")
    const chart = figure(html, "pareto")
    expect(chart.match(/aria-roledescription="point"/g)?.length).toBe(unpriced.outcome.frontier.length)
    expect(chart).toContain(NO_PRICE)
    expect(chart).not.toContain("USD per 1M output tokens</text>")
    expect(html).not.toContain("NaN")
    expect(html).toContain(`${unpriced.outcome.frontier.length} points (no hardware has a price: grey)`)
    // Mixed: the H800 points (no price) stay beside the coloured H100 ones.
    const m = await renderSweepVisual(mixed, "svg")
    const rows = mixed.outcome.frontier
    expect(new Set(rows.map((r) => r.hardware)).size).toBe(2)
    expect(m.match(/aria-roledescription="point"/g)?.length).toBe(rows.length)
    const grey = [...m.matchAll(/aria-label="([^"]*)"/g)].filter((x) => x[1]!.includes(`USD per 1M output tokens: ${NO_PRICE}`))
    expect(grey.length).toBe(rows.filter((r) => r.cost_per_1m_output_tokens_usd === null).length)
    expect(grey.every((x) => x[1]!.includes("hardware=configs/hardware/H800-SXM.yaml"))).toBe(true)
    expect(m).toContain(NO_PRICE)
    expect(m).toContain("colour: USD per 1M output tokens; grey: no price")
    expect(m).not.toContain("NaN")
  })

  it("renumbers SVG ids per chart so that the page does not depend on what rendered before", () => {
    const svg = `<clipPath id="clip7"><rect/></clipPath><g clip-path="url(#clip7)"/><use href="#clip7"/><linearGradient id="g3"/>`
    expect(renumberIds(svg, "memory")).toBe(
      `<clipPath id="memory-1"><rect/></clipPath><g clip-path="url(#memory-1)"/><use href="#memory-1"/><linearGradient id="memory-2"/>`
    )
  })

  it("writes the page with --out (real CLI) and one chart with --format svg", async () => {
    const out = path.join(dir, "report.html")
    const r = runCli(["report", DEFAULT, "--phase", "decode", "--no-cache", "--out", out], dir)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const html = fs.readFileSync(out, "utf8")
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true)
    expect(html).toContain(`<figure data-chart="layers-decode">`)
    expect(html).not.toContain(`data-chart="layers-prefill"`)
    // A chart of a phase that did not run: a usage error (in process; the CLI prints it as `error: ...`, exit 1).
    expect(
      await commandErrors(reportCommand, [path.join(dir, DEFAULT), "--phase", "decode", "--format", "svg", "--chart", "layers-prefill", "--no-cache"])
    ).toEqual(["--chart layers-prefill: the run has no prefill phase (--phase)"])
  })
})

/** `label: value` pairs of a mark's aria-label (Vega writes the tooltip fields there). */
const fields = (label: string): Record<string, string> =>
  Object.fromEntries(label.split("; ").map((kv) => [kv.slice(0, kv.indexOf(": ")), kv.slice(kv.indexOf(": ") + 2)]))

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))

describe(HAVE ? "HTML report in headless chromium" : `HTML report in headless chromium (skipped: ${INSTALL})`, () => {
  let browser: Browser | undefined
  // One tab for every page: a new tab costs more than the page itself.
  let tab: Page
  let errors: Array<string> = []

  beforeAll(async () => {
    if (launching === undefined) return
    browser = await launching
    tab = await browser.newPage()
    tab.on("console", (m) => void (m.type() === "error" && errors.push(m.text())))
    tab.on("pageerror", (e) => void errors.push(e.message))
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** The page opened from a file; its console errors and uncaught exceptions collected. */
  const open = async (html: string, name: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, html)
    const page = tab
    errors = []
    await page.goto(`file://${file}`)
    const charts = await page.$$eval("figure[data-chart]", (fs) =>
      fs.map((f) => ({
        id: f.getAttribute("data-chart"),
        svg: f.querySelectorAll("svg").length,
        marks: f.querySelectorAll("svg [role=graphics-symbol]").length
      }))
    )
    const labels = (chart: string, role: string) =>
      page.$$eval(`figure[data-chart="${chart}"] svg [aria-roledescription="${role}"]`, (ns) => ns.map((n) => n.getAttribute("aria-label") ?? ""))
    return { page, errors, charts, labels }
  }

  test("run report: every chart drawn, the roofline's points are the fused ops at their intensity", async () => {
    const p = await open(page, "run.html")
    expect(p.errors).toEqual([])
    expect(p.charts.map((c) => c.id)).toEqual(["roofline", "layers-prefill", "layers-decode", "memory"])
    for (const c of p.charts) {
      expect(c.svg).toBe(1)
      expect(c.marks).toBeGreaterThan(0)
    }
    const points = (await p.labels("roofline", "point")).map(fields)
    const seen = points.map((f) => {
      const first = f.layers!.split(" ")[0]!.split("-")[0]!
      const layer = json.phases[f.phase!].layers.find((l: any) => l.layer_name.startsWith(`${first}.`))
      const op = layer.breakdown.find((o: any) => o.op === f.op)
      expect(close(Number(f["arithmetic intensity (FLOP per byte)"]), op.flops / (op.bytes_read + op.bytes_written))).toBe(true)
      return `${f.phase} ${layer.layer_name} ${f.op}`
    })
    expect(seen.sort()).toEqual(fusedOps().sort())
    // 62 layers x 3 parts per phase in the stacked bars.
    expect((await p.labels("layers-prefill", "bar")).length).toBe(3 * json.phases.prefill.layers.length)
  })

  test("sweep page: the Pareto chart's points are the sweep's frontier", async () => {
    const s = await sweepInProcess({
      run: runOptions(dir, DEFAULT, { noCache: true, runtime: { phase: "decode" } }),
      axes: { batch: "1..128:x2", ep: "32" },
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
  })

  test("sweep pages without a price, or with some: every frontier point drawn, the unpriced ones grey", async () => {
    for (const sweep of [unpriced, mixed]) {
      const p = await open(await renderSweepVisual(sweep, "html"), "sweep-prices.html")
      expect(p.errors).toEqual([])
      const labels = await p.labels("pareto", "point")
      expect(labels.length).toBe(sweep.outcome.frontier.length)
      const colours = await p.page.$$eval(`figure[data-chart="pareto"] svg [aria-roledescription="point"]`, (ns) =>
        ns.map((n) => `${n.getAttribute("aria-label")?.includes("no price") ? "none" : "priced"} ${n.getAttribute("fill")}`)
      )
      for (const c of colours) if (c.startsWith("none")) expect(c).toBe("none #888")
      expect(colours.filter((c) => c.startsWith("priced")).length).toBe(sweep.outcome.frontier.filter((r) => r.cost_per_1m_output_tokens_usd !== null).length)
    }
  })

  test("diff page: one before / after bar per layer and side", async () => {
    const d = await diffInProcess(dir, [], { a: DEFAULT, b: "configs/scenarios/deepseek_v3_a100.yaml", runtime: { phase: "decode" }, noCache: true })
    const p = await open(await renderDiffVisual(d.diffs, "html", { gate: false }), "diff.html")
    expect(p.errors).toEqual([])
    for (const phase of ["decode"]) {
      const rows = d.json.layers.filter((l: any) => l.phase === phase)
      const sides = rows.filter((l: any) => l.a_ms !== null).length + rows.filter((l: any) => l.b_ms !== null).length
      expect((await p.labels(`diff-1-${phase}`, "bar")).length).toBe(sides)
    }
  })
})

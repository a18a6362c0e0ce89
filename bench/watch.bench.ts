/**
 * Watch mode soak: one `llmsim watch --reporter json` session on the 61-layer DeepSeek-V3 H800
 * scenario, N scripted saves of the MoE template (each a new `moe_intermediate_size`, so every
 * save recomputes the MoE layers), waiting for the result event of each before the next save.
 *
 * Figures: resident memory of the watch process after the first result and after the last
 * (from the events' `rss_bytes`), and the time from save to result event, as a median over all
 * saves and over the first and last 100, so a trend (memory or time growing with the session)
 * shows. BENCH_WATCH_EDITS overrides N (default 1000). `first_event_to_result` is the watcher's
 * own figure (file event to result), `evaluation` the evaluation alone, `save_to_result` adds the
 * file-system notification latency as this process sees it.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { median } from "../src/reference/stats.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const EDITS = Number(process.env.BENCH_WATCH_EDITS ?? 1000)
const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const MOE = "configs/models/deepseek-v3/moe_layer_config.yaml"
const TIMEOUT_MS = 30_000

const quantile = (xs: ReadonlyArray<number>, q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10

export const run = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-watch-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  const child = spawn(process.execPath, [BIN, "watch", SCENARIO, "--reporter", "json"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const nextEvent = async (): Promise<any> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("watch bench: no event within 30 s")), TIMEOUT_MS)
    })
    try {
      const line = await Promise.race([lines.next(), timeout])
      if (line.done) throw new Error("watch bench: the watch process exited")
      return JSON.parse(line.value)
    } finally {
      clearTimeout(timer)
    }
  }
  try {
    const first = await nextEvent()
    if (first.type !== "result") throw new Error(`watch bench: initial event ${JSON.stringify(first)}`)
    const moe = path.join(dir, MOE)
    const original = fs.readFileSync(moe, "utf8")
    const latencies: Array<number> = []
    const evaluations: Array<number> = []
    const evaluationOnly: Array<number> = []
    const rssEvery100: Array<number> = []
    const heapEvery100: Array<number> = []
    let last = first
    const t0 = performance.now()
    for (let i = 1; i <= EDITS; i++) {
      const text = original.replace(/moe_intermediate_size:\s*\d+/, `moe_intermediate_size: ${2048 + 8 * i}`)
      const saved = performance.now()
      fs.writeFileSync(moe, text)
      // A save can reach the watcher as two events (truncate, then write): the second one's
      // evaluation recomputes nothing and answers the same save again; wait past it.
      let e = await nextEvent()
      while (e.type === "result" && e.layers_recomputed.length === 0) e = await nextEvent()
      if (e.type !== "result") throw new Error(`watch bench: edit ${i} gave ${JSON.stringify(e).slice(0, 500)}`)
      latencies.push(performance.now() - saved)
      evaluations.push(e.elapsed_ms)
      evaluationOnly.push(e.evaluation_ms)
      if (i % 100 === 0) rssEvery100.push(mb(e.rss_bytes))
      if (i % 100 === 0) heapEvery100.push(mb(e.heap_used_bytes))
      last = e
    }
    const total = performance.now() - t0
    const head = latencies.slice(0, 100)
    const tail = latencies.slice(-100)
    return {
      edits: EDITS,
      rss_start_mb: mb(first.rss_bytes),
      rss_end_mb: mb(last.rss_bytes),
      rss_mb_every_100_edits: rssEvery100,
      heap_used_mb_every_100_edits: heapEvery100,
      save_to_result_median_ms: median(latencies),
      save_to_result_p90_ms: quantile(latencies, 0.9),
      save_to_result_median_first_100_ms: median(head),
      save_to_result_median_last_100_ms: median(tail),
      first_event_to_result_median_ms: median(evaluations),
      evaluation_median_ms: median(evaluationOnly),
      // Acceptance (issue 13): flat within 10% from save 100 to the last, and under 200 MB.
      rss_growth_from_save_100_percent: rssEvery100.length > 1 ? Math.round(1000 * (rssEvery100[rssEvery100.length - 1] / rssEvery100[0] - 1)) / 10 : null,
      total_s: Math.round(total / 100) / 10
    }
  } finally {
    child.kill("SIGINT")
    await new Promise((resolve) => child.once("exit", resolve))
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(JSON.stringify(await run(), null, 2) + "\n")

/**
 * Scaling (issue 13), each a fresh CLI process with its peak RSS (bench/rss-probe.mjs):
 * - repeat_10k: a 10,000-layer `repeat:` scenario (Llama-3.1-70B layers), --no-cache
 *   (acceptance: <= 2 s and <= 300 MB)
 * - entries_500 / entries_1000: 500 and 1,000 separate layer entries, --no-cache
 *   (acceptance: 1,000 <= 2.2x the time of 500)
 * - store_after_runs: BENCH_STORE_RUNS (default 500) distinct `llmsim run`s of the default
 *   scenario (--batch 1..N, two processes at a time sharing the store), then the store's size
 *   (acceptance <= 100 MB) and `llmsim cache verify --sample 0` on it (<= 10 s, <= 200 MB;
 *   its entries, without running the 500 command records again)
 * Times are medians of BENCH_SCALING_ROUNDS (default 3) runs, side by side with `node -e 0`.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median } from "../src/reference/stats.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const PROBE = path.join(REPO, "bench", "rss-probe.mjs")
const ROUNDS = Number(process.env.BENCH_SCALING_ROUNDS ?? 3)
const STORE_RUNS = Number(process.env.BENCH_STORE_RUNS ?? 500)

/** One CLI process: wall ms and peak RSS MB. */
const measure = (args: ReadonlyArray<string>, cwd: string): { ms: number; rss_mb: number } => {
  const rssFile = path.join(cwd, `.rss-${process.pid}`)
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, ["--import", PROBE, BIN, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    env: { ...process.env, BENCH_RSS_FILE: rssFile }
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`llmsim ${args.join(" ")} failed: ${r.stderr}`)
  const rss_mb = Math.round(Number(fs.readFileSync(rssFile, "utf8")) / 1024)
  fs.rmSync(rssFile)
  return { ms, rss_mb }
}

const nodeE0 = (cwd: string) => {
  const t0 = process.hrtime.bigint()
  spawnSync(process.execPath, ["-e", "0"], { cwd })
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** Llama-3.1-70B layers: one entry repeated `repeat` times, or `entries` separate entries. */
const scenarioText = (o: { repeat?: number; entries?: number }): string => {
  const src = fs.readFileSync(path.join(REPO, "configs/scenarios/llama_3_1_70b_h100.yaml"), "utf8")
  const tpl = "configs/models/llama-3.1-70b/ffn_layer_config.yaml"
  const layers =
    o.entries !== undefined
      ? Array.from({ length: o.entries }, (_, i) => `  - {type: ffn_layer, name: l${i}, config: ${tpl}}\n`).join("")
      : `  - {type: ffn_layer, config: ${tpl}, repeat: ${o.repeat}}\n`
  return src.replace(/layers:\n(  .*\n)+/, `layers:\n${layers}`)
}

const run = (cmd: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    p.stderr.on("data", (d) => (err += d))
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")}: ${err}`))))
  })

const du = (dir: string): number => {
  let n = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size
  }
  return n
}

export const run_ = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-scaling-"))
  try {
    fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
    fs.writeFileSync(path.join(dir, "repeat10k.yaml"), scenarioText({ repeat: 10_000 }))
    fs.writeFileSync(path.join(dir, "entries500.yaml"), scenarioText({ entries: 500 }))
    fs.writeFileSync(path.join(dir, "entries1000.yaml"), scenarioText({ entries: 1000 }))
    const rows: Record<string, Array<{ ms: number; rss_mb: number }>> = { repeat: [], e500: [], e1000: [] }
    const e0: Array<number> = []
    for (let i = 0; i < ROUNDS; i++) {
      e0.push(nodeE0(dir))
      rows.repeat.push(measure(["run", "repeat10k.yaml", "--no-cache"], dir))
      rows.e500.push(measure(["run", "entries500.yaml", "--no-cache"], dir))
      rows.e1000.push(measure(["run", "entries1000.yaml", "--no-cache"], dir))
    }
    const summary = (xs: ReadonlyArray<{ ms: number; rss_mb: number }>) => ({
      ms: Math.round(median(xs.map((x) => x.ms))),
      peak_rss_mb: Math.max(...xs.map((x) => x.rss_mb))
    })

    // The store after STORE_RUNS distinct runs (two at a time; they share one store safely).
    const batches = Array.from({ length: STORE_RUNS }, (_, i) => i + 1)
    const t0 = performance.now()
    while (batches.length > 0) {
      const two = batches.splice(0, 2)
      await Promise.all(two.map((b) => run(process.execPath, [BIN, "run", "configs/scenarios/deepseek_v3_h800.yaml", "--batch", String(b)], dir)))
    }
    const runsS = (performance.now() - t0) / 1000
    const storeBytes = du(path.join(dir, "cache"))
    // The entries' verification issue 13 bounds: `--sample 0` runs none of the 500 command records
    // again (each is one run of its command: `cache verify` without it takes about as long as the runs did).
    const verify = measure(["cache", "verify", "--sample", "0", "--cache-dir", "cache"], dir)
    return {
      node_e0_ms: Math.round(median(e0)),
      repeat_10k: summary(rows.repeat),
      entries_500: summary(rows.e500),
      entries_1000: summary(rows.e1000),
      entries_1000_over_500: Math.round((100 * median(rows.e1000.map((x) => x.ms))) / median(rows.e500.map((x) => x.ms))) / 100,
      store_after_runs: {
        runs: STORE_RUNS,
        runs_s: Math.round(runsS),
        store_mb: Math.round(storeBytes / 1e5) / 10,
        verify_ms: Math.round(verify.ms),
        verify_peak_rss_mb: verify.rss_mb
      },
      rounds: ROUNDS
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

export { run_ as run }

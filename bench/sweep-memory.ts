/**
 * A 1,048,576-point sweep streamed to CSV in this process, sampling resident memory at 10% and
 * 100% of the points (bench/sweep.bench.ts runs it in a child process so its own memory does not
 * count). Usage: node bench/sweep-memory.ts PROJECT_DIR. Prints JSON.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { runSweepCommand } from "../src/sweep/run.ts"

const dir = process.argv[2]
const out = path.join(dir, "million.csv")
const samples: Record<string, number> = {}
const result = await Effect.runPromise(runSweepCommand({
  run: { cwd: dir, scenario: "configs/scenarios/deepseek_v3_h800.yaml", runtime: { phase: "decode" }, estimator: "analytic", efficiency: "hardware", noCache: true },
  axes: { ep: "8..256:+8", seq: "1024..32768:+1024", batch: "1..1024" },
  constraints: { tpot_ms_max: 50 },
  strategy: "two-batch-overlap",
  points_file: out,
  workers: 1,
  onProgress: (done, total) => {
    const pct = Math.round((done / total) * 100)
    if (pct >= 10 && samples.rss_mb_at_10_percent === undefined) samples.rss_mb_at_10_percent = process.memoryUsage().rss / 1e6
    if (done === total) samples.rss_mb_at_100_percent = process.memoryUsage().rss / 1e6
  }
}).pipe(Effect.provide(NodeServices.layer)))
const size = fs.statSync(out).size
fs.rmSync(out, { force: true })
process.stdout.write(JSON.stringify({
  points: result.outcome.stats.points,
  points_per_s: Math.round((result.outcome.stats.points / result.outcome.stats.elapsed_ms) * 1e3),
  csv_bytes: size,
  rss_mb_at_10_percent: Math.round(samples.rss_mb_at_10_percent),
  rss_mb_at_100_percent: Math.round(samples.rss_mb_at_100_percent),
  frontier_points: result.outcome.frontier.length
}) + "\n")

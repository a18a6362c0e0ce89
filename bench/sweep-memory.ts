/**
 * A 1,048,576-point sweep streamed to CSV in this process, sampling resident memory at 10% and
 * 100% of the points (bench/sweep.bench.ts runs it in a child process so its own memory does not
 * count). With --expose-gc it also records the live heap after a full collection at each sample:
 * what the sweep holds, apart from what V8 keeps committed. Usage:
 * node --expose-gc bench/sweep-memory.ts PROJECT_DIR. Prints JSON.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { runSweepCommand } from "../src/sweep/run.ts"

const dir = process.argv[2]
const out = path.join(dir, "million.csv")
const samples: Record<string, number> = {}
const result = await Effect.runPromise(
  runSweepCommand({
    run: {
      cwd: dir,
      scenario: "configs/scenarios/deepseek_v3_h800.yaml",
      runtime: { phase: "decode" },
      estimator: "analytic",
      efficiency: "hardware",
      noCache: true
    },
    axes: { ep: "8..256:+8", seq: "1024..32768:+1024", batch: "1..1024" },
    constraints: { tpot_ms_max: 50 },
    strategy: "two-batch-overlap",
    points_file: out,
    workers: 1,
    onProgress: (done, total) => {
      const pct = Math.round((done / total) * 100)
      for (const at of [10, 50, 100]) {
        if (pct >= at && samples[`rss_mb_at_${at}_percent`] === undefined) {
          // Live heap after a full collection (run with --expose-gc), beside the resident size.
          const gc = (globalThis as { gc?: () => void }).gc
          gc?.()
          const m = process.memoryUsage()
          samples[`rss_mb_at_${at}_percent`] = m.rss / 1e6
          if (gc) samples[`live_heap_mb_at_${at}_percent`] = m.heapUsed / 1e6
          samples[`heap_total_mb_at_${at}_percent`] = m.heapTotal / 1e6
          samples[`external_mb_at_${at}_percent`] = m.external / 1e6
        }
      }
    }
  }).pipe(Effect.provide(NodeServices.layer))
)
const size = fs.statSync(out).size
fs.rmSync(out, { force: true })
process.stdout.write(
  JSON.stringify({
    points: result.outcome.stats.points,
    points_per_s: Math.round((result.outcome.stats.points / result.outcome.stats.elapsed_ms) * 1e3),
    csv_bytes: size,
    ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(v)])),
    frontier_points: result.outcome.frontier.length
  }) + "\n"
)

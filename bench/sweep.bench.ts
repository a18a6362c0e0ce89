/**
 * Sweep throughput and memory (issue: planning search).
 *
 * - points_per_s_10k: a DeepSeek-V3 decode sweep on the large-EP model, EP (32 values) x batch
 *   (10) x sequence length (32) = 10,240 points, every point streamed to a CSV file, no cache, one
 *   thread. Points / the point loop's wall time (`stats.elapsed_ms`: excludes process start-up and
 *   loading), median over rounds.
 * - points_per_s_40k: the same sweep at 4x the sequence values (40,960 points), one thread: the
 *   10K figure includes the JIT warm-up of the first few thousand points, this one less so.
 * - workers_1_points_per_s / workers_2_points_per_s: EP (32) x batch 1..1024 (1,024) x sequence
 *   length (8) = 262,144 points, one thread and two worker threads, alternately in the same rounds
 *   (a worker's start-up, ~0.2 s to load the kernel and warm it, is paid back on large sweeps).
 * - memory: a 1,048,576-point sweep (batch 1..1024 in steps of 1) streamed to CSV, run in a child
 *   process (bench/sweep-memory.ts) that samples its resident memory at 10% and 100% of the points.
 * BENCH_SWEEP_ROUNDS (default 3) and BENCH_SWEEP_MEMORY_POINTS=0 (skip the million) override.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median } from "../src/reference/stats.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const ROUNDS = Number(process.env.BENCH_SWEEP_ROUNDS ?? 3)
export const SWEEP_ARGS = ["sweep", "configs/scenarios/deepseek_v3_h800.yaml", "--strategy", "two-batch-overlap", "--phase", "decode", "--ep", "8..256:+8"]

const pointsPerSecond = (dir: string, extra: ReadonlyArray<string>): { points: number; per_s: number } => {
  const r = spawnSync(process.execPath, [BIN, ...SWEEP_ARGS, ...extra, "--no-cache", "--format", "json", "--points", path.join(dir, "points.csv")], {
    cwd: dir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024
  })
  if (r.status !== 0) throw new Error(`sweep failed: ${r.stderr}`)
  const out = JSON.parse(r.stdout)
  return { points: out.stats.points, per_s: (out.stats.points / out.stats.elapsed_ms) * 1e3 }
}

export const run = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-sweep-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  const small: Array<number> = []
  const mid: Array<number> = []
  const w1: Array<number> = []
  const w2: Array<number> = []
  let points10k = 0
  let points40k = 0
  let pointsLarge = 0
  const large = ["--seq", "1024..29696:+4096", "--batch", "1..1024"]
  for (let i = 0; i < ROUNDS; i++) {
    const a = pointsPerSecond(dir, ["--batch", "1..512:x2", "--seq", "1024..32768:+1024"])
    small.push(a.per_s)
    points10k = a.points
    const b = pointsPerSecond(dir, ["--batch", "1..512:x2", "--seq", "256..32768:+256"])
    mid.push(b.per_s)
    points40k = b.points
    const c = pointsPerSecond(dir, [...large, "--workers", "1"])
    w1.push(c.per_s)
    pointsLarge = c.points
    w2.push(pointsPerSecond(dir, [...large, "--workers", "2"]).per_s)
  }
  const memoryPoints = Number(process.env.BENCH_SWEEP_MEMORY_POINTS ?? 1)
  let memory: unknown = "skipped (BENCH_SWEEP_MEMORY_POINTS=0)"
  if (memoryPoints !== 0) {
    const r = spawnSync(process.execPath, ["--expose-gc", path.join(REPO, "bench", "sweep-memory.ts"), dir], {
      cwd: dir,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024
    })
    if (r.status !== 0) throw new Error(`sweep memory run failed: ${r.stderr}`)
    memory = JSON.parse(r.stdout)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return {
    points_10k: points10k,
    points_per_s_10k: Math.round(median(small)),
    points_40k: points40k,
    points_per_s_40k: Math.round(median(mid)),
    points_workers: pointsLarge,
    workers_1_points_per_s: Math.round(median(w1)),
    workers_2_points_per_s: Math.round(median(w2)),
    workers_2_over_1: Math.round((median(w2) / median(w1)) * 100) / 100,
    memory,
    rounds: ROUNDS
  }
}

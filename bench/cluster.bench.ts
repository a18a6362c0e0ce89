/**
 * Distributed planning (src/graph/cluster.ts, docs/cluster.md) as a user runs it: Debian's
 * PostgreSQL in a temporary folder (test/helpers/postgres.ts), `llmsim worker --threads 1`
 * runners on this machine, and `llmsim sweep --bench --cluster URL` over 208 layouts of Llama-3.1-8B
 * (weights x KV cache x TP x DP), a fresh CLI process and project folder each time.
 *
 * - one_runner: one runner; two_runners: two fresh runners in its place (empty stores, so no
 *   search is replayed from the phase before; messages carry no primary key to dedupe on).
 * - points_per_s: layouts / the client's wall time (start-up included).
 * - two_over_one: the speed-up; the acceptance asks >= 1.7 on the 2-core CI machine.
 * - side_by_side_over_single: both halves of the sweep (--shard 1/2 and 2/2) as two plain
 *   processes at once against one process doing all: the ceiling two cores give here, with no
 *   cluster, no messages and a perfect split.
 * Both answers are checked against the same sweep run in one process (--no-cache).
 * Skipped (with the reason) where PostgreSQL is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "../test/helpers/net.ts"
import { HAVE_POSTGRES, POSTGRES_INSTALL, startPostgres } from "../test/helpers/postgres.ts"
import { removeTempDirs } from "../test/helpers/temp.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const LAYOUTS = 208
const SWEEP = [
  BIN,
  "sweep",
  "configs/scenarios/llama_3_1_8b_h100.yaml",
  "--bench",
  "--weights",
  "bf16,fp8",
  "--kv-cache",
  "bf16,fp8",
  "--tp",
  "1,2,4,8",
  "--dp",
  "1..13",
  "--random-input-len",
  "512",
  "--random-output-len",
  "1024",
  "--num-prompts",
  "300",
  "--goodput",
  "tpot:10",
  "--format",
  "json"
]

const project = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-cluster-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  return dir
}

const timed = (args: ReadonlyArray<string>): { ms: number; stdout: string } => {
  const dir = project()
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  fs.rmSync(dir, { recursive: true, force: true })
  if (r.status !== 0 || r.stderr !== "") throw new Error(`${args.slice(1, 3).join(" ")}: exit ${r.status}: ${r.stderr}`)
  return { ms, stdout: r.stdout }
}

/** Both halves of the sweep (--shard 1/2, 2/2) as two processes side by side: what two cores give with no cluster at all. */
const shardsSideBySide = async (): Promise<number> => {
  const t0 = process.hrtime.bigint()
  await Promise.all(
    ["1/2", "2/2"].map(
      (shard) =>
        new Promise<void>((resolve, reject) => {
          const dir = project()
          const child = spawn(process.execPath, [...SWEEP, "--no-cache", "--shard", shard], { cwd: dir, stdio: "ignore" })
          child.once("exit", (code) => {
            fs.rmSync(dir, { recursive: true, force: true })
            if (code === 0) resolve()
            else reject(new Error(`sweep --shard ${shard}: exit ${code}`))
          })
        })
    )
  )
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** A runner in its own project folder, once it says it joined. */
const runner = async (url: string): Promise<{ child: ChildProcess; dir: string }> => {
  const dir = project()
  const port = await freePort()
  const child = spawn(process.execPath, [BIN, "worker", "--cluster", url, "--listen", `127.0.0.1:${port}`, "--threads", "1"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"]
  })
  let log = ""
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      log += c.toString()
      if (log.includes("joined cluster")) resolve()
    })
    child.once("exit", (code) => reject(new Error(`runner exited with ${code}: ${log}`)))
  })
  return { child, dir }
}

/**
 * Before a phase is timed: time for joining runners to be assigned their shards (assignments
 * refresh every second), then a small sweep of another seed, so the runners are warm (compiled
 * code) as long-lived runners are, and none of its searches is the timed sweep's.
 */
const settle = async (url: string) => {
  await new Promise((r) => setTimeout(r, 3000))
  const warmUp = SWEEP.map((a, i) => (SWEEP[i - 1] === "--dp" ? "1..4" : a))
  timed([...warmUp, "--seed", "99", "--cluster", url])
}

export const run = async () => {
  if (!HAVE_POSTGRES) return { skipped: POSTGRES_INSTALL }
  const pg = await startPostgres()
  const runners: Array<{ child: ChildProcess; dir: string }> = []
  try {
    const single = timed([...SWEEP, "--no-cache"])
    const sideBySide = await shardsSideBySide()
    runners.push(await runner(pg.url))
    await settle(pg.url)
    const one = timed([...SWEEP, "--cluster", pg.url])
    // Two fresh runners (empty stores: nothing to replay) in place of the first.
    const first = runners.pop()!
    first.child.kill("SIGTERM")
    await new Promise((r) => first.child.once("exit", r))
    runners.push(await runner(pg.url), await runner(pg.url))
    await settle(pg.url)
    const two = timed([...SWEEP, "--cluster", pg.url])
    if (one.stdout !== single.stdout || two.stdout !== single.stdout) throw new Error("a cluster answer differs from the single-process one")
    const pps = (ms: number) => LAYOUTS / (ms / 1000)
    return {
      layouts: LAYOUTS,
      single_process_ms: Math.round(single.ms),
      one_runner_ms: Math.round(one.ms),
      two_runners_ms: Math.round(two.ms),
      one_runner_points_per_s: pps(one.ms),
      two_runners_points_per_s: pps(two.ms),
      two_over_one: one.ms / two.ms,
      two_shards_side_by_side_ms: Math.round(sideBySide),
      // The most two processes get out of this machine's two cores on this sweep, for scale.
      side_by_side_over_single: single.ms / sideBySide
    }
  } finally {
    for (const r of runners) {
      r.child.kill("SIGTERM")
      fs.rmSync(r.dir, { recursive: true, force: true })
    }
    await pg.stop()
    removeTempDirs()
  }
}

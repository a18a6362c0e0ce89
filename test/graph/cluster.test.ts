/**
 * Distributed planning (src/graph/cluster.ts, src/app/runner.ts) against real components:
 * Debian's PostgreSQL in a temporary folder (test/helpers/postgres.ts) and three `llmsim worker`
 * runner processes, each in its own project folder with its own empty store, as three machines
 * would be. Checked: a `sweep --bench --cluster` over 208 layouts prints the single-process
 * answer byte for byte while one runner is killed (SIGKILL) halfway; a rerun and a second client
 * compute nothing; `plan --cluster` prints the single-process plan; an unreachable database and
 * a cluster without runners say why; SIGTERM leaves cleanly.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { storeFolder } from "../../src/base/storeLayout.js"
import { BIN, NODE, makeProject, REPO, runCli, startCli } from "../helpers/cli.ts"
import { freePort } from "../helpers/net.ts"
import { HAVE_POSTGRES, POSTGRES_INSTALL, startPostgres, type Postgres } from "../helpers/postgres.ts"

const SCENARIO = "configs/scenarios/llama_3_1_8b_h100.yaml"
/** 2 x 2 x 4 x 13 = 208 layouts, each a capacity search (max load, 200 requests). */
const SWEEP = [
  "sweep",
  SCENARIO,
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
  "128",
  "--random-output-len",
  "256",
  "--num-prompts",
  "200",
  "--format",
  "json"
]
const LAYOUTS = 208

interface Runner {
  readonly child: ChildProcess
  readonly lines: Array<string>
  /** Nodes this runner computed (its log's `computed` lines so far). */
  readonly computed: () => number
  /** Entries in its store: each written before its reply left (a log line may not be, when the runner is killed). */
  readonly stored: () => number
  readonly exited: Promise<number | null>
}

/** A runner in its own project folder, once it says it joined. */
const startRunner = async (url: string): Promise<Runner> => {
  const port = await freePort()
  const dir = makeProject("llmsim-runner-")
  const child = startCli(["worker", "--cluster", url, "--listen", `127.0.0.1:${port}`, "--threads", "1"], dir)
  const lines: Array<string> = []
  let partial = ""
  // "close": exited and its log read to the end.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n")
      partial = parts.pop()!
      lines.push(...parts)
      if (parts.some((l) => l.includes("joined cluster"))) resolve()
    })
    void exited.then((code) => reject(new Error(`runner exited with ${code}: ${lines.join("\n")}${partial}`)))
  })
  const entries = storeFolder(path.join(dir, "cache"), "entries")
  const stored = () => (fs.existsSync(entries) ? fs.readdirSync(entries, { recursive: true }).filter((f) => String(f).endsWith(".json")).length : 0)
  return { child, lines, computed: () => lines.filter((l) => l.startsWith("computed ")).length, stored, exited }
}

/** The CLI run to its end without blocking this process (the runners' logs keep flowing). */
const runAsync = (args: ReadonlyArray<string>, cwd: string, onStart?: (child: ChildProcess) => void) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(NODE, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => void (stdout += c.toString()))
    child.stderr.on("data", (c: Buffer) => void (stderr += c.toString()))
    child.once("exit", (status) => resolve({ status, stdout, stderr }))
    onStart?.(child)
  })

/** Resolve once `want()` holds, checked as output arrives (every 20 ms), or reject after `ms`. */
const until = (want: () => boolean, ms: number, what: string) =>
  new Promise<void>((resolve, reject) => {
    const end = Date.now() + ms
    const tick = setInterval(() => {
      if (want()) {
        clearInterval(tick)
        resolve()
      } else if (Date.now() > end) {
        clearInterval(tick)
        reject(new Error(`still waiting after ${ms} ms: ${what}`))
      }
    }, 20)
  })

if (!HAVE_POSTGRES) console.warn(`cluster tests skipped: no PostgreSQL; ${POSTGRES_INSTALL}`)
const test = HAVE_POSTGRES ? it : it.skip

describe(`sweep --bench on a cluster of runners over PostgreSQL${HAVE_POSTGRES ? "" : ` (skipped: ${POSTGRES_INSTALL})`}`, () => {
  let pg: Postgres | undefined
  const runners: Array<Runner> = []
  let alone: { status: number | null; stdout: string; stderr: string }
  beforeAll(async () => {
    if (!HAVE_POSTGRES) return
    pg = await startPostgres()
    // The single-process answer while the runners start.
    const [started, reference] = await Promise.all([
      Promise.all([startRunner(pg.url), startRunner(pg.url), startRunner(pg.url)]),
      runAsync([...SWEEP, "--no-cache"], makeProject())
    ])
    runners.push(...started)
    alone = reference
  }, 60_000)
  afterAll(async () => {
    for (const r of runners) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL")
    await Promise.all(runners.map((r) => r.exited))
    await pg?.stop()
  })

  test("the answer on 3 runners, one killed halfway, is the single-process answer byte for byte; a rerun computes nothing (real CLI)", async () => {
    expect([alone.status, alone.stderr]).toEqual([0, ""])
    expect(JSON.parse(alone.stdout).sweep_bench.rows.filter((r: { probes: number }) => r.probes > 0)).toHaveLength(LAYOUTS)

    const client = makeProject("llmsim-client-")
    const victim = runners[1]!
    let killedAt: { total: number; victim: number } | undefined
    const total = () => runners.reduce((n, r) => n + r.computed(), 0)
    const run = runAsync([...SWEEP, "--cluster", pg!.url], client)
    // Halfway: once a third of the layouts are done and the victim has computed some of them.
    await until(() => total() >= LAYOUTS / 3 && victim.computed() > 0, 60_000, "a third of the layouts computed")
    killedAt = { total: total(), victim: victim.computed() }
    victim.child.kill("SIGKILL")
    const clustered = await run
    expect([clustered.status, clustered.stderr]).toEqual([0, ""])
    expect(clustered.stdout).toBe(alone.stdout)
    // The victim was killed mid-sweep, and the others took over what it held.
    expect(killedAt.total).toBeLessThan(LAYOUTS)
    expect(await victim.exited).toBe(null)
    const survivors = runners.filter((r) => r !== victim)
    // Every search was computed by someone: counted by the runners' stores, since a runner stores a
    // search before its reply leaves, while its log line can be lost to the kill (207 of 208 logged,
    // once in 7 runs). The survivors took what was left.
    expect(survivors.reduce((n, r) => n + r.stored(), 0) + victim.stored()).toBeGreaterThanOrEqual(LAYOUTS)
    expect(survivors.reduce((n, r) => n + r.computed(), 0)).toBeGreaterThan(killedAt.total - killedAt.victim)

    // A rerun replays its own store: no message, nothing computed.
    const before = total()
    const again = runCli([...SWEEP, "--cluster", pg!.url], client)
    expect([again.status, again.stderr, again.stdout]).toEqual([0, "", alone.stdout])
    expect(total()).toBe(before)
  }, 180_000)

  test("a second client with an empty store gets every search from the runners' stores: nothing is computed again (real CLI)", async () => {
    // Three searches: no more than a runner's room (3 per compute thread), so each goes to the
    // runner of its key's shard both times (src/graph/dispatch.ts), where the first run stored it.
    const small = [...SWEEP.slice(0, 2), "--bench", "--tp", "1,2,4", "--random-input-len", "64", "--random-output-len", "16", "--format", "json"]
    const live = runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null)
    const replayed = () => live.reduce((n, r) => n + r.lines.filter((l) => l.startsWith("replayed ")).length, 0)
    const computed = () => live.reduce((n, r) => n + r.computed(), 0)
    const first = await runAsync([...small, "--cluster", pg!.url], makeProject("llmsim-client-"))
    expect([first.status, first.stderr]).toEqual([0, ""])
    const [c0, r0] = [computed(), replayed()]
    const second = await runAsync([...small, "--cluster", pg!.url], makeProject("llmsim-client-"))
    expect([second.status, second.stderr, second.stdout]).toEqual([0, "", first.stdout])
    expect(computed()).toBe(c0)
    // Each search was sent and answered from a runner's store.
    await until(() => replayed() - r0 === 3, 10_000, "3 replayed searches logged")
  })

  test("plan --cluster: every phase's searches go to the runners, and the plan is the single-process one byte for byte (real CLI)", async () => {
    const plan = ["plan", SCENARIO, "--format", "json"]
    const live = runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null)
    const computed = () => live.reduce((n, r) => n + r.computed(), 0)
    const before = computed()
    const [alone, clustered] = await Promise.all([
      runAsync([...plan, "--no-cache"], makeProject()),
      runAsync([...plan, "--cluster", pg!.url], makeProject("llmsim-client-"))
    ])
    expect([clustered.status, clustered.stderr]).toEqual([0, ""])
    expect(clustered.stdout).toBe(alone.stdout)
    expect(computed()).toBeGreaterThan(before)
    const ml = runCli([...plan, "--cluster", pg!.url, "--estimator", "ml", "--model", path.join(REPO, "models", "reference.json")], makeProject())
    expect([ml.status, ml.stderr]).toEqual([1, "error: --cluster: runners compute searches with the analytic estimator only, not --estimator ml\n"])
  })

  test("an unreachable database and a cluster without runners each say why (real CLI)", async () => {
    // (The flag's own errors, a URL that is not postgres:// and --cluster without --bench: test/cli/sweep.test.ts.)
    const dir = makeProject()
    const closed = await freePort()
    const down = runCli(["sweep", SCENARIO, "--bench", "--tp", "1,2", "--cluster", `postgres://llmsim:secret@127.0.0.1:${closed}/x`], dir)
    expect(down.status).toBe(1)
    expect(down.stderr).toMatch(new RegExp(`^error: cluster postgres://llmsim:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/x: cannot reach PostgreSQL \\(.+\\)\\n$`))
    // Another database on the same server: no runner has ever joined it.
    const empty = pg!.url.replace(/\/postgres$/, "/template1")
    const none = runCli(["sweep", SCENARIO, "--bench", "--tp", "1,2", "--cluster", empty], dir)
    expect([none.status, none.stderr]).toEqual([1, `error: cluster ${empty}: no runner has joined; start one with: llmsim worker --cluster ${empty}\n`])
  })

  test("SIGTERM: a runner leaves the cluster cleanly and exits 0", async () => {
    const leaving = runners[0]!
    leaving.child.kill("SIGTERM")
    expect(await leaving.exited).toBe(0)
  })
})

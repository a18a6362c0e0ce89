/**
 * Fault injection on the result store: in each round two real `llmsim run` processes write the
 * same scenario and batch (the same keys) into one store, and writers are killed with SIGKILL at
 * states of their run, not after guessed delays (a run takes anything from 0.3 s on a fast
 * machine to seconds on a busy one): at start-up (its spawn), as it prints its result (its first
 * stdout chunk: the store writes follow at once, src/app/session.ts), or in the middle of its
 * store commit (its k-th temp file in `<store>/v1/tmp`, named with its pid by writeEntry,
 * src/graph/store.ts, seen through fs.watch). Real processes are the point: kill -9 lands
 * between any two system calls, mid-write or mid-rename, which no in-process test can do.
 *
 * Held afterwards: a writer that finished printed exactly the `--no-cache` output; every entry
 * file in the store is complete and valid (no partial write survives a kill); `cache verify`
 * finds no problem; and every result read back through the store is byte-identical to a
 * `--no-cache` run.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { entryPath, readEntry } from "../../src/graph/store.ts"
import { seededRandom } from "../helpers/arbitraries.ts"
import { BIN, makeProject, NODE } from "../helpers/cli.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import { runEffect, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const SCENARIOS = ["configs/scenarios/llama_3_1_70b_h100.yaml", "configs/scenarios/deepseek_v3_h800.yaml", "configs/scenarios/mixtral_8x7b_h100.yaml"]
const ROUNDS = 3

/** The state of its run at which a writer is killed; undefined: it is left to finish. */
type KillAt = { readonly at: "start-up" } | { readonly at: "output" } | { readonly at: "commit"; readonly tempFile: number } | undefined

const describeKill = (k: NonNullable<KillAt>): string => (k.at === "commit" ? `its temp file ${k.tempFile}` : k.at)

interface Ended {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Temp files appearing in `<store>/v1/tmp`, counted per writer: writeEntry names them
 * `<key>.<pid>.<random>`. `at(pid, n, f)` calls `f` once the process `pid` has created its
 * n-th one (each is created, then renamed away: both events carry its name).
 */
const watchTempFiles = (store: string) => {
  const dir = path.join(store, "v1", "tmp")
  fs.mkdirSync(dir, { recursive: true })
  const seen = new Map<number, Set<string>>()
  const waiting = new Map<number, { readonly n: number; readonly f: () => void }>()
  const watcher = fs.watch(dir, (_event, name) => {
    const pid = Number(name?.split(".")[1])
    const names = seen.get(pid)
    if (name === null || names === undefined) return
    names.add(name)
    const w = waiting.get(pid)
    if (w !== undefined && names.size >= w.n) {
      waiting.delete(pid)
      w.f()
    }
  })
  return {
    at: (pid: number, n: number, f: () => void) => {
      seen.set(pid, new Set())
      waiting.set(pid, { n, f })
    },
    close: () => watcher.close()
  }
}

/** `llmsim run SCENARIO --batch B --cache-dir STORE --format json`, killed with SIGKILL at `killAt` unless it ended first. */
const writer = (cwd: string, scenario: string, batch: number, store: string, killAt: KillAt, temps: ReturnType<typeof watchTempFiles>): Promise<Ended> => {
  const child = spawn(NODE, [BIN, "run", scenario, "--batch", String(batch), "--cache-dir", store, "--format", "json"], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" }
  })
  let stdout = ""
  let stderr = ""
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  }
  if (killAt?.at === "start-up") child.once("spawn", kill)
  if (killAt?.at === "output") child.stdout.once("data", kill)
  if (killAt?.at === "commit") temps.at(child.pid!, killAt.tempFile, kill)
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  return new Promise<Ended>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })))
}

/** Every entry file under the store's `ac` folder. */
const entryFiles = (store: string): Array<string> => {
  const ac = path.join(store, "v1", "ac")
  if (!fs.existsSync(ac)) return []
  return fs.readdirSync(ac).flatMap((d) => fs.readdirSync(path.join(ac, d)).map((f) => path.join(ac, d, f)))
}

describe("two writers on one store, killed at states of their runs", () => {
  it("leaves no partial entry and every result read through the store equals --no-cache", async () => {
    const dir = makeProject()
    const store = tempDir("llmsim-faults-store-")
    const temps = watchTempFiles(store)
    const random = seededRandom(911)
    const used: Array<{ scenario: string; batch: number }> = []
    const kills: Array<string> = []

    try {
      for (let round = 0; round < ROUNDS; round++) {
        // A new batch per round, so the round's writers write new keys rather than read old ones.
        const scenario = SCENARIOS[round % SCENARIOS.length]
        const batch = 2 + round * 3 + Math.floor(random() * 3)
        used.push({ scenario, batch })
        const expected = (await runInProcess(runOptions(dir, scenario, { noCache: true, runtime: { batch_size: batch } }))).text("json")
        // The second writer of every round dies mid-commit (a round writes tens of entries, so
        // at one of its first 8 temp files most of its commit is still to come). The first
        // writer finishes in round 0 (its output is checked next to a concurrent writer), is
        // killed at start-up in round 1 (a kill that always lands, before anything is written),
        // and as it prints in round 2 (its commit about to start).
        const first: KillAt = round === 0 ? undefined : round === 1 ? { at: "start-up" } : { at: "output" }
        const second: KillAt = { at: "commit", tempFile: 1 + Math.floor(random() * 8) }
        const plans = [first, second]
        const ended = await Promise.all(plans.map((k) => writer(dir, scenario, batch, store, k, temps)))
        for (const [i, r] of ended.entries()) {
          const plan = plans[i]
          if (r.signal === "SIGKILL" && plan !== undefined) {
            kills.push(`round ${round} writer ${i} at ${describeKill(plan)}`)
            continue
          }
          // Not killed (it ended before its state came, or was to finish): a complete run.
          expect(r.code, r.stderr).toBe(0)
          expect(r.stdout.trimEnd()).toBe(expected.trimEnd())
        }
      }
    } finally {
      temps.close()
    }
    // Writers must die, or this test holds nothing: the start-up kill of round 1 always lands,
    // whatever the machine's speed (the others land where their state comes before the end).
    expect(kills, kills.join("\n")).toContain("round 1 writer 0 at start-up")

    // No partial write: every entry file is complete, valid and stored under its own key.
    const files = entryFiles(store)
    for (const f of files) {
      const key = path.basename(f, ".json")
      expect(readEntry(store, key), `bad entry ${f}`).toBeDefined()
      expect(entryPath(store, key)).toBe(f)
    }
    const verified = await runEffect(verifyStore(store, NODE_TYPES))
    expect(verified.corrupt).toBe(0)
    expect(verified.problems).toEqual([])

    // Every result read back through the store is byte-identical to --no-cache.
    for (const { scenario, batch } of used) {
      const o = { runtime: { batch_size: batch } }
      const fresh = (await runInProcess(runOptions(dir, scenario, { ...o, noCache: true }))).text("json")
      const cached = await runInProcess(runOptions(dir, scenario, { ...o, cacheDir: store }))
      expect(cached.text("json")).toBe(fresh)
    }
  })
})

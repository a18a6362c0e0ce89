/**
 * Fault injection on the result store: in each round two real `llmsim run` processes write the
 * same scenario and batch (the same keys) into one store, and each is killed with SIGKILL at a
 * seeded random moment of its run (or left to finish). Real processes are the point: kill -9
 * lands between any two system calls, mid-write or mid-rename, which no in-process test can do.
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

interface Writer {
  readonly killedAtMs: number | undefined
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** `llmsim run SCENARIO --batch B --cache-dir STORE --format json`, killed with SIGKILL after `killAtMs` unless it ended first. */
const writer = (cwd: string, scenario: string, batch: number, store: string, killAtMs: number | undefined): Writer => {
  const child = spawn(NODE, [BIN, "run", scenario, "--batch", String(batch), "--cache-dir", store, "--format", "json"], { cwd, env: { ...process.env, NO_COLOR: "1" } })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const timer = killAtMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAtMs)
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  )
  return { killedAtMs: killAtMs, done }
}

/** Every entry file under the store's `ac` folder. */
const entryFiles = (store: string): Array<string> => {
  const ac = path.join(store, "v1", "ac")
  if (!fs.existsSync(ac)) return []
  return fs.readdirSync(ac).flatMap((d) => fs.readdirSync(path.join(ac, d)).map((f) => path.join(ac, d, f)))
}

describe("two writers on one store, killed at random points", () => {
  it("leaves no partial entry and every result read through the store equals --no-cache", async () => {
    const dir = makeProject()
    const store = tempDir("llmsim-faults-store-")
    const random = seededRandom(911)
    const used: Array<{ scenario: string; batch: number }> = []
    const kills: Array<string> = []

    for (let round = 0; round < ROUNDS; round++) {
      // A new batch per round, so the round's writers write new keys rather than read old ones.
      const scenario = SCENARIOS[round % SCENARIOS.length]
      const batch = 2 + round * 3 + Math.floor(random() * 3)
      used.push({ scenario, batch })
      const expected = (await runInProcess(runOptions(dir, scenario, { noCache: true, runtime: { batch_size: batch } }))).text("json")
      // Kill points spread over start-up, evaluation and the store commit at the end (a run here
      // takes about 1 to 4 s). The first writer of the first round always finishes, so a writer's
      // output next to a concurrent one is checked too; the rest are mostly killed.
      const killAt = (first: boolean) => (first || random() < 0.15 ? undefined : Math.floor(250 + random() * 2250))
      const writers = [writer(dir, scenario, batch, store, killAt(round === 0)), writer(dir, scenario, batch, store, killAt(false))]
      for (const w of writers) {
        const r = await w.done
        if (r.signal === "SIGKILL") {
          kills.push(`round ${round} at ${w.killedAtMs} ms`)
          continue
        }
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout.trimEnd()).toBe(expected.trimEnd())
      }
    }
    // The seed must actually kill some writers, or this test holds nothing.
    expect(kills.length).toBeGreaterThan(0)

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

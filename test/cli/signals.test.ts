/**
 * Signals (README "Signals"): SIGINT / SIGTERM / SIGHUP in the middle of a long evaluation exit 130 / 143 / 129
 * with nothing committed to the store; started by an older system `node`, bin/llmsim.js forwards SIGTERM to
 * the pinned Node it re-executed, the child is gone and the status is the child's 143.
 *
 * The long evaluation is a scenario of 1,800 separate layer entries (each entry plans and keys
 * its own ops: seconds of evaluation; a `repeat: 10000` layer is too quick since its instances
 * share one layer node). The signal is sent at a state, not after a delay: the child runs with
 * LLMSIM_DEBUG=progress (src/base/debug.ts) and is signalled when it reports that the first phase's
 * evaluation has started, so all 1,800 entries of both phases are still to evaluate whatever
 * the machine's speed or load. Held afterwards: stdout is empty (the result is printed only
 * after the evaluation) and the last milestone is still that "evaluating" one: the stop came
 * before that phase's evaluation finished. How soon, in milliseconds, is not held: the
 * evaluation step in progress can take seconds on a loaded machine (LLMSIM_TEST_TIMING=1 prints it).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, makeProject, NODE, systemNode } from "../helpers/cli.ts"

interface Ended {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Whether the signal was sent (the milestone came before the run ended). */
  readonly signalled: boolean
  /** From the signal to the exit. */
  readonly afterSignalMs: number
}

const PROGRESS = "llmsim progress: "
/** The first phase's evaluation has started (src/sim/simulate.ts): every layer entry is still to evaluate. */
const EVALUATING = /^llmsim progress: (prefill|decode): evaluating /m

/** The `LLMSIM_DEBUG=progress` milestones in `stderr`, without their prefix. */
const milestones = (stderr: string): Array<string> =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith(PROGRESS))
    .map((l) => l.slice(PROGRESS.length))

/**
 * Start `node bin/llmsim.js args` with LLMSIM_DEBUG=progress, send `sig` as soon as stderr shows
 * the EVALUATING milestone (`onSignal` hears the pid just before), and wait for the end.
 */
const interrupt = (node: string, args: ReadonlyArray<string>, cwd: string, sig: NodeJS.Signals, onSignal?: (pid: number) => void) =>
  new Promise<Ended>((resolve) => {
    const child = spawn(node, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", LLMSIM_DEBUG: "progress" }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let sentAt: number | undefined
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
      if (sentAt === undefined && EVALUATING.test(stderr)) {
        onSignal?.(child.pid!)
        sentAt = Date.now()
        child.kill(sig)
      }
    })
    child.on("close", (status, signal) => {
      resolve({ status, signal, stdout, stderr, signalled: sentAt !== undefined, afterSignalMs: sentAt === undefined ? 0 : Date.now() - sentAt })
    })
  })

/** A scenario of `layers` Llama-3.1-70B layer entries (one entry each, no repeat) in `dir`. */
const bigScenario = (dir: string, layers: number): string => {
  const src = fs.readFileSync(path.join(dir, "configs/scenarios/llama_3_1_70b_h100.yaml"), "utf8")
  const entry = "  - {type: ffn_layer, config: configs/models/llama-3.1-70b/ffn_layer_config.yaml}\n"
  const text = src.replace(/layers:\n(  .*\n)+/, `layers:\n${entry.repeat(layers)}`)
  expect(text).not.toBe(src)
  fs.writeFileSync(path.join(dir, "big.yaml"), text)
  return "big.yaml"
}

const filesUnder = (dir: string): ReadonlyArray<string> =>
  fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as Array<string>).filter((f) => fs.statSync(path.join(dir, f)).isFile()) : []

const childrenOf = (pid: number): ReadonlyArray<number> => {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("signals", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129]
  ] as const)(
    "%s in the middle of a long evaluation exits %i, prints no result and commits nothing",
    async (sig, code) => {
      const dir = makeProject()
      const scenario = bigScenario(dir, 1800)
      const r = await interrupt(NODE, ["run", scenario, "--format", "json", "--cache-dir", "store"], dir, sig)
      if (process.env.LLMSIM_TEST_TIMING) process.stderr.write(`${sig}: exit ${r.afterSignalMs} ms after the signal\n`)
      expect(r.signalled, r.stderr).toBe(true)
      expect(r.signal).toBe(null)
      expect(r.status).toBe(code)
      expect(r.stdout).toBe("")
      expect(milestones(r.stderr).at(-1)).toMatch(/^prefill: evaluating 1801 layer nodes$/)
      expect(
        r.stderr
          .split("\n")
          .filter((l) => !l.startsWith(PROGRESS))
          .join("\n")
      ).not.toMatch(/at |Error/)
      expect(filesUnder(path.join(dir, "store"))).toEqual([])
    },
    60_000
  )

  it.skipIf(systemNode === undefined)(
    "the re-exec wrapper forwards SIGTERM: the child is gone and the status is 143",
    async () => {
      const dir = makeProject()
      const scenario = bigScenario(dir, 1800)
      // The milestone comes from the pinned Node the wrapper started: it is running, mid-evaluation.
      let child = 0
      const r = await interrupt(systemNode!, ["run", scenario, "--no-cache", "--format", "json"], dir, "SIGTERM", (pid) => {
        child = childrenOf(pid)[0] ?? 0
      })
      expect(r.signalled, r.stderr).toBe(true)
      expect(child).not.toBe(0)
      expect(r.signal).toBe(null)
      expect(r.status).toBe(143)
      expect(r.stdout).toBe("")
      expect(milestones(r.stderr).at(-1)).toMatch(/^prefill: evaluating /)
      expect(alive(child)).toBe(false)
    },
    60_000
  )
})

/**
 * A replayed command ends as the CLI does (bin/llmsim.js, src/cli/main.ts): a reader that
 * closes the pipe early (`| head -1`) ends it quietly with exit 0, also when the system Node 20
 * replays before any re-exec; a signal that comes during the replay ends it with 128 + n, not
 * with the signal's default death (which could leave a temp file beside --out).
 *
 * Which path answered is held, not assumed: both runs have LLMSIM_DEBUG=progress (the key holds
 * it), the recording run prints progress milestones and a replay prints none.
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { BIN, makeProject, NODE, runCli, systemNode } from "../helpers/cli.ts"

const ARGS = ["run", "configs/scenarios/deepseek_v3_h800.yaml", "--format", "json"]
const ENV = { LLMSIM_DEBUG: "progress" }

/** A project whose store holds the record of ARGS (the JSON report is 1.7 MB: far more than a pipe holds). */
const recorded = () => {
  const dir = makeProject()
  const first = runCli(ARGS, dir, ENV)
  expect(first.status).toBe(0)
  expect(first.stderr).toContain("llmsim progress: ")
  return dir
}

interface Ended {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** Start ARGS with `node`; `onFirstData` acts on the child once its stdout has begun. */
const start = (node: string, dir: string, onFirstData: (child: ReturnType<typeof spawn>) => void) =>
  new Promise<Ended>((resolve) => {
    const child = spawn(node, [BIN, ...ARGS], { cwd: dir, env: { ...process.env, NO_COLOR: "1", ...ENV }, stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.stdout!.once("data", () => onFirstData(child))
    child.on("close", (status, signal) => resolve({ status, signal, stderr }))
  })

describe("a replay ends as the CLI does", () => {
  it("`| head -c 1` (EPIPE) ends a replay quietly with exit 0", async () => {
    const dir = recorded()
    const r = await start(NODE, dir, (child) => child.stdout!.destroy())
    expect(r).toEqual({ status: 0, signal: null, stderr: "" })
  }, 60_000)

  it.skipIf(systemNode === undefined)(
    "under the system Node 20 (the replay runs before any re-exec) too",
    async () => {
      const dir = recorded()
      const r = await start(systemNode!, dir, (child) => child.stdout!.destroy())
      expect(r).toEqual({ status: 0, signal: null, stderr: "" })
    },
    60_000
  )

  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
    ["SIGINT", 130]
  ] as const)(
    "%s during a replay (its stdout held by a reader that stopped reading) ends it with %i",
    async (sig, code) => {
      const dir = recorded()
      // The reader stops after the first chunk: the replay is in its write, the signal comes, then
      // the reader reads on and the replay, done writing, answers the signal.
      const r = await start(NODE, dir, (child) => {
        child.stdout!.pause()
        child.kill(sig)
        child.stdout!.resume()
      })
      expect(r).toEqual({ status: code, signal: null, stderr: "" })
    },
    60_000
  )
})

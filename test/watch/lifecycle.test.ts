/**
 * The screen, bursts of saves, start-up failures and stopping: Ctrl-C and SIGTERM exit 0 and
 * leave no process behind. The burst and broken-start checks are the session's behaviour and
 * run it in this process (watchSessionInProcess); the rest drive the real `llmsim watch`.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, edit, runCli } from "../helpers/cli.ts"
import { HARDWARE, MOE, SCENARIO, useProjects, WatchProcess, watchSessionInProcess } from "./watchProcess.ts"

const project = useProjects()

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("llmsim watch: screen and lifecycle", () => {
  it("shows the header, marked rows with deltas, and a stale result after a bad save", async () => {
    const dir = project()
    const w = new WatchProcess([SCENARIO, "--phase", "decode"], dir)
    await w.waitForText("(Ctrl-C to quit)")
    expect(w.stdout).toMatch(/^\[\d\d:\d\d:\d\d\] initial run \| \d+ computed, \d+ replayed, 62 layers recomputed/m)
    expect(w.stdout).toContain("== decode (per GPU) ==")
    expect(w.stdout).toContain("== serving ==")

    edit(path.join(dir, MOE), (t) => t.replace(/num_experts_per_tok:\s*8/, "num_experts_per_tok: 6"))
    const screen = await w.waitForText("(Ctrl-C to quit)", 2)
    const second = screen.slice(screen.indexOf("(Ctrl-C to quit)") + 1)
    expect(second).toMatch(
      new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] changed: ${MOE.replaceAll(".", "\\.")} \\| \\d+ computed, \\d+ replayed, 58 layers recomputed`, "m")
    )
    // MoE rows are marked and carry a delta; dense rows are not.
    expect(second).toMatch(/^\*\s+L3\.moe_layer\s+moe_layer\s.*\s-\d+\.\d+\s+-\d+\.\d+%\s+\w+$/m)
    expect(second).toMatch(/^ \s+L0\.ffn_layer\s+ffn_layer\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+memory$/m)
    expect(second).toMatch(/^\*\s+TOTAL\s.*-\d+\.\d+%$/m)
    expect(second).toMatch(/^\*\s+TPOT ms\s+[\d.]+\s+-[\d.]+\s+-[\d.]+%$/m)
    // Not a terminal: nothing is cleared, every result stays in the history.
    expect(screen).not.toContain("\x1b")

    const hw = path.join(dir, HARDWARE)
    fs.writeFileSync(hw, fs.readFileSync(hw, "utf8") + "broken: [1, 2\n")
    const stale = await w.waitForText("STALE")
    expect(stale).toMatch(new RegExp(`^error: ${HARDWARE.replaceAll(".", "\\.")}:\\d+:\\d+`, "m"))
    expect(w.alive).toBe(true)
  })

  it("answers a burst of saves with results only", async () => {
    const dir = project()
    const w = watchSessionInProcess(dir)
    await w.expectNext("result")
    const moe = path.join(dir, MOE)
    // Five saves back to back: one quiet window usually collects them all; a run in flight when
    // a later one lands is interrupted. Either way every answer is a result about this file.
    for (const n of [1024, 1280, 1536, 1792, 2304]) edit(moe, (t) => t.replace(/moe_intermediate_size:\s*\d+/, `moe_intermediate_size: ${n}`))
    edit(path.join(dir, HARDWARE), (t) => t.replace(/memory_bandwidth_gbps:\s*\d+/, "memory_bandwidth_gbps: 3000"))
    const burst = []
    for (;;) {
      const e = await w.expectNext("result")
      burst.push(e)
      if (e.changed_files.includes(HARDWARE)) break
    }
    expect(burst.length).toBeLessThanOrEqual(6)
    for (const e of burst) for (const f of e.changed_files) expect([MOE, HARDWARE]).toContain(f)
    expect(burst.flatMap((e) => e.changed_files)).toContain(MOE)
  })

  it("exits 0 on Ctrl-C (SIGINT) and on SIGTERM, leaving no process behind", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const dir = project()
      const w = new WatchProcess([SCENARIO, "--reporter", "json", "--phase", "decode"], dir)
      await w.expectNext("result")
      const pid = w.child.pid as number
      const exit = await w.stop(signal)
      expect(exit).toEqual({ code: 0, signal: null })
      expect(isRunning(pid)).toBe(false)
      expect(w.stderr).toBe("")
    }
  })

  it("exits 1 at once when there is nothing to watch", () => {
    const dir = project()
    const r = runCli(["watch", "configs/scenarios/nope.yaml", "--reporter", "json"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/scenario file not found: configs\/scenarios\/nope\.yaml/)
  })

  it("starts on a broken scenario with an error event and recovers on the fix", async () => {
    const dir = project()
    const scenario = path.join(dir, SCENARIO)
    const good = fs.readFileSync(scenario, "utf8")
    fs.writeFileSync(scenario, good.replace(/repeat: 58/, "repeat: -1"))
    const w = watchSessionInProcess(dir)
    const err = await w.expectNext("error")
    expect(err.file).toBe(SCENARIO)
    expect(err.path).toBe("layers.1.repeat")
    expect(err.changed_files).toEqual([])
    fs.writeFileSync(scenario, good)
    const ok = await w.expectNext("result")
    expect(ok.changed_files).toEqual([SCENARIO])
    expect(ok.phases.decode.layers).toBe(62)
  })
})

/** util-linux `script` gives the process a terminal; without it the terminal cases are skipped. */
const hasScript = spawnSync("script", ["--version"]).status === 0

describe.skipIf(!hasScript)("llmsim watch on a terminal", () => {
  const onTerminal = (dir: string, extra: ReadonlyArray<string>, env: Record<string, string | undefined>) => {
    // `script` runs the command with `$SHELL -c` (/bin/sh when SHELL is unset, as in CI). dash
    // does not exec a lone command, so the shell would stay in the terminal's foreground group,
    // die of the ^C itself, and `script` would report 130. `exec` makes llmsim the only process.
    const command = ["exec", process.execPath, BIN, "watch", SCENARIO, "--phase", "decode", ...extra].join(" ")
    // -e: exit with the child's status; the pty turns a written ^C into SIGINT for the child.
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: dir,
      env: { ...process.env, SHELL: "/bin/sh", NO_COLOR: "1", ...env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    return { child, w: new WatchProcess([], dir, child as unknown as ConstructorParameters<typeof WatchProcess>[2]) }
  }

  it("clears the screen on a terminal, but not with --no-clear or in CI; Ctrl-C exits 0", async () => {
    const cases = [
      { extra: [], env: { CI: undefined }, clears: true },
      { extra: ["--no-clear"], env: { CI: undefined }, clears: false },
      { extra: [], env: { CI: "true" }, clears: false }
    ]
    for (const c of cases) {
      const dir = project()
      const { child, w } = onTerminal(dir, c.extra, c.env)
      const screen = await w.waitForText("(Ctrl-C to quit)")
      expect(screen.includes("\x1b[2J")).toBe(c.clears)
      child.stdin.write("\x03")
      expect(await w.exit()).toEqual({ code: 0, signal: null })
    }
  })
})

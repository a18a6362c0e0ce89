/**
 * How the real CLI fails: one clear line on stderr, nothing on stdout, a documented exit status,
 * never a stack trace (unless --verbose), and no hang or unbounded memory on hostile input.
 * One spawn per case; the message details of each limit are checked in process
 * (test/config/yamlLimits.test.ts, test/cli/failure.test.ts).
 */
import { spawn, spawnSync, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, edit, makeProject, NODE } from "../helpers/cli.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const USAGE = "usage: llmsim run [flags] [<scenario>]; llmsim run --help for all flags"

/** The CLI with a hard time bound: a hang fails the test instead of stalling the suite. */
const cli = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) => {
  const r = spawnSync(NODE, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 60_000 })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** A user error: exit 1, stdout empty, exactly one `error:` line matching `pattern`, no trace. */
const expectOneLineError = (r: ReturnType<typeof cli>, pattern: RegExp) => {
  expect(r.signal).toBeNull()
  expect(r.status).toBe(1)
  expect(r.stdout).toBe("")
  const lines = r.stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

const lineOf = (file: string, needle: RegExp): number =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => needle.test(l)) + 1

describe("flag errors", () => {
  it("a bad value prints the error and a one-line usage hint on stderr, nothing on stdout", () => {
    const dir = makeProject()
    const r = cli(["run", SCENARIO, "--batch", "x", "--out", "out.json"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^error: .*--batch.*"x"/), USAGE])
    expect(fs.existsSync(path.join(dir, "out.json"))).toBe(false)
  })
})

describe("stdout closed early", () => {
  it("`run --format json | head -c 1` ends quietly with exit 0", async () => {
    const dir = makeProject()
    const child = spawn(NODE, [BIN, "run", SCENARIO, "--no-cache", "--format", "json"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    // The JSON report is far larger than a pipe buffer, so closing after the first chunk makes
    // the next write fail with EPIPE.
    child.stdout.once("data", () => child.stdout.destroy())
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    expect(stderr).toBe("")
    expect(status).toBe(0)
  })
})

describe("internal errors", () => {
  // No input reaches a defect any more (the numbers that once overflowed are refused at their
  // position, below), so the defect is injected: LLMSIM_DEBUG=defect throws as evaluation starts.
  const DEFECT = { LLMSIM_DEBUG: "defect" }

  it("one `internal error:` line with how to report it, exit 70, no trace", () => {
    const r = cli(["run", SCENARIO, "--no-cache"], makeProject(), DEFECT)
    expect(r.status).toBe(70)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      "internal error: injected defect at prefill: evaluating (LLMSIM_DEBUG=defect) (please report it on the llmsim issue tracker, with the command and its --verbose output)\n"
    )
  })

  it("--verbose adds the stack trace", () => {
    const r = cli(["run", SCENARIO, "--no-cache", "--verbose"], makeProject(), DEFECT)
    expect(r.status).toBe(70)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/internal error: injected defect at prefill: evaluating/)
    expect(r.stderr).toMatch(/\n\s+at injectedDefect /)
  })

  it("a bandwidth of 2.3e-308 GB/s (a normal double that overflowed a time: exit 70) is an input error at its position", () => {
    const dir = makeProject()
    const file = path.join(dir, "configs/hardware/H800-SXM.yaml")
    edit(file, (t) => t.replace(/^memory_bandwidth_gbps: *[0-9.]+/m, "memory_bandwidth_gbps: 2.3e-308"))
    const r = cli(["run", SCENARIO, "--no-cache"], dir)
    expect(r.stderr).not.toMatch(/internal error/)
    expectOneLineError(
      r,
      new RegExp(
        `^error: configs/hardware/H800-SXM\\.yaml:${lineOf(file, /^memory_bandwidth_gbps:/)}:24 memory_bandwidth_gbps: Expected a bandwidth between 1e-3 and 1e8 GB/s \\(its physical range\\), got 2\\.3e-308`
      )
    )
  })
})

describe("hostile config input", () => {
  it("a file that is not YAML config is named as such, its lines never echoed", () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "shadow"), "root:$y$j9T$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    edit(path.join(dir, SCENARIO), (t) => t.replace("configs/hardware/H800-SXM.yaml", "shadow"))
    const r = cli(["run", SCENARIO, "--no-cache"], dir)
    expectOneLineError(r, /^error: shadow:1:1: not a llmsim config file/)
    expect(r.stderr).not.toMatch(/SECRETHASH|daemon/)
  })

  it("a config file over the 4 MiB input limit is refused before it is parsed (a 50 MB YAML took 36 s and 2.8 GB)", () => {
    const dir = makeProject()
    const text = fs.readFileSync(path.join(dir, SCENARIO), "utf8") + `# ${"x".repeat(98)}\n`.repeat(50_000)
    fs.writeFileSync(path.join(dir, "big.yaml"), text)
    const r = cli(["run", "big.yaml", "--no-cache"], dir)
    expectOneLineError(r, /^error: big\.yaml:1:1: cannot read: 4\.\d MiB, over the 4\.0 MiB limit for input files$/)
  })

  it("a YAML alias bomb is refused quickly", () => {
    const dir = makeProject()
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(",")}]`
      )
    fs.writeFileSync(path.join(dir, "bomb.yaml"), `${lines.join("\n")}\nname: *a9\n`)
    const r = cli(["run", "bomb.yaml", "--no-cache"], dir)
    expectOneLineError(r, /^error: bomb\.yaml:1:1: YAML aliases expand too far/)
  })

  it("a FIFO is refused, not waited on", () => {
    const dir = makeProject()
    execFileSync("mkfifo", [path.join(dir, "fifo.yaml")])
    const r = cli(["run", "fifo.yaml", "--no-cache"], dir)
    expectOneLineError(r, /^error: fifo\.yaml:1:1: cannot read: not a regular file \(a FIFO\)$/)
  })

  it("hardware: /dev/zero is refused at the reference", () => {
    const dir = makeProject()
    const f = path.join(dir, SCENARIO)
    edit(f, (t) => t.replace("configs/hardware/H800-SXM.yaml", "/dev/zero"))
    // /dev is outside the project: allow it, so the read itself is what refuses the device.
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), 'export default { allowPaths: ["/dev"] }\n')
    const r = cli(["run", SCENARIO, "--no-cache"], dir)
    expectOneLineError(
      r,
      new RegExp(
        `^error: ${SCENARIO.replace(/\./g, "\\.")}:${lineOf(f, /^hardware:/)}:\\d+ hardware: /dev/zero: cannot read: not a regular file \\(a character device\\)$`
      )
    )
  })

  it("repeat: 130000 is a positioned limit error (it overflowed the stack)", () => {
    const dir = makeProject()
    const f = path.join(dir, SCENARIO)
    edit(f, (t) => t.replace(/repeat:\s*58/, "repeat: 130000"))
    const r = cli(["run", SCENARIO, "--no-cache"], dir)
    expectOneLineError(
      r,
      new RegExp(`:${lineOf(f, /repeat: 130000/)}:\\d+ layers\\.1\\.repeat: Expected at most 10000 \\(llmsim's layer limit\\), got 130000$`)
    )
  })

  it("payload_mb: 1e308 in a comm layer is a positioned error (payload bytes overflowed to Infinity)", () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "configs/comm.yaml"), "comm_config:\n  pattern: all_reduce\n  payload_mb: 1e308\n")
    edit(path.join(dir, SCENARIO), (t) => t.replace(/^lm_head:/m, "  - type: comm_layer\n    config: configs/comm.yaml\nlm_head:"))
    const r = cli(["run", SCENARIO, "--no-cache"], dir)
    expectOneLineError(
      r,
      /^error: configs\/comm\.yaml:3:15 comm_config\.payload_mb: Expected a number of magnitude at most 1e15 \(llmsim's input limit\), got 1e\+308$/
    )
  })
})

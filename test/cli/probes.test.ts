/**
 * FIFOs and devices on the recording path (issue 24): with the store on, the default, every
 * read and every probe of a command record goes through the one guarded read
 * (src/base/guardedRead.js), so a scenario whose `hardware:` names a FIFO, `run /dev/zero`, an
 * `llmsim.config.ts` that is a FIFO and `sweep merge` of /dev/zero or a FIFO are each refused
 * at once with one line and exit 1, as with `--no-cache` (test/cli/failures.test.ts). Each run
 * is bounded (SIGKILL after 30 s: a hang fails as a null status, never blocks the suite).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { edit, makeProject, runCli } from "../helpers/cli.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const BOUND = 30_000

const refused = (r: { status: number | null; stdout: string; stderr: string }, line: RegExp) => {
  expect(r.status, r.stderr).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(line)])
}

describe("FIFOs and devices with the store on", () => {
  it("a scenario whose hardware: names a FIFO is refused at the field, store on and off alike", () => {
    const dir = makeProject()
    execFileSync("mkfifo", [path.join(dir, "configs", "hardware", "fifo.yaml")])
    edit(path.join(dir, LLAMA), (t) => t.replace(/^hardware: .*$/m, "hardware: configs/hardware/fifo.yaml"))
    for (const extra of [[], ["--no-cache"]]) {
      refused(
        runCli(["run", LLAMA, ...extra], dir, {}, BOUND),
        /^error: .*llama_3_1_70b_h100\.yaml:\d+:\d+ hardware: .*fifo\.yaml: cannot read: not a regular file \(a FIFO\)$/
      )
    }
    expect(fs.lstatSync(path.join(dir, "configs", "hardware", "fifo.yaml")).isFIFO()).toBe(true)
  })

  it("run /dev/zero is refused at once (it grew to 4 GB in 10 s)", () => {
    const dir = makeProject()
    refused(runCli(["run", "/dev/zero"], dir, {}, BOUND), /^error: \/dev\/zero:1:1: cannot read: not a regular file \(a character device\)$/)
  })

  it("an llmsim.config.ts that is a FIFO is refused at once", () => {
    const dir = makeProject()
    execFileSync("mkfifo", [path.join(dir, "llmsim.config.ts")])
    refused(runCli(["run", LLAMA], dir, {}, BOUND), /llmsim\.config\.ts:1:1: cannot read: not a regular file \(a FIFO\)$/)
  })

  it("sweep merge refuses /dev/zero, a FIFO and a directory as shards", () => {
    const dir = makeProject()
    execFileSync("mkfifo", [path.join(dir, "shard.jsonl")])
    refused(
      runCli(["sweep", "merge", "/dev/zero"], dir, {}, BOUND),
      /^error: sweep merge: .*dev\/zero: cannot read: not a regular file \(a character device\)$/
    )
    refused(runCli(["sweep", "merge", "shard.jsonl"], dir, {}, BOUND), /^error: sweep merge: shard\.jsonl: cannot read: not a regular file \(a FIFO\)$/)
    refused(runCli(["sweep", "merge", "configs"], dir, {}, BOUND), /^error: sweep merge: configs: cannot read: not a regular file \(a directory\)$/)
  })
})

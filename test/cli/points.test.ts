/**
 * `sweep --points FILE` writes into its target as `--out` does (README "Paths", output files;
 * test/cli/files.test.ts for --out): a device, FIFO or directory is refused with one line and
 * left as it was, a symbolic link is written through (the link stays), an existing file keeps
 * its mode, and no `.NAME.<pid>.<hex>.tmp` is left beside the target in any case.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

const SWEEP = ["sweep", "configs/scenarios/llama_3_1_70b_h100.yaml", "--batch", "1,2", "--phase", "decode", "--no-cache"]

/** Temp files of the one writer (`.<name>.<pid>.<hex>.tmp`) in `dir`. */
const temps = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))

describe("sweep --points targets (real CLI)", () => {
  it("refuses a device, a FIFO and a directory with one line, leaves each as it was, and no temp file", () => {
    const dir = makeProject()
    execFileSync("mkfifo", [path.join(dir, "pipe")])
    fs.mkdirSync(path.join(dir, "folder"))
    for (const [target, kind] of [
      ["/dev/null", "a character device"],
      ["pipe", "a FIFO"],
      ["folder", "a directory"]
    ] as const) {
      const r = runCli([...SWEEP, "--points", target], dir)
      expect(r.status, target).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr).toBe(`error: --points: cannot write ${target}: ${kind}, not a regular file\n`)
    }
    expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true)
    expect(fs.lstatSync(path.join(dir, "pipe")).isFIFO()).toBe(true)
    expect(fs.readdirSync(path.join(dir, "folder"))).toEqual([])
    expect(temps(dir)).toEqual([])
  })

  it("writes through a symlink (the link stays), keeps an existing file's mode, refuses a dangling link", () => {
    const dir = makeProject()
    fs.mkdirSync(path.join(dir, "results"))
    const real = path.join(dir, "results", "points.csv")
    fs.writeFileSync(real, "old\n")
    fs.chmodSync(real, 0o640)
    fs.symlinkSync(path.join("results", "points.csv"), path.join(dir, "link.csv"))
    const r = runCli([...SWEEP, "--points", "link.csv"], dir)
    expect(r.status, r.stderr).toBe(0)
    expect(fs.lstatSync(path.join(dir, "link.csv")).isSymbolicLink()).toBe(true)
    const lines = fs.readFileSync(real, "utf8").trimEnd().split("\n")
    expect(lines[0]).toMatch(/^index,/)
    expect(lines).toHaveLength(3) // the header and two points
    expect(fs.statSync(real).mode & 0o777).toBe(0o640)

    fs.symlinkSync("nowhere.csv", path.join(dir, "dangling.csv"))
    const d = runCli([...SWEEP, "--points", "dangling.csv"], dir)
    expect(d.status).toBe(1)
    expect(d.stderr).toBe("error: --points: cannot write dangling.csv: a symbolic link whose target does not exist\n")
    expect(fs.existsSync(path.join(dir, "nowhere.csv"))).toBe(false)
    expect([...temps(dir), ...temps(path.join(dir, "results"))]).toEqual([])
  })
})

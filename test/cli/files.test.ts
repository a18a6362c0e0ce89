/**
 * --out and --trace targets (README "Paths", output files): regular files only, symlinks followed
 * (the link kept), the mode of an existing file kept, no temp file left on any failure. The
 * real CLI for the refusals and the write-through; writeFileAtomic in process for the failure
 * paths a spawn cannot provoke (a rename failing after the temp file was written).
 */
import * as fs from "node:fs"
import { syncBuiltinESMExports } from "node:module"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { writeFileAtomic } from "../../src/cli/output.ts"
import { makeProject, readJson, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_a100.yaml"
const RUN = ["run", SCENARIO, "--batch", "2", "--seq", "16", "--no-cache", "--format", "json"]

const failure = (file: string, text = "x") => Effect.runPromise(Effect.flip(writeFileAtomic(file, text)))

describe("--out / --trace through the real CLI", () => {
  it("refuses --trace onto a directory before printing the result: nothing on stdout, one line naming the flag", () => {
    const dir = makeProject()
    fs.mkdirSync(path.join(dir, "traces"))
    const r = runCli([...RUN, "--trace", "traces"], dir)
    expect([r.status, r.stdout, r.stderr]).toEqual([1, "", "error: --trace: cannot write traces: a directory, not a regular file\n"])
    expect(fs.readdirSync(path.join(dir, "traces"))).toEqual([])
  })

  it("writes through a symlink (the link stays) and keeps an existing file's mode", () => {
    const dir = makeProject()
    const real = path.join(dir, "results", "real.json")
    fs.mkdirSync(path.dirname(real))
    fs.writeFileSync(real, "old\n", { mode: 0o600 })
    fs.chmodSync(real, 0o600)
    fs.symlinkSync(path.join("results", "real.json"), path.join(dir, "link.json"))
    fs.writeFileSync(path.join(dir, "trace.json"), "old\n")
    fs.chmodSync(path.join(dir, "trace.json"), 0o640)
    const r = runCli([...RUN, "--out", "link.json", "--trace", "trace.json"], dir)
    expect(r.status).toBe(0)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe("")
    expect(fs.lstatSync(path.join(dir, "link.json")).isSymbolicLink()).toBe(true)
    expect(readJson(real).scenario).toBe(SCENARIO)
    expect(fs.statSync(real).mode & 0o777).toBe(0o600)
    expect(Array.isArray(readJson(path.join(dir, "trace.json")).nodes)).toBe(true)
    expect(fs.statSync(path.join(dir, "trace.json")).mode & 0o777).toBe(0o640)
    // No temp file beside either target.
    expect(fs.readdirSync(path.join(dir, "results"))).toEqual(["real.json"])
    expect(fs.readdirSync(dir).sort()).toEqual(["configs", "link.json", "results", "trace.json"])
  })
})

describe("writeFileAtomic failure paths", () => {
  it("refuses a directory and a dangling symlink, writing nothing", async () => {
    const dir = tempDir("llmsim-files-")
    fs.mkdirSync(path.join(dir, "sub"))
    expect((await failure(path.join(dir, "sub"))).message).toMatch(/sub: a directory, not a regular file/)
    fs.symlinkSync(path.join(dir, "missing.json"), path.join(dir, "dangling.json"))
    expect((await failure(path.join(dir, "dangling.json"))).message).toMatch(/dangling\.json: a symbolic link whose target does not exist/)
    expect(fs.readdirSync(dir).sort()).toEqual(["dangling.json", "sub"])
  })

  it("removes the temp file when the rename fails, and leaves the old file as it was", async () => {
    const dir = tempDir("llmsim-files-")
    const file = path.join(dir, "out.json")
    fs.writeFileSync(file, "old\n")
    const real = fs.renameSync
    // node:fs's ESM exports follow the CommonJS object only after syncBuiltinESMExports.
    ;(fs as any).default.renameSync = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device, rename"), { code: "ENOSPC" })
    }
    syncBuiltinESMExports()
    try {
      const e = await failure(file, "new\n")
      expect(e.message).toBe(`cannot write ${file}: ENOSPC: no space left on device`)
    } finally {
      ;(fs as any).default.renameSync = real
      syncBuiltinESMExports()
    }
    expect(fs.readdirSync(dir)).toEqual(["out.json"])
    expect(fs.readFileSync(file, "utf8")).toBe("old\n")
  })
})

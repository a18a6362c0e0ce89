/**
 * The one writer (src/base/atomicFile.js): a refused target gets nothing written, a streamed file
 * appears only on commit (under a name given then, for content-named packs), an abort leaves
 * nothing. The CLI's --out rules on top
 * of it are tested through the real CLI in test/cli/files.test.ts.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { openAtomic, writeAtomic, writeFailure, WriteTargetError } from "../../src/base/atomicFile.js"
import { tempDir } from "../helpers/temp.ts"

const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected a throw")
}

describe("writeAtomic", () => {
  it("writes a new file, creating its folder, and replaces an old one keeping its mode", () => {
    const dir = tempDir("llmsim-atomic-")
    const file = path.join(dir, "a", "b.txt")
    expect(writeAtomic(file, "one")).toBe(file)
    fs.chmodSync(file, 0o604)
    writeAtomic(file, new TextEncoder().encode("two"))
    expect(fs.readFileSync(file, "utf8")).toBe("two")
    expect(fs.statSync(file).mode & 0o777).toBe(0o604)
    expect(fs.readdirSync(path.join(dir, "a"))).toEqual(["b.txt"])
  })

  it("refuses a FIFO and a directory before creating anything, and says why in words", () => {
    const dir = tempDir("llmsim-atomic-")
    execFileSync("mkfifo", [path.join(dir, "pipe")])
    fs.mkdirSync(path.join(dir, "sub"))
    for (const [name, why] of [
      ["pipe", "a FIFO, not a regular file"],
      ["sub", "a directory, not a regular file"]
    ] as const) {
      const e = thrown(() => writeAtomic(path.join(dir, name), "x"))
      expect(e).toBeInstanceOf(WriteTargetError)
      expect(writeFailure(e)).toBe(why)
    }
    expect(fs.readdirSync(dir).sort()).toEqual(["pipe", "sub"])
  })

  it("names an fs failure by its code and description, without the path", () => {
    const dir = tempDir("llmsim-atomic-")
    fs.writeFileSync(path.join(dir, "file"), "")
    const e = thrown(() => writeAtomic(path.join(dir, "file", "x"), "x"))
    expect(writeFailure(e)).toMatch(/^ENOTDIR: /)
    expect(writeFailure(e)).not.toContain(dir)
  })
})

describe("openAtomic", () => {
  it("streams into a temp file in tmpDir; the target appears only on commit, under the name given then", () => {
    const dir = tempDir("llmsim-atomic-")
    const tmpDir = path.join(dir, "tmp")
    const w = openAtomic(undefined, { tmpDir })
    w.write("a")
    w.write("b")
    expect(fs.readdirSync(tmpDir)).toHaveLength(1)
    const target = path.join(dir, "packs", "ab.jsonl")
    expect(fs.existsSync(target)).toBe(false)
    expect(w.commit(target)).toBe(target)
    expect(fs.readFileSync(target, "utf8")).toBe("ab")
    expect(fs.readdirSync(tmpDir)).toEqual([])
  })

  it("abort leaves neither the target nor the temp file", () => {
    const dir = tempDir("llmsim-atomic-")
    const file = path.join(dir, "out.csv")
    const w = openAtomic(file)
    w.write("partial")
    w.abort()
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it("checks a name given at commit as it checks one given at open, and leaves no temp file when refusing it", () => {
    const dir = tempDir("llmsim-atomic-")
    const target = path.join(dir, "key.json")
    const w = openAtomic(undefined, { tmpDir: path.join(dir, "tmp"), contentAddressed: true })
    w.write("same bytes")
    fs.mkdirSync(target)
    expect(thrown(() => w.commit(target))).toBeInstanceOf(WriteTargetError)
    expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([])
  })

  it("exclusive: creates a new file, and never replaces one that is there", () => {
    const dir = tempDir("llmsim-atomic-")
    const file = path.join(dir, "llmsim.config.ts")
    writeAtomic(file, "new", { exclusive: true })
    expect(fs.readFileSync(file, "utf8")).toBe("new")
    const e = thrown(() => writeAtomic(file, "other", { exclusive: true })) as NodeJS.ErrnoException
    expect(e.code).toBe("EEXIST")
    expect(fs.readFileSync(file, "utf8")).toBe("new")
    expect(fs.readdirSync(dir)).toEqual(["llmsim.config.ts"])
  })
})

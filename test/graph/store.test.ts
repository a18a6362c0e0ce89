import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { entryPath, readEntry, writeEntry } from "../../src/graph/store.ts"
import { collectGarbage, parseAge, parseSize } from "../../src/graph/maintenance.ts"
import { tempDir } from "../helpers/temp.ts"

const tmp = () => tempDir("llmsim-store-")
const entry = (key: string, output: unknown) => ({ key, kind: "op", id: "op:x", output, output_digest: digest(output), material: {} })

describe("disk store", () => {
  it("round-trips an entry through a sharded path", () => {
    const dir = tmp()
    const key = "ab" + "0".repeat(62)
    writeEntry(dir, entry(key, { flops: 12 }))
    expect(entryPath(dir, key)).toContain(path.join("v1", "ac", "ab"))
    expect(readEntry(dir, key)?.output).toEqual({ flops: 12 })
  })

  it("treats truncated, garbled, mis-keyed or digest-mismatched files as misses and removes them", () => {
    const dir = tmp()
    const cases: Array<[string, (file: string) => void]> = [
      ["truncated", (f) => fs.writeFileSync(f, fs.readFileSync(f, "utf8").slice(0, 20))],
      ["garbled", (f) => fs.writeFileSync(f, "\u0000\u0001 not json")],
      ["empty", (f) => fs.writeFileSync(f, "")],
      ["other key", (f) => fs.writeFileSync(f, JSON.stringify(entry("ff" + "1".repeat(62), { flops: 12 })))],
      ["wrong digest", (f) => fs.writeFileSync(f, JSON.stringify({ ...entry("x", { flops: 12 }), key: path.basename(f, ".json"), output: { flops: 13 } }))]
    ]
    cases.forEach(([, damage], i) => {
      const key = `c${i}` + "0".repeat(62)
      writeEntry(dir, entry(key, { flops: 12 }))
      const file = entryPath(dir, key)
      damage(file)
      expect(readEntry(dir, key)).toBeUndefined()
      expect(fs.existsSync(file)).toBe(false)
    })
  })

  it("garbage-collects by age and by size, most recently used kept", () => {
    const dir = tmp()
    const keys = ["aa", "bb", "cc"].map((p) => p + "0".repeat(62))
    keys.forEach((k) => writeEntry(dir, entry(k, { v: k })))
    const now = Date.now()
    // aa used 10 days ago, bb 1 hour ago, cc now
    fs.utimesSync(entryPath(dir, keys[0]), new Date(now - 10 * 86400e3), new Date(now - 10 * 86400e3))
    fs.utimesSync(entryPath(dir, keys[1]), new Date(now - 3600e3), new Date(now - 3600e3))
    const byAge = collectGarbage(dir, { maxAgeMs: parseAge("7d")!, now })
    expect(byAge.removed).toBe(1)
    expect(fs.existsSync(entryPath(dir, keys[0]))).toBe(false)
    const size = fs.statSync(entryPath(dir, keys[2])).size
    const bySize = collectGarbage(dir, { maxSizeBytes: size, now })
    expect(bySize.removed).toBe(1)
    expect(fs.existsSync(entryPath(dir, keys[2]))).toBe(true)
    expect(fs.existsSync(entryPath(dir, keys[1]))).toBe(false)
  })

  it("parses sizes and ages", () => {
    expect(parseSize("500MB")).toBe(500e6)
    expect(parseSize("2GiB")).toBe(2 * 1024 ** 3)
    expect(parseSize("12")).toBe(12)
    expect(parseSize("lots")).toBeUndefined()
    expect(parseAge("7d")).toBe(7 * 86400e3)
    expect(parseAge("30m")).toBe(30 * 60e3)
    expect(parseAge("7")).toBeUndefined()
  })
})

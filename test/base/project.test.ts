/** Where things are (src/base/project.js): the project-root search and the store folder rule (README "Paths"). */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cacheDirOf, findProjectRoot, PACKAGE_DIR } from "../../src/base/project.js"
import { tempDir } from "../helpers/temp.ts"

describe("findProjectRoot", () => {
  it("finds the nearest folder with llmsim.config.ts and reports every path it looked at", () => {
    const dir = tempDir("llmsim-root-")
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), "export default {}\n")
    fs.mkdirSync(path.join(dir, "a", "b"), { recursive: true })
    const seen: Array<[string, boolean]> = []
    expect(findProjectRoot(path.join(dir, "a", "b"), (f, present) => seen.push([f, present]))).toEqual({
      root: dir,
      configFile: path.join(dir, "llmsim.config.ts")
    })
    expect(seen).toEqual([
      [path.join(dir, "a", "b", "llmsim.config.ts"), false],
      [path.join(dir, "a", "llmsim.config.ts"), false],
      [path.join(dir, "llmsim.config.ts"), true]
    ])
  })

  it("is the start folder itself when no folder above has a config", () => {
    const dir = tempDir("llmsim-root-")
    // The temp folder's ancestors (the OS temp dir, /) hold no llmsim.config.ts.
    expect(findProjectRoot(dir)).toEqual({ root: dir, configFile: undefined })
  })
})

describe("cacheDirOf", () => {
  const at = { cwd: "/srv/p/sub", root: "/srv/p" }
  it("takes --cache-dir from the current folder, cacheDir from the root, else <root>/cache", () => {
    expect(cacheDirOf({ ...at, flag: "store", configured: "other" })).toBe("/srv/p/sub/store")
    expect(cacheDirOf({ ...at, configured: "other" })).toBe("/srv/p/other")
    expect(cacheDirOf(at)).toBe("/srv/p/cache")
    expect(cacheDirOf({ ...at, flag: "/abs/store" })).toBe("/abs/store")
  })
})

describe("PACKAGE_DIR", () => {
  it("is the folder of llmsim's package.json", () => {
    expect(JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8")).name).toBe("llmsim")
  })
})

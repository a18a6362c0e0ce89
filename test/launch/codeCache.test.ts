/**
 * The bundled CLI's code cache (src/launch/codeCache.js): a run through it prints what the
 * sources print; a missing, corrupt or foreign cache costs only speed (the run is the same and
 * the cache is written anew); each command adds itself to the commands the cache names. Each
 * test gets its own Node compile cache folder (NODE_COMPILE_CACHE), where the cache lives.
 * SIGINT and SIGTERM through the bundle: test/cli/signals.test.ts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
/** The header line of a cache file (FORMAT and the commands that made it). */
const HEADER = /^llmsim code cache 1 ([a-z,-]+)\n/

/** The llmsim cache file under a compile cache folder (Node adds a folder per version and flags). */
const cacheFile = (dir: string): string | undefined => {
  const found = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /(^|\/)llmsim-[0-9a-f]{64}\.cache$/.test(f))
  expect(found.length).toBeLessThanOrEqual(1)
  return found[0] === undefined ? undefined : path.join(dir, found[0])
}

const usesOf = (file: string): string | undefined => HEADER.exec(fs.readFileSync(file, "latin1"))?.[1]

describe("the bundled CLI's code cache", () => {
  it("is written by the first run, names its command, and a run through it prints what the sources print", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    const args = ["run", SCENARIO, "--no-cache", "--format", "json"]
    const first = runCli(args, dir, env)
    expect(first.stderr).toBe("")
    expect(first.status).toBe(0)
    const file = cacheFile(env.NODE_COMPILE_CACHE)
    expect(file).toBeDefined()
    expect(usesOf(file as string)).toBe("run")
    const written = fs.statSync(file as string).mtimeMs
    const cached = runCli(args, dir, env)
    expect(cached).toEqual(first)
    // A cache that names the command is used, not written again.
    expect(fs.statSync(file as string).mtimeMs).toBe(written)
    expect(runCli(args, dir, { ...env, LLMSIM_FROM_SOURCE: "1" })).toEqual(first)
  })

  it("a corrupt, foreign or headerless cache is ignored and written anew", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    const args = ["run", SCENARIO, "--no-cache"]
    const first = runCli(args, dir, env)
    const file = cacheFile(env.NODE_COMPILE_CACHE) as string
    const good = fs.readFileSync(file)
    for (const bad of [Buffer.concat([Buffer.from("llmsim code cache 1 run\n"), Buffer.alloc(4096, 7)]), Buffer.from("not a cache"), Buffer.alloc(0)]) {
      fs.writeFileSync(file, bad)
      expect(runCli(args, dir, env)).toEqual(first)
      const again = fs.readFileSync(file)
      expect(usesOf(file)).toBe("run")
      expect(again.length).toBeGreaterThan(100_000)
      expect(again.equals(bad)).toBe(false)
    }
    expect(good.length).toBeGreaterThan(100_000)
  })

  it("each command run adds itself to the commands the cache was made by", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    expect(runCli(["--version"], dir, env).status).toBe(0)
    const file = cacheFile(env.NODE_COMPILE_CACHE) as string
    expect(usesOf(file)).toBe("-")
    expect(runCli(["run", SCENARIO, "--no-cache"], dir, env).status).toBe(0)
    expect(usesOf(file)).toBe("-,run")
    expect(runCli(["list", "hardware"], dir, env).status).toBe(0)
    expect(usesOf(file)).toBe("-,run,list")
    expect(runCli(["run", SCENARIO, "--no-cache"], dir, env).status).toBe(0)
    expect(usesOf(file)).toBe("-,run,list")
  })
})

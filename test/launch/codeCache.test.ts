/**
 * The bundled CLI's code cache (src/launch/codeCache.js): a run through it prints what the
 * sources print; a missing, corrupt or foreign cache costs only speed (the run is the same and
 * the cache is written anew); each subcommand has its own. Each test gets its own Node compile
 * cache folder (NODE_COMPILE_CACHE), where the caches live. SIGINT and SIGTERM through the
 * bundle: test/cli/signals.test.ts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const HEADER = "llmsim code cache 2\n"

/** The llmsim cache files under a compile cache folder (Node adds a folder per version and flags), by command. */
const cacheFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(
    fs
      .readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((f) => [/(?:^|\/)llmsim-[0-9a-f]{64}-([a-z-]+)\.cache$/.exec(f)?.[1], path.join(dir, f)] as const)
      .filter((e): e is readonly [string, string] => e[0] !== undefined)
  )

describe("the bundled CLI's code cache", () => {
  it("is written by a command's first run, read by the next, and a run through it prints what the sources print", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    const args = ["run", SCENARIO, "--no-cache", "--format", "json"]
    const first = runCli(args, dir, env)
    expect(first.stderr).toBe("")
    expect(first.status).toBe(0)
    const file = cacheFiles(env.NODE_COMPILE_CACHE).run as string
    expect(fs.readFileSync(file, "latin1").startsWith(HEADER)).toBe(true)
    const written = fs.statSync(file).mtimeMs
    expect(runCli(args, dir, env)).toEqual(first)
    expect(fs.statSync(file).mtimeMs).toBe(written)
    expect(runCli(args, dir, { ...env, LLMSIM_FROM_SOURCE: "1" })).toEqual(first)
  })

  it("a corrupt, foreign or headerless cache is ignored and written anew", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    const args = ["run", SCENARIO, "--no-cache"]
    const first = runCli(args, dir, env)
    const file = cacheFiles(env.NODE_COMPILE_CACHE).run as string
    for (const bad of [Buffer.concat([Buffer.from(HEADER), Buffer.alloc(4096, 7)]), Buffer.from("llmsim code cache 1 run\nxyz"), Buffer.alloc(0)]) {
      fs.writeFileSync(file, bad)
      expect(runCli(args, dir, env)).toEqual(first)
      const again = fs.readFileSync(file)
      expect(again.subarray(0, HEADER.length).toString("latin1")).toBe(HEADER)
      expect(again.length).toBeGreaterThan(100_000)
    }
  })

  it("each subcommand has its own cache, --help and --version theirs", () => {
    const dir = makeProject()
    const env = { NODE_COMPILE_CACHE: tempDir("llmsim-compile-cache-") }
    expect(runCli(["--version"], dir, env).status).toBe(0)
    expect(Object.keys(cacheFiles(env.NODE_COMPILE_CACHE))).toEqual(["-"])
    expect(runCli(["run", SCENARIO, "--no-cache"], dir, env).status).toBe(0)
    expect(runCli(["list", "hardware"], dir, env).status).toBe(0)
    expect(Object.keys(cacheFiles(env.NODE_COMPILE_CACHE)).sort()).toEqual(["-", "list", "run"])
  })
})

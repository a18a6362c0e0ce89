/**
 * The evaluated llmsim.config.ts is stored by content (src/launch/configCache.ts): the same
 * bytes (the config's and every module's it imports) are not evaluated again; any edit, a damaged
 * entry or an impure config is evaluated. The observable: a load limit far shorter than a worker's
 * start-up. A load that evaluates the config cannot meet it; one served from the store has no
 * worker and no limit.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { importProjectConfig } from "../../src/config/project.ts"
import { startConfigLoad } from "../../src/config/configWorker.ts"
import { configCacheFor, configKeyMaterial, type ConfigCache } from "../../src/launch/configCache.ts"
import { STORE_LAYOUT, storeFolder } from "../../src/base/storeLayout.js"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import { storeStats } from "../../src/graph/maintenance.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { makeProject, REPO, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

/** Shorter than any worker start-up: a load that evaluates the config times out. */
const NO_TIME = 1

/**
 * A project whose config imports a local module and spins a while (pure: no clock), with an
 * existing store at `<dir>/cache`.
 */
const project = () => {
  const dir = tempDir("llmsim-cfgcache-")
  fs.writeFileSync(path.join(dir, "helper.ts"), "export const batch: number = 3\n")
  fs.writeFileSync(
    path.join(dir, "llmsim.config.ts"),
    [
      `import { defineConfig } from ${JSON.stringify(path.join(REPO, "src", "config", "define.ts"))}`,
      'import { batch } from "./helper.ts"',
      "let spin = 0",
      "for (let i = 0; i < 2e7; i++) spin += i % 3",
      "export default defineConfig({",
      '  defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml",',
      "  runtime: { batch_size: batch, seq_len: spin > 0 ? 128 : 1 }",
      "})",
      ""
    ].join("\n")
  )
  fs.mkdirSync(path.join(dir, "cache", STORE_LAYOUT), { recursive: true })
  const cache: ConfigCache = { dir: path.join(dir, "cache"), root: dir, explicit: false }
  return { dir, file: path.join(dir, "llmsim.config.ts"), cache }
}

/** The config's batch size, or the load's error message. */
const load = async (file: string, cache: ConfigCache | undefined, timeoutMs = 20_000) => {
  const r = await Effect.runPromise(Effect.result(importProjectConfig(file, timeoutMs, true, cache)))
  return r._tag === "Success" ? { ok: true as const, batch: r.success.runtime?.batch_size } : { ok: false as const, message: r.failure.message }
}

const batchOf = async (file: string, cache: ConfigCache | undefined, timeoutMs?: number) => {
  const r = await load(file, cache, timeoutMs)
  return r.ok ? r.batch : r.message
}

const timesOut = async (file: string, cache: ConfigCache | undefined) => {
  const r = await load(file, cache, NO_TIME)
  return !r.ok && r.message.includes("did not finish within")
}

const entries = (cache: ConfigCache): Array<string> => {
  const root = storeFolder(cache.dir, "configs")
  return fs.existsSync(root) ? fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f))) : []
}

describe("the stored project config", () => {
  it("a second load of the same bytes does not evaluate the config", async () => {
    const p = project()
    expect(await timesOut(p.file, p.cache)).toBe(true) // nothing stored yet: evaluated
    expect(await batchOf(p.file, p.cache)).toBe(3)
    expect(entries(p.cache)).toHaveLength(1)
    expect(await batchOf(p.file, p.cache, NO_TIME)).toBe(3)
    // Without a store (--no-cache), every load evaluates.
    expect(await timesOut(p.file, undefined)).toBe(true)
  })

  it("an edit of the config or of a module it imports is evaluated", async () => {
    const p = project()
    expect(await batchOf(p.file, p.cache)).toBe(3)
    fs.writeFileSync(path.join(p.dir, "helper.ts"), "export const batch: number = 5\n")
    expect(await timesOut(p.file, p.cache)).toBe(true)
    expect(await batchOf(p.file, p.cache)).toBe(5)
    expect(await batchOf(p.file, p.cache, NO_TIME)).toBe(5)
    fs.writeFileSync(p.file, fs.readFileSync(p.file, "utf8").replace("batch_size: batch", "batch_size: batch + 1"))
    expect(await timesOut(p.file, p.cache)).toBe(true)
    expect(await batchOf(p.file, p.cache)).toBe(6)
    expect(await batchOf(p.file, p.cache, NO_TIME)).toBe(6)
  })

  it("a damaged entry is ignored and replaced", async () => {
    const p = project()
    expect(await batchOf(p.file, p.cache)).toBe(3)
    const [entry] = entries(p.cache)
    fs.writeFileSync(entry!, fs.readFileSync(entry!, "utf8").replace('"batch_size":3', '"batch_size":4'))
    expect(await timesOut(p.file, p.cache)).toBe(true)
    // verify removes it as corrupt, like a torn command record
    expect((await Effect.runPromise(verifyStore(p.cache.dir, NODE_TYPES))).corrupt).toBe(1)
    expect(await batchOf(p.file, p.cache)).toBe(3)
    expect(await batchOf(p.file, p.cache, NO_TIME)).toBe(3)
    expect(storeStats(p.cache.dir).by_kind["project-config"]?.entries).toBe(1)
  })

  it("a config error still points at its file, line and column, and nothing is stored", async () => {
    const p = project()
    fs.writeFileSync(p.file, 'const x = 1\nif (x) throw new Error("half-saved")\nexport default {}\n')
    const thrown = await load(p.file, p.cache)
    expect(!thrown.ok && thrown.message).toMatch(new RegExp(`^${p.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:\\d+: cannot load: half-saved$`))
    fs.writeFileSync(p.file, "export default { defaultScenario: 7 }\n")
    for (let i = 0; i < 2; i++) {
      const invalid = await load(p.file, p.cache)
      expect(!invalid.ok && invalid.message).toBe(`${p.file}:1:18 defaultScenario: invalid project config: Expected string`)
    }
    expect(entries(p.cache)).toEqual([])
  })

  it("a config that reads the environment, the clock, the working directory or a Node built-in is evaluated every time", async () => {
    for (const [source, reason] of [
      ['export default { cacheDir: process.env.HOME === undefined ? "cache" : "cache" }\n', "it reads process.env"],
      ['export default { cacheDir: Date.now() > 0 ? "cache" : "x" }\n', "it reads the clock"],
      ['import * as path from "node:path"\nexport default { cacheDir: path.resolve("cache") }\n', "it reads the working directory"],
      ['import * as os from "node:os"\nexport default { cacheDir: os.EOL.length > 0 ? "cache" : "x" }\n', "it imports node:os"]
    ] as const) {
      const p = project()
      fs.writeFileSync(p.file, source)
      const o = await startConfigLoad(p.file, 20_000, p.cache).outcome
      expect(o.ok && o.impure).toBe(reason)
      expect(await batchOf(p.file, p.cache)).toBeUndefined()
      expect(entries(p.cache)).toEqual([])
    }
    // path and url are pure, and so is a dynamic import of a local module (Node's loader reads
    // the environment then, not the config).
    const p = project()
    fs.writeFileSync(
      p.file,
      'import * as path from "node:path"\nconst { batch } = await import("./helper.ts")\nexport default { cacheDir: path.join("cache"), runtime: { batch_size: batch } }\n'
    )
    const o = await startConfigLoad(p.file, 20_000, p.cache).outcome
    expect(o.ok && [o.impure, o.notStored]).toEqual([null, null])
    expect(await batchOf(p.file, p.cache)).toBe(3)
    expect(await batchOf(p.file, p.cache, NO_TIME)).toBe(3)
  })

  it("a config that imports a package is loaded every time, but may be replayed", async () => {
    const p = project()
    fs.mkdirSync(path.join(p.dir, "node_modules", "plan-defaults"), { recursive: true })
    fs.writeFileSync(path.join(p.dir, "node_modules", "plan-defaults", "package.json"), '{"name":"plan-defaults","type":"module","main":"index.js"}\n')
    fs.writeFileSync(path.join(p.dir, "node_modules", "plan-defaults", "index.js"), "export const batch = 9\n")
    // Its resolution reads package.json files no module hook sees: not a key input, so not stored.
    fs.writeFileSync(p.file, 'import { batch } from "plan-defaults"\nexport default { runtime: { batch_size: batch } }\n')
    const o = await startConfigLoad(p.file, 20_000, p.cache).outcome
    expect(o.ok && [o.impure, o.notStored]).toEqual([null, "it imports the package plan-defaults"])
    expect(await batchOf(p.file, p.cache)).toBe(9)
    expect(entries(p.cache)).toEqual([])
  })

  it("the store is the command's: --no-cache has none, --cache-dir names it, else <root>/cache", () => {
    expect(configCacheFor(["run", "--no-cache"], "/p/sub", "/p")).toBeUndefined()
    expect(configCacheFor(["run"], "/p/sub", "/p")).toEqual({ dir: "/p/cache", root: "/p", explicit: false })
    expect(configCacheFor(["run", "--cache-dir", "s"], "/p/sub", "/p")).toEqual({ dir: "/p/sub/s", root: "/p", explicit: true })
    expect(configCacheFor(["run", "--cache-dir=s"], "/p/sub", "/p")).toEqual({ dir: "/p/sub/s", root: "/p", explicit: true })
  })

  it("docs/caching.md lists exactly the key's inputs", () => {
    const doc = fs.readFileSync(path.join(REPO, "docs", "caching.md"), "utf8")
    const lines = doc.split("\n")
    const at = lines.findIndex((l) => l.trim() === "## The project config")
    expect(at).toBeGreaterThanOrEqual(0)
    const table = lines.slice(at).findIndex((l) => l.startsWith("| key input"))
    const rows: Array<string> = []
    for (const line of lines.slice(at + table + 2)) {
      if (!line.startsWith("|")) break
      rows.push(line.split("|")[1]!.trim().replace(/`/g, ""))
    }
    expect(rows.sort()).toEqual(Object.keys(configKeyMaterial("/p/llmsim.config.ts", "0")).sort())
  })
})

describe("the real CLI", () => {
  it("loads an unchanged config from the store, records its imports for replay, and --no-cache stores none", () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "helper.ts"), "export const batch: number = 2\n")
    fs.writeFileSync(
      path.join(dir, "llmsim.config.ts"),
      [
        'import { batch } from "./helper.ts"',
        'export default { defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml", runtime: { batch_size: batch, seq_len: 64 } }',
        ""
      ].join("\n")
    )
    const configs = storeFolder(path.join(dir, "cache"), "configs")
    // --no-cache: no store, no stored config.
    expect(runCli(["run", "--format", "json", "--no-cache"], dir).status).toBe(0)
    expect(fs.existsSync(configs)).toBe(false)
    // The first run makes the store; its config is stored as it exits.
    const first = runCli(["run", "--format", "json"], dir)
    expect(first.status).toBe(0)
    expect(JSON.parse(first.stdout).runtime.batch_size).toBe(2)
    expect(fs.readdirSync(configs)).toHaveLength(1)
    // Another command key (LLMSIM_* is in it): no replay, and a load limit no worker could meet.
    const hit = runCli(["run", "--format", "json"], dir, { LLMSIM_CONFIG_TIMEOUT_MS: String(NO_TIME) })
    expect(hit.stderr).toBe("")
    expect(hit.stdout).toBe(first.stdout)
    // Its command record lists the config and the module it imports: an edit of either is a miss.
    const records = path.join(dir, "cache", STORE_LAYOUT, "commands")
    const texts = fs.readdirSync(records).flatMap((d) => fs.readdirSync(path.join(records, d)).map((f) => fs.readFileSync(path.join(records, d, f), "utf8")))
    expect(texts).toHaveLength(2)
    for (const t of texts) expect(t).toContain(JSON.stringify(path.join(dir, "helper.ts")))
    fs.writeFileSync(path.join(dir, "helper.ts"), "export const batch: number = 4\n")
    const edited = runCli(["run", "--format", "json"], dir)
    expect(JSON.parse(edited.stdout).runtime.batch_size).toBe(4)
  })

  it("a command whose config reads the environment is never replayed", () => {
    const dir = makeProject()
    fs.writeFileSync(
      path.join(dir, "llmsim.config.ts"),
      'export default { defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml", runtime: { batch_size: Number(process.env.PLAN_BATCH ?? 1), seq_len: 64 } }\n'
    )
    expect(JSON.parse(runCli(["run", "--format", "json"], dir, { PLAN_BATCH: "3" }).stdout).runtime.batch_size).toBe(3)
    expect(JSON.parse(runCli(["run", "--format", "json"], dir, { PLAN_BATCH: "5" }).stdout).runtime.batch_size).toBe(5)
    expect(fs.existsSync(path.join(dir, "cache", STORE_LAYOUT, "commands"))).toBe(false)
    expect(fs.existsSync(storeFolder(path.join(dir, "cache"), "configs"))).toBe(false)
  })
})

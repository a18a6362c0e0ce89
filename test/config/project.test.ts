/**
 * Project root and llmsim.config.ts: scenario paths resolve against the folder holding the
 * config file, from any subfolder; defaultScenario, runtime and cacheDir are honoured. `llmsim
 * run`'s entry point runs in process (test/helpers/inProcess.ts), except where the current
 * directory of a real process is the point (a relative --cache-dir) or a hang is (a config
 * that never finishes loading).
 *
 * Paths in configs stay inside the project root or an allowPaths folder (README "Paths").
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"
import { runFailure, runInProcess, runOptions } from "../helpers/inProcess.ts"

describe("project config", () => {
  it("runs the default scenario from a subfolder with the config's runtime and cache folder", async () => {
    const dir = makeProject()
    fs.writeFileSync(
      path.join(dir, "llmsim.config.ts"),
      [
        "export default {",
        '  defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml",',
        '  runtime: { batch_size: 3, seq_len: 100, phase: "decode" },',
        '  cacheDir: ".store"',
        "}",
        ""
      ].join("\n")
    )
    const sub = path.join(dir, "notes", "deep")
    fs.mkdirSync(sub, { recursive: true })
    // llmsim run --format json, in `sub`
    const j = JSON.parse((await runInProcess(runOptions(sub))).text("json"))
    expect(j.scenario).toBe("configs/scenarios/deepseek_v3_a100.yaml")
    expect(j.runtime).toMatchObject({ batch_size: 3, seq_len: 100, phase: "decode" })
    expect(Object.keys(j.phases)).toEqual(["decode"])
    expect(fs.existsSync(path.join(dir, ".store", "v1", "ac"))).toBe(true)
    expect(fs.existsSync(path.join(sub, "cache"))).toBe(false)
    // The CLI overrides the config's runtime; --cache-dir overrides its cacheDir.
    const o = runCli(["run", "--batch", "5", "--format", "json", "--cache-dir", "elsewhere"], sub)
    expect(JSON.parse(o.stdout).runtime.batch_size).toBe(5)
    // A flag path is relative to where the user typed it.
    expect(fs.existsSync(path.join(sub, "elsewhere", "v1", "ac"))).toBe(true)
  })

  it("rejects an invalid project config with its file name", async () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), 'export default { defaultScenario: 7, colour: "blue" }\n')
    const e = await runFailure(runOptions(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(e._tag).toBe("ConfigError") // exit 1
    // One line per problem at its key, with the field path; an unknown key gets a suggestion.
    expect(e.message.split("\n").sort()).toEqual([
      `${path.join(dir, "llmsim.config.ts")}:1:18 defaultScenario: invalid project config: Expected string`,
      `${path.join(dir, "llmsim.config.ts")}:1:38 colour: invalid project config: Expected no excess property; known keys here: defaultScenario, runtime, cacheDir, remoteCache, allowPaths`
    ])
  })

  it("a config that never finishes loading is an error after the load limit, not a hang", () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), "// saved mid-edit\nwhile (true) {}\nexport default {}\n")
    const started = Date.now()
    // The limit is 5 s; LLMSIM_CONFIG_TIMEOUT_MS shortens it to keep the suite fast.
    const r = runCli(["run", "configs/scenarios/deepseek_v3_a100.yaml", "--batch", "2", "--seq", "16", "--no-cache"], dir, { LLMSIM_CONFIG_TIMEOUT_MS: "1000" })
    const ms = Date.now() - started
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(
      `error: ${path.join(dir, "llmsim.config.ts")}:1:1: cannot load: did not finish within 1 s (an endless loop or a wait that never ends?)\n`
    )
    // The CLI waited out the 1 s limit (a timer never fires early) and then stopped on its own:
    // the status and message above are the limit's; a hang would end in runCli's 120 s timeout
    // with status null. No upper bound on the time: start-up on a loaded machine has none.
    expect(ms).toBeGreaterThanOrEqual(1_000)
  }, 30_000)

  it("a throw in the config is reported at its line and column", async () => {
    const dir = makeProject()
    const file = path.join(dir, "llmsim.config.ts")
    fs.writeFileSync(file, 'const x = 1\nif (x) throw new Error("half-saved")\nexport default {}\n')
    const e = await runFailure(runOptions(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(e._tag).toBe("ConfigError")
    // Line 2 from the error's stack frame in the file (the column is V8's, at `new Error`).
    expect(e.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:\\d+: cannot load: half-saved$`))
  })

  it("refuses a scenario path outside the project, naming the field; allowPaths admits a folder", async () => {
    const dir = makeProject()
    const outside = tempDir("llmsim-outside-")
    fs.copyFileSync(path.join(dir, "configs/hardware/NV-A100.yaml"), path.join(outside, "gpu.yaml"))
    const scenario = path.join(dir, "configs/scenarios/deepseek_v3_a100.yaml")
    // Column 11: the value after `hardware: `.
    const text = fs.readFileSync(scenario, "utf8")
    const line = text.split("\n").findIndex((l) => l.startsWith("hardware:")) + 1
    fs.writeFileSync(scenario, text.replace("configs/hardware/NV-A100.yaml", path.join(outside, "gpu.yaml")))
    const e = await runFailure(runOptions(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(e._tag).toBe("ConfigError")
    expect(e.message).toBe(
      `configs/scenarios/deepseek_v3_a100.yaml:${line}:11 hardware: ${path.join(outside, "gpu.yaml")} is outside the project root ${dir} ` +
        "(paths in configs stay inside the project; list a folder in allowPaths of llmsim.config.ts to allow it)"
    )
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), `export default { allowPaths: [${JSON.stringify(outside)}] }\n`)
    const ok = await runInProcess(runOptions(dir, "configs/scenarios/deepseek_v3_a100.yaml", { runtime: { batch_size: 2, seq_len: 16 } }))
    expect(JSON.parse(ok.text("json")).hardware).toBeDefined()
  })

  it("refuses cacheDir outside the project at its line in llmsim.config.ts", async () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), 'export default {\n  cacheDir: "../elsewhere"\n}\n')
    const e = await runFailure(runOptions(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(e._tag).toBe("ConfigError")
    expect(e.message).toBe(
      `${path.join(dir, "llmsim.config.ts")}:2:3 cacheDir: ../elsewhere is outside the project root ${dir} ` +
        "(paths in configs stay inside the project; list a folder in allowPaths to allow it)"
    )
  })
})

/**
 * Project root and llmsim.config.ts: scenario paths resolve against the folder holding the
 * config file, from any subfolder; defaultScenario, runtime and cacheDir are honoured. `llmsim
 * run`'s entry point runs in process (test/helpers/inProcess.ts), except where the current
 * directory of a real process is the point (a relative --cache-dir).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"
import { runFailure, runInProcess, runOptions } from "../helpers/inProcess.ts"

describe("project config", () => {
  it("runs the default scenario from a subfolder with the config's runtime and cache folder", async () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), [
      "export default {",
      '  defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml",',
      '  runtime: { batch_size: 3, seq_len: 100, phase: "decode" },',
      '  cacheDir: ".store"',
      "}",
      ""
    ].join("\n"))
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
    expect(`error: ${e.message}`).toMatch(/llmsim\.config\.ts:1:1 .*invalid project config/)
  })
})

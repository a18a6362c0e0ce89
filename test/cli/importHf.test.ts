/**
 * `llmsim import hf` through the real CLI: the README's newcomer path (import, then run), a
 * byte-identical re-import, and a refused config with its file:line:col line and nothing written.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeProject, REFERENCE, runCli } from "../helpers/cli.ts"
import { removeTempDirs } from "../helpers/temp.ts"

afterAll(removeTempDirs)

describe("llmsim import hf (CLI)", () => {
  // Re-import byte-identity is checked in process (test/hf/import.test.ts).
  it("a config.json folder -> templates + scenario that `llmsim run` runs", () => {
    const dir = makeProject()
    const model = path.join(dir, "Qwen3-32B")
    fs.mkdirSync(model)
    fs.copyFileSync(path.join(REFERENCE, "hf-configs", "qwen3-32b.json"), path.join(model, "config.json"))
    const first = runCli(["import", "hf", "Qwen3-32B", "--tp", "2"], dir)
    expect(first.stderr).toBe("")
    expect(first.status).toBe(0)
    expect(first.stdout).toContain("wrote configs/scenarios/qwen3-32b.yaml")
    const scenario = path.join(dir, "configs/scenarios/qwen3-32b.yaml")
    const layer = path.join(dir, "configs/models/qwen3-32b/ffn_layer.yaml")
    expect(fs.readFileSync(scenario, "utf8")).toContain("tp: 2 ")
    expect(fs.readFileSync(layer, "utf8")).toContain("d_ff: 25600                  # config.json intermediate_size")
    const run = runCli(["run", "configs/scenarios/qwen3-32b.yaml", "--phase", "decode", "--format", "json"], dir)
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
  })

  it("an unknown key: one file:line:col line naming it, exit 1, nothing written", () => {
    const dir = makeProject()
    const text = fs
      .readFileSync(path.join(REFERENCE, "hf-configs", "mixtral-8x7b.json"), "utf8")
      .replace('"hidden_act"', '"moe_dense_ratio": 2,\n  "hidden_act"')
    fs.writeFileSync(path.join(dir, "mix.json"), text)
    const r = runCli(["import", "hf", "mix.json"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    const line = text.split("\n").findIndex((l) => l.includes("moe_dense_ratio")) + 1
    expect(r.stderr).toMatch(new RegExp(`^error: mix\\.json:${line}:3 moe_dense_ratio: unknown key moe_dense_ratio for model_type mixtral`))
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(fs.existsSync(path.join(dir, "configs/scenarios/mix.yaml"))).toBe(false)
  })
})

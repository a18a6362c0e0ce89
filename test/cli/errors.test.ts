/**
 * Bad input: every config error names file:line:col, the field path and what was expected,
 * exits non-zero and writes nothing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { edit, makeProject, runCli } from "../helpers/cli.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"

/** Run on a broken copy and check the one-line error and that no output or cache appeared. */
const expectConfigError = (damage: (dir: string) => void, pattern: RegExp) => {
  const dir = makeProject()
  damage(dir)
  const out = path.join(dir, "out.json")
  const r = runCli(["run", SCENARIO, "--format", "json", "--out", out], dir)
  expect(r.status).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr).toMatch(pattern)
  expect(fs.existsSync(out)).toBe(false)
  expect(fs.existsSync(path.join(dir, "cache"))).toBe(false)
  return r.stderr
}

const lineOf = (file: string, needle: RegExp): number =>
  fs.readFileSync(file, "utf8").split("\n").findIndex((l) => needle.test(l)) + 1

describe("config errors", () => {
  it("wrong type in a layer template", () => {
    let line = 0
    expectConfigError((dir) => {
      const f = path.join(dir, "configs/models/deepseek-v3/moe_layer_config.yaml")
      edit(f, (t) => t.replace(/n_routed_experts:\s*256/, 'n_routed_experts: "many"'))
      line = lineOf(f, /n_routed_experts/)
    }, new RegExp(`configs/models/deepseek-v3/moe_layer_config\\.yaml:\\d+:\\d+ moe_config\\.n_routed_experts: Expected`))
    expect(line).toBeGreaterThan(0)
  })

  it("points at the exact line of the bad value", () => {
    const dir = makeProject()
    const f = path.join(dir, "configs/models/deepseek-v3/moe_layer_config.yaml")
    edit(f, (t) => t.replace(/num_experts_per_tok:\s*8/, "num_experts_per_tok: -8"))
    const r = runCli(["run", SCENARIO], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`moe_layer_config.yaml:${lineOf(f, /num_experts_per_tok/)}:`)
    expect(r.stderr).toMatch(/moe_config\.num_experts_per_tok: Expected a value greater than or equal to 1/)
  })

  it("unknown key in the hardware file", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => `${t}\nturbo_mode: true\n`)
    }, /configs\/hardware\/H800-SXM\.yaml:\d+:\d+ turbo_mode: Expected no excess property/)
  })

  it("negative value in the hardware file", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => t.replace(/memory_bandwidth_gbps:\s*[0-9.]+/, "memory_bandwidth_gbps: -3350"))
    }, /H800-SXM\.yaml:\d+:\d+ memory_bandwidth_gbps: Expected a value greater than 0/)
  })

  it("non-finite number", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => t.replace(/hbm_gb:\s*[0-9.]+/, "hbm_gb: .inf"))
    }, /H800-SXM\.yaml:\d+:\d+ hbm_gb: Expected a finite number/)
  })

  it("unknown attention type", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, "configs/models/deepseek-v3/ffn_layer_config.yaml"), (t) => t.replace(/type:\s*"?MLA"?/, "type: MLX"))
    }, /ffn_layer_config\.yaml:\d+:\d+ attn_config\.type: Expected "MHA" \| "GQA" \| "MLA", got "MLX"/)
  })

  it("wrong type, unknown key and negative repeat in the scenario", () => {
    const stderr = expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) => t.replace(/repeat:\s*58/, "repeat: -58").replace(/seq_len:\s*\d+/, "seq_len: long").replace(/^layers:/m, "colour: blue\nlayers:"))
    }, /deepseek_v3_h800\.yaml:\d+:\d+ layers\.1\.repeat: Expected a value greater than or equal to 1/)
    expect(stderr).toMatch(/deepseek_v3_h800\.yaml:\d+:\d+ runtime\.seq_len: Expected/)
    expect(stderr).toMatch(/deepseek_v3_h800\.yaml:\d+:\d+ colour: Expected no excess property/)
  })

  it("broken YAML syntax", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) => t.replace(/^layers:/m, "layers: [\n"))
    }, /deepseek_v3_h800\.yaml:\d+:\d+: /)
  })

  it("a referenced file that does not exist points at the reference", () => {
    expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) => t.replace("moe_layer_config.yaml", "moe_layer_confg.yaml"))
    }, /deepseek_v3_h800\.yaml:\d+:\d+ layers\.1\.config: file not found: configs\/models\/deepseek-v3\/moe_layer_confg\.yaml/)
  })
})

describe("bad CLI values", () => {
  const dir = makeProject()
  it.each([
    [["--batch", "0"], /batch/],
    [["--batch", "abc"], /batch/],
    [["--seq", "-5"], /seq/],
    [["--phase", "train"], /phase/],
    [["--format", "xml"], /format/]
  ])("%j exits non-zero and names the flag", (args, pattern) => {
    const out = path.join(dir, "out.txt")
    const r = runCli(["run", SCENARIO, ...args, "--out", out], dir)
    expect(r.status).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(pattern)
    expect(fs.existsSync(out)).toBe(false)
  })

  it("a missing scenario file", () => {
    const r = runCli(["run", "configs/scenarios/nope.yaml"], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/scenario file not found: configs\/scenarios\/nope\.yaml/)
  })
})

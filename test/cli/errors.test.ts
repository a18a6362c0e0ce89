/**
 * Bad input: every config error names file:line:col, the field path and what was expected,
 * exits non-zero and writes nothing. Messages come from `llmsim run`'s entry point in process
 * (test/helpers/inProcess.ts; the CLI prints `error: MESSAGE`); the real CLI checks the exit
 * status, streams and --out for one config error, and the flag values it parses itself.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { edit, makeProject, runCli } from "../helpers/cli.ts"
import { commandErrors, runCommand, runFailure, runOptions } from "../helpers/inProcess.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"

/** Run the real CLI on a broken copy and check the one-line error and that no output or cache appeared. */
const expectConfigErrorCli = (damage: (dir: string) => void, pattern: RegExp) => {
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

/** The same through the entry point in process: a typed config error, and no cache written. */
const expectConfigError = async (damage: (dir: string) => void, pattern: RegExp) => {
  const dir = makeProject()
  damage(dir)
  const e = await runFailure(runOptions(dir, SCENARIO))
  expect(e._tag).toBe("ConfigError")
  const stderr = `error: ${e.message}\n`
  expect(stderr).toMatch(pattern)
  expect(fs.existsSync(path.join(dir, "cache"))).toBe(false)
  return stderr
}

const lineOf = (file: string, needle: RegExp): number =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => needle.test(l)) + 1

describe("config errors", () => {
  it("wrong type in a layer template (real CLI)", () => {
    let line = 0
    expectConfigErrorCli((dir) => {
      const f = path.join(dir, "configs/models/deepseek-v3/moe_layer_config.yaml")
      edit(f, (t) => t.replace(/n_routed_experts:\s*256/, 'n_routed_experts: "many"'))
      line = lineOf(f, /n_routed_experts/)
    }, new RegExp(`configs/models/deepseek-v3/moe_layer_config\\.yaml:\\d+:\\d+ moe_config\\.n_routed_experts: Expected`))
    expect(line).toBeGreaterThan(0)
  })

  it("points at the exact line of the bad value", async () => {
    const dir = makeProject()
    const f = path.join(dir, "configs/models/deepseek-v3/moe_layer_config.yaml")
    edit(f, (t) => t.replace(/num_experts_per_tok:\s*8/, "num_experts_per_tok: -8"))
    const r = { stderr: `error: ${(await runFailure(runOptions(dir, SCENARIO))).message}\n` }
    expect(r.stderr).toContain(`moe_layer_config.yaml:${lineOf(f, /num_experts_per_tok/)}:`)
    expect(r.stderr).toMatch(/moe_config\.num_experts_per_tok: Expected a value greater than or equal to 1/)
  })

  it("unknown key in the hardware file", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => `${t}\nturbo_mode: true\n`)
    }, /configs\/hardware\/H800-SXM\.yaml:\d+:\d+ turbo_mode: Expected no excess property/)
  })

  it("negative value in the hardware file", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => t.replace(/memory_bandwidth_gbps:\s*[0-9.]+/, "memory_bandwidth_gbps: -3350"))
    }, /H800-SXM\.yaml:\d+:\d+ memory_bandwidth_gbps: Expected a bandwidth between 1e-3 and 1e8 GB\/s \(its physical range\), got -3350/)
  })

  it("non-finite number", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, "configs/hardware/H800-SXM.yaml"), (t) => t.replace(/hbm_gb:\s*[0-9.]+/, "hbm_gb: .inf"))
    }, /H800-SXM\.yaml:\d+:\d+ hbm_gb: Expected a finite number/)
  })

  it("unknown attention type", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, "configs/models/deepseek-v3/ffn_layer_config.yaml"), (t) => t.replace(/type:\s*"?MLA"?/, "type: MLX"))
    }, /ffn_layer_config\.yaml:\d+:\d+ attn_config\.type: Expected "MHA" \| "GQA" \| "MLA" \| "linear", got "MLX"/)
  })

  it("wrong type, unknown key and negative repeat in the scenario", async () => {
    const stderr = await expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) =>
        t
          .replace(/repeat:\s*58/, "repeat: -58")
          .replace(/seq_len:\s*\d+/, "seq_len: long")
          .replace(/^layers:/m, "colour: blue\nlayers:")
      )
    }, /deepseek_v3_h800\.yaml:\d+:\d+ layers\.1\.repeat: Expected a value greater than or equal to 1/)
    expect(stderr).toMatch(/deepseek_v3_h800\.yaml:\d+:\d+ runtime\.seq_len: Expected/)
    expect(stderr).toMatch(/deepseek_v3_h800\.yaml:\d+:\d+ colour: Expected no excess property/)
  })

  it("broken YAML syntax", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) => t.replace(/^layers:/m, "layers: [\n"))
    }, /deepseek_v3_h800\.yaml:\d+:\d+: /)
  })

  it("a referenced file that does not exist points at the reference", async () => {
    await expectConfigError((dir) => {
      edit(path.join(dir, SCENARIO), (t) => t.replace("moe_layer_config.yaml", "moe_layer_confg.yaml"))
    }, /deepseek_v3_h800\.yaml:\d+:\d+ layers\.1\.config: file not found: configs\/models\/deepseek-v3\/moe_layer_confg\.yaml/)
  })
})

describe("bad CLI values", () => {
  const dir = makeProject()
  it("exits non-zero and names the flag (real CLI)", () => {
    const out = path.join(dir, "out.txt")
    const r = runCli(["run", SCENARIO, "--batch", "0", "--out", out], dir)
    expect(r.status).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(/batch/)
    expect(fs.existsSync(out)).toBe(false)
  })

  it.each([
    [["--batch", "0"], /batch/],
    [["--batch", "abc"], /batch/],
    [["--seq", "-5"], /seq/],
    [["--phase", "train"], /phase/],
    [["--format", "xml"], /format/]
  ])("%j is rejected by the run command's parser, naming the flag", async (args, pattern) => {
    const out = path.join(dir, "out.txt")
    const errors = await commandErrors(runCommand, [SCENARIO, ...args, "--out", out])
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.join("\n")).toMatch(pattern)
    expect(fs.existsSync(out)).toBe(false)
  })

  it("a missing scenario file", async () => {
    const r = { stderr: `error: ${(await runFailure(runOptions(dir, "configs/scenarios/nope.yaml"))).message}\n` }
    expect(r.stderr).toMatch(/scenario file not found: configs\/scenarios\/nope\.yaml/)
  })
})

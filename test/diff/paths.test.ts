/**
 * `llmsim diff --a PATH --b PATH`: two config folders or two scenario files, no git, and how
 * files are paired when a scenario points at another hardware or template file. The diffs come
 * from the command's entry point in process (test/helpers/inProcess.ts: the JSON the command
 * prints); one usage error goes through the real CLI.
 *
 * At a git revision every path is read from that revision: an absolute path outside the
 * repository (allowed by allowPaths) is missing there, never read from the live disk.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { edit, makeProject } from "../helpers/cli.ts"
import { diffFailure, diffInProcess } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"
import { commitAll, makeRepo, MOE, SCENARIO } from "./repo.ts"

describe("llmsim diff --a/--b without git", () => {
  let a: string
  let b: string
  beforeAll(() => {
    a = makeProject("llmsim-side-a-")
    b = makeProject("llmsim-side-b-")
    // Side B runs the same model on H100 instead of H800.
    edit(path.join(b, SCENARIO), (t) => t.replace("configs/hardware/H800-SXM.yaml", "configs/hardware/H100-SXM.yaml"))
  })

  it("compares two config folders and lists the hardware fields that differ", async () => {
    const d = (await diffInProcess(a, [SCENARIO], { a, b, runtime: { phase: "decode" } })).json
    expect(d.a).toMatchObject({ rev: null, commit: null, scenario: path.join(a, SCENARIO), hardware: "H800-SXM" })
    expect(d.b).toMatchObject({ rev: null, scenario: path.join(b, SCENARIO), hardware: "H100-SXM" })
    expect(d.config_changes[0]).toEqual({
      file: SCENARIO,
      path: "hardware",
      a: "configs/hardware/H800-SXM.yaml",
      b: "configs/hardware/H100-SXM.yaml",
      change: "changed"
    })
    const hw = d.config_changes.slice(1)
    // Every other change is a hardware field, paired across the two files.
    for (const c of hw) expect(c.file).toBe("configs/hardware/H800-SXM.yaml -> configs/hardware/H100-SXM.yaml")
    const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), "utf8")
    // H800 is an H100 with NVLink cut: the name and the NVLink bandwidth differ.
    const nvlink = (text: string) => Number(/^interconnect_gbps:\s*([\d.]+)/m.exec(text)![1])
    expect(hw).toContainEqual({ file: hw[0].file, path: "name", a: "H800-SXM", b: "H100-SXM", change: "changed" })
    expect(hw).toContainEqual({
      file: hw[0].file,
      path: "interconnect_gbps",
      a: nvlink(read(a, "configs/hardware/H800-SXM.yaml")),
      b: nvlink(read(b, "configs/hardware/H100-SXM.yaml")),
      change: "changed"
    })
    expect(hw.map((c: any) => c.path)).not.toContain("memory_bandwidth_gbps")
  })

  it("compares two scenario files, each resolved in its own project", async () => {
    fs.writeFileSync(path.join(a, "llmsim.config.ts"), "export default {}\n")
    fs.writeFileSync(path.join(b, "llmsim.config.ts"), "export default {}\n")
    const d = (await diffInProcess(a, [], { a: path.join(a, SCENARIO), b: path.join(b, SCENARIO), runtime: { phase: "decode" }, noCache: true })).json
    expect(d.a.hardware).toBe("H800-SXM")
    expect(d.b.hardware).toBe("H100-SXM")
    expect(d.config_changes[0].path).toBe("hardware")
    // Scenario arguments make no sense with two files (a usage error: exit 1).
    const bad = await diffFailure(a, [SCENARIO], { a: path.join(a, SCENARIO), b: path.join(b, SCENARIO) })
    expect(bad._tag).toBe("UsageError")
    expect(`error: ${bad.message}`).toContain("scenario arguments apply to --a/--b folders")
  })
})

describe("llmsim diff pairs a template swapped for a new file", () => {
  it("diffs the old template against the new one used by the same layer entry", async () => {
    const dir = makeRepo()
    const v2 = "configs/models/deepseek-v3/moe_v2.yaml"
    fs.writeFileSync(path.join(dir, v2), fs.readFileSync(path.join(dir, MOE), "utf8").replace(/num_experts_per_tok: 8/, "num_experts_per_tok: 6"))
    edit(path.join(dir, SCENARIO), (t) => t.replace(MOE, v2))
    commitAll(dir, "moe v2")
    const r = await diffInProcess(dir, ["HEAD~1", "HEAD"], { runtime: { phase: "decode" } })
    expect(r.json.config_changes).toEqual([
      { file: SCENARIO, path: "layers.1.config", a: MOE, b: v2, change: "changed" },
      { file: `${MOE} -> ${v2}`, path: "moe_config.num_experts_per_tok", a: 8, b: 6, change: "changed" }
    ])
  })

  it("reports a template used on one side only as a whole-file change", async () => {
    const dir = makeRepo()
    // Side B adds a second dense entry from a new file: 2 dense layers, then 1 from the new file.
    const dense2 = "configs/models/deepseek-v3/ffn_wide.yaml"
    fs.writeFileSync(
      path.join(dir, dense2),
      fs.readFileSync(path.join(dir, "configs/models/deepseek-v3/ffn_layer_config.yaml"), "utf8").replace(/d_ff: 18432/, "d_ff: 20480")
    )
    edit(path.join(dir, SCENARIO), (t) => t.replace(/repeat: 3 /, `repeat: 2 \n  - type: ffn_layer\n    config: ${dense2}\n    name: wide_ffn\n   `))
    const d = (await diffInProcess(dir, ["HEAD"], { runtime: { phase: "prefill" } })).json
    const added = d.config_changes.find((c: any) => c.file === dense2)
    expect(added).toMatchObject({ path: "", a: null, change: "added" })
    expect(added.b.ffn_config.d_ff).toBe(20480)
    expect(d.config_changes).toContainEqual({ file: SCENARIO, path: "layers.0.repeat", a: 3, b: 2, change: "changed" })
    // Layer 2 was a dense layer on A and is the new entry on B: removed and added by name.
    const rows = d.layers.filter((l: any) => l.layer_name.startsWith("L2."))
    expect(rows).toEqual([
      expect.objectContaining({ layer_name: "L2.ffn_layer", status: "removed", b_ms: null, delta_ms: null }),
      expect.objectContaining({ layer_name: "L2.wide_ffn", status: "added", a_ms: null, delta_pct: null })
    ])
  })
})

describe("llmsim diff at a revision: paths outside the repository", () => {
  it("refuses an absolute hardware path at the revision instead of reading the live file", async () => {
    const dir = makeRepo()
    const outside = tempDir("llmsim-shared-hw-")
    const hw = path.join(outside, "H800.yaml")
    fs.copyFileSync(path.join(dir, "configs/hardware/H800-SXM.yaml"), hw)
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), `export default { defaultScenario: "${SCENARIO}", allowPaths: [${JSON.stringify(outside)}] }\n`)
    const text = fs.readFileSync(path.join(dir, SCENARIO), "utf8")
    const line = text.split("\n").findIndex((l) => l.startsWith("hardware:")) + 1
    edit(path.join(dir, SCENARIO), (t) => t.replace("configs/hardware/H800-SXM.yaml", hw))
    commitAll(dir, "hardware from a shared folder")
    // The file exists on disk and the working tree side reads it; HEAD has no version of it.
    const e = await diffFailure(dir, ["HEAD"], { runtime: { phase: "decode" } })
    expect(e._tag).toBe("ConfigError")
    expect(e.message).toBe(`HEAD:${SCENARIO}:${line}:11 hardware: file not found: ${hw}`)
  })

  it("refuses a path outside the project on either side, naming the field", async () => {
    const dir = makeRepo()
    const text = fs.readFileSync(path.join(dir, SCENARIO), "utf8")
    const line = text.split("\n").findIndex((l) => l.startsWith("hardware:")) + 1
    edit(path.join(dir, SCENARIO), (t) => t.replace("configs/hardware/H800-SXM.yaml", "../../etc/passwd"))
    const e = await diffFailure(dir, ["HEAD"], { runtime: { phase: "decode" } })
    expect(e._tag).toBe("ConfigError")
    expect(e.message).toMatch(new RegExp(`^${SCENARIO}:${line}:11 hardware: \\.\\./\\.\\./etc/passwd is outside the project root `))
  })
})

/**
 * The acceptance path, as a new user would check it: watch the DeepSeek-V3 H800
 * scenario with `--reporter json`, edit the MoE template, the hardware, break a file, fix it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { edit, makeProject } from "../helpers/cli.ts"
import { stopAll, WatchProcess } from "./watchProcess.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const MOE = "configs/models/deepseek-v3/moe_layer_config.yaml"
const HARDWARE = "configs/hardware/H800-SXM.yaml"

let dir = ""

afterEach(async () => {
  await stopAll()
  if (dir !== "") fs.rmSync(dir, { recursive: true, force: true })
})

describe("llmsim watch --reporter json", () => {
  it("recomputes only what an edit affects, reports bad saves and recovers", async () => {
    dir = makeProject()
    const w = new WatchProcess([SCENARIO, "--reporter", "json"], dir)

    const initial = await w.expectNext("result")
    expect(initial.changed_files).toEqual([])
    expect(initial.computed).toBeGreaterThan(0)
    const layers: number = initial.phases.prefill.layers
    expect(layers).toBe(62)
    expect(initial.phases.decode.layers).toBe(62)
    expect(initial.layers_recomputed).toHaveLength(layers)
    expect(initial.serving.ttft_ms).toBeGreaterThan(0)
    expect(initial.serving_delta.ttft_ms).toBeNull()

    // A MoE-only field: only MoE layers are recomputed, the dense layers and LM head replay.
    edit(path.join(dir, MOE), (t) => t.replace(/num_experts_per_tok:\s*8/, "num_experts_per_tok: 6"))
    const moe = await w.expectNext("result")
    expect(moe.changed_files).toEqual([MOE])
    expect(moe.layers_recomputed).toHaveLength(58)
    for (const name of moe.layers_recomputed) expect(name).toMatch(/^L\d+\.moe_layer$/)
    expect(moe.replayed).toBeGreaterThan(0)
    expect(moe.phases.prefill.layers_changed).toEqual(moe.layers_recomputed)
    expect(moe.phases.prefill.delta_ms).toBeLessThan(0)
    expect(moe.serving_delta.ttft_ms).toBeLessThan(0)

    // A hardware timing field: every layer, LM head included.
    edit(path.join(dir, HARDWARE), (t) => t.replace(/memory_bandwidth_gbps:\s*\d+/, "memory_bandwidth_gbps: 3000"))
    const hw = await w.expectNext("result")
    expect(hw.changed_files).toEqual([HARDWARE])
    expect(hw.layers_recomputed).toEqual(Array.from({ length: layers }, (_, i) => (i < 3 ? `L${i}.ffn_layer` : i < 61 ? `L${i}.moe_layer` : "L61.lm_head")))

    // A comment changes the file but not its decoded value: nothing downstream recomputes.
    edit(path.join(dir, MOE), (t) => t + "# tuning notes\n")
    const comment = await w.expectNext("result")
    expect(comment.changed_files).toEqual([MOE])
    expect(comment.layers_recomputed).toEqual([])
    expect(comment.phases.decode.delta_ms).toBe(0)

    // Broken YAML: an error event at the line and column, and the process keeps going.
    const good = fs.readFileSync(path.join(dir, HARDWARE), "utf8")
    fs.writeFileSync(path.join(dir, HARDWARE), good.replace(/^(hbm_gb:.*)$/m, "$1\n  bad_indent: [1, 2"))
    const broken = await w.expectNext("error")
    const badLine = good.split("\n").findIndex((l) => l.startsWith("hbm_gb:")) + 2
    expect(broken.file).toBe(HARDWARE)
    expect(broken.line).toBe(badLine)
    expect(broken.col).toBeGreaterThan(0)
    expect(broken.message.length).toBeGreaterThan(0)
    expect(broken.changed_files).toEqual([HARDWARE])
    expect(w.alive).toBe(true)

    // A schema error is reported the same way, with the field path.
    fs.writeFileSync(path.join(dir, HARDWARE), good.replace(/hbm_gb:\s*[\d.]+/, 'hbm_gb: "lots"'))
    const schema = await w.expectNext("error")
    expect(schema.file).toBe(HARDWARE)
    expect(schema.path).toBe("hbm_gb")
    expect(schema.line).toBe(good.split("\n").findIndex((l) => l.startsWith("hbm_gb:")) + 1)

    // The fix resumes: a result again, compared with the last good result.
    fs.writeFileSync(path.join(dir, HARDWARE), good)
    const fixed = await w.expectNext("result")
    expect(fixed.changed_files).toEqual([HARDWARE])
    expect(fixed.phases.prefill.total_latency_ms).toBe(comment.phases.prefill.total_latency_ms)
    expect(fixed.phases.prefill.delta_ms).toBe(0)

    const exit = await w.stop("SIGINT")
    expect(exit).toEqual({ code: 0, signal: null })
    expect(w.stderr).toBe("")
  })
})

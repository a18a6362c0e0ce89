/**
 * Inline layer templates and the path rule inside a scenario (src/config/load.ts): a template
 * written inline decodes and runs exactly as the same template in a file; errors inside it point
 * at the scenario's line:col; relative paths resolve against the scenario's folder, then the
 * project root, and "file not found" names every place tried.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { appLayer, Evaluator } from "../../src/app/services.ts"
import { loadScenario } from "../../src/config/load.ts"
import { projectPaths } from "../../src/config/paths.ts"
import { makeProject } from "../helpers/cli.ts"
import { diffInProcess, failureOf, runInProcess, runOptions, runEffect } from "../helpers/inProcess.ts"

const load = (dir: string, scenarioFile: string) =>
  Effect.gen(function* () {
    const evaluator = yield* Evaluator
    return yield* loadScenario(evaluator, projectPaths(dir), path.join(dir, scenarioFile))
  }).pipe(Effect.provide(appLayer({ cwd: dir, noCache: true })))

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const LLAMA_TEMPLATE = "configs/models/llama-3.1-70b/ffn_layer_config.yaml"

/** The llama scenario with its one template written inline (the file's text, indented). */
const inlineLlama = (dir: string, edit: (template: string) => string = (t) => t): string => {
  const template = edit(fs.readFileSync(path.join(dir, LLAMA_TEMPLATE), "utf8"))
  const indented = template
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => `      ${l}`)
    .join("\n")
  const text = fs.readFileSync(path.join(dir, LLAMA), "utf8").replace(`config: ${LLAMA_TEMPLATE}`, `config:\n${indented}`)
  expect(text).not.toContain(LLAMA_TEMPLATE)
  const file = "configs/scenarios/llama_inline.yaml"
  fs.writeFileSync(path.join(dir, file), text)
  return file
}

describe("inline layer templates", () => {
  it("decode to the same template and give a byte-identical run (JSON and table) as the file", async () => {
    const dir = makeProject()
    const inline = inlineLlama(dir)
    const [a, b] = [await runEffect(load(dir, LLAMA)), await runEffect(load(dir, inline))]
    expect(b.entries[0]!.template).toEqual(a.entries[0]!.template)
    expect(b.entries[0]!.at).toEqual(["layers", 0, "config"])
    const opts = { noCache: true, runtime: { batch_size: 4, seq_len: 1024, phase: "decode" as const } }
    const [ra, rb] = [await runInProcess(runOptions(dir, LLAMA, opts)), await runInProcess(runOptions(dir, inline, opts))]
    const same = (t: string) => t.replaceAll(inline, LLAMA)
    expect(same(rb.text("json"))).toBe(ra.text("json"))
    expect(same(rb.text("table"))).toBe(ra.text("table"))
  })

  it("a bad field inside an inline template is reported at the scenario's line:col with the full path", async () => {
    const dir = makeProject()
    const bad = inlineLlama(dir, (t) => t.replace(/d_ff: \d+/, "d_ff: -3"))
    const e = await failureOf(load(dir, bad))
    const line =
      fs
        .readFileSync(path.join(dir, bad), "utf8")
        .split("\n")
        .findIndex((l) => l.includes("d_ff: -3")) + 1
    expect(e.message).toMatch(
      new RegExp(`^configs/scenarios/llama_inline\\.yaml:${line}:\\d+ layers\\.0\\.config\\.ffn_config\\.d_ff: Expected a value greater than or equal to 1$`)
    )
    // Cross-field rules too (KV heads must divide the query heads), in the scenario.
    const rule = inlineLlama(dir, (t) => t.replace(/num_key_value_heads: 8/, "num_key_value_heads: 7"))
    const r = await failureOf(load(dir, rule))
    expect(r.message).toMatch(
      /^configs\/scenarios\/llama_inline\.yaml:\d+:\d+ layers\.0\.config\.attn_config\.num_key_value_heads: Expected a divisor of num_attention_heads 64/
    )
    const type = inlineLlama(dir, (t) => t.replace(/type: GQA/, "type: XQA"))
    expect((await failureOf(load(dir, type))).message).toMatch(
      /^configs\/scenarios\/llama_inline\.yaml:\d+:\d+ layers\.0\.config\.attn_config\.type: Expected "MHA" \| "GQA" \| "MLA" \| "linear", got "XQA"$/
    )
  })
})

describe("diff of inline templates", () => {
  it("an inline field change is listed once, under the scenario", async () => {
    const dir = makeProject()
    const a = inlineLlama(dir)
    const b = "configs/scenarios/llama_inline_b.yaml"
    fs.writeFileSync(path.join(dir, b), fs.readFileSync(path.join(dir, a), "utf8").replace(/d_ff: 28672/, "d_ff: 30000"))
    const d = await diffInProcess(dir, [], { a, b, noCache: true, runtime: { phase: "decode", batch_size: 1, seq_len: 128 } })
    const table = d.text("table")
    expect(table).toMatch(/== config changes \(1\) ==/)
    expect(table).toMatch(/layers\.0\.config\.ffn_config\.d_ff\s+28672\s+30000/)
  })
})

describe("paths inside a scenario", () => {
  it("resolve against the scenario's folder first, then the project root", async () => {
    const dir = makeProject()
    const sub = path.join(dir, "team", "mine")
    fs.mkdirSync(sub, { recursive: true })
    // hardware beside the scenario (a file of the same name at the root would lose); template from the root.
    fs.writeFileSync(path.join(sub, "gpu.yaml"), fs.readFileSync(path.join(dir, "configs/hardware/H200-SXM.yaml"), "utf8"))
    fs.writeFileSync(path.join(dir, "gpu.yaml"), fs.readFileSync(path.join(dir, "configs/hardware/H100-SXM.yaml"), "utf8"))
    fs.copyFileSync(path.join(dir, LLAMA), path.join(sub, "s.yaml"))
    fs.writeFileSync(path.join(sub, "s.yaml"), fs.readFileSync(path.join(dir, LLAMA), "utf8").replace("configs/hardware/H100-SXM.yaml", "gpu.yaml"))
    const loaded = await runEffect(load(dir, "team/mine/s.yaml"))
    expect(loaded.hardwareFile).toBe(path.join(sub, "gpu.yaml"))
    expect(loaded.hardware.name).toMatch(/H200/)
    expect(loaded.entries[0]!.file).toBe(path.join(dir, LLAMA_TEMPLATE))
  })

  it("file not found names every place it looked, at the reference's line:col", async () => {
    const dir = makeProject()
    const text = fs.readFileSync(path.join(dir, LLAMA), "utf8").replace(LLAMA_TEMPLATE, "models/nope.yaml")
    fs.writeFileSync(path.join(dir, LLAMA), text)
    const e = await failureOf(load(dir, LLAMA))
    const line = text.split("\n").findIndex((l) => l.includes("models/nope.yaml")) + 1
    expect(e.message).toBe(
      `${LLAMA}:${line}:13 layers.0.config: file not found: models/nope.yaml (looked in configs/scenarios/models/nope.yaml, models/nope.yaml)`
    )
  })
})

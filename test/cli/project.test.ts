/**
 * The commands around a project: `llmsim list` (one line per shipped or project config, with its
 * key facts; a broken file listed with its error), `llmsim init` (a project that runs as
 * created; never overwrites) and `llmsim schema --out` (writes what src/schema/jsonSchema.ts
 * generates). In-process, plus one real-CLI smoke test for init and list.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { initFiles, initProject, STARTER_SCENARIO } from "../../src/cli/init.ts"
import { listText } from "../../src/cli/list.ts"
import { writeSchemas } from "../../src/cli/schema.ts"
import { jsonSchemaFiles } from "../../src/schema/jsonSchema.ts"
import { makeProject, REPO, runCli } from "../helpers/cli.ts"
import { failureOf, runEffect, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const rowOf = (text: string, name: string): string => text.split("\n").find((l) => l.startsWith(`${name} `)) ?? ""

describe("llmsim list", () => {
  it("hardware: dense BF16 / FP8 TFLOPS, HBM GB and GB/s, scale-up GB/s, price, file; one line each", async () => {
    const text = await runEffect(listText(REPO, "hardware"))
    const files = fs.readdirSync(path.join(REPO, "configs", "hardware")).filter((f) => f.endsWith(".yaml"))
    expect(text.trimEnd().split("\n")).toHaveLength(2 + files.length)
    // H100-SXM.yaml: tflops.bf16 989, tflops.fp8 1979, hbm_gb 80, 3350 GB/s, 450 GB/s, price 6.155.
    expect(rowOf(text, "H100-SXM").split(/\s+/)).toEqual(["H100-SXM", "989", "1979", "80", "3350", "450", "6.16", "configs/hardware/H100-SXM.yaml"])
    expect(rowOf(text, "NV-A100").split(/\s+/)).toEqual(["NV-A100", "312", "-", "80", "2030", "600", "-", "configs/hardware/NV-A100.yaml"])
  })

  it("models: each template's attention and FFN / experts; scenarios: model, layers, hardware, parallelism", async () => {
    const models = await runEffect(listText(REPO, "models"))
    expect(rowOf(models, "mixtral-8x7b")).toMatch(/moe_layer_config\.yaml \(moe_layer: GQA d_model 4096, 32\/8 heads; MoE 8 experts top-2, 14336 each\)$/)
    expect(rowOf(models, "deepseek-v3")).toMatch(/MLA d_model 7168, 128 heads, kv_lora 512; MoE 256 experts top-8 \+1 shared, 2048 each/)
    const scenarios = await runEffect(listText(REPO, "scenarios"))
    expect(rowOf(scenarios, "llama_3_1_70b_h100").split(/\s+/)).toEqual([
      "llama_3_1_70b_h100",
      "llama-3.1-70b",
      "80",
      "H100-SXM",
      "tp",
      "8",
      "configs/scenarios/llama_3_1_70b_h100.yaml"
    ])
    expect(rowOf(scenarios, "deepseek_v3_h800")).toMatch(/deepseek-v3\s+61\s+H800-SXM\s+tp 1 dp 16 ep 16/)
  })

  it("a project's own configs/ folder; a file that does not decode is listed with its first error", async () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "configs", "hardware", "Broken.yaml"), "name: x\npeak_tflop: 1\n")
    const text = await runEffect(listText(dir, "hardware"))
    expect(rowOf(text, "Broken")).toMatch(
      /^Broken\s+invalid: configs\/hardware\/Broken\.yaml:2:13 peak_tflop: Expected no excess property; did you mean peak_tflops\?\s+configs\/hardware\/Broken\.yaml$/
    )
    expect(rowOf(text, "H100-SXM")).toMatch(/989/)
  })
})

describe("llmsim init", () => {
  it("creates a project whose default scenario runs, with $schema lines that resolve", async () => {
    const dir = path.join(tempDir("llmsim-init-"), "new")
    const written = await runEffect(initProject(dir))
    expect(written).toEqual(initFiles(dir).map((f) => f.file))
    expect(fs.readFileSync(path.join(dir, ".gitignore"), "utf8")).toMatch(/^cache\/$/m)
    expect(fs.readFileSync(path.join(dir, "llmsim.config.ts"), "utf8")).toContain(`defaultScenario: "${STARTER_SCENARIO}"`)
    for (const f of written.filter((f) => f.endsWith(".yaml"))) {
      const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(fs.readFileSync(path.join(dir, f), "utf8").split("\n")[0]!)
      expect(m, f).not.toBeNull()
      expect(fs.existsSync(path.resolve(path.dirname(path.join(dir, f)), m![1]!)), f).toBe(true)
    }
    // The starter (inline template) runs like the shipped Llama-3.1-70B scenario it copies.
    const opts = { noCache: true, runtime: { phase: "decode" as const, batch_size: 16, seq_len: 4096 } }
    const starter = await runInProcess(runOptions(dir, undefined, opts))
    const shipped = await runInProcess(runOptions(dir, "configs/scenarios/llama_3_1_70b_h100.yaml", opts))
    expect(starter.out.result.phases).toEqual(shipped.out.result.phases)
  })

  it("llmsim.config.ts depends on no installation path: the project moved elsewhere (another depth) still loads and runs", async () => {
    const dir = path.join(tempDir("llmsim-init-"), "a", "b", "p")
    await runEffect(initProject(dir))
    const config = fs.readFileSync(path.join(dir, "llmsim.config.ts"), "utf8")
    expect(config).not.toContain(REPO)
    expect(config).not.toMatch(/^import (?!type )/m)
    expect(config).not.toContain("src/config")
    const moved = path.join(tempDir("llmsim-init-"), "p")
    fs.renameSync(dir, moved)
    const run = await runInProcess(runOptions(moved, undefined, { noCache: true, runtime: { phase: "decode" as const } }))
    // The config loaded: its defaultScenario and its runtime (batch 16, seq 4096) were used.
    expect(run.out.project.configFile).toBe(path.join(moved, "llmsim.config.ts"))
    expect(run.out.loaded.file).toBe(path.join(moved, STARTER_SCENARIO))
    expect([run.out.result.runtime.batch_size, run.out.result.runtime.seq_len]).toEqual([16, 4096])
  })

  it("where the package name llmsim resolves, a type-only import and `satisfies` (erased at load: the moved project runs)", async () => {
    const parent = tempDir("llmsim-init-")
    fs.mkdirSync(path.join(parent, "node_modules"))
    fs.symlinkSync(REPO, path.join(parent, "node_modules", "llmsim"), "dir")
    const dir = path.join(parent, "p")
    await runEffect(initProject(dir))
    const config = fs.readFileSync(path.join(dir, "llmsim.config.ts"), "utf8")
    expect(config).toContain('import type { ProjectConfig } from "llmsim"\n')
    expect(config).toContain("} satisfies ProjectConfig\n")
    // Moved away from the node_modules that resolved it: the type import is erased, the config still loads.
    const moved = path.join(tempDir("llmsim-init-"), "q")
    fs.renameSync(dir, moved)
    const run = await runInProcess(runOptions(moved, undefined, { noCache: true, runtime: { phase: "decode" as const } }))
    expect(run.out.loaded.file).toBe(path.join(moved, STARTER_SCENARIO))
    expect(run.out.result.runtime.batch_size).toBe(16)
  })

  it("refuses to overwrite: one existing file and nothing is written", async () => {
    const dir = tempDir("llmsim-init-")
    fs.writeFileSync(path.join(dir, ".gitignore"), "mine\n")
    const e = await failureOf(initProject(dir))
    expect(e.message).toBe(`llmsim init: ${dir} already has .gitignore; nothing written (init never overwrites: choose an empty folder)`)
    expect(fs.readdirSync(dir)).toEqual([".gitignore"])
    expect(fs.readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe("mine\n")
  })

  it("real CLI: init writes the project and says what next; list sees its starter", async () => {
    const parent = tempDir("llmsim-init-")
    const r = runCli(["init", "p"], parent)
    expect(r.status).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.stdout).toMatch(/^created an llmsim project in p: .*\nnext: cd p && llmsim run\n$/)
    const list = await runEffect(listText(path.join(parent, "p"), "scenarios"))
    expect(rowOf(list, "starter")).toMatch(/^starter\s+inline\s+80\s+H100-SXM\s+tp 8\s+configs\/scenarios\/starter\.yaml$/)
  })
})

describe("real CLI: list and schema", () => {
  it("list hardware prints the table; schema --out writes the files", () => {
    const dir = tempDir("llmsim-cli-")
    const list = runCli(["list", "hardware"], dir)
    expect(list.status).toBe(0)
    expect(rowOf(list.stdout, "H100-SXM")).toMatch(/^H100-SXM\s+989\s+1979\s+80\s/)
    const schema = runCli(["schema", "--out", "s"], dir)
    expect(schema.status).toBe(0)
    expect(fs.readdirSync(path.join(dir, "s")).sort()).toEqual(
      jsonSchemaFiles()
        .map((f) => f.file)
        .sort()
    )
  })
})

describe("llmsim schema", () => {
  it("--out writes every generated file", async () => {
    const dir = path.join(tempDir("llmsim-schema-"), "out")
    const written = await runEffect(writeSchemas(dir))
    expect(written.map((f) => path.basename(f))).toEqual(jsonSchemaFiles().map((f) => f.file))
    for (const f of jsonSchemaFiles()) expect(fs.readFileSync(path.join(dir, f.file), "utf8")).toBe(f.text)
  })
})

/**
 * `llmsim import hf`: through the real CLI, the README's newcomer path (import, then run), a
 * refused config with its file:line:col line and nothing written, and a ModelOpt FP8 checkpoint
 * folder (config.json + hf_quant_config.json) imported as FP8 and never written over; in process
 * (the command itself, on the bounded reader the CLI gives every command), what a target that
 * exists does with and without --force, the input size limit, and where a problem is positioned.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, FileSystem, Layer } from "effect"
import { Command } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { importCommand, keyPosition } from "../../src/cli/importHf.ts"
import { guardReads } from "../../src/config/safeRead.ts"
import { makeProject, REFERENCE, runCli } from "../helpers/cli.ts"
import { runInProcess, runOptions } from "../helpers/inProcess.ts"
import { removeTempDirs, tempDir } from "../helpers/temp.ts"

afterAll(removeTempDirs)

const FP8 = fileURLToPath(new URL("../fixtures/hf/nvidia-Llama-3.1-70B-Instruct-FP8", import.meta.url))

/** Every file under `dir` with its bytes (what "nothing written" compares). */
const snapshot = (dir: string): Record<string, string> =>
  Object.fromEntries(
    (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<fs.Dirent>)
      .filter((e) => e.isFile())
      .map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), fs.readFileSync(path.join(e.parentPath, e.name), "utf8")])
  )

// The CLI's FileSystem: bounded, regular-file-only reads (src/cli/main.ts).
const platform = Layer.effect(FileSystem.FileSystem, Effect.map(FileSystem.FileSystem, guardReads)).pipe(Layer.provideMerge(NodeServices.layer))

/**
 * `llmsim import ARGS` in this process: what it printed, or the message of its typed error (the
 * CLI prints `error: MESSAGE`, exit 1). Paths must be absolute (a worker has no chdir).
 */
const importInProcess = async (args: ReadonlyArray<string>): Promise<{ readonly out: string; readonly error?: string }> => {
  const chunks: Array<string> = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  const silent = new Proxy({}, { get: () => () => {} }) as Console.Console
  try {
    const run = Command.runWith(importCommand, { version: "test", renderErrors: false })(args).pipe(Effect.provideService(Console.Console, silent))
    const outcome = await Effect.runPromise(Effect.result(run).pipe(Effect.provide(platform)))
    return outcome._tag === "Success" ? { out: chunks.join("") } : { out: chunks.join(""), error: String((outcome.failure as { message?: string }).message) }
  } finally {
    process.stdout.write = write
  }
}

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

describe("a quantized checkpoint folder and files that exist (CLI)", () => {
  it("nvidia/Llama-3.1-70B-Instruct-FP8 (config.json + hf_quant_config.json): FP8 weights and KV cache; importing again writes nothing", async () => {
    const dir = makeProject()
    fs.cpSync(FP8, path.join(dir, "Llama-3.1-70B-Instruct-FP8"), { recursive: true })
    const first = runCli(["import", "hf", "Llama-3.1-70B-Instruct-FP8", "--tp", "8"], dir)
    expect(first.stderr).toBe("")
    expect(first.status).toBe(0)
    expect(first.stdout).toContain(
      "total 70.55B, active 70.55B parameters\n  precision: weights fp8, kv_cache fp8, lm_head bf16 (Llama-3.1-70B-Instruct-FP8/hf_quant_config.json)\n"
    )
    const scenario = "configs/scenarios/llama-3.1-70b-instruct-fp8.yaml"
    expect(fs.readFileSync(path.join(dir, scenario), "utf8")).toContain(
      "  kv_cache: fp8                # hf_quant_config.json quantization.kv_cache_quant_algo FP8\n"
    )
    // The run: per layer 80 GQA layers of 64 x 128 queries, 8 KV heads; tp 8.
    const run = await runInProcess(runOptions(dir, scenario, { noCache: true, runtime: { phase: "decode" } }))
    const layer = run.out.result.phases.decode!.layers[0]!
    // FP8 KV cache: 2 (K and V) x 8 heads x 128 x 1 byte / tp 8 = 256 bytes per token (BF16: 512).
    expect(layer.kv_cache_bytes_per_token).toBe(256)
    // FP8 weights, per GPU: (2 x 8192^2 + 2 x 8192 x 1024 + 3 x 8192 x 28672) / 8 = 106,954,752 bytes,
    // + two BF16 norms of 8192 (not split) = 32,768 -> 106,987,520 (BF16: 213,942,272, llama_3_1_70b_h100).
    expect(layer.weight_bytes).toBe(106_987_520)

    const before = snapshot(dir)
    const again = runCli(["import", "hf", "Llama-3.1-70B-Instruct-FP8", "--tp", "8"], dir)
    expect(again.status).toBe(1)
    expect(again.stdout).toBe("")
    expect(again.stderr).toBe(
      "error: import hf: configs/models/llama-3.1-70b-instruct-fp8/ffn_layer.yaml exists (and 1 more of the files to write); nothing written (pass --force to replace)\n"
    )
    expect(snapshot(dir)).toEqual(before)
  })
})

describe("import hf in process: existing files, --force, limits, positions", () => {
  const fp8Args = (dir: string, ...more: Array<string>) => [
    "hf",
    path.join(dir, "ckpt"),
    "--name",
    "l70",
    "--out",
    path.join(dir, "configs/models/l70"),
    "--scenario",
    path.join(dir, "configs/scenarios/l70.yaml"),
    ...more
  ]

  it("--force replaces the files, with the same bytes: re-importing is deterministic", async () => {
    const dir = tempDir("llmsim-import-")
    fs.cpSync(FP8, path.join(dir, "ckpt"), { recursive: true })
    expect((await importInProcess(fp8Args(dir))).error).toBeUndefined()
    const first = snapshot(path.join(dir, "configs"))
    expect((await importInProcess(fp8Args(dir))).error).toMatch(
      /^import hf: .*ffn_layer\.yaml exists \(and 1 more of the files to write\); nothing written \(pass --force to replace\)$/
    )
    const forced = await importInProcess(fp8Args(dir, "--force"))
    expect(forced.error).toBeUndefined()
    expect(forced.out).toContain("wrote")
    expect(snapshot(path.join(dir, "configs"))).toEqual(first)
  })

  it("a shipped model's name: refused, naming the file, the shipped templates and scenario unchanged (DeepSeek-V3.2's TPOT cannot move)", async () => {
    const dir = makeProject()
    const before = snapshot(dir)
    const r = await importInProcess([
      "hf",
      path.join(REFERENCE, "hf-configs", "deepseek-v3.2.json"),
      "--name",
      "deepseek-v3.2",
      "--out",
      path.join(dir, "configs/models/deepseek-v3.2"),
      "--scenario",
      path.join(dir, "configs/scenarios/deepseek-v3.2.yaml")
    ])
    expect(r.error).toBe(
      `import hf: ${path.join(dir, "configs/models/deepseek-v3.2/ffn_layer.yaml")} exists (and 1 more of the files to write); nothing written (pass --force to replace)`
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it("--scenario onto an existing file: refused, naming it, and no template written either", async () => {
    const dir = tempDir("llmsim-import-")
    fs.cpSync(FP8, path.join(dir, "ckpt"), { recursive: true })
    fs.mkdirSync(path.join(dir, "configs/scenarios"), { recursive: true })
    fs.writeFileSync(path.join(dir, "configs/scenarios/l70.yaml"), "mine\n")
    const r = await importInProcess(fp8Args(dir))
    expect(r.error).toBe(`import hf: ${path.join(dir, "configs/scenarios/l70.yaml")} exists; nothing written (pass --force to replace)`)
    expect(fs.existsSync(path.join(dir, "configs/models"))).toBe(false)
    expect(fs.readFileSync(path.join(dir, "configs/scenarios/l70.yaml"), "utf8")).toBe("mine\n")
  })

  it("a config.json over 4 MiB: the error names the size and the limit, not 'not found'", async () => {
    const dir = tempDir("llmsim-import-")
    const text = fs.readFileSync(path.join(REFERENCE, "hf-configs", "qwen3-32b.json"), "utf8")
    const big = path.join(dir, "big.json")
    fs.writeFileSync(big, `${text.trimEnd().slice(0, -1)},\n  "_pad": "${"x".repeat(5 * 1024 * 1024)}"\n}\n`)
    expect((await importInProcess(["hf", big, "--out", path.join(dir, "m"), "--scenario", path.join(dir, "s.yaml")])).error).toBe(
      `${big}:1:1: cannot read: 5.0 MiB, over the 4.0 MiB limit for input files`
    )
  })

  it("hidden_size 1e300: one positioned line at the key, nothing written", async () => {
    const dir = tempDir("llmsim-import-")
    fs.cpSync(FP8, path.join(dir, "ckpt"), { recursive: true })
    const file = path.join(dir, "ckpt/config.json")
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"hidden_size": 8192', '"hidden_size": 1e300'))
    const r = await importInProcess(fp8Args(dir))
    expect(r.error).toBe(`${file}:15:3 hidden_size: expected a positive integer of at most 1048576 (a model size), got 1e+300`)
    expect(fs.existsSync(path.join(dir, "configs"))).toBe(false)
  })

  it("a problem in hf_quant_config.json is positioned in that file", async () => {
    const dir = tempDir("llmsim-import-")
    fs.cpSync(FP8, path.join(dir, "ckpt"), { recursive: true })
    const file = path.join(dir, "ckpt/hf_quant_config.json")
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"quant_algo": "FP8"', '"quant_algo": "FP6"'))
    const r = await importInProcess(fp8Args(dir))
    // "quant_algo" is on line 7 of the published file, indented 6.
    expect(r.error).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:7:7 quantization\.quant_algo: expected one of NONE, FP8, `))
  })

  it("keyPosition: the deepest key along a dotted path, keys holding dots included", () => {
    const text = '{\n  "a": 1,\n  "q": {\n    "layers": {"model.layers.0.mlp": {"quant_algo": "X"}},\n    "a": 2\n  }\n}'
    expect(keyPosition(text, "a")).toEqual({ line: 2, col: 3 })
    expect(keyPosition(text, "q.a")).toEqual({ line: 5, col: 5 })
    expect(keyPosition(text, "q.layers.model.layers.0.mlp.quant_algo")).toEqual({ line: 4, col: 39 })
    expect(keyPosition(text, "q.missing")).toEqual({ line: 3, col: 3 })
    expect(keyPosition(text, "")).toEqual({ line: 1, col: 1 })
  })
})

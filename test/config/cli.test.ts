/**
 * No silent wrong number, through the real CLI: a config that used to print a wrong result with
 * exit 0 now exits 1 with one positioned line on stderr and nothing on stdout. One spawn per
 * case; the rules themselves are tested in process (validate.test.ts, test/schema,
 * test/kernel/layout.test.ts).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"

const edit = (dir: string, file: string, from: RegExp, to: string) => {
  const p = path.join(dir, file)
  const text = fs.readFileSync(p, "utf8")
  expect(text).toMatch(from)
  fs.writeFileSync(p, text.replace(from, to))
}

const expectRefused = (r: ReturnType<typeof runCli>, line: string) => {
  expect(r.status).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain(line)
  expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
}

describe("refused instead of a wrong number", () => {
  it("Llama-3.1-70B TP8 with efficiency.compute 0 (was 2,725 decode tokens/s per GPU instead of 160)", () => {
    const dir = makeProject()
    edit(dir, "configs/hardware/H100-SXM.yaml", /^ {2}compute: 0\.815 /m, "  compute: 0     ")
    // "  compute: " is 11 characters: the value starts at column 12 of line 30.
    expectRefused(runCli(["run", LLAMA, "--no-cache"], dir), "configs/hardware/H100-SXM.yaml:30:12 efficiency.compute: Expected a value greater than 0")
  })

  it("7 KV heads for 64 query heads, positioned in the layer template", () => {
    const dir = makeProject()
    edit(dir, "configs/models/llama-3.1-70b/ffn_layer_config.yaml", /num_key_value_heads: 8 /, "num_key_value_heads: 7 ")
    // "  num_key_value_heads: " is 23 characters: column 24 of line 8.
    expectRefused(
      runCli(["run", LLAMA, "--no-cache"], dir),
      "configs/models/llama-3.1-70b/ffn_layer_config.yaml:8:24 attn_config.num_key_value_heads: Expected a divisor of num_attention_heads 64 (each KV head serves an equal group of query heads), got 7"
    )
  })

  it("--micro-batch 32 with a batch of 16 names the flag", () => {
    const dir = makeProject()
    expectRefused(runCli(["run", LLAMA, "--no-cache", "--micro-batch", "32"], dir), "--micro-batch: micro_batch 32 is more than the batch of 16 sequences (the scenario's runtime.batch_size)")
  })
})

describe("warned, not refused", () => {
  it("a scenario without lm_head runs (exit 0) and says once on stderr what is left out", () => {
    const dir = makeProject()
    edit(dir, "configs/scenarios/deepseek_v3_a100.yaml", /^lm_head: none\n/m, "")
    const r = runCli(["run", "configs/scenarios/deepseek_v3_a100.yaml", "--no-cache", "--format", "json"], dir)
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).phases.decode.layers).toHaveLength(2)
    expect(r.stderr).toMatch(/^warning: configs\/scenarios\/deepseek_v3_a100\.yaml:\d+:\d+ lm_head: no lm_head: the embedding and LM head \(weights, time, logits\) are left out; write `lm_head: none` if that is meant\n$/)
  })
})

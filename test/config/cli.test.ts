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
    // "  compute: " is 11 characters: the value starts at column 12 of line 35.
    expectRefused(
      runCli(["run", LLAMA, "--no-cache"], dir),
      "configs/hardware/H100-SXM.yaml:35:12 efficiency.compute: Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0"
    )
  })

  it("7 KV heads for 64 query heads, positioned in the layer template", () => {
    const dir = makeProject()
    edit(dir, "configs/models/llama-3.1-70b/ffn_layer_config.yaml", /num_key_value_heads: 8 /, "num_key_value_heads: 7 ")
    // "  num_key_value_heads: " is 23 characters: column 24 of line 8.
    expectRefused(
      runCli(["run", LLAMA, "--no-cache"], dir),
      "configs/models/llama-3.1-70b/ffn_layer_config.yaml:9:24 attn_config.num_key_value_heads: Expected a divisor of num_attention_heads 64 (each KV head serves an equal group of query heads), got 7"
    )
  })

  it("--micro-batch 32 with a batch of 16 names the flag", () => {
    const dir = makeProject()
    expectRefused(
      runCli(["run", LLAMA, "--no-cache", "--micro-batch", "32"], dir),
      "--micro-batch: micro_batch 32 is more than the batch of 16 sequences (the scenario's runtime.batch_size)"
    )
  })
})

describe("warned, not refused", () => {
  it("a scenario without lm_head runs (exit 0) and says once on stderr what is left out", () => {
    const dir = makeProject()
    edit(dir, "configs/scenarios/deepseek_v3_a100.yaml", /^lm_head: none\n/m, "")
    const r = runCli(["run", "configs/scenarios/deepseek_v3_a100.yaml", "--no-cache", "--format", "json"], dir)
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).phases.decode.layers).toHaveLength(2)
    expect(r.stderr).toMatch(
      /^warning: configs\/scenarios\/deepseek_v3_a100\.yaml:\d+:\d+ lm_head: no lm_head: the embedding and LM head \(weights, time, logits\) are left out; write `lm_head: none` if that is meant\n$/
    )
  })
})

describe("refused instead of a wrong number: cross-field and layout checks (several per spawn)", () => {
  // A load reports every cross-field issue at once, one positioned line each.
  const lines = (r: ReturnType<typeof runCli>) =>
    r.stderr
      .replace(/^error: /, "")
      .trimEnd()
      .split("\n")

  it("DeepSeek-V3: top-k above the experts, topk_group above n_group, lm_head.d_model unlike the layers'", () => {
    const dir = makeProject()
    edit(dir, "configs/models/deepseek-v3/moe_layer_config.yaml", /num_experts_per_tok: 8 /, "num_experts_per_tok: 300 ")
    edit(dir, "configs/models/deepseek-v3/moe_layer_config.yaml", /topk_group: 4 /, "topk_group: 9 ")
    edit(dir, "configs/scenarios/deepseek_v3_h800.yaml", /d_model: 7168 {3}/, "d_model: 7000    ")
    const r = runCli(["run", "configs/scenarios/deepseek_v3_h800.yaml", "--no-cache"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const l = lines(r)
    expect(l).toContainEqual(
      expect.stringMatching(
        /^configs\/models\/deepseek-v3\/moe_layer_config\.yaml:22:24 moe_config\.num_experts_per_tok: Expected at most n_routed_experts 256 experts per token, got 300$/
      )
    )
    expect(l).toContainEqual(expect.stringMatching(/^configs\/models\/deepseek-v3\/moe_layer_config\.yaml:26:\d+ moe_config\.topk_group: .*n_group 8.*got 9/))
    expect(l).toContainEqual("configs/scenarios/deepseek_v3_h800.yaml:31:12 lm_head.d_model: Expected the layers' d_model 7168, got 7000")
  })

  it("Qwen3-235B: more KV heads than query heads, n_group not dividing the experts", () => {
    const dir = makeProject()
    edit(dir, "configs/models/qwen3-235b-a22b/moe_layer_config.yaml", /num_key_value_heads: 4 /, "num_key_value_heads: 128 ")
    edit(dir, "configs/models/qwen3-235b-a22b/moe_layer_config.yaml", /^moe_config:\n/m, "moe_config:\n  n_group: 7\n")
    const r = runCli(["run", "configs/scenarios/qwen3_235b_h100.yaml", "--no-cache"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(lines(r)).toEqual([
      "configs/models/qwen3-235b-a22b/moe_layer_config.yaml:9:24 attn_config.num_key_value_heads: Expected at most num_attention_heads 64 KV heads, got 128",
      "configs/models/qwen3-235b-a22b/moe_layer_config.yaml:14:12 moe_config.n_group: Expected a divisor of n_routed_experts 128 (experts are split into equal groups), got 7"
    ])
  })

  it("layout: ep above tp*dp on a dense model; --ep 7; a comm layer over more ranks than GPUs", () => {
    const dir = makeProject()
    edit(dir, LLAMA, /^ {2}tp: 8 /m, "  tp: 8\n  ep: 16 ")
    const dense = runCli(["run", LLAMA, "--no-cache"], dir)
    expectRefused(dense, `${LLAMA}:24:7 parallelism.ep: ep 16 does not divide the 8 GPUs (attention tp 8 x dp 1)`)
    const ep7 = runCli(["large-ep", "evaluate", "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml", "--ep", "7", "--no-cache"], dir)
    expectRefused(ep7, "error: --ep: ep 7 does not divide the 8 GPUs of a node")
    fs.writeFileSync(path.join(dir, "comm.yaml"), "comm_config:\n  payload_mb: 64\n  pattern: all_reduce\n  num_ranks: 64\n")
    fs.writeFileSync(
      path.join(dir, "comm_scenario.yaml"),
      "hardware: configs/hardware/H100-SXM.yaml\nlm_head: none\nlayers:\n  - type: comm_layer\n    config: comm.yaml\nparallelism:\n  tp: 8\n"
    )
    const comm = runCli(["run", "comm_scenario.yaml", "--no-cache"], dir)
    expectRefused(
      comm,
      "comm_scenario.yaml:5:13 layers.0.config: layers.0 (comm_layer): comm_config.num_ranks 64 is more than the 8 GPUs of the unit (attention tp 8 x dp 1)"
    )
  })
})

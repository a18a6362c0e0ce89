/**
 * `llmsim run` end to end: the JSON contract, the table, CSV, and model-level FLOP totals
 * derived by hand from the published configs. Outputs come from the command's entry point in
 * process (test/helpers/inProcess.ts), printed by the command's renderer; --out and the exit
 * status are checked on the real CLI.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, REFERENCE, runCli } from "../helpers/cli.ts"
import { runFailure, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { renderRun } from "../../src/report/run.ts"

const hf = (name: string) => JSON.parse(fs.readFileSync(path.join(REFERENCE, "hf-configs", `${name}.json`), "utf8"))

describe("llmsim run", () => {
  const dir = makeProject()
  /** What `llmsim run SCENARIO [--batch B --seq S --phase P] --format F` prints, in process. */
  const print = async (scenario: string, format: "table" | "json" | "csv", runtime: Record<string, unknown> = {}) =>
    (await runInProcess(runOptions(dir, scenario, { runtime }))).text(format)

  it("emits the JSON contract for the default DeepSeek-V3 H800 scenario", async () => {
    const j = JSON.parse(await print("configs/scenarios/deepseek_v3_h800.yaml", "json", { batch_size: 8, seq_len: 4096 }))
    for (const k of ["scenario", "hardware", "runtime", "phases", "serving"]) expect(j).toHaveProperty(k)
    expect(j.runtime).toMatchObject({ batch_size: 8, seq_len: 4096, phase: "both" })
    for (const phase of ["prefill", "decode"]) {
      const p = j.phases[phase]
      for (const k of ["layers", "total_latency_ms", "total_flops", "total_bytes", "peak_memory_bytes", "bottleneck_layer"]) expect(p).toHaveProperty(k)
      // 3 dense + 58 MoE + the LM head as its own entry
      expect(p.layers).toHaveLength(62)
      const names = p.layers.map((l: any) => l.layer_name)
      expect(new Set(names).size).toBe(62)
      expect(names[0]).toBe("L0.ffn_layer")
      expect(names[17]).toBe("L17.moe_layer")
      expect(names[61]).toBe("L61.lm_head")
      expect(p.layers.filter((l: any) => l.layer_type === "ffn_layer")).toHaveLength(3)
      expect(p.layers.filter((l: any) => l.layer_type === "moe_layer")).toHaveLength(58)
      const l = p.layers[17]
      for (const k of [
        "layer_name",
        "layer_type",
        "flops",
        "bytes_read",
        "bytes_written",
        "compute_time_ms",
        "memory_time_ms",
        "dominant_latency_ms",
        "estimated_execution_time_ms",
        "features",
        "breakdown"
      ])
        expect(l).toHaveProperty(k)
      expect(l.estimated_execution_time_ms).toBe(l.dominant_latency_ms)
      for (const v of Object.values(l.features)) expect(typeof v).toBe("number")
      for (const op of l.breakdown) {
        for (const k of ["op", "category", "flops", "bytes_read", "bytes_written", "compute_time_ms", "memory_time_ms", "dominant_latency_ms"])
          expect(op).toHaveProperty(k)
        expect(["attention_linear", "attention_core", "ffn", "moe_router", "moe_experts", "moe_shared", "comm", "lm_head", "other"]).toContain(op.category)
        if (op.category !== "comm") expect(op.dominant_latency_ms).toBeGreaterThanOrEqual(Math.max(op.compute_time_ms, op.memory_time_ms))
      }
      // Totals are sums over layers.
      const sum = p.layers.reduce((a: number, x: any) => a + x.dominant_latency_ms, 0)
      expect(p.total_latency_ms).toBeCloseTo(sum, 9)
      expect(names).toContain(p.bottleneck_layer)
    }
    for (const k of ["ttft_ms", "tpot_ms", "throughput_tokens_per_s", "fits_in_hbm"]) expect(j.serving).toHaveProperty(k)
    expect(j.serving.ttft_ms).toBeCloseTo(j.phases.prefill.total_latency_ms, 9)
    expect(j.serving.tpot_ms).toBeCloseTo(j.phases.decode.total_latency_ms, 9)
    // 8 sequences per DP rank x 16 DP ranks, one token each per decode step.
    expect(j.serving.throughput_tokens_per_s).toBeCloseTo((8 * 16 * 1000) / j.serving.tpot_ms, 6)
  })

  it("DeepSeek-V3 decode at batch 1, seq 1 costs 2 x active parameters (73.25 GFLOP)", async () => {
    const c = hf("deepseek-v3")
    const h = c.hidden_size
    const heads = c.num_attention_heads
    const mla =
      h * c.q_lora_rank +
      c.q_lora_rank * heads * (c.qk_nope_head_dim + c.qk_rope_head_dim) +
      h * (c.kv_lora_rank + c.qk_rope_head_dim) +
      c.kv_lora_rank * heads * (c.qk_nope_head_dim + c.v_head_dim) +
      heads * c.v_head_dim * h
    const dense = 3 * h * c.intermediate_size
    const moe = (c.num_experts_per_tok + c.n_shared_experts) * 3 * h * c.moe_intermediate_size + h * c.n_routed_experts
    const active = c.num_hidden_layers * mla + c.first_k_dense_replace * dense + (c.num_hidden_layers - c.first_k_dense_replace) * moe + h * c.vocab_size
    expect((2 * active) / 1e9).toBeCloseTo(73.25, 2)
    const total = JSON.parse(await print("configs/scenarios/deepseek_v3_h800.yaml", "json", { batch_size: 1, seq_len: 1, phase: "decode" })).phases.decode
      .total_flops
    expect(Math.abs(total / (2 * active) - 1)).toBeLessThan(0.005)
  })

  it("Llama-3.1-70B decode at batch 1, seq 1 costs 139.0 GFLOP", async () => {
    const c = hf("llama-3.1-70b")
    const h = c.hidden_size
    const hd = h / c.num_attention_heads
    const layer = h * h + 2 * h * c.num_key_value_heads * hd + h * h + 3 * h * c.intermediate_size
    const active = c.num_hidden_layers * layer + h * c.vocab_size
    expect((2 * active) / 1e9).toBeCloseTo(139.0, 1)
    const j = JSON.parse(await print("configs/scenarios/llama_3_1_70b_h100.yaml", "json", { batch_size: 1, seq_len: 1, phase: "decode" }))
    // The scenario runs TP8: each GPU does 1/8 of the model's FLOPs.
    expect(j.parallelism.tp).toBe(8)
    const total = j.phases.decode.total_flops * 8
    expect(Math.abs(total / (2 * active) - 1)).toBeLessThan(0.005)
  })

  it("prints the table with every section, and CSV with one row per layer and phase", async () => {
    const t = { stdout: await print("configs/scenarios/deepseek_v3_h800.yaml", "table", { batch_size: 8, seq_len: 4096 }) }
    for (const s of [
      "== prefill (per GPU) ==",
      "== decode (per GPU) ==",
      "== serving ==",
      "bottleneck layer:",
      "peak memory per GPU:",
      "TTFT ms",
      "TPOT ms",
      "compute ms",
      "memory ms",
      "dominant ms",
      "TOTAL"
    ])
      expect(t.stdout).toContain(s)
    // The default screen: DeepSeek-V3's 3 dense and 58 MoE layers as one row each, in about 40 lines.
    expect(t.stdout).toMatch(/^L0-L2 +ffn_layer +x3 /m)
    expect(t.stdout).toMatch(/^L3-L60 +moe_layer +x58 /m)
    expect(t.stdout).toMatch(/^L61 +lm_head +x1 /m)
    expect(t.stdout).not.toContain("L60.moe_layer")
    expect(t.stdout.trimEnd().split("\n").length).toBeLessThanOrEqual(41)
    // Every figure of the default screen is the JSON's, at the table's precision.
    const j = JSON.parse(await print("configs/scenarios/deepseek_v3_h800.yaml", "json", { batch_size: 8, seq_len: 4096 }))
    const moe = j.phases.prefill.layers.slice(3, 61)
    expect(new Set(moe.map((l: any) => l.dominant_latency_ms)).size).toBe(1)
    const row = t.stdout
      .split("\n")
      .find((l) => l.startsWith("L3-L60"))!
      .split(/ +/)
    expect(row.slice(3, 11)).toEqual([
      (moe[0].flops / 1e9).toFixed(3),
      ((moe[0].bytes_read + moe[0].bytes_written) / 1e6).toFixed(3),
      (moe[0].comm_bytes / 1e6).toFixed(3),
      moe[0].compute_time_ms.toFixed(4),
      moe[0].memory_time_ms.toFixed(4),
      moe[0].comm_time_ms.toFixed(4),
      moe[0].dominant_latency_ms.toFixed(4),
      "comm"
    ])
    // The H800 file's fitted constants (configs/hardware/H800-SXM.yaml), before the runtime line.
    expect(t.stdout.split("\n")[2]).toMatch(
      /^efficiency calibrated: compute 0\.835, memory 0\.787, kernel_latency_us 1\.17, tile per GEMM \(fewest waves\), sm_load_gbps 69\.6, attention_compute 0\.724, attention_memory 0\.897/
    )
    expect(j.efficiency).toMatchObject({ status: "calibrated", constants: { compute: 0.835, tile: "per GEMM (fewest waves)" } })
    // Where they come from (the file's calibration: block): every constant fitted on H800 data.
    expect(t.stdout.split("\n")[3]).toBe(
      "calibration fitted: every constant (data: deepgemm_dense_h800.csv, flashmla.yaml, deepseek_inference_overview.yaml, deepseek_profile_serving.yaml)"
    )
    expect(j.calibration.status).toBe("fitted")
    expect(j.calibration.constants.compute).toMatchObject({ status: "fitted", rows: 18, error: { median_pct: 2.8 } })
    expect(t.stdout.split("\n")[5]).toBe(
      `verdict: fits in HBM (${(j.serving.peak_memory_bytes / 1e9).toFixed(2)} of ${(j.serving.hbm_bytes_per_gpu / 1e9).toFixed(2)} GB per GPU); ` +
        `TTFT ${j.serving.ttft_ms.toFixed(3)} ms, TPOT ${j.serving.tpot_ms.toFixed(3)} ms; ` +
        `bottleneck: prefill comm-bound (${j.phases.prefill.bottleneck_layer}), decode memory-bound (${j.phases.decode.bottleneck_layer})`
    )
    const all = await runInProcess(runOptions(dir, "configs/scenarios/deepseek_v3_h800.yaml", { runtime: { batch_size: 8, seq_len: 4096 } }))
    expect(renderRun(all.out.result, "table", { layers: "all" })).toMatch(/^L60\.moe_layer +moe_layer /m)
    const c = { stdout: await print("configs/scenarios/deepseek_v3_h800.yaml", "csv") }
    const lines = c.stdout.trim().split("\n")
    expect(lines[0]).toMatch(/^phase,layer_name,layer_type,flops,bytes_read,bytes_written,comm_bytes,compute_time_ms,memory_time_ms/)
    expect(lines).toHaveLength(1 + 2 * 62)
  })

  it("writes --out atomically and runs the spec's A100 scenario (real CLI)", () => {
    const out = path.join(dir, "a100.json")
    const r = runCli(["run", "configs/scenarios/deepseek_v3_a100.yaml", "--batch", "8", "--seq", "4096", "--format", "json", "--out", out], dir)
    expect(r.status).toBe(0)
    expect(r.stdout).toBe("")
    const j = JSON.parse(fs.readFileSync(out, "utf8"))
    expect(j.phases.prefill.layers.map((l: any) => l.layer_name)).toEqual(["L0.ffn_layer", "L1.moe_layer"])
  })

  it("LLMSIM_DEBUG=progress prints one line per milestone on stderr, and a replay prints none (real CLI)", () => {
    const args = ["run", "configs/scenarios/llama_3_1_70b_h100.yaml", "--format", "json", "--cache-dir", "progress-store"]
    const env = { LLMSIM_DEBUG: "progress" }
    const first = runCli(args, dir, env)
    expect(first.status, first.stderr).toBe(0)
    const entries = first.stderr.match(/store: writing (\d+) entries/)?.[1]
    expect(first.stderr.split("\n").filter(Boolean)).toEqual(
      [
        "loaded configs/scenarios/llama_3_1_70b_h100.yaml: 1 layer entry",
        ...["prefill", "decode"].flatMap((p) => [`${p}: planning 1 layer entry`, `${p}: evaluating 2 layer nodes`, `${p}: evaluated`]),
        `store: writing ${entries} entries`,
        "store: written"
      ].map((l) => `llmsim progress: ${l}`)
    )
    expect(Number(entries)).toBeGreaterThan(0)
    // The same command again is replayed from its record: the same result, no evaluation, no milestone.
    const second = runCli(args, dir, env)
    expect(second.status).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    expect(second.stderr).toBe("")
  })

  it("takes the layout of a scenario without `parallelism` from its deployment block", async () => {
    const j = JSON.parse(await print("configs/scenarios/deepseek_v3_h800_decode_ep144.yaml", "json"))
    // deployment: 18 nodes x 8 GPUs, attention tp 1 x dp 144, ep 144, 32 redundant experts.
    expect(j.parallelism).toEqual({ tp: 1, dp: 144, ep: 144 })
    expect(j.serving.gpus).toBe(144)
    const moe = j.phases.decode.layers.find((l: any) => l.layer_type === "moe_layer")
    // (256 + 32) / 144 = 2 expert slots x 3 x 7168 x 2048 FP8 bytes, + router (256 x 7168 BF16)
    // + one shared expert (3 x 7168 x 2048 FP8 bytes), + the replicated MLA projections in FP8
    // (7168*1536 + 1536*128*192 + 7168*576 + 512*128*256 + 128*128*7168 = 187,105,280)
    // + BF16 RMSNorm weights (input and post-attention 7168 each, q_a 1536, kv_a 512).
    const mla = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168
    const norms = (7168 + 7168 + 1536 + 512) * 2
    expect(moe.weight_bytes).toBe(2 * 3 * 7168 * 2048 + 256 * 7168 * 2 + 3 * 7168 * 2048 + mla + norms)
  })

  it("reports a bad deployment field with its position", async () => {
    const bad = makeProject()
    const f = path.join(bad, "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml")
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/^  ep: 144/m, "  ep: many"))
    const e = await runFailure(runOptions(bad, "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"))
    expect(e._tag).toBe("ConfigError") // exit 1
    expect(`error: ${e.message}`).toMatch(/deepseek_v3_h800_decode_ep144\.yaml:\d+:\d+ deployment\.ep: Expected/)
  })
})

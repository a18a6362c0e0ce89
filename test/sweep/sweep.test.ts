/**
 * `llmsim sweep` end to end, in process, on Llama-3.1-70B (80 dense layers, BF16, one GPU, no
 * LM head), where memory and a memory-bound TPOT can be worked out by hand:
 *   weights per layer  attention (d (h + 2 kvh) hd + h hd d) x 2 B = (8192 x 80 x 128 + 64 x 128 x 8192) x 2
 *                        = 301,989,888; SwiGLU FFN 3 x 8192 x 28672 x 2 = 1,409,286,144;
 *                      two norms 2 x 8192 x 2 = 32,768: 1,711,308,800 B; x 80 = 136,904,704,000 B
 *   KV per token       2 (K, V) x 8 heads x 128 x 2 B x 80 layers = 327,680 B
 *   decode activations per sequence (the widest layer: residual + normed input 2 x 8192, and the
 *                      FFN's gate+up, activation and down outputs 2 x 28672 + 28672 + 8192) x 2 B
 *                      = (16,384 + 94,208) x 2 = 221,184 B
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeProject, REPO } from "../helpers/cli.ts"
import { mergeInProcess, runEffect, runOptions, sweepFailure, sweepInProcess } from "../helpers/inProcess.ts"
import { collectGarbage, listPackFiles, storeStats } from "../../src/graph/maintenance.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import type { SweepOptions } from "../../src/sweep/run.ts"

const W = 80 * (301_989_888 + 1_409_286_144 + 32_768)
const KV_PER_TOKEN = 327_680
const ACT_PER_SEQ = 221_184

let dir: string
beforeAll(() => {
  dir = makeProject("llmsim-sweep-")
  const hw = (name: string, hbm: number, extra = "") =>
    fs.writeFileSync(
      path.join(dir, "configs/hardware", `${name}.yaml`),
      `name: ${name}\npeak_tflops: 1000000\nmemory_bandwidth_gbps: 4000\nhbm_gb: ${hbm}\ninterconnect_gbps: 900\nmax_concurrency: 1\noverlap_efficiency: 0\n${extra}`
    )
  hw("test-141", 141, "price_per_gpu_hour_usd: 3.6\n")
  hw("test-1000", 1000)
  const scenario = (name: string, hardware: string, extra = "") =>
    fs.writeFileSync(
      path.join(dir, "configs/scenarios", `${name}.yaml`),
      `hardware: configs/hardware/${hardware}.yaml
layers:
  - type: ffn_layer
    config: configs/models/llama-3.1-70b/ffn_layer_config.yaml
    repeat: 80
lm_head: none
runtime:
  batch_size: 1
  seq_len: 1024
  phase: decode
${extra}`
    )
  scenario("llama-141", "test-141")
  scenario("llama-1000", "test-1000")
  scenario(
    "llama-block",
    "test-141",
    `sweep:
  axes:
    batch: "1..16:x2"
  constraints:
    max_tpot_ms: 1000
`
  )
  // A hardware file beside the scenario, named by the block as any path in a scenario.
  fs.copyFileSync(path.join(dir, "configs/hardware/test-1000.yaml"), path.join(dir, "configs/scenarios/beside.yaml"))
  scenario(
    "llama-blockhw",
    "test-141",
    `sweep:
  axes:
    hardware: [beside.yaml]
    batch: "32"
`
  )
  scenario(
    "llama-outsidehw",
    "test-141",
    `sweep:
  axes:
    hardware: [../../../elsewhere.yaml]
`
  )
  scenario(
    "llama-badblock",
    "test-141",
    `sweep:
  axes:
    batch: "8..1"
`
  )
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const options = (scenario: string, over: Partial<SweepOptions> = {}, efficiency: "hardware" | "none" = "none", noCache = true): SweepOptions => ({
  run: runOptions(dir, `configs/scenarios/${scenario}.yaml`, { efficiency, noCache }),
  axes: {},
  constraints: {},
  workers: 1,
  ...over
})

describe("sweep: memory and constraints worked by hand", () => {
  it("the largest batch that fits is the hand formula's, and batch + 1 is rejected for HBM", async () => {
    // capacity 141e9: (141e9 - W) / (1024 x KV_PER_TOKEN + ACT_PER_SEQ) = 4,095,296,000 / 335,765,504 = 12.197
    const perSeq = 1024 * KV_PER_TOKEN + ACT_PER_SEQ
    const expected = Math.floor((141e9 - W) / perSeq)
    expect(expected).toBe(12)
    const r = await sweepInProcess(options("llama-141", { axes: { batch: "1..16" } }))
    const best = r.outcome.best.tokens_per_s_per_gpu!
    expect(best.batch).toBe(12)
    expect(best.max_batch).toBe(12)
    expect(best.memory_per_gpu_bytes).toBe(W + 12 * perSeq)
    expect(best.weights_bytes).toBe(W)
    const up = r.outcome.neighbours.tokens_per_s_per_gpu!.find((n) => n.axis === "batch" && n.value === 13)!
    expect(up.feasible).toBe(false)
    expect(up.rejected_by).toBe(`hbm: ${((W + 13 * perSeq) / 1e9).toFixed(1)} GB per GPU > 141.0 GB`)
    expect(r.outcome.stats).toMatchObject({ points: 16, feasible: 12, rejected: { hbm: 4 } })
  })

  it("a TPOT limit picks the batch a hand roofline picks (memory-bound decode: weights once, KV per sequence)", async () => {
    // Speed of light, compute 1e6 TFLOPS: every op is memory-bound, so TPOT ~ (W + b x 8192 x KV_PER_TOKEN) / 4000 GB/s
    // (plus activation traffic, ~1% of a sequence's KV). Limit halfway between batch 6 and 7.
    const base = (W / 4e12) * 1e3
    const perSeq = ((8192 * KV_PER_TOKEN) / 4e12) * 1e3
    const limit = base + 6.5 * perSeq
    const r = await sweepInProcess(options("llama-1000", { axes: { batch: "1..10", seq: "8192" }, constraints: { tpot_ms_max: limit } }))
    const best = r.outcome.best.tokens_per_s_per_gpu!
    expect(best.batch).toBe(6)
    expect(best.tpot_ms!).toBeGreaterThan(base + 6 * perSeq)
    expect(best.tpot_ms! / (base + 6 * perSeq)).toBeLessThan(1.01)
    const up = r.outcome.neighbours.tokens_per_s_per_gpu!.find((n) => n.value === 7)!
    expect(up.rejected_by).toMatch(/^tpot: [\d.]+ ms > [\d.]+ ms$/)
    // tokens/s per user is best at batch 1 (the fastest step); tokens/s per GPU = batch x 1000 / TPOT.
    expect(r.outcome.best.tokens_per_s_per_user!.batch).toBe(1)
    expect(best.tokens_per_s_per_gpu).toBeCloseTo((6 * 1000) / best.tpot_ms!, 9)
    expect(r.outcome.frontier.map((x) => x.batch)).toEqual([6, 5, 4, 3, 2, 1])
  })

  it("prices tokens with the hardware file's price_per_gpu_hour_usd, or the flag's", async () => {
    const r = await sweepInProcess(options("llama-141", { axes: { batch: "4" } }))
    const b = r.outcome.best.tokens_per_s_per_gpu!
    expect(b.price_per_gpu_hour_usd).toBe(3.6)
    expect(b.cost_per_1m_output_tokens_usd).toBeCloseTo((3.6 / (b.tokens_per_s_per_gpu! * 3600)) * 1e6, 12)
    const f = await sweepInProcess(options("llama-141", { axes: { batch: "4" }, price_per_gpu_hour_usd: 7.2 }))
    expect(f.outcome.best.tokens_per_s_per_gpu!.cost_per_1m_output_tokens_usd).toBeCloseTo(2 * b.cost_per_1m_output_tokens_usd!, 12)
  })

  it("a hardware axis prints the best point per hardware, and names hardware without efficiency constants", async () => {
    const hws = "configs/hardware/test-141.yaml,configs/hardware/test-1000.yaml"
    const r = await sweepInProcess(options("llama-141", { axes: { hardware: hws, batch: "1..32:x2" } }, "hardware"))
    expect(r.header.group_by).toEqual({ axis: "hardware", objective: "tokens_per_s_per_gpu" })
    // 141 GB holds at most 12 sequences (above): batch 8; 1000 GB holds all 32.
    expect(r.outcome.best_by.map((b) => [b.hardware, b.batch])).toEqual([
      ["configs/hardware/test-141.yaml", 8],
      ["configs/hardware/test-1000.yaml", 32]
    ])
    expect(r.header.uncalibrated_hardware).toEqual(["configs/hardware/test-141.yaml", "configs/hardware/test-1000.yaml"])
    const e = await sweepFailure(options("llama-141", { axes: { batch: "1,2" }, by: "ep" }))
    expect((e as { message: string }).message).toBe("--by ep: not an axis of this sweep (swept: batch)")
  })

  it("the scenario's sweep block sets axes and constraints; a bad axis there is positioned", async () => {
    const r = await sweepInProcess(options("llama-block"))
    expect(r.header.axes).toEqual({ batch: [1, 2, 4, 8, 16] })
    expect(r.header.constraints).toEqual({ tpot_ms_max: 1000 })
    // Its hardware paths resolve against the scenario's folder first (beside.yaml: 1000 GB holds batch 32).
    const hw = await sweepInProcess(options("llama-blockhw"))
    expect(hw.header.axes.hardware).toEqual(["beside.yaml"])
    expect(hw.outcome.best.tokens_per_s_per_gpu?.hardware).toBe("beside.yaml")
    const outside = await sweepFailure(options("llama-outsidehw"))
    expect((outside as { message: string }).message).toMatch(
      /^configs\/scenarios\/llama-outsidehw\.yaml:13:\d+ sweep\.axes\.hardware: \.\.\/\.\.\/\.\.\/elsewhere\.yaml is outside the project root /
    )
    const e = await sweepFailure(options("llama-badblock"))
    expect(String((e as { message: string }).message)).toMatch(
      /^configs\/scenarios\/llama-badblock\.yaml:13:\d+ sweep\.axes\.batch: range 8\.\.1 runs backwards/
    )
  })
})

describe("sweep: the build graph, shards and workers", () => {
  it("re-running computes no point; extending the batch axis computes only the new points", async () => {
    const cached = (batch: string) => options("llama-141", { axes: { batch, seq: "1024,2048" } }, "none", false)
    const first = await sweepInProcess(cached("1..8"))
    expect(first.outcome.stats).toMatchObject({ computed: 16, replayed: 0 })
    const again = await sweepInProcess(cached("1..8"))
    expect(again.outcome.stats).toMatchObject({ computed: 0, replayed: 16 })
    expect(again.outcome.frontier).toEqual(first.outcome.frontier)
    const more = await sweepInProcess(cached("1..12"))
    expect(more.outcome.stats).toMatchObject({ computed: 8, replayed: 16 })

    // The packs are store entries to `cache stats`, `verify` (content digest) and `gc`.
    const store = path.join(dir, "cache")
    expect(storeStats(store).by_kind["sweep-point-pack"]).toMatchObject({ entries: 2 })
    const [pack] = listPackFiles(store)
    fs.appendFileSync(pack.file, "torn")
    const report = await runEffect(verifyStore(store, NODE_TYPES))
    expect(report).toMatchObject({ corrupt: 1, corrupt_removed: 1 })
    const rerun = await sweepInProcess(cached("1..12"))
    // The torn pack is a miss: its points (the first sweep's 16 or the extension's 8) are computed again.
    expect(rerun.outcome.stats.computed + rerun.outcome.stats.replayed).toBe(24)
    expect([8, 16]).toContain(rerun.outcome.stats.computed)
    expect(collectGarbage(store, { maxSizeBytes: 0 }).removed).toBeGreaterThanOrEqual(2)
    expect(listPackFiles(store)).toEqual([])
  })

  it("merging the shards' JSON Lines gives the unsharded answer", async () => {
    const over = { axes: { batch: "1..16", seq: "512,1024,2048" }, constraints: { tpot_ms_max: 40 } }
    const whole = await sweepInProcess(options("llama-141", over))
    const files = [1, 2, 3].map((k) => path.join(dir, `shard-${k}.jsonl`))
    for (const [i, f] of files.entries()) await sweepInProcess(options("llama-141", { ...over, shard: { k: i + 1, n: 3 }, points_file: f }))
    const merged = await mergeInProcess(files, dir)
    expect(merged.outcome.frontier).toEqual(whole.outcome.frontier)
    expect(merged.outcome.best).toEqual(whole.outcome.best)
    expect(merged.outcome.neighbours).toEqual(whole.outcome.neighbours)
    expect(merged.outcome.stats).toMatchObject({ points: 48, feasible: whole.outcome.stats.feasible, rejected: whole.outcome.stats.rejected })
    const missing = await mergeInProcess(files.slice(0, 2), dir).then(
      () => undefined,
      (e) => e
    )
    expect(String(missing?.message)).toMatch(/shard 3\/3 is missing: points 32 to 47 of 48 are in none of the files \(a shard is missing\)/)
    const twice = await mergeInProcess([files[0], files[0], files[1], files[2]], dir).then(
      () => undefined,
      (e) => e
    )
    expect(String(twice?.message)).toMatch(/shard-1\.jsonl: shard 1\/3, as is shard-1\.jsonl: its points overlap another file's \(the same shard twice\?\)/)
    const other = path.join(dir, "other-3.jsonl")
    await sweepInProcess(options("llama-141", { ...over, constraints: { tpot_ms_max: 41 }, shard: { k: 3, n: 3 }, points_file: other }))
    const mixed = await mergeInProcess([files[0], files[1], other], dir).then(
      () => undefined,
      (e) => e
    )
    expect(String(mixed?.message)).toMatch(/other-3\.jsonl:1:\d+ llmsim_sweep\.sweep_digest: a shard of another sweep than shard-1\.jsonl \(constraints/)
  })

  it("worker threads give the same rows and answer as one thread", async () => {
    // Just over one chunk (1,024 points) of DeepSeek-V3 decode on the large-EP model, so two workers each get work.
    const over = {
      run: runOptions(dir, "configs/scenarios/deepseek_v3_h800.yaml", { noCache: true, runtime: { phase: "decode" } }),
      axes: { ep: "16,32", batch: "1..520", seq: "4096" },
      constraints: {},
      strategy: "two-batch-overlap" as const
    }
    const one = await sweepInProcess({ ...over, workers: 1, points_file: path.join(dir, "w1.csv") })
    const two = await sweepInProcess({ ...over, workers: 2, points_file: path.join(dir, "w2.csv") })
    expect(two.outcome.frontier).toEqual(one.outcome.frontier)
    expect(two.outcome.best).toEqual(one.outcome.best)
    const csv = fs.readFileSync(path.join(dir, "w2.csv"), "utf8")
    expect(csv).toBe(fs.readFileSync(path.join(dir, "w1.csv"), "utf8"))
    const lines = csv.trimEnd().split("\n")
    expect(lines.length).toBe(1041)
    expect(lines[0]).toMatch(/^index,hardware,model,strategy,batch,seq,output,tp,dp,ep,gpus,ttft_ms,tpot_ms,tokens_per_s_per_gpu,/)
    // Whole bytes, never scientific notation.
    expect(lines[1].split(",")[16]).toMatch(/^\d+$/)
  })
})

describe("sweep: a point is what the single-point commands say", () => {
  it("--estimator ml: points equal large-ep evaluate with the same model, in one thread or two", async () => {
    const { largeEpInProcess } = await import("../helpers/inProcess.ts")
    // A scenario whose ops the model corrects beyond its noise floor: DeepSeek-V3's decode MoE
    // experts on H800 (the grouped head: 128 routed rows an expert at EP64, two 64-row blocks).
    const scenario = "configs/scenarios/deepseek_v3_h800.yaml"
    const ml = { estimator: "ml", model: path.join(REPO, "models", "reference.json"), noCache: true }
    const ep = await largeEpInProcess({
      run: runOptions(dir, scenario, { ...ml, runtime: { batch_size: 64, seq_len: 4096, phase: "decode" } }),
      eps: [64],
      overrides: { two_batch_overlap: true },
      batch: { kind: "runtime" }
    })
    const over = {
      run: runOptions(dir, scenario, { ...ml, runtime: { phase: "decode" } }),
      axes: { ep: "64", batch: "64", seq: "4096" },
      constraints: {},
      strategy: "two-batch-overlap" as const
    }
    const one = await sweepInProcess({ ...over, workers: 1 })
    const t = (ep.result as { serving: { tpot_ms: number } }).serving
    expect(one.outcome.best.tokens_per_s_per_gpu!.tpot_ms).toBe(t.tpot_ms)
    const analytic = await sweepInProcess({ ...over, run: runOptions(dir, scenario, { noCache: true, runtime: { phase: "decode" } }), workers: 1 })
    expect(analytic.outcome.best.tokens_per_s_per_gpu!.tpot_ms).not.toBe(t.tpot_ms)
    const grid = { ...over, axes: { ep: "32,64", batch: "1..520", seq: "4096" } }
    const w1 = await sweepInProcess({ ...grid, workers: 1 })
    const w2 = await sweepInProcess({ ...grid, workers: 2 })
    expect(w2.outcome.frontier).toEqual(w1.outcome.frontier)
  })

  it("core points equal llmsim run; large-EP points equal large-ep evaluate; AFD points equal afd simulate", async () => {
    const { runInProcess, largeEpInProcess, afdInProcess } = await import("../helpers/inProcess.ts")
    const scenario = "configs/scenarios/deepseek_v3_h800.yaml"
    const run = await runInProcess(runOptions(dir, scenario, { noCache: true, runtime: { batch_size: 4, seq_len: 2048 } }))
    const core = await sweepInProcess({ run: runOptions(dir, scenario, { noCache: true }), axes: { batch: "4", seq: "2048" }, constraints: {}, workers: 1 })
    const p = core.outcome.best.tokens_per_s_per_gpu!
    const s = run.out.result.serving
    expect([p.ttft_ms, p.tpot_ms, p.tokens_per_s_per_gpu, p.memory_per_gpu_bytes, p.gpus, p.strategy]).toEqual([
      s.ttft_ms,
      s.tpot_ms,
      s.throughput_tokens_per_s_per_gpu,
      s.peak_memory_bytes,
      s.gpus,
      s.strategy
    ])

    const ep = await largeEpInProcess({
      run: runOptions(dir, scenario, { noCache: true, runtime: { batch_size: 32, seq_len: 4096, phase: "decode" } }),
      eps: [32],
      overrides: { two_batch_overlap: true },
      batch: { kind: "runtime" }
    })
    const le = await sweepInProcess({
      run: runOptions(dir, scenario, { noCache: true, runtime: { phase: "decode" } }),
      axes: { ep: "32", batch: "32", seq: "4096" },
      constraints: {},
      strategy: "two-batch-overlap",
      workers: 1
    })
    const q = le.outcome.best.tokens_per_s_per_gpu!
    const t = (
      ep.result as {
        serving: { tpot_ms: number; throughput_tokens_per_s_per_gpu: number; memory_per_gpu_bytes: number; max_batch_per_gpu: number; gpus: number }
      }
    ).serving
    expect([q.tpot_ms, q.tokens_per_s_per_gpu, q.memory_per_gpu_bytes, q.max_batch, q.gpus, q.strategy]).toEqual([
      t.tpot_ms,
      t.throughput_tokens_per_s_per_gpu,
      t.memory_per_gpu_bytes,
      t.max_batch_per_gpu,
      t.gpus,
      "two-batch-overlap"
    ])

    const afdScenario = "configs/scenarios/deepseek_v3_h800_afd.yaml"
    const afd = await afdInProcess({
      run: runOptions(dir, afdScenario, { noCache: true, runtime: { batch_size: 32, phase: "decode" } }),
      instances: [{ attention: 3, ffn: 2 }],
      batch: { kind: "runtime" }
    })
    const ap = await sweepInProcess({
      run: runOptions(dir, afdScenario, { noCache: true, runtime: { phase: "decode" } }),
      axes: { instances: "3A2F", batch: "32" },
      constraints: {},
      workers: 1
    })
    const x = ap.outcome.best.tokens_per_s_per_gpu!
    const y = (
      afd.result as {
        serving: { tpot_ms: number; throughput_tokens_per_s_per_gpu: number; memory_per_gpu_bytes: number; max_batch_per_gpu: number; gpus: number }
      }
    ).serving
    expect([x.tpot_ms, x.tokens_per_s_per_gpu, x.memory_per_gpu_bytes, x.max_batch, x.gpus, x.strategy]).toEqual([
      y.tpot_ms,
      y.throughput_tokens_per_s_per_gpu,
      y.memory_per_gpu_bytes,
      y.max_batch_per_gpu,
      y.gpus,
      "afd-pipeline"
    ])
  })
})

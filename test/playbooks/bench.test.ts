/**
 * `llmsim bench` in process (src/playbooks/bench.ts runBench): hand-worked against the step
 * kernel and the engines' memory rules.
 *   - a closed loop of one request at a time on Llama-3.1-70B (TP8): each request's TTFT is `run`'s
 *     prefill step of its prompt, its TPOT the mean of `run`'s decode steps at its growing context;
 *   - the KV budget is the engine's rule on the printed terms, in whole blocks of the per-token
 *     KV worked from the config (Llama-3.1-70B at TP8, BF16: 2 x 8 heads x 128 x 2 B x 80 layers / 8);
 *   - the same seed gives the same result to the last bit; another seed a different one.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { runBench, type BenchOptions } from "../../src/playbooks/bench.ts"
import { contextFor } from "../../src/kernel/layout.ts"
import { simulatePhase } from "../../src/kernel/step.ts"
import { runSimulation } from "../../src/app/session.ts"
import { modelOf } from "../../src/kernel/model.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const root = path.resolve(import.meta.dirname, "..", "..")
const LLAMA = path.join("configs", "scenarios", "llama_3_1_70b_h100.yaml")

const bench = (o: Partial<BenchOptions> & Pick<BenchOptions, "workload">) =>
  Effect.runPromise(
    runBench({
      run: { cwd: root, scenario: LLAMA, runtime: {}, estimator: "analytic", efficiency: "hardware", noCache: true },
      engineFlags: {},
      percentileMetrics: ["ttft", "tpot", "itl", "e2el"],
      metricPercentiles: [90, 99],
      ...o
    }).pipe(Effect.provide(NodeServices.layer))
  )

describe("llmsim bench against the step kernel", () => {
  it("one request at a time: TTFT is run's prefill step, TPOT the mean of its decode steps", async () => {
    const out = await bench({
      workload: { dataset: "random", input_len: 1024, output_len: 33, num_prompts: 3 },
      maxConcurrency: 1,
      engineFlags: { host_step_ms: 0, host_per_seq_ms: 0 }
    })
    const r = out.bench.result
    // run's prefill step of one 1024-token prompt (1024 is a point of the step grid: exact).
    const pre = await Effect.runPromise(
      runSimulation({
        cwd: root,
        scenario: LLAMA,
        runtime: { batch_size: 1, seq_len: 1024, phase: "prefill" },
        estimator: "analytic",
        efficiency: "hardware",
        noCache: true
      }).pipe(Effect.provide(NodeServices.layer))
    )
    expect(r.mean_ttft_ms).toBeCloseTo(pre.result.phases.prefill!.total_latency_ms, 9)
    expect(r.completed).toBe(3)
    // Token k + 1 (k = 1..32) is decoded with 1024 + k tokens in the KV cache: the kernel's decode step of 1 sequence there.
    const model = modelOf(pre.loaded)
    const hw = pre.loaded.hardware
    const layout = { tp: 8, dp: 1, ep: 1, redundant_experts: 0, gpus_per_node: 8 }
    const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
    let sum = 0
    for (let k = 1; k <= 32; k++)
      sum += simulatePhase(
        model,
        contextFor(model, layout, "decode", 1, 1024 + k),
        timingHardware(hw, "hardware"),
        analyticEstimator,
        composition
      ).total_latency_ms
    // Contexts between grid points are interpolated (src/serve/grid.ts): within 0.1%.
    expect(Math.abs(r.mean_tpot_ms / (sum / 32) - 1)).toBeLessThan(1e-3)
    // Each request runs alone: the run is three requests end to end.
    expect(r.duration * 1000).toBeCloseTo(3 * r.mean_e2el_ms, 6)
  })

  it("the KV budget is the engine's rule on its terms, in whole blocks of the per-token KV", async () => {
    for (const engine of ["vllm", "sglang", "trtllm"] as const) {
      const out = await bench({ engine, workload: { dataset: "random", input_len: 64, output_len: 4, num_prompts: 2 } })
      const s = out.setup
      // 2 (K and V) x 8 KV heads x 128 x 2 bytes x 80 layers over TP8.
      expect(s.memory.kv_bytes_per_token).toBe((2 * 8 * 128 * 2 * 80) / 8)
      expect(s.memory.device_bytes).toBe(80 * 2 ** 30)
      const total = s.kv_cache.terms.reduce((a, t) => a + t.bytes, 0)
      expect(s.kv_cache.kv_bytes).toBeCloseTo(total, 0)
      const block = s.engine.block_size
      expect(s.kv_cache.kv_tokens).toBe(Math.floor(s.kv_cache.kv_bytes / s.memory.kv_bytes_per_token / block) * block)
    }
  })

  it("the same seed gives the same result; another seed another", async () => {
    const w = { dataset: "random" as const, input_len: 256, output_len: 32, range_ratio: 0.5, num_prompts: 40, request_rate: 20 }
    const a = await bench({ workload: { ...w, seed: 1 } })
    const b = await bench({ workload: { ...w, seed: 1 } })
    const c = await bench({ workload: { ...w, seed: 2 } })
    expect(JSON.stringify(a.bench)).toBe(JSON.stringify(b.bench))
    expect(a.bench.result.mean_ttft_ms).not.toBe(c.bench.result.mean_ttft_ms)
  })
})

describe("llmsim bench disaggregated (1P1D) against the aggregated engine and the link by hand", () => {
  it("one request at a time: TTFT = the prefill step + the KV transfer, TPOT = the decode steps", async () => {
    const common = {
      workload: { dataset: "random" as const, input_len: 1024, output_len: 33, num_prompts: 3 },
      maxConcurrency: 1,
      engineFlags: { host_step_ms: 0, host_per_seq_ms: 0 }
    }
    const agg = await bench(common)
    const pd = await bench({ ...common, prefillInstances: 1, decodeInstances: 1 })
    // Llama-3.1-70B, BF16 KV: 2 (K, V) x 8 KV heads x 128 x 2 B x 80 layers = 327,680 B per token;
    // 1024 tokens over 8 NIC lanes (TP8 to TP8, two nodes) of 50 GB/s x 0.8 (H100-SXM.yaml) plus
    // 3.3 us: 335,544,320 / (8 x 40e9) s = 1.048576 ms + 0.0033 ms = 1.051876 ms.
    const t = pd.setup.disaggregated!.transfer
    expect(t.kv_bytes_per_token).toBe(327_680)
    expect(t.link.kind).toBe("nic")
    expect(t.link.lanes).toBe(8)
    expect(pd.bench.extras.transfer!.transfer_ms_mean).toBeCloseTo(1.051876, 9)
    const a = agg.bench.result
    const p = pd.bench.result
    expect(p.mean_ttft_ms).toBeCloseTo(a.mean_ttft_ms + 1.051876, 6)
    expect(p.mean_tpot_ms).toBeCloseTo(a.mean_tpot_ms, 9)
    // 16 GPUs serve what 8 did: half the throughput per GPU at the same request rate.
    expect(pd.setup.layout.gpus).toBe(16)
  })
})

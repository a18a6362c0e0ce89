/** Resolving the `deployment` block, the scenario's layout and flags (src/deploy/deployment.ts). */
import { describe, expect, it } from "vitest"
import { parseInstances, resolveAfd, resolveLargeEp } from "../../src/deploy/deployment.ts"
import { roundRedundant, type ScenarioBase } from "../../src/kernel/layout.ts"
import { DEEPSEEK, H800 } from "./fixtures.ts"

const base = (deployment?: ScenarioBase["deployment"], extra: Partial<ScenarioBase> = {}): ScenarioBase => ({
  ...(deployment === undefined ? {} : { deployment }),
  precision: DEEPSEEK.precision,
  ...extra
})

const EP144 = {
  nodes: 18,
  attention: { tp: 1, dp: 144 },
  ep: 144,
  redundant_experts: 32,
  dispatch_dtype: "fp8",
  combine_dtype: "bf16",
  two_batch_overlap: true,
  micro_batches: 2
} as const

describe("large-EP deployment", () => {
  it("DeepSeek's decode unit: 18 x 8 GPUs, DP144 attention, EP144, 32 redundant experts", () => {
    const r = resolveLargeEp(DEEPSEEK, H800, base(EP144), {})
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value).toMatchObject({
      gpus_per_node: 8,
      nodes: 18,
      gpus: 144,
      tp: 1,
      dp: 144,
      ep: 144,
      redundant_experts: 32,
      dispatch_dtype: "fp8",
      combine_dtype: "bf16",
      two_batch_overlap: true,
      micro_batches: 2,
      load_imbalance: 1,
      kernel_mode: { prefill: "high_throughput", decode: "low_latency" },
      a2a_latency_us: { high_throughput: 50, low_latency: 5 },
      comm_sms: 20,
      reserved_bytes: 0
    })
  })

  it("nodes alone: every GPU attends (tp 1) and holds experts", () => {
    const r = resolveLargeEp(DEEPSEEK, H800, base({ nodes: 4, redundant_experts: 32 }), {})
    expect(r.ok && r.value).toMatchObject({ gpus: 32, dp: 32, ep: 32, redundant_experts: 32 })
  })

  it("no deployment block: the scenario's parallelism, TBO on a two-stream GPU", () => {
    const r = resolveLargeEp(DEEPSEEK, H800, base(undefined, { parallelism: { tp: 1, dp: 16, ep: 16 } }), {})
    expect(r.ok && r.value).toMatchObject({ gpus: 16, nodes: 2, dp: 16, ep: 16, redundant_experts: 0, two_batch_overlap: true, micro_batches: 2 })
    // runtime.micro_batch 1 with no explicit overlap setting turns it off
    const one = resolveLargeEp(DEEPSEEK, H800, base(undefined, { parallelism: { dp: 16, ep: 16 }, micro_batch: 1 }), {})
    expect(one.ok && one.value).toMatchObject({ two_batch_overlap: false, micro_batches: 1 })
  })

  it("--ep resizes the unit and rounds the redundant experts up to fill every GPU", () => {
    // (256 + 32) / 144 = 2: keeps 32; 288 / 64 = 4.5 -> 5 slots = 320 -> 64 redundant; 288 / 256 -> 2 slots = 512 -> 256
    expect(roundRedundant(256, 32, 144)).toBe(32)
    expect(roundRedundant(256, 32, 64)).toBe(64)
    expect(roundRedundant(256, 32, 256)).toBe(256)
    expect(roundRedundant(256, 32, 8)).toBe(32)
    expect(roundRedundant(256, 0, 144)).toBe(32)
    const r = resolveLargeEp(DEEPSEEK, H800, base(EP144), { ep: 64 })
    expect(r.ok && r.value).toMatchObject({ gpus: 64, nodes: 8, dp: 64, ep: 64, redundant_experts: 64 })
    const flag = resolveLargeEp(DEEPSEEK, H800, base(EP144), { ep: 64, redundant_experts: 0 })
    expect(flag.ok && flag.value.redundant_experts).toBe(0)
  })

  it("problems name the field or flag", () => {
    const bad = (spec: ScenarioBase["deployment"], o = {}) => {
      const r = resolveLargeEp(DEEPSEEK, H800, base(spec), o)
      return r.ok ? undefined : r.problem
    }
    expect(bad({ ...EP144, redundant_experts: 33 })).toMatchObject({
      path: ["deployment", "redundant_experts"],
      message: expect.stringMatching(/256 \+ redundant_experts 33 = 289 .* ep 144/)
    })
    expect(bad({ ...EP144, attention: { tp: 1, dp: 100 } })).toMatchObject({
      path: ["deployment", "attention"],
      message: expect.stringMatching(/100 GPUs, but nodes 18 x gpus_per_node 8 = 144/)
    })
    expect(bad({ ...EP144, ep: 100 })).toMatchObject({ path: ["deployment", "ep"], message: expect.stringMatching(/ep 100 does not divide the 144 GPUs/) })
    expect(bad({ ...EP144, micro_batches: 3 })).toMatchObject({
      path: ["deployment", "micro_batches"],
      message: expect.stringMatching(/exactly 2 micro-batches/)
    })
    expect(bad(EP144, { ep: 12 })).toMatchObject({ flag: "--ep", message: expect.stringMatching(/not a multiple of gpus_per_node 8/) })
    expect(bad({ ...EP144, attention: { tp: 3, dp: 48 } })).toMatchObject({
      path: ["deployment", "attention", "tp"],
      message: expect.stringMatching(/num_attention_heads 128 is not divisible by tp 3/)
    })
    expect(bad({ ...EP144, load_imbalance: { expert_loads: [1, 2, 3] } })).toMatchObject({
      path: ["deployment", "load_imbalance", "expert_loads"],
      message: expect.stringMatching(/one load per routed expert \(256\), got 3/)
    })
  })
})

describe("AFD deployment", () => {
  it("instance counts: 3A2F", () => {
    expect(parseInstances("3A2F")).toEqual({ attention: 3, ffn: 2 })
    expect(parseInstances(" 2a2f ")).toEqual({ attention: 2, ffn: 2 })
    expect(parseInstances("0A2F")).toBeUndefined()
    expect(parseInstances("3A")).toBeUndefined()
  })

  it("defaults: one node per instance, 3 micro-batches, FP8 out over the NIC, BF16 back", () => {
    const r = resolveAfd(DEEPSEEK, H800, base({ afd: { attention: { instances: 3 }, ffn: { instances: 2 } } }), {})
    expect(r.ok && r.value).toMatchObject({
      attention: { instances: 3, gpus_per_instance: 8, tp: 1, gpus: 24, dp: 24 },
      ffn: { instances: 2, gpus_per_instance: 8, gpus: 16, ep: 16, redundant_experts: 0 },
      micro_batches: 3,
      a2f: { link: "nic", dtype: "fp8" },
      f2a: { link: "nic", dtype: "bf16" },
      regime: "cyclic",
      transfer_latency_us: 5
    })
  })

  it("problems: expert slots over FFN GPUs, NVLink beyond one node", () => {
    const r = resolveAfd(DEEPSEEK, H800, base({ afd: { ffn: { instances: 3 } } }), {})
    expect(!r.ok && r.problem).toMatchObject({
      path: ["deployment", "afd", "ffn"],
      message: expect.stringMatching(/256 expert slots are not divisible by the 24 FFN GPUs/)
    })
    const f = resolveAfd(DEEPSEEK, H800, base({ afd: {} }), { attention_instances: 1, ffn_instances: 3 })
    expect(!f.ok && f.problem.flag).toBe("--instances")
    const tp = resolveAfd(DEEPSEEK, H800, base({ afd: { attention: { gpus_per_instance: 6, tp: 3 } } }), {})
    expect(!tp.ok && tp.problem).toMatchObject({
      path: ["deployment", "afd", "attention", "tp"],
      message: expect.stringMatching(/num_attention_heads 128 is not divisible by tp 3/)
    })
    const l = resolveAfd(DEEPSEEK, H800, base({ afd: { a2f: { link: "interconnect" } } }), {})
    expect(!l.ok && l.problem).toMatchObject({ path: ["deployment", "afd", "a2f", "link"], message: expect.stringMatching(/span 2 scale-up domains/) })
  })
})

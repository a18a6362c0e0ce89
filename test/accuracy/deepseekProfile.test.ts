/**
 * DeepSeek's profiled serving points (deepseek_profile_serving.yaml): the operating point is read
 * from the published settings, and throughput per GPU is tokens per GPU per step over the step.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { deepseekProfile, parseLayout, profileFigures, profileOverrides } from "../../src/accuracy/datasets/deepseekProfile.ts"
import type { LargeEpSystem } from "../../src/accuracy/largeEpAdapter.ts"
import { REFERENCE } from "../helpers/cli.ts"

const text = fs.readFileSync(path.join(REFERENCE, "deepseek_profile_serving.yaml"), "utf8")

describe("deepseek_profile_serving.yaml", () => {
  it("reads the profile-data settings as published", () => {
    expect(parseLayout("EP128, TP1 (attention data-parallel), 16 nodes")).toEqual({ ep: 128, nodes: 16 })
    const f = profileFigures(text)
    expect(f.hardware).toBe("H800-SXM")
    expect(f.decode).toMatchObject({ ep: 128, nodes: 16, batch_per_gpu: 128, kv_len: 4096, micro_batches: 2, comm_sms: 0, tokens_per_s_per_gpu: 2324 })
    // comm_sms 24: the profile's prefill figure (108 SMs compute, 24 communicate).
    expect(f.prefill).toMatchObject({ ep: 32, nodes: 4, prompt_len: 4096, tokens_per_gpu: 16384, micro_batches: 2, comm_sms: 24, tokens_per_s_per_gpu: 7839 })
    // Balanced routing, no replicas, two micro-batches overlapped.
    expect(profileOverrides(f.decode)).toEqual({ ep: 128, redundant_experts: 0, load_imbalance: 1, micro_batches: 2, two_batch_overlap: true })
    expect(text.split("\n")[f.decode.line - 1]).toContain("output_tokens_per_s_per_gpu: 2324")
    expect(text.split("\n")[f.prefill.line - 1]).toContain("input_tokens_per_s_per_gpu: 7839")
  })

  it("predicts tokens per GPU per step / step time at the stated batch and lengths", () => {
    const calls: Array<string> = []
    const system: LargeEpSystem = {
      decode: (b, kv) => (calls.push(`decode ${b} ${kv}`), { step_ms: 64, peak_memory_bytes: 0 }),
      prefill: (p, t) => (calls.push(`prefill ${p} ${t}`), { step_ms: 2048, peak_memory_bytes: 0 }),
      summary: "test"
    }
    const d = deepseekProfile({ text, hardwareName: "H800-SXM", scenarios: { decode: "d.yaml", prefill: "p.yaml" }, decode: system, prefill: system })
    expect(calls).toEqual(["decode 128 4096", "prefill 4 4096"])
    // 128 requests / 64 ms = 2000 tokens/s; 16384 tokens / 2.048 s = 8000 tokens/s.
    expect(d.rows.map((r) => [r.predicted, r.measured])).toEqual([
      [2000, 2324],
      [8000, 7839]
    ])
    expect(d.rows[0].ape).toBeCloseTo((1 - 2000 / 2324) * 100, 9)
  })

  it("reports a rejected deployment as a row not modelled", () => {
    const d = deepseekProfile({
      text,
      hardwareName: "H800-SXM",
      scenarios: { decode: "d.yaml", prefill: "p.yaml" },
      decode: "deployment rejected: x",
      prefill: "deployment rejected: y"
    })
    expect(d.rows).toEqual([])
    expect(d.skipped.map((s) => s.reason)).toEqual(["decode: deployment rejected: x", "prefill: deployment rejected: y"])
  })
})

/**
 * The wide-EP step pricer (src/serve/playbookCost.ts) against the large-EP playbook it prices with:
 * a decode-only step of D sequences a rank at context K on grid points is the playbook's decode
 * step of batch D at KV length K (what `llmsim large-ep evaluate` prints); the CUDA graph's padded
 * batch is priced, not the decodes; a step with prefill chunks is the playbook's prefill step of
 * prompts of the equivalent length (worked out by hand below); ranks are priced by the busiest.
 */
import { describe, expect, it } from "vitest"
import { afdStep } from "../../src/deploy/afd.ts"
import { resolveAfd, resolveLargeEp } from "../../src/deploy/deployment.ts"
import { largeEpStepTotals } from "../../src/deploy/largeEp.ts"
import type { RankStep } from "../../src/serve/stepCost.ts"
import { afdCost, wideEpCost } from "../../src/serve/playbookCost.ts"
import { DEEPSEEK, H800, INPUT } from "../deploy/fixtures.ts"

const deployment = (() => {
  const r = resolveLargeEp(DEEPSEEK, H800, { precision: DEEPSEEK.precision }, { ep: 16, two_batch_overlap: true })
  if (!r.ok) throw new Error(r.problem.message)
  return r.value
})()
const input = { ...INPUT, shareOps: true }
const step = (phase: "prefill" | "decode", batch: number, seq: number) =>
  largeEpStepTotals(input, deployment, { phase, batch_size: batch, seq_len: seq }).step_ms

const decode = (d: number, ctx: number): RankStep => ({ chunkLens: [], chunkOffsets: [], decodes: d, decodeKvTokens: d * ctx, sampled: d })
const chunks = (lens: ReadonlyArray<number>, offsets: ReadonlyArray<number>): RankStep => ({
  chunkLens: lens,
  chunkOffsets: offsets,
  decodes: 0,
  decodeKvTokens: 0,
  sampled: lens.length
})
const idle: RankStep = { chunkLens: [], chunkOffsets: [], decodes: 0, decodeKvTokens: 0, sampled: 0 }

describe("wideEpCost", () => {
  it("prices a decode-only step as the playbook's decode step, at the busiest rank and the padded batch", () => {
    const cost = wideEpCost(input, deployment)
    // 16 and 4096 are grid points (grid.ts: every integer to 16, then 16 per doubling from 16).
    expect(cost.stepMs([decode(16, 4096), decode(16, 4096)])).toBe(step("decode", 16, 4096))
    // The busiest rank's 16 sequences set the batch; the context is the mean over every decoding sequence.
    expect(cost.stepMs([decode(16, 4096), decode(8, 4096)])).toBe(step("decode", 16, 4096))
    // A CUDA graph padded to 16 runs 16 sequences' worth of work for 12.
    expect(cost.stepMs([decode(12, 4096)], 16)).toBe(step("decode", 16, 4096))
    expect(cost.stepMs([idle, idle])).toBe(0)
  })

  it("prices prefill chunks as whole prompts of the same attention work per token", () => {
    const cost = wideEpCost(input, deployment)
    // Two whole 2048-token prompts on one rank: T = 4096 tokens; keys attended 2 x 2048 x 1024,
    // so L = 2 x 4,194,304 / 4096 = 2048 and B = round(4096 / 2048) = 2 prompts of 2048 tokens.
    expect(cost.stepMs([chunks([2048, 2048], [0, 0]), idle])).toBe(step("prefill", 2, 2048))
    // A 1024-token chunk at offset 3072 (the last quarter of a 4096-token prompt): keys attended
    // 1024 x (3072 + 512) = 3,670,016, so L = 2 x 3,670,016 / 1024 = 7168 > T: capped at T = 1024,
    // one prompt of 1024 tokens (its attention is under-priced: the step's token count is kept exact).
    expect(cost.stepMs([chunks([1024], [3072])])).toBe(step("prefill", 1, 1024))
  })

  it("is the playbook's own step model: two-batch overlap changes the price", () => {
    const serial = resolveLargeEp(DEEPSEEK, H800, { precision: DEEPSEEK.precision }, { ep: 16, two_batch_overlap: false, micro_batches: 1 })
    if (!serial.ok) throw new Error(serial.problem.message)
    const a = wideEpCost(input, deployment).stepMs([decode(16, 4096)])
    const b = wideEpCost(input, serial.value).stepMs([decode(16, 4096)])
    expect(b).toBe(largeEpStepTotals(input, serial.value, { phase: "decode", batch_size: 16, seq_len: 4096 }).step_ms)
    expect(a).not.toBe(b)
  })
})

describe("afdCost", () => {
  it("prices a decode-only step as the AFD pipeline's decode step (llmsim afd simulate's), at the busiest attention rank", () => {
    // Step-3's 2A2F shape on H800: 2 attention and 2 FFN instances of 8 GPUs, 3 micro-batches.
    const plan = resolveAfd(DEEPSEEK, H800, { precision: DEEPSEEK.precision }, { attention_instances: 2, ffn_instances: 2 })
    if (!plan.ok) throw new Error(plan.problem.message)
    const cost = afdCost(input, plan.value)
    const expected = afdStep(input, plan.value, { phase: "decode", batch_size: 16, seq_len: 4096 }).step_ms
    expect(cost.stepMs([decode(16, 4096), decode(12, 4096)])).toBe(expected)
    // More sequences a rank cost more time through the pipeline.
    expect(cost.stepMs([decode(64, 4096)])).toBeGreaterThan(expected)
  })
})

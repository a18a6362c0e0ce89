/**
 * The deployment-model registry (src/deploy/registry.ts): which model answers a strategy and a
 * set of swept axes (the one decision `run`, `report`, `large-ep evaluate` and `sweep` share),
 * and that each model's Deployment gives the figures of the model it wraps.
 */
import { describe, expect, it } from "vitest"
import { DEPLOYMENT_MODELS, deploymentModelFor, isCoreStrategy } from "../../src/deploy/registry.ts"
import { resolveLargeEp } from "../../src/deploy/deployment.ts"
import { largeEpMaxBatch, largeEpMemory, largeEpStepTotals } from "../../src/deploy/largeEp.ts"
import { totalBytes } from "../../src/deploy/memory.ts"
import type { Resolved } from "../../src/kernel/layout.ts"
import { STRATEGIES, type StrategyName } from "../../src/kernel/strategies.ts"
import { INPUT } from "./fixtures.ts"

describe("deploymentModelFor", () => {
  it("maps every strategy to the model that composes with it", () => {
    const expected: Record<StrategyName, string> = {
      serial: "core",
      overlapped: "core",
      "two-batch-overlap": "large-ep",
      "serial-micro-batches": "large-ep",
      "afd-pipeline": "afd"
    }
    for (const s of Object.keys(STRATEGIES) as Array<StrategyName>) expect(deploymentModelFor(s), s).toBe(expected[s])
    expect(deploymentModelFor(undefined)).toBe("core")
  })

  it("lets a model's own sweep axis choose it, AFD's instances before large EP's tbo", () => {
    expect(deploymentModelFor(undefined, ["batch", "tbo"])).toBe("large-ep")
    expect(deploymentModelFor("serial", ["tbo"])).toBe("large-ep")
    expect(deploymentModelFor(undefined, ["instances"])).toBe("afd")
    expect(deploymentModelFor("two-batch-overlap", ["instances"])).toBe("afd")
    expect(deploymentModelFor(undefined, ["batch", "ep", "tp"])).toBe("core")
  })

  it("gives every strategy exactly one model", () => {
    const owners = Object.values(DEPLOYMENT_MODELS).flatMap((m) => m.strategies)
    expect([...owners].sort()).toEqual(Object.keys(STRATEGIES).sort())
    expect(isCoreStrategy("overlapped")).toBe(true)
    expect(isCoreStrategy("afd-pipeline")).toBe(false)
  })
})

/** The value of a resolution that must succeed (its problem as the failure otherwise). */
const value = <A>(r: Resolved<A>): A => {
  if (!r.ok) throw new Error(r.problem.message)
  return r.value
}

describe("a resolved Deployment", () => {
  const base = { precision: INPUT.model.precision, deployment: { nodes: 4 } }

  it("large EP: the step, memory and largest batch of the large-EP functions, the serving unit of its layout", () => {
    const d = value(DEPLOYMENT_MODELS["large-ep"].deploy(INPUT, base, { strategy: "two-batch-overlap" }))
    const plan = value(resolveLargeEp(INPUT.model, INPUT.hardware, base, { two_batch_overlap: true }))
    expect(d.strategy).toBe("two-batch-overlap")
    // 4 nodes x 8 GPUs, DP attention over all 32, experts over all 32.
    expect(d.unit).toEqual({ tp: 1, dp: 32, ep: 32, gpus: 32, gpus_per_node: 8 })
    const run = { phase: "decode", batch_size: 64, seq_len: 2048 } as const
    expect(d.step(run).step_ms).toBe(largeEpStepTotals(INPUT, plan, run).step_ms)
    expect(d.memory("decode", 64, 2048).total_bytes).toBe(totalBytes(largeEpMemory(INPUT.model, plan, "decode", 64, 2048)))
    expect(d.maxBatch("decode", 2048)).toBe(largeEpMaxBatch(INPUT.model, INPUT.hardware, plan, "decode", 2048))
  })

  it("turns step times into tokens/s over its unit: 64 x 32 sequences at 50 ms is 40,960 tokens/s, 1,280 per GPU", () => {
    const d = value(DEPLOYMENT_MODELS["large-ep"].deploy(INPUT, base, {}))
    const rates = d.rates(64, 2048, 1000, 50)
    expect(rates.decode_tokens_per_s).toBe(40960)
    expect(rates.decode_tokens_per_s_per_gpu).toBe(1280)
    expect(rates.tokens_per_s_per_user).toBe(20)
    // 64 x 32 prompts of 2,048 tokens in 1 s.
    expect(rates.prefill_tokens_per_s).toBe(64 * 32 * 2048)
  })

  it("a layout that cannot exist is a problem with a reason, not a deployment", () => {
    const r = DEPLOYMENT_MODELS["large-ep"].deploy(INPUT, base, { ep: 7 })
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.problem.message).toMatch(/7/)
  })
})

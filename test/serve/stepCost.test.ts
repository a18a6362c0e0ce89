/**
 * The mixed-step pricer on the kernel: a lone prefill and a uniform decode step on grid points are
 * exactly `llmsim run`'s prefill and decode steps (the same ops timed by the same kernel); a chunk
 * at an offset costs its causal share of the attention; a mixed step costs more than either part.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { runSimulation } from "../../src/app/session.ts"
import { resolveLayout } from "../../src/kernel/layout.ts"
import { modelOf } from "../../src/kernel/model.ts"
import { StepCost, type RankStep } from "../../src/serve/stepCost.ts"
import { scenarioBase } from "../../src/sim/simulate.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const root = path.resolve(import.meta.dirname, "..", "..")

const run = (scenario: string, runtime: Record<string, number | string>) =>
  Effect.runPromise(
    runSimulation({
      cwd: root,
      scenario: path.join("configs", "scenarios", scenario),
      runtime,
      estimator: "analytic",
      efficiency: "hardware",
      noCache: true
    }).pipe(Effect.provide(NodeServices.layer))
  )

const pricerOf = (out: Awaited<ReturnType<typeof run>>) => {
  const model = modelOf(out.loaded)
  const r = resolveLayout(model, out.loaded.hardware, scenarioBase(out.loaded, model))
  if (!r.ok) throw new Error(r.problem.message)
  const hw = out.loaded.hardware
  return {
    dp: r.value.layout.dp,
    pricer: new StepCost({
      model,
      layout: r.value.layout,
      timing: timingHardware(hw, "hardware"),
      estimator: analyticEstimator,
      composition: { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
    })
  }
}

const prefill = (len: number, offset = 0): RankStep => ({ chunkLens: [len], chunkOffsets: [offset], decodes: 0, decodeKvTokens: 0, sampled: 1 })
const decode = (d: number, ctx: number): RankStep => ({ chunkLens: [], chunkOffsets: [], decodes: d, decodeKvTokens: d * ctx, sampled: d })

describe("StepCost against llmsim run", () => {
  for (const scenario of ["llama_3_1_70b_h100.yaml", "deepseek_v3_h800.yaml", "qwen3_next_80b_h100.yaml"]) {
    it(`${scenario}: a lone 1024-token prefill and a 16 x 4096 decode step are run's steps`, async () => {
      const pre = await run(scenario, { batch_size: 1, seq_len: 1024, phase: "prefill" })
      const dec = await run(scenario, { batch_size: 16, seq_len: 4096, phase: "decode" })
      const { pricer, dp } = pricerOf(pre)
      // Every rank runs the same work, as run's context assumes.
      const ranks = (s: RankStep) => Array.from({ length: dp }, () => s)
      expect(pricer.stepMs(ranks(prefill(1024)))).toBeCloseTo(pre.result.phases.prefill!.total_latency_ms, 9)
      expect(pricer.stepMs(ranks(decode(16, 4096)))).toBeCloseTo(dec.result.phases.decode!.total_latency_ms, 9)
    })
  }

  it("prices a chunk at its offset by its causal share, and a mixed step above its parts", async () => {
    const out = await run("llama_3_1_70b_h100.yaml", { batch_size: 1, seq_len: 1024, phase: "prefill" })
    const { pricer } = pricerOf(out)
    const first = pricer.stepMs([prefill(2048)])
    const second = pricer.stepMs([prefill(2048, 2048)])
    // Same GEMMs, more keys: the second chunk attends to 2048 cached tokens too.
    expect(second).toBeGreaterThan(first)
    // Two chunks of one prompt cost at least the prompt in one piece (attention shared out exactly, GEMMs twice at half size).
    expect(first + second).toBeGreaterThanOrEqual(pricer.stepMs([prefill(4096)]) * 0.999)
    const mixed = pricer.stepMs([{ chunkLens: [512], chunkOffsets: [0], decodes: 64, decodeKvTokens: 64 * 2048, sampled: 65 }])
    expect(mixed).toBeGreaterThan(pricer.stepMs([prefill(512)]))
    expect(mixed).toBeGreaterThan(pricer.stepMs([decode(64, 2048)]))
    // The slowest data-parallel rank sets the pace.
    expect(pricer.stepMs([decode(64, 2048), decode(8, 2048)])).toBeCloseTo(pricer.stepMs([decode(64, 2048), decode(64, 2048)]), 9)
  })
})

/**
 * `llmsim run` (the build graph: op, layer and scenario nodes, JSON round trips, the store)
 * equals the pure kernel (src/kernel/step.ts simulatePhase + servingSummary) exactly, for every
 * shipped scenario and both phases. Any drift between the graph's node functions and the kernel
 * (a copy of a formula, a forgotten term) fails here.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { contextFor, resolveLayout } from "../../src/kernel/layout.ts"
import { modelOf } from "../../src/kernel/model.ts"
import { servingSummary } from "../../src/kernel/serving.ts"
import { simulatePhase } from "../../src/kernel/step.ts"
import { coreStrategy } from "../../src/kernel/strategies.ts"
import { phasesOf, type SinglePhase } from "../../src/schema/runtime.ts"
import { runSimulation } from "../../src/app/session.ts"
import { scenarioBase } from "../../src/sim/simulate.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { timingHardware } from "../../src/timing/roofline.ts"

const root = path.resolve(import.meta.dirname, "..", "..")
const scenarios = fs
  .readdirSync(path.join(root, "configs", "scenarios"))
  .filter((f) => f.endsWith(".yaml"))
  .sort()

/** The graph's values went through JSON; compare the kernel's the same way. */
const json = <A>(a: A): A => JSON.parse(JSON.stringify(a))

const run = (scenario: string, runtime: Record<string, number | string> = {}) =>
  Effect.runPromise(
    runSimulation({ cwd: root, scenario, runtime, estimator: "analytic", efficiency: "hardware", noCache: true }).pipe(Effect.provide(NodeServices.layer))
  )

const kernelOf = (out: Awaited<ReturnType<typeof run>>) => {
  const loaded = out.loaded
  const model = modelOf(loaded)
  const resolved = resolveLayout(model, loaded.hardware, scenarioBase(loaded, model))
  if (!resolved.ok) throw new Error(resolved.problem.message)
  const layout = resolved.value.layout
  const rt = out.result.runtime
  const hw = loaded.hardware
  const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: rt.micro_batch ?? 1 }
  const phases: Partial<Record<SinglePhase, ReturnType<typeof simulatePhase>>> = {}
  for (const phase of phasesOf(rt.phase as "prefill" | "decode" | "both")) {
    phases[phase] = simulatePhase(
      model,
      contextFor(model, layout, phase, rt.batch_size, rt.seq_len, rt.tokens_per_expert),
      timingHardware(hw, "hardware"),
      analyticEstimator,
      composition
    )
  }
  return { phases, serving: servingSummary(phases, rt, layout, hw.hbm_gb, coreStrategy(composition)) }
}

describe("llmsim run equals the pure kernel", () => {
  it("covers every shipped scenario", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(10)
  })

  for (const scenario of scenarios) {
    it(scenario, async () => {
      const out = await run(path.join("configs", "scenarios", scenario), { phase: "both" })
      const kernel = json(kernelOf(out))
      expect(out.result.phases).toEqual(kernel.phases)
      expect(out.result.serving).toEqual(kernel.serving)
    })
  }

  it("with micro-batches (the overlapped strategy) too", async () => {
    const out = await run(path.join("configs", "scenarios", "deepseek_v3_h800.yaml"), { micro_batch: 2, batch_size: 4, seq_len: 2048 })
    expect(out.result.serving.strategy).toBe("overlapped")
    const kernel = json(kernelOf(out))
    expect(out.result.phases).toEqual(kernel.phases)
    expect(out.result.serving).toEqual(kernel.serving)
  })
})

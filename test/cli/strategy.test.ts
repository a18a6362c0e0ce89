/**
 * `--strategy`: `llmsim run` says which composition produced its numbers, and asked for a
 * deployment model's strategy it gives exactly what that playbook gives.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { runSimulation, type RunOptions } from "../../src/app/session.ts"
import { REPO, runCli } from "../helpers/cli.ts"

const options = (o: Partial<RunOptions> = {}): RunOptions => ({
  cwd: REPO,
  scenario: "configs/scenarios/deepseek_v3_h800.yaml",
  runtime: { batch_size: 4, seq_len: 2048 },
  estimator: "analytic",
  efficiency: "hardware",
  noCache: true,
  ...o
})
const run = (o: Partial<RunOptions> = {}) => Effect.runPromise(runSimulation(options(o)).pipe(Effect.provide(NodeServices.layer)))
const failure = (o: Partial<RunOptions>) => Effect.runPromise(runSimulation(options(o)).pipe(Effect.flip, Effect.provide(NodeServices.layer)))

describe("--strategy", () => {
  it("the core roll-up names its strategy: serial by default, overlapped with two micro-batches", async () => {
    const serial = await run()
    expect(serial.result.serving.strategy).toBe("serial")
    const overlapped = await run({ strategy: "overlapped" })
    const twoMicro = await run({ runtime: { batch_size: 4, seq_len: 2048, micro_batch: 2 } })
    expect(overlapped.result.serving.strategy).toBe("overlapped")
    expect(overlapped.result.runtime.micro_batch).toBe(2)
    // --strategy overlapped is the same question as --micro-batch 2, and overlap only hides time.
    expect(overlapped.result).toEqual(twoMicro.result)
    expect(overlapped.result.serving.ttft_ms!).toBeLessThan(serial.result.serving.ttft_ms!)
  })

  it("refuses a contradiction with a usage error", async () => {
    const e = await failure({ strategy: "serial", runtime: { batch_size: 4, seq_len: 2048, micro_batch: 2 } })
    expect(e._tag).toBe("UsageError")
    expect(e.message).toContain("--strategy serial")
  })

  it("run --strategy two-batch-overlap equals large-ep evaluate on the same scenario (real CLI)", () => {
    const viaRun = runCli(["run", "--strategy", "two-batch-overlap", "--format", "json", "--no-cache"], REPO)
    const viaPlaybook = runCli(["large-ep", "evaluate", "--format", "json", "--no-cache"], REPO)
    expect(viaRun.status, viaRun.stderr).toBe(0)
    expect(viaPlaybook.status, viaPlaybook.stderr).toBe(0)
    const a = JSON.parse(viaRun.stdout)
    const b = JSON.parse(viaPlaybook.stdout)
    expect(a).toEqual(b)
    expect(a.serving.strategy).toBe("two-batch-overlap")
    // The same result labels its core roll-up under the same layout with its own strategy.
    expect(a.core_serving.strategy).toBe("overlapped")
  })
})

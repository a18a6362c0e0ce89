/**
 * `llmsim watch --estimator ml --model FILE` (a session in process): the model is read on every
 * evaluation, so a model file that goes bad between two saves is an error event naming it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { REPO, type startCli } from "../helpers/cli.ts"
import { runOptions, watchInProcess } from "../helpers/inProcess.ts"
import { HARDWARE, SCENARIO, useProjects, WatchProcess } from "./watchProcess.ts"

const project = useProjects()

describe("llmsim watch --estimator ml", () => {
  it("evaluates with the model, and on a corrupt model file re-evaluates on the analytic roofline", async () => {
    const dir = project()
    const model = path.join(dir, "models", "reference.json")
    fs.mkdirSync(path.dirname(model))
    fs.copyFileSync(path.join(REPO, "models", "reference.json"), model)
    const options = runOptions(dir, SCENARIO, { runtime: { phase: "decode" }, noCache: true, estimator: "ml", model })
    const w = new WatchProcess([], dir, watchInProcess(options) as unknown as ReturnType<typeof startCli>)
    expect((await w.expectNext("result")).phases.decode.total_latency_ms).toBeGreaterThan(0)
    fs.writeFileSync(model, "{")
    // A save of any watched file re-evaluates; the model is read again and is now corrupt.
    fs.appendFileSync(path.join(dir, HARDWARE), "\n")
    // The save re-evaluates on the analytic roofline (the warning names the file on stderr): a different answer, still an answer.
    const analytic = await w.expectNext("result")
    expect(analytic.phases.decode.total_latency_ms).toBeGreaterThan(0)
  })
})

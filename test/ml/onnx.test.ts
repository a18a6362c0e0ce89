/**
 * ONNX models through the optional onnxruntime-node: a fixture regressor that predicts ln 1.5
 * for every row (test/fixtures/ml/make_constant_onnx.py) with a sidecar written by
 * `llmsim ml matrix --sidecar` (sidecarModel), timed through the synchronous worker bridge. The
 * runtime tests are skipped where onnxruntime-node is not installed (it is not a dependency:
 * docs/ml-estimator.md); the sidecar checks run everywhere.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadModelFile, sidecarOf } from "../../src/app/estimator.ts"
import { onnxRuntimeEntry } from "../../src/app/onnxRuntime.ts"
import { timeSpec } from "../../src/kernel/opTiming.ts"
import { mlEstimator } from "../../src/ml/estimator.ts"
import { NO_PLACE, opFeatureRow } from "../../src/ml/features.ts"
import { headById } from "../../src/ml/heads.ts"
import { modelText, sidecarModel } from "../../src/ml/model.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { REPO } from "../helpers/cli.ts"
import { failureOf, runEffect } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"
import { linearSpec, PEAK_HW } from "./fixtures.ts"

const FIXTURE = path.join(REPO, "test", "fixtures", "ml", "constant_gemm.onnx")
const rows = [16, 32, 64, 128, 256].map((t) => {
  const features = opFeatureRow(NO_PLACE, linearSpec(t), evaluateOpCost(linearSpec(t)), "X", PEAK_HW)
  return { features, measured_us: 1.5 * (features.analytic_us as number) }
})

/** A temp folder with the fixture as m.onnx and a sidecar (the gemm head's, by default; null: none). */
const modelDir = (sidecar: string | null = modelText(sidecarModel(headById("gemm")!, rows, { sha256: "0".repeat(64), description: "test" })!)) => {
  const dir = tempDir("llmsim-onnx-")
  const file = path.join(dir, "m.onnx")
  fs.copyFileSync(FIXTURE, file)
  if (sidecar !== null) fs.writeFileSync(sidecarOf(file), sidecar)
  return file
}

describe("ONNX model files", () => {
  it("need their sidecar, with exactly one head", async () => {
    const bare = modelDir(null)
    expect((await failureOf(loadModelFile(bare))).message).toBe(
      `${bare}: its metadata sidecar ${bare}.json is missing or unreadable (llmsim ml matrix --sidecar writes it)`
    )
    const two = modelDir(fs.readFileSync(path.join(REPO, "models", "reference.json"), "utf8"))
    expect((await failureOf(loadModelFile(two))).message).toBe(`${two}.json: an ONNX model times one op family; the sidecar lists 4 heads`)
  })

  it.skipIf(onnxRuntimeEntry() === undefined)("predict through onnxruntime-node inside the envelope, fall back outside it", async () => {
    const file = modelDir()
    const { model, digest } = await runEffect(loadModelFile(file))
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
    const ml = mlEstimator(model, digest)
    const a = timeSpec(linearSpec(100), PEAK_HW, analyticEstimator)
    const m = timeSpec(linearSpec(100), PEAK_HW, ml)
    // ln 1.5 in float32, then exp: 1.5 to 7 digits.
    expect(m.dominant_latency_ms / a.dominant_latency_ms).toBeCloseTo(1.5, 6)
    expect(m.estimator).toBe("ml")
    expect(timeSpec(linearSpec(512), PEAK_HW, ml).estimator_note).toBe("gemm_m = 512 is outside the training envelope [16, 256]")
    // Loaded again unchanged (watch, on every save): the same session, not another worker.
    expect((await runEffect(loadModelFile(file))).model).toBe(model)
  })
})

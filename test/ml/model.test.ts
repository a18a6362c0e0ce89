/**
 * Training, cross-validation, the model file and the ML estimator on synthetic rows whose
 * measured time is exactly twice the analytic one: every target is ln 2, so every tree leaf is
 * ln 2 and the correction is x2 wherever the model is used.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import {
  decodeModel,
  foldsOf,
  headMatrix,
  inputNames,
  LIBRARY,
  modelText,
  noiseFloorOf,
  shrink,
  sidecarModel,
  trainModel,
  type TrainingRow
} from "../../src/ml/model.ts"
import { headById } from "../../src/ml/heads.ts"
import { mlEstimator } from "../../src/ml/estimator.ts"
import { NO_PLACE, opFeatureRow } from "../../src/ml/features.ts"
import { timeSpec } from "../../src/kernel/opTiming.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import { analyticEstimator } from "../../src/timing/estimator.ts"
import { collectiveOp } from "../../src/layers/spec.ts"
import { REPO } from "../helpers/cli.ts"
import { linearSpec, PEAK_HW } from "./fixtures.ts"

const TOKENS = [16, 32, 48, 64, 96, 128, 192, 256]
const rows: Array<TrainingRow> = TOKENS.map((t) => {
  const features = opFeatureRow(NO_PLACE, linearSpec(t), evaluateOpCost(linearSpec(t)), "X", PEAK_HW)
  return { features, measured_us: 2 * (features.analytic_us as number) }
})
const DATA = { sha256: "0".repeat(64), description: "synthetic" }
const SMALL = { seed: 7, trees: 8, min_samples_split: 3, max_depth: 4, folds: 4, noise_floor_quantile: 0.75 }

describe("trainModel", () => {
  const model = trainModel(rows, DATA, SMALL)
  const gemm = model.heads[0]

  it("one head per op family present; envelope = [min, max] of the training rows; CV beside analytic", () => {
    expect(model.heads.map((h) => h.head)).toEqual(["gemm"])
    expect(gemm.rows).toBe(8)
    expect(gemm.envelope.gemm_m).toEqual([16, 256])
    expect(gemm.envelope.gemm_n).toEqual([512, 512])
    // Analytic is half the measured time: 50% error on every row; the learned x2 removes it.
    expect(gemm.cross_validation?.analytic.median_ape).toBeCloseTo(50, 9)
    expect(gemm.cross_validation?.ml.max_ape).toBeCloseTo(0, 9)
    expect(gemm.cross_validation?.folds).toBe(4)
    expect(model.library).toEqual(LIBRARY)
  })

  it("is deterministic: the same rows and seed give the same bytes", () => {
    expect(modelText(trainModel(rows, DATA, SMALL))).toBe(modelText(model))
  })

  it("records the installed library version (package.json pins the one the model file names)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", LIBRARY.name, "package.json"), "utf8"))
    expect(pkg.version).toBe(LIBRARY.version)
  })

  it("noise floor: the q-quantile of same-shape scatter in ln units; corrections soft-thresholded at it", () => {
    // One shape measured at 10 us and 10 e^0.2 us: each 0.1 from the family's mean log; a shape measured once adds nothing.
    const twice = [10, 10 * Math.exp(0.2)].map((m) => ({ ...rows[0], measured_us: m }))
    expect(noiseFloorOf([...twice, rows[1]], 0.75)).toBeCloseTo(0.1, 12)
    expect(noiseFloorOf(rows, 0.75)).toBe(0)
    expect([shrink(0.3, 0.1), shrink(-0.3, 0.1), shrink(0.05, 0.1)]).toEqual([0.19999999999999998, -0.19999999999999998, 0])
  })

  it("design matrix and ONNX sidecar of a head (llmsim ml matrix): inputs in log2 where the head says, target ln 2", () => {
    const gemm = headById("gemm")!
    const m = headMatrix(gemm, rows)
    expect(m.length).toBe(8)
    // tokens 16: log2 m = 4, n = 512 -> 9, k = 256 -> 8, one group -> 0.
    expect(m[0].x.slice(0, 4)).toEqual([4, 9, 8, 0])
    expect(m.every((r) => Math.abs(r.y - Math.LN2) < 1e-12)).toBe(true)
    expect(new Set(m.map((r) => r.family)).size).toBe(8)
    const side = sidecarModel(gemm, rows, DATA)!
    expect(side.heads.map((h) => [h.head, h.forest, h.cross_validation, h.envelope.gemm_m])).toEqual([["gemm", null, null, [16, 256]]])
    expect(inputNames(gemm).slice(0, 5)).toEqual(["log2 gemm_m", "log2 gemm_n", "log2 gemm_k", "log2 gemm_groups", "cta_wave_fill"])
    expect(decodeModel(modelText(side))).toBe("heads[0] (gemm): no forest (an ONNX sidecar? pass the .onnx file to --model)")
  })

  it("folds: sorted families dealt round-robin, a family never split", () => {
    expect([...foldsOf(["b", "a", "c", "a"], 2)]).toEqual([
      ["a", 0],
      ["b", 1],
      ["c", 0]
    ])
  })

  it("decodeModel: a clear one-line problem for a corrupt or foreign file", () => {
    const text = modelText(model)
    expect(typeof decodeModel(text)).toBe("object")
    expect(decodeModel(text.slice(0, 200))).toMatch(/^not JSON/)
    expect(decodeModel('{"format":"other"}')).toBe('not an llmsim model file (expected "format": "llmsim-ml-model")')
    expect(decodeModel(text.replace('"feature_schema_version": 1', '"feature_schema_version": 99'))).toMatch(/feature schema 99.*retrain it/)
    expect(decodeModel(text.replace(`"version": "${LIBRARY.version}"`, '"version": "0.0.1"'))).toMatch(/trained with ml-random-forest 0\.0\.1/)
    expect(decodeModel(text.replace('"estimators":[', '"estimators":[null,'))).toMatch(/^heads\[0\] \(gemm\): does not load \(/)
  })
})

describe("mlEstimator", () => {
  const loaded = decodeModel(modelText(trainModel(rows, DATA, SMALL)))
  if (typeof loaded === "string") throw new Error(loaded)
  const ml = mlEstimator(loaded, "digest")
  const time = (spec: ReturnType<typeof linearSpec>) => timeSpec(spec, PEAK_HW, ml)

  it("inside the envelope: the analytic times x the learned correction, recorded as ml", () => {
    const a = timeSpec(linearSpec(100), PEAK_HW, analyticEstimator)
    const m = time(linearSpec(100))
    expect(m.dominant_latency_ms).toBeCloseTo(2 * a.dominant_latency_ms, 12)
    expect(m.compute_time_ms).toBeCloseTo(2 * a.compute_time_ms, 12)
    expect([m.flops, m.bytes_read, m.bytes_written]).toEqual([a.flops, a.bytes_read, a.bytes_written])
    expect(m.estimator).toBe("ml")
    expect(m.estimator_note).toBe("gemm head: analytic x 2.0000")
    expect("estimator" in a).toBe(false)
  })

  it("a fused FFN is timed through its GEMMs: each corrected by the GEMM head, the op scaled by their sum", () => {
    // Rows of both GEMM shapes of a gated FFN with d_model 256 and intermediate 256 (up: 256 -> 512, down: 256 -> 256), all measured at 2x analytic.
    const down = TOKENS.map((t) => {
      const features = opFeatureRow(NO_PLACE, linearSpec(t, 256, 256), evaluateOpCost(linearSpec(t, 256, 256)), "X", PEAK_HW)
      return { features, measured_us: 2 * (features.analytic_us as number) }
    })
    const model = decodeModel(modelText(trainModel([...rows, ...down], DATA, SMALL)))
    if (typeof model === "string") throw new Error(model)
    const ffn = (tokens: number, intermediate: number) =>
      ({
        kind: "ffn",
        name: "mlp",
        category: "ffn",
        params: { tokens, d_model: 256, intermediate, gated: true, weight_dtype: "bf16", act_dtype: "bf16" }
      }) as const
    const a = timeSpec(ffn(100, 256), PEAK_HW, analyticEstimator)
    const m = timeSpec(ffn(100, 256), PEAK_HW, mlEstimator(model, "d"))
    // Every GEMM x2, so the op (GEMMs plus the SwiGLU between them) is x2 as a whole.
    expect(m.dominant_latency_ms).toBeCloseTo(2 * a.dominant_latency_ms, 12)
    expect(m.estimator_note).toBe("gemm head over 2 GEMMs: analytic x 2.0000")
    // An intermediate of 512 makes the up GEMM 1,024 wide: outside the n the rows saw, so the whole op falls back.
    const wide = timeSpec(ffn(100, 512), PEAK_HW, mlEstimator(model, "d"))
    expect([wide.estimator, wide.estimator_note]).toEqual([
      "analytic-fallback",
      "GEMM 1 of 2 (linear): gemm_n = 1024 is outside the training envelope [256, 512]"
    ])
  })

  it("outside it, another op kind or a communication op: the analytic times, with the reason", () => {
    const out = time(linearSpec(1024))
    expect(out.dominant_latency_ms).toBe(timeSpec(linearSpec(1024), PEAK_HW, analyticEstimator).dominant_latency_ms)
    expect([out.estimator, out.estimator_note]).toEqual(["analytic-fallback", "gemm_m = 1024 is outside the training envelope [16, 256]"])
    const norm = timeSpec({ kind: "rmsnorm", name: "n", category: "other", params: { tokens: 8, hidden: 64, act_dtype: "bf16" } }, PEAK_HW, ml)
    expect(norm.estimator_note).toBe("op kind rmsnorm is not in the model")
    const ar = timeSpec(collectiveOp("ar", "all_reduce", 1e6, 8, "interconnect"), PEAK_HW, ml)
    expect(ar.estimator_note).toBe("communication op (the model times compute kernels)")
  })
})

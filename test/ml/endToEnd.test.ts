/**
 * The ML estimator end to end, in process: features of a scenario -> measurements -> align ->
 * train -> run with --estimator ml. Measured times are set to 1.5 x the analytic time of every
 * decode GEMM at batch 8, 16 and 32, so the model learns exactly x1.5 for GEMMs of those shapes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it, vi } from "vitest"
import { parseCsv } from "../../src/reference/csv.ts"
import { sha256 } from "../../src/base/sha256.js"
import { collectFeatures } from "../../src/cli/features.ts"
import type { OpExecution } from "../../src/kernel/records.ts"
import { alignedCsv, alignMeasurements } from "../../src/ml/align.ts"
import { parseShape } from "../../src/ml/features.ts"
import { modelText, trainModel } from "../../src/ml/model.ts"
import { makeProject } from "../helpers/cli.ts"
import { runEffect, runFailure, runInProcess, runOptions } from "../helpers/inProcess.ts"

const SCENARIO = "configs/scenarios/llama_3_1_70b_h100.yaml"
const HP = { seed: 1, trees: 8, min_samples_split: 3, max_depth: 4, folds: 3, noise_floor_quantile: 0.75 }

const opsOf = (r: Awaited<ReturnType<typeof runInProcess>>, phase: "prefill" | "decode"): Array<OpExecution> =>
  r.out.result.phases[phase]!.layers.flatMap((l) => l.breakdown)

describe("features -> align -> train -> run --estimator ml", async () => {
  const dir = makeProject("llmsim-ml-")
  const rows = await runEffect(collectFeatures({ cwd: dir, scenario: SCENARIO, batches: [8, 16, 32], phase: "decode", efficiency: "hardware" }))
  const gemms = rows.filter((r) => r.level === "op" && r.kind === "linear")
  const measured = ["kind,hardware,tokens,in_features,out_features,measured_us"]
    .concat(
      gemms.map((r) => {
        const p = parseShape(r.shape)
        return `linear,${r.hardware},${p.tokens},${p.in_features},${p.out_features},${1.5 * (r.analytic_us as number)}`
      }),
      ["rmsnorm,H100-SXM,7,,,3"]
    )
    .join("\n")
  const joined = alignMeasurements(parseCsv(measured), rows, "measured.csv")
  if (typeof joined === "string") throw new Error(joined)
  const train = (factor: number, file: string) => {
    const aligned = joined.aligned.map((a) => ({ ...a, measured_us: factor * (a.features.analytic_us as number) }))
    fs.writeFileSync(path.join(dir, file), modelText(trainModel(aligned, { sha256: sha256(alignedCsv(aligned)), description: "test" }, HP)))
  }
  train(1.5, "a.json")
  train(1.25, "b.json")
  const at = (over: object) => runOptions(dir, SCENARIO, { runtime: { batch_size: 16 }, ...over })

  it("aligns every GEMM row and says why the rmsnorm row did not match", () => {
    expect(joined.aligned.length).toBe(gemms.length)
    expect(joined.unmatched).toEqual([{ line: gemms.length + 2, reason: "no rmsnorm op on H100-SXM with tokens=7" }])
  })

  it("changes the times of covered ops only; FLOPs and bytes identical; the fallback says why", async () => {
    const analytic = await runInProcess(at({ noCache: true }))
    const ml = await runInProcess(at({ noCache: true, estimator: "ml", model: "a.json" }))
    for (const phase of ["prefill", "decode"] as const) {
      const a = opsOf(analytic, phase)
      const m = opsOf(ml, phase)
      expect(m.map((o) => [o.op, o.flops, o.bytes_read, o.bytes_written, o.comm_bytes])).toEqual(
        a.map((o) => [o.op, o.flops, o.bytes_read, o.bytes_written, o.comm_bytes])
      )
      m.forEach((o, i) => {
        const ratio = o.dominant_latency_ms / a[i].dominant_latency_ms
        if (o.estimator === "ml") expect(ratio).toBeCloseTo(1.5, 9)
        else expect(ratio).toBe(1)
      })
    }
    const decode = opsOf(ml, "decode")
    expect(decode.filter((o) => o.kind === "linear").every((o) => o.estimator === "ml")).toBe(true)
    expect(decode.find((o) => o.kind === "rmsnorm")?.estimator_note).toBe("op kind rmsnorm is not in the model")
    // Prefill GEMMs have 16 x 4,096 tokens, far above the 8 to 32 the model saw.
    const prefillGemm = opsOf(ml, "prefill").find((o) => o.kind === "linear")!
    expect(prefillGemm.estimator).toBe("analytic-fallback")
    expect(prefillGemm.estimator_note).toMatch(/^gemm_m = 65536 is outside the training envelope \[8, 32\]$/)
    expect(ml.out.result.phases.decode!.total_latency_ms).toBeGreaterThan(analytic.out.result.phases.decode!.total_latency_ms)
    // The run screen says how much the model covered (distinct ops per phase and layer type); analytic says nothing.
    const covered = new Set(
      ["prefill", "decode"].flatMap((p) =>
        opsOf(ml, p as "prefill")
          .filter((o) => o.estimator === "ml")
          .map((o) => `${p} ${o.op}`)
      )
    )
    const all = new Set(["prefill", "decode"].flatMap((p) => opsOf(ml, p as "prefill").map((o) => `${p} ${o.op}`)))
    expect(ml.text("table")).toContain(`\n          ${covered.size} of ${all.size} ops timed by the model, ${all.size - covered.size} by the analytic fallback`)
    expect(analytic.text("table")).not.toContain("ops timed by the model")
  })

  it("swapping the model re-keys every op node and nothing else upstream: file nodes replay (--explain)", async () => {
    const first = await runInProcess(at({ estimator: "ml", model: "a.json" }))
    const again = await runInProcess(at({ estimator: "ml", model: "a.json" }))
    expect(again.trace.nodes.filter((n) => n.status === "computed")).toEqual([])
    const swapped = await runInProcess(at({ estimator: "ml", model: "b.json" }))
    const keys = (r: typeof first, kind: string) => new Set(r.trace.nodes.filter((n) => n.kind === kind).map((n) => n.key as string))
    // No op node of the swapped run has a key of the first run (the model digest is in every op key) ...
    const before = keys(first, "op")
    expect([...keys(swapped, "op")].filter((k) => before.has(k))).toEqual([])
    // ... while every file node (config decoding) replays with its key unchanged.
    expect(keys(swapped, "file")).toEqual(keys(first, "file"))
    expect(swapped.trace.nodes.filter((n) => n.kind === "file").every((n) => n.status === "replayed")).toBe(true)
    expect(swapped.explain).toMatch(/params changed: model: "[0-9a-f]{64}" -> "[0-9a-f]{64}"/)
  })

  it("a missing or corrupt model file falls back to the analytic roofline with one warning naming why; ml without --model reads models/reference.json", async () => {
    fs.writeFileSync(path.join(dir, "bad.json"), '{"format": "llmsim-ml-model"')
    const warned = async (over: object) => {
      const lines: Array<string> = []
      const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk))
        return true
      })
      try {
        const r = await runInProcess(at({ noCache: true, ...over }))
        return { r, warnings: lines.filter((l) => l.startsWith("warning: --estimator ml")) }
      } finally {
        spy.mockRestore()
      }
    }
    const analytic = await runInProcess(at({ noCache: true }))
    const missing = await warned({ estimator: "ml", model: "nope.json" })
    expect(missing.warnings).toEqual([
      `warning: --estimator ml: model file not found or unreadable: ${path.join(dir, "nope.json")}; timing with the analytic roofline instead\n`
    ])
    // The fallback is the analytic estimator: the same step times as a plain run.
    expect(missing.r.out.result.phases.decode!.total_latency_ms).toBe(analytic.out.result.phases.decode!.total_latency_ms)
    const corrupt = await warned({ estimator: "ml", model: "bad.json" })
    expect(corrupt.warnings).toHaveLength(1)
    expect(corrupt.warnings[0]).toMatch(/^warning: --estimator ml: .*bad\.json: not JSON.*; timing with the analytic roofline instead\n$/)
    // Without --model: the project's models/reference.json (this temporary project has none).
    const none = await warned({ estimator: "ml" })
    expect(none.warnings).toEqual([
      `warning: --estimator ml: model file not found or unreadable: ${path.join(dir, "models", "reference.json")}; timing with the analytic roofline instead\n`
    ])
    // With the default in place, it is read.
    fs.mkdirSync(path.join(dir, "models"), { recursive: true })
    fs.copyFileSync(path.join(dir, "a.json"), path.join(dir, "models", "reference.json"))
    const byDefault = await warned({ estimator: "ml" })
    const explicit = await runInProcess(at({ noCache: true, estimator: "ml", model: "a.json" }))
    expect(byDefault.warnings).toEqual([])
    expect(byDefault.r.out.result.phases.decode!.total_latency_ms).toBe(explicit.out.result.phases.decode!.total_latency_ms)
    const peak = await runFailure(at({ noCache: true, estimator: "ml", model: "a.json", efficiency: "none" }))
    expect(peak.message).toMatch(/^--estimator ml corrects the analytic times .*drop --efficiency none$/)
  })
})

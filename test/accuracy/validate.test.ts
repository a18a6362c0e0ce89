/**
 * `llmsim validate` on the reference files: the acceptance bounds of the timing model (a formula
 * or constant change that breaks accuracy fails here), the report's shape, and the committed
 * docs/validation.md being exactly what the command generates. The report comes from the
 * command's entry point in process (test/helpers/inProcess.ts), rendered by the command's own
 * renderers; the real CLI checks the default table, the exit status and the missing-folder error.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { makeProject, REFERENCE, REPO, runCli } from "../helpers/cli.ts"
import { validateFailure, validateInProcess } from "../helpers/inProcess.ts"

/** The repository's report at the default reference folder, with the ML section (docs/validation.md is generated with it). */
let repoReport: ReturnType<typeof validateInProcess> | undefined
const repositoryReport = () => (repoReport ??= validateInProcess(REPO, undefined, "hardware", "ml"))

describe("llmsim validate", () => {
  let report: any
  beforeAll(async () => {
    // `llmsim validate --format json` (the default folder is data/reference)
    expect(path.resolve(REPO, "data", "reference")).toBe(REFERENCE)
    report = (await repositoryReport()).json
  })

  const dataset = (id: string) => report.datasets.find((d: any) => d.id === id)

  it("exits 0 with every acceptance check passing; gates held-out rows only, in-sample checks reported apart", () => {
    // The command exits 1 exactly when an acceptance check fails.
    expect(report.acceptance.filter((a: any) => !a.pass)).toEqual([])
    // Held out: no constant of their hardware was fitted on their rows (the production decode, the
    // dense fit's leave-one-out, DeepEP normal kernels, H800's community GEMMs).
    expect(report.acceptance.map((a: any) => a.name)).toEqual([
      "DeepSeek production decode, output tokens/s per node",
      "DeepGEMM dense FP8 on H800, leave-one-out of the H800 GEMM fit",
      "DeepEP normal dispatch / combine bandwidth",
      "DeepGEMM community GEMMs on H800-SXM"
    ])
    // In sample: the hardware files' calibration blocks name these rows (H800's GEMM constants on the
    // dense table, the attention fractions on FlashMLA / FA3 rows, H100's and H20's GEMM constants on
    // their community rows, H800's overlap_efficiency on the profile).
    expect(report.in_sample.map((a: any) => a.name)).toEqual([
      "DeepGEMM dense FP8 GEMMs on H800, latest published table",
      "FlashMLA decoding",
      "FlashAttention-3 prefill",
      "DeepGEMM community GEMMs on H100-SXM",
      "DeepGEMM community GEMMs on H20",
      "DeepSeek-V3 profiled decode, output tokens/s per GPU (profile-data settings)",
      "DeepSeek-V3 profiled prefill, input tokens/s per GPU (profile-data settings)"
    ])
    expect(dataset("deepgemm-dense-h800").in_sample).toEqual([
      { hardware: "H800-SXM", constants: ["compute", "memory", "kernel_latency_us", "tile", "sm_load_gbps"] }
    ])
    expect(dataset("deepep-low-latency").in_sample).toEqual([])
    for (const a of report.acceptance) expect(a.pass, `${a.name}: ${a.value}`).toBe(true)
  })

  it("DeepGEMM dense FP8 on H800 (latest table): median <= 10 %, p90 <= 25 % over all 18 rows", () => {
    const d = dataset("deepgemm-dense-h800")
    expect(d.summary.rows).toBe(18)
    expect(d.summary.median_ape).toBeLessThanOrEqual(10)
    expect(d.summary.p90_ape).toBeLessThanOrEqual(25)
    for (const r of d.rows) expect(r.hardware).toBe("H800-SXM")
  })

  it("DeepSeek production decode: output tokens/s per node within 20 % of 14.8k", () => {
    const decode = dataset("deepseek-production").rows.find((r: any) => r.case.startsWith("decode"))
    expect(decode.measured).toBe(14800)
    expect(Math.abs(decode.predicted / 14800 - 1)).toBeLessThanOrEqual(0.2)
    expect(decode.case).toContain("EP144")
    expect(decode.case).toContain("88 sequences per GPU")
    expect(dataset("deepseek-production").notes[0]).toMatch(/^Decode model: large-EP deployment model/)
    expect(dataset("deepseek-production").notes.join(" ")).toContain("fits")
  })

  it("DeepSeek-V3 profiled decode and prefill: rows at the published settings, each a gated check or a reported target", () => {
    const d = dataset("deepseek-profile")
    expect(d.rows.map((r: any) => [r.case, r.unit, r.measured])).toEqual([
      ["decode EP128, 128 requests per GPU, KV 4096, 2 micro-batches", "output tokens/s per GPU", 2324],
      ["prefill EP32, 4 x 4096-token prompts per GPU, 2 micro-batches", "input tokens/s per GPU", 7839]
    ])
    const checks = [...report.acceptance, ...report.targets, ...report.in_sample].filter((c: any) => c.name.startsWith("DeepSeek-V3 profiled"))
    // In sample: H800's overlap_efficiency is fitted on these two rows (calibrate --overlap).
    expect(checks.map((c: any) => c.requirement)).toEqual(["within 10% of 2324 (in sample)", "within 10% of 7839 (in sample)"])
    // A gated check holds; a target is listed until it does.
    for (const c of report.acceptance) expect(c.pass).toBe(true)
    for (const c of checks) expect(c.pass).toBe(Math.abs(Number(/\(([-+][\d.]+)%\)/.exec(c.value)![1])) <= 10)
  })

  it("covers every dataset the issue lists, each row with predicted, measured and APE", () => {
    const ids = report.datasets.map((d: any) => d.id)
    for (const id of [
      "deepgemm-dense-h800",
      "deepgemm-grouped-h800",
      "deepgemm-community",
      "flashmla",
      "attention-fa3",
      "deepep-normal",
      "deepseek-production",
      "deepseek-profile"
    ]) {
      expect(ids).toContain(id)
      expect(dataset(id).summary.rows, id).toBeGreaterThan(0)
    }
    for (const d of report.datasets) {
      for (const r of d.rows) {
        expect(Number.isFinite(r.predicted) && r.predicted > 0, `${d.id} ${r.case}`).toBe(true)
        expect(r.ape).toBeCloseTo(Math.abs(r.predicted / r.measured - 1) * 100, 9)
        expect(r.source).toMatch(/^[a-z_0-9]+\.(csv|yaml):\d+$/)
      }
    }
    const community = dataset("deepgemm-community")
    expect(new Set(community.rows.map((r: any) => r.hardware))).toEqual(new Set(["H800-SXM", "H100-SXM", "H20", "H200-SXM"]))
  })

  it("counts the rows it cannot model, with the reason", () => {
    const dense = dataset("deepgemm-dense-h800")
    expect(dense.skipped).toEqual([{ reason: "superseded README version (is_latest_published = no)", count: 36 }])
    expect(
      dataset("attention-fa3")
        .skipped.map((s: any) => s.reason)
        .join(" ")
    ).toContain("non-causal")
  })

  it("peak-only timing (--efficiency none) is far off on the same rows", async () => {
    // With --efficiency none the command does not gate, so it exits 0.
    const none = (await validateInProcess(REPO, REFERENCE, "none")).json
    const dense = none.datasets.find((d: any) => d.id === "deepgemm-dense-h800")
    expect(dense.summary.median_ape).toBeGreaterThan(25)
    expect(none.hardware.every((h: any) => Object.keys(h.efficiency).length === 0)).toBe(true)
  })

  it("prints a table by default, with the summary and acceptance lines (real CLI, default reference folder)", () => {
    const r = runCli(["validate"], REPO)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain("== summary ==")
    expect(r.stdout).toMatch(/^PASS {2}DeepSeek production decode/m)
    expect(r.stdout).toMatch(/^MET {3}DeepGEMM dense FP8 GEMMs on H800, latest published table: .*\(in sample, reported, never gated: /m)
    expect(r.stdout).toMatch(/^[\x20-\x7e\n]*$/)
  })
})

describe("llmsim validate --estimator ml", () => {
  it("reports issue 14's cross-validated targets, beside the analytic error on the same rows", async () => {
    const ml = (await repositoryReport()).json.ml
    expect(ml.targets.map((t: any) => [t.name, t.pass])).toEqual([
      ["FlashMLA decoding", true],
      ["FlashAttention-3 prefill", true],
      ["DeepGEMM community GEMMs on H20", false],
      ["DeepGEMM community GEMMs on H200", true],
      ["No kernel dataset worse than analytic", false]
    ])
    // Issue 15 fitted H20's GEMM constants (analytic H20 median 61.5% -> 10.1%), leaving the learned
    // correction little to add there: ML stays within a few tenths of the analytic 10.1%, around
    // issue 14's 10%.
    const h20 = ml.datasets.find((d: any) => d.id === "deepgemm-community").by_hardware.find((h: any) => h.hardware === "H20")
    expect(h20.ml.median_ape).toBeLessThan(10.5)
    expect(Math.abs(h20.ml.median_ape - h20.analytic.median_ape)).toBeLessThan(0.5)
    // Since the grouped head took the grouped calls (issue 27), the dense head's held-out error on
    // the H800 dense table is 2.85% against the analytic 2.76% fitted on those same rows, just past
    // the 0.05-point tolerance: the one dataset where ML is worse. The masked table, held out by
    // shape family, is where the grouped head helps most: 20.7% analytic.
    const worse = ml.datasets.filter((d: any) => d.ml.median_ape > d.analytic.median_ape + 0.05)
    expect(worse.map((d: any) => d.id)).toEqual(["deepgemm-dense-h800"])
    const masked = ml.datasets.find((d: any) => d.id === "deepgemm-masked-h800")
    expect(masked.analytic.median_ape).toBeGreaterThan(20)
    expect(masked.ml.median_ape).toBeLessThan(10)
    // The analytic column is the roofline on the same rows: FA3's 6 rows match the table above.
    const fa3 = ml.datasets.find((d: any) => d.id === "attention-fa3")
    expect(fa3.analytic.median_ape).toBeCloseTo((await repositoryReport()).json.datasets.find((d: any) => d.id === "attention-fa3").summary.median_ape, 9)
  })
})

describe("docs/validation.md", () => {
  it("is exactly what `llmsim validate --format markdown` generates (regenerate it after a model change)", async () => {
    const r = { stdout: (await repositoryReport()).markdown }
    const committed = fs.readFileSync(path.join(REPO, "docs", "validation.md"), "utf8")
    expect(committed === r.stdout, "docs/validation.md is stale: run `npx llmsim validate --estimator ml --format markdown --out docs/validation.md`").toBe(
      true
    )
  })

  it("is deterministic ASCII with no absolute paths", () => {
    const text = fs.readFileSync(path.join(REPO, "docs", "validation.md"), "utf8")
    expect(text).toMatch(/^[\x20-\x7e\n]*$/)
    expect(text).not.toContain(REPO)
    expect(text).not.toContain(REFERENCE)
  })
})

describe("llmsim validate errors", () => {
  it("says where it looked when the reference folder is missing", () => {
    const dir = makeProject()
    const r = runCli(["validate"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/^error: reference folder not found: .*data[/\\]reference \(pass --reference DIR/m)
  })

  it("names a missing reference file", async () => {
    const dir = makeProject()
    const ref = path.join(dir, "ref")
    fs.mkdirSync(ref)
    fs.copyFileSync(path.join(REFERENCE, "deepgemm_dense_h800.csv"), path.join(ref, "deepgemm_dense_h800.csv"))
    const e = await validateFailure(dir, ref)
    expect(e._tag).toBe("ReferenceDataError")
    expect(`error: ${e.message}`).toMatch(/reference file missing or unreadable: .*deepgemm_grouped_contiguous_h800\.csv/)
  })

  it("falls back to the core roll-up, and says so, when DeepSeek's unit scenarios are absent", async () => {
    const dir = makeProject()
    fs.rmSync(path.join(dir, "configs", "scenarios", "deepseek_v3_h800_decode_ep144.yaml"), { force: true })
    const ds = (await validateInProcess(dir, REFERENCE)).json.datasets.find((d: any) => d.id === "deepseek-production")
    expect(ds.notes.join(" ")).toContain("The large-EP deployment model is not used")
    expect(ds.notes[0]).toMatch(/^Decode model: core simulator, serial roll-up/)
    expect(ds.rows.length).toBe(2)
  })

  it("runs on a project copy with the reference folder given", async () => {
    const dir = makeProject()
    // The same datasets as the repository's report (its ML section is the same function of the same files).
    expect((await validateInProcess(dir, REFERENCE)).json.datasets).toEqual((await repositoryReport()).json.datasets)
  })
})

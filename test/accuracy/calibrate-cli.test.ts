/**
 * `llmsim calibrate`: the shipped H800 and H100 constants are exactly what the documented
 * commands fit (so the YAML never drifts from its stated provenance), and bad input is named.
 * The H800 command runs on the real CLI; the other fits call the calibration in process
 * (test/helpers/inProcess.ts), and bad input goes through the command in process.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { makeProject, REFERENCE as REF, REPO, runCli } from "../helpers/cli.ts"
import { calibrateCommand, calibrateInProcess, commandErrors, commandInProcess } from "../helpers/inProcess.ts"

const shipped = (name: string) => parse(fs.readFileSync(path.join(REPO, "configs", "hardware", `${name}.yaml`), "utf8")).efficiency

const fittedBlock = (stdout: string) => parse(stdout.slice(stdout.indexOf("efficiency:"))).efficiency

describe("llmsim calibrate", () => {
  it("reproduces the shipped H800-SXM constants from the latest DeepGEMM dense table (real CLI)", () => {
    const r = runCli(
      ["calibrate", "configs/hardware/H800-SXM.yaml", "--data", path.join(REF, "deepgemm_dense_h800.csv"), "--where", "is_latest_published=yes", "--loo"],
      REPO
    )
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^leave-one-out: median [\d.]+%, p90 [\d.]+%/m)
    expect(r.stdout).toContain("18 rows of deepgemm_dense_h800.csv where is_latest_published=yes")
    expect(r.stdout).toMatch(/^error before: median [\d.]+%, p90 [\d.]+%/m)
    expect(r.stdout).toMatch(/^error after: {2}median [\d.]+%, p90 [\d.]+%/m)
    expect(fittedBlock(r.stdout)).toEqual(shipped("H800-SXM"))
    // The calibration: lines it prints are the file's: 18 rows, in sample and leave-one-out errors.
    const printed = parse(r.stdout.slice(r.stdout.indexOf("\ncalibration:\n"))).calibration
    const file = parse(fs.readFileSync(path.join(REPO, "configs", "hardware", "H800-SXM.yaml"), "utf8")).calibration
    expect(Object.keys(printed)).toEqual(["compute", "memory", "kernel_latency_us", "sm_load_gbps"])
    for (const k of Object.keys(printed)) {
      expect(printed[k].rows).toBe(file[k].rows)
      expect(printed[k].error).toEqual(file[k].error)
    }
    expect(printed.compute.error).toEqual({ median_pct: 2.8, p90_pct: 7.9, held_out_median_pct: 3.9, held_out_p90_pct: 11.8 })
  })

  it("reproduces the shipped H100-SXM memory and kernel latency from the H100 community rows", () => {
    // llmsim calibrate configs/hardware/H100-SXM.yaml --data .../deepgemm_community_measurements.csv --where hardware=H100 --fit memory,kernel_latency_us
    const c = calibrateInProcess(
      REPO,
      "configs/hardware/H100-SXM.yaml",
      path.join(REF, "deepgemm_community_measurements.csv"),
      [["hardware", "H100"]],
      ["memory", "kernel_latency_us"]
    )
    expect(c.rows).toHaveLength(12)
    expect(c.provenance).toContain("12 rows of deepgemm_community_measurements.csv where hardware=H100")
    expect(fittedBlock(c.yaml)).toEqual(shipped("H100-SXM"))
    expect(c.yaml).toMatch(/compute: 0\.815 +# kept from the hardware file/)
  })

  it("fits a speed-of-light file from a user CSV and reports a large improvement (json)", () => {
    const dir = makeProject()
    const csv = path.join(dir, "mine.csv")
    fs.writeFileSync(csv, fs.readFileSync(path.join(REF, "deepgemm_dense_h800.csv"), "utf8"))
    const hw = path.join(dir, "configs", "hardware", "H800-SXM.yaml")
    const text = fs.readFileSync(hw, "utf8")
    fs.writeFileSync(hw, text.slice(0, text.indexOf("# Timing constants")))
    // llmsim calibrate configs/hardware/H800-SXM.yaml --data mine.csv --where is_latest_published=yes --fit compute,memory,kernel_latency_us --format json
    const c = calibrateInProcess(dir, "configs/hardware/H800-SXM.yaml", csv, [["is_latest_published", "yes"]], ["compute", "memory", "kernel_latency_us"])
    const j = { ...c.result, yaml: c.yaml }
    expect(j.before_summary.median_ape).toBeGreaterThan(25)
    expect(j.after_summary.median_ape).toBeLessThan(j.before_summary.median_ape)
    expect(j.after.tile_m).toBe(0)
    expect(j.yaml).toMatch(/^efficiency:\n/)
  })

  it("rejects no usable rows, an unknown constant and a bad --where", async () => {
    const data = path.join(REF, "deepgemm_dense_h800.csv")
    // One through the real CLI (exit 1, message on stderr); the rest through the command in process (cwd: the repository).
    const none = runCli(["calibrate", "configs/hardware/H800-SXM.yaml", "--data", data, "--where", "is_latest_published=maybe"], REPO)
    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(/no usable GEMM rows after --where/)
    expect(process.cwd()).toBe(REPO)
    const fit = await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--data", data, "--fit", "compute,speed"])
    expect(fit.join("\n")).toMatch(/--fit: expected a comma list of compute, memory, kernel_latency_us, sm_load_gbps, tile/)
    const where = await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--data", data, "--where", "oops"])
    expect(where.join("\n")).toMatch(/--where: expected COLUMN=VALUE/)
    const missing = await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--data", "nope.csv"])
    expect(missing.join("\n")).toMatch(/--data file not found or unreadable/)
  })

  it("a measured rate or time outside its physical range is an error at file:line:col, not a row to fit", async () => {
    const dir = makeProject("llmsim-calibrate-absurd-")
    const csv = path.join(dir, "absurd.csv")
    // Line 3's tflops field starts after "dense_fp8,64,7168,2048,".
    fs.writeFileSync(
      csv,
      ["kind,m,n,k,tflops,time_us", "dense_fp8,64,2112,7168,206,", "dense_fp8,64,7168,2048,1e308,", "dense_fp8,64,4096,7168,,1e15"].join("\n")
    )
    const tflops = "dense_fp8,64,7168,2048,".length + 1
    expect(await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--data", csv, "--fit", "compute"])).toEqual([
      `${csv}:3:${tflops} tflops: Expected a compute rate between 1e-3 and 1e6 TFLOPS (its physical range), got "1e308"`
    ])
    fs.writeFileSync(csv, ["kind,m,n,k,tflops,time_us", "dense_fp8,64,4096,7168,,1e15"].join("\n"))
    expect(await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--data", csv, "--fit", "compute"])).toEqual([
      `${csv}:2:${"dense_fp8,64,4096,7168,,".length + 1} time_us: Expected a kernel time between 1e-3 and 1e9 us (its physical range), got "1e15"`
    ])
  })

  it("--attention regenerates the shipped attention constants of H100-SXM (in process, cwd: the repository)", async () => {
    // llmsim calibrate configs/hardware/H100-SXM.yaml --attention --data data/reference --loo
    const out = await commandInProcess(calibrateCommand, ["configs/hardware/H100-SXM.yaml", "--attention", "--data", "data/reference", "--loo"])
    const shipped = (parse(fs.readFileSync(path.join(REPO, "configs", "hardware", "H100-SXM.yaml"), "utf8")) as any).efficiency
    expect(out).toContain("14 rows of flashmla.yaml and attention_kernels_measured.csv on H100-SXM")
    expect(out).toContain(`attention_compute: ${shipped.attention_compute} `)
    expect(out).toContain(`attention_memory: ${shipped.attention_memory} `)
    expect(out).toMatch(/^leave-one-out: median [\d.]+%/m)
    const few = await commandErrors(calibrateCommand, ["configs/hardware/B200.yaml", "--attention", "--data", "data/reference"])
    expect(few.join("\n")).toMatch(/0 FlashMLA \/ FlashAttention-3 rows ran on B200/)
  })
})

/**
 * `llmsim calibrate --overlap`: the golden-section search, the fit recovering an overlap
 * efficiency that generated the throughputs, and the command regenerating the shipped H800 value.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import { beforeAll, describe, expect, it } from "vitest"
import { calibrateOverlap, goldenSection } from "../../src/accuracy/calibrateOverlap.ts"
import { PROFILE_FILE } from "../../src/accuracy/datasets/deepseekProfile.ts"
import { systemDatasetsOn, type ValidationInputs } from "../../src/accuracy/validate.ts"
import { REPO } from "../helpers/cli.ts"
import { calibrateCommand, commandErrors, commandInProcess, runEffect, validationInputs } from "../helpers/inProcess.ts"

describe("goldenSection", () => {
  it("finds the minimum of a unimodal function on an interval", () => {
    expect(goldenSection((x) => (x - 0.3) ** 2, 0, 1)).toBeCloseTo(0.3, 4)
    // A minimum at the end of the interval is approached from inside.
    expect(goldenSection((x) => x, 0, 1)).toBeLessThan(1e-4)
  })
})

describe("calibrateOverlap", () => {
  let inputs: ValidationInputs
  beforeAll(async () => {
    inputs = await runEffect(validationInputs(REPO, undefined))
  })

  it("recovers the overlap efficiency that generated the profile's throughputs", () => {
    const h800 = inputs.hardware.get("H800-SXM")!
    // Throughputs the model gives at e = 0.8 written in place of the published ones.
    const at = systemDatasetsOn(inputs, { ...h800, overlap_efficiency: 0.8 }, { production: false }).profile!.rows
    const text = inputs.files[PROFILE_FILE]
      .replace(/output_tokens_per_s_per_gpu: \d+/, `output_tokens_per_s_per_gpu: ${at[0].predicted}`)
      .replace(/input_tokens_per_s_per_gpu: \d+/, `input_tokens_per_s_per_gpu: ${at[1].predicted}`)
    const r = calibrateOverlap({ ...inputs, files: { ...inputs.files, [PROFILE_FILE]: text } }, { ...h800, overlap_efficiency: 1 }, true)
    if (typeof r === "string") throw new Error(r)
    expect(r.before).toBe(1)
    expect(r.after).toBeCloseTo(0.8, 3)
    expect(r.after_summary.max_ape).toBeLessThan(0.1)
    expect(r.leave_one_out!.max_ape).toBeLessThan(0.1)
    // Full overlap is faster than the generating 0.8: both rows over-predicted before the fit.
    for (const row of r.rows.filter((x) => !x.held_out)) expect(row.before).toBeGreaterThan(row.measured)
    // The production decode average is reported, not fitted.
    expect(r.rows.map((x) => x.held_out)).toEqual([false, false, true])
  })
})

describe("llmsim calibrate --overlap", () => {
  it("regenerates the shipped H800 overlap_efficiency (in process, cwd: the repository)", async () => {
    // llmsim calibrate configs/hardware/H800-SXM.yaml --overlap --data data/reference --loo
    const out = await commandInProcess(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--overlap", "--data", "data/reference", "--loo"])
    const shipped = (parse(fs.readFileSync(path.join(REPO, "configs", "hardware", "H800-SXM.yaml"), "utf8")) as any).overlap_efficiency
    expect(shipped).toBeLessThan(1)
    expect(out).toContain(`overlap_efficiency: ${shipped} `)
    expect(out).toMatch(/^leave-one-out: median [\d.]+%/m)
    expect(out).toMatch(/held out/)
  })

  it("refuses hardware the serving rows did not run on, and --attention with --overlap", async () => {
    const other = await commandErrors(calibrateCommand, ["configs/hardware/H100-SXM.yaml", "--overlap", "--data", "data/reference"])
    expect(other.join("\n")).toMatch(/serving rows ran on H800-SXM .*not H100-SXM/)
    const both = await commandErrors(calibrateCommand, ["configs/hardware/H800-SXM.yaml", "--overlap", "--attention", "--data", "data/reference"])
    expect(both.join("\n")).toMatch(/pass one/)
  })
})

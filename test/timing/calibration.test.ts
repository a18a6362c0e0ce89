/**
 * Calibration status (src/timing/calibration.ts): each constant fitted, borrowed or datasheet
 * only; the hardware's status the weakest of its constants'; where compared hardware differ. The
 * shipped files' statuses, every constant stated, every fit's data file present.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { decodeYamlText } from "../../src/config/yamlFile.ts"
import { CALIBRATED_CONSTANTS, HardwareSpec } from "../../src/schema/hardware.ts"
import {
  calibrationDifferences,
  calibrationLine,
  calibrationSummary,
  datasetFiles,
  datasheetOnlyProblem,
  isCalibrated,
  unsourcedConstants
} from "../../src/timing/calibration.ts"
import { REFERENCE, REPO } from "../helpers/cli.ts"

const shipped = (name: string): HardwareSpec => {
  const file = path.join(REPO, "configs", "hardware", `${name}.yaml`)
  const hw = decodeYamlText(HardwareSpec, fs.readFileSync(file, "utf8"), file)
  if (hw instanceof ConfigError) throw new Error(hw.message)
  return hw
}

const base: HardwareSpec = {
  name: "test",
  peak_tflops: 1000,
  memory_bandwidth_gbps: 2000,
  hbm_gb: 80,
  interconnect_gbps: 200,
  max_concurrency: 2,
  overlap_efficiency: 1
}

const fit = { status: "fitted", dataset: "data/mine.csv", rows: 12, error: { median_pct: 3 } } as const
const every = <A>(a: A) => Object.fromEntries(CALIBRATED_CONSTANTS.map((k) => [k, a]))

describe("calibration status", () => {
  it("a file without efficiency or calibration: every constant datasheet only (the peak-only roofline)", () => {
    const s = calibrationSummary(base, "hardware")
    expect(s.status).toBe("datasheet only")
    expect(Object.values(s.constants!).every((c) => c.status === "datasheet only")).toBe(true)
    expect(isCalibrated(s)).toBe(false)
    expect(calibrationLine(s)).toBe("calibration datasheet only: every constant (at the datasheet peak)")
  })

  it("constants set with no calibration entry are unstated, never presented as fitted", () => {
    const s = calibrationSummary({ ...base, efficiency: { compute: 0.8, memory: 0.7 } }, "hardware")
    expect(s.status).toBe("unstated")
    expect([s.constants!.compute.status, s.constants!.memory.status, s.constants!.attention_compute.status]).toEqual(["unstated", "unstated", "unstated"])
    expect(s.constants!.kernel_latency_us.status).toBe("datasheet only")
    expect(unsourcedConstants(s)).toEqual([...CALIBRATED_CONSTANTS])
  })

  it("the hardware's status is the weakest of its constants': fitted, borrowed, partial", () => {
    const allFit = { ...base, calibration: every(fit) } as HardwareSpec
    expect(calibrationSummary(allFit, "hardware").status).toBe("fitted")
    const lent = { ...allFit, calibration: { ...allFit.calibration, nic: { status: "borrowed", from: "H800-SXM", why: "same NIC" } } } as HardwareSpec
    expect(calibrationSummary(lent, "hardware").status).toBe("borrowed")
    expect(isCalibrated(calibrationSummary(lent, "hardware"))).toBe(true)
    const part = { ...lent, calibration: { ...lent.calibration, memory: { status: "datasheet only" } } } as HardwareSpec
    const s = calibrationSummary(part, "hardware")
    expect(s.status).toBe("partial")
    expect(isCalibrated(s)).toBe(false)
    expect(unsourcedConstants(s)).toEqual(["memory"])
    expect(calibrationLine(s)).toBe(
      "calibration partial: fitted compute, kernel_latency_us, tile, sm_load_gbps, attention_compute, attention_memory, interconnect, link_latency_us, overlap_efficiency (data: mine.csv); borrowed nic (from H800-SXM); datasheet only memory (at the datasheet peak)"
    )
  })

  it("--efficiency none: off, no constants", () => {
    expect(calibrationSummary(shipped("H800-SXM"), "none")).toEqual({ status: "off (--efficiency none)" })
  })

  it("datasheet only means at the peak: a set value, or a fraction an attention term falls back to, is a contradiction", () => {
    const said = (efficiency: HardwareSpec["efficiency"], k: (typeof CALIBRATED_CONSTANTS)[number], over: Partial<HardwareSpec> = {}) =>
      datasheetOnlyProblem({ ...base, ...over, efficiency, calibration: { [k]: { status: "datasheet only" } } } as HardwareSpec, k)
    expect(said({ memory: 0.8 }, "memory")).toBe(
      "Expected fitted or borrowed: efficiency.memory is 0.8, not the datasheet peak (datasheet only means the term runs at its peak: fraction 1, latency 0, no tile, full overlap)"
    )
    expect(said({ compute: 0.769 }, "attention_compute")).toMatch(
      /^Expected fitted or borrowed: efficiency\.attention_compute is not set and falls back to efficiency\.compute 0\.769,/
    )
    expect(said({ tile_choice: "waves" }, "tile")).toMatch(/efficiency\.tile_choice is waves/)
    expect(said({}, "overlap_efficiency", { overlap_efficiency: 0.644 })).toMatch(/overlap_efficiency is 0\.644/)
    // At the peak: consistent. One stream overlaps nothing, whatever the fraction says.
    for (const [e, k] of [
      [{ memory: 1 }, "memory"],
      [{ tile_m: 0, tile_n: 0 }, "tile"],
      [{ kernel_latency_us: 0 }, "kernel_latency_us"],
      [{}, "attention_memory"]
    ] as const)
      expect(said(e, k)).toBeUndefined()
    expect(said({}, "overlap_efficiency", { overlap_efficiency: 0, max_concurrency: 1 })).toBeUndefined()
  })
})

describe("the shipped hardware files", () => {
  const STATUS = {
    "H800-SXM": "fitted",
    "H100-SXM": "borrowed",
    "H200-SXM": "borrowed",
    H20: "partial",
    B200: "partial",
    MI300X: "partial",
    "NV-A100": "partial",
    // Issue 27's parts: no kernel measurement of them exists in data/reference, so every constant is at its datasheet peak.
    B300: "datasheet only",
    "GB200-NVL72": "datasheet only",
    "GB300-NVL72": "datasheet only",
    MI325X: "datasheet only",
    MI355X: "datasheet only"
  } as const

  it("state every constant's source, consistently with their values; fits name data files that ship", () => {
    const files = fs.readdirSync(path.join(REPO, "configs", "hardware")).map((f) => f.replace(/\.yaml$/, ""))
    expect(files.sort()).toEqual(Object.keys(STATUS).sort())
    for (const [name, status] of Object.entries(STATUS)) {
      const hw = shipped(name)
      expect(Object.keys(hw.calibration ?? {}).sort(), name).toEqual([...CALIBRATED_CONSTANTS].sort())
      expect(calibrationSummary(hw, "hardware").status, name).toBe(status)
      for (const k of CALIBRATED_CONSTANTS) {
        expect(datasheetOnlyProblem(hw, k), `${name} ${k}`).toBeUndefined()
        const c = hw.calibration![k]!
        if (c.status !== "fitted") continue
        for (const f of datasetFiles(c.dataset)) expect(fs.existsSync(path.join(REFERENCE, f)), `${name} ${k}: ${f}`).toBe(true)
        expect(c.dataset.startsWith("data/reference/"), `${name} ${k}`).toBe(true)
      }
    }
  })

  it("B200 beside H200: memory, kernel latency (and attention streaming) at the datasheet peak against borrowed values (the 3.8x decode gap is partly this)", () => {
    const d = calibrationDifferences({
      "B200.yaml": calibrationSummary(shipped("B200"), "hardware"),
      "H200-SXM.yaml": calibrationSummary(shipped("H200-SXM"), "hardware")
    })
    const memory = d.find((x) => x.constants.includes("memory"))!
    expect(memory.constants).toEqual(["memory", "kernel_latency_us", "attention_memory"])
    expect(memory.by_hardware).toEqual({ "B200.yaml": "datasheet only", "H200-SXM.yaml": "borrowed from AIC systems/h200_sxm.yaml" })
    expect(unsourcedConstants(calibrationSummary(shipped("B200"), "hardware"))).toEqual([
      "memory",
      "kernel_latency_us",
      "tile",
      "sm_load_gbps",
      "attention_memory",
      "interconnect",
      "nic",
      "link_latency_us",
      "overlap_efficiency"
    ])
  })

  it("same-die H800 beside H100: memory and kernel latency both fitted, on different DeepGEMM versions", () => {
    const d = calibrationDifferences({
      "H100-SXM.yaml": calibrationSummary(shipped("H100-SXM"), "hardware"),
      "H800-SXM.yaml": calibrationSummary(shipped("H800-SXM"), "hardware")
    })
    expect(d.find((x) => x.constants.includes("memory"))).toEqual({
      constants: ["memory", "kernel_latency_us"],
      by_hardware: {
        "H100-SXM.yaml": "fitted on deepgemm_community_measurements.csv (DeepGEMM 03d0be3, issue #136)",
        "H800-SXM.yaml": "fitted on deepgemm_dense_h800.csv (DeepGEMM 989c9e3)"
      }
    })
  })

  it("a hardware compared with itself, or alone, differs in nothing", () => {
    const s = calibrationSummary(shipped("B200"), "hardware")
    expect(calibrationDifferences({ a: s, b: s })).toEqual([])
    expect(calibrationDifferences({ a: s })).toEqual([])
  })
})

import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { efficiencyLine, efficiencySummary, NO_DATA } from "../../src/timing/efficiency.ts"
import { REPO } from "../helpers/cli.ts"

const hardware = (name: string): HardwareSpec => parse(fs.readFileSync(path.join(REPO, "configs", "hardware", `${name}.yaml`), "utf8"))

const base: HardwareSpec = {
  name: "test",
  peak_tflops: 1000,
  memory_bandwidth_gbps: 2000,
  hbm_gb: 80,
  interconnect_gbps: 200,
  max_concurrency: 2,
  overlap_efficiency: 1
}

describe("efficiency: what run says about the timing constants", () => {
  it("no efficiency block: none (no data), every constant none, the line says peak-only and not calibrated", () => {
    const s = efficiencySummary(base, "hardware")
    expect(s.status).toBe("none (no data)")
    expect(Object.values(s.constants ?? {}).every((v) => v === NO_DATA)).toBe(true)
    expect(efficiencyLine(s)).toBe("efficiency none (no data): peak-only roofline, not calibrated")
  })

  it("compute alone (the A100, B200, MI300X files): partial, the others named as none (no data)", () => {
    for (const name of ["NV-A100", "B200", "MI300X"]) {
      const s = efficiencySummary(hardware(name), "hardware")
      expect(s.status).toBe("partial")
      expect(s.constants?.memory).toBe(NO_DATA)
      expect(s.constants?.tile).toBe(NO_DATA)
      expect(efficiencyLine(s)).toContain(`${NO_DATA}: memory, kernel_latency_us, tile`)
    }
  })

  it("every GEMM constant set: calibrated, the tile as MxN; an attention constant the file lacks stays none (no data)", () => {
    const s = efficiencySummary({ ...base, efficiency: { compute: 0.8, memory: 0.5, kernel_latency_us: 2, tile_m: 64, tile_n: 128 } }, "hardware")
    expect(s.status).toBe("calibrated")
    expect(s.constants).toMatchObject({ compute: 0.8, memory: 0.5, kernel_latency_us: 2, tile: "64x128", attention_compute: NO_DATA })
    expect(efficiencyLine(s)).toMatch(
      /^efficiency calibrated: compute 0\.8, memory 0\.5, kernel_latency_us 2, tile 64x128; none \(no data\): sm_load_gbps, attention_compute/
    )
  })

  it("tile_choice waves is a tile (each GEMM's own block), and sm_load_gbps is listed when set", () => {
    const s = efficiencySummary(
      { ...base, efficiency: { compute: 0.8, memory: 0.5, kernel_latency_us: 2, tile_choice: "waves", sm_load_gbps: 70 } },
      "hardware"
    )
    expect(s.status).toBe("calibrated")
    expect(s.constants).toMatchObject({ tile: "per GEMM (fewest waves)", sm_load_gbps: 70 })
  })

  it("a tile side of 0 is no tiling: none (no data) for the tile", () => {
    expect(efficiencySummary({ ...base, efficiency: { compute: 0.8, tile_m: 0, tile_n: 128 } }, "hardware").constants?.tile).toBe(NO_DATA)
  })

  it("--efficiency none: off, no constants listed even when the file has them", () => {
    const s = efficiencySummary(hardware("H800-SXM"), "none")
    expect(s).toEqual({ status: "off (--efficiency none)" })
    expect(efficiencyLine(s)).toContain("peak-only")
  })
})

describe("efficiency: overlap_efficiency", () => {
  it("below 1 (fitted) is listed with its value; 1 (full overlap, the roofline default) is none (no data)", () => {
    const fitted = efficiencySummary(
      { ...base, overlap_efficiency: 0.642, efficiency: { compute: 0.8, memory: 0.5, kernel_latency_us: 2, tile_m: 64, tile_n: 128 } },
      "hardware"
    )
    expect(fitted.constants?.overlap_efficiency).toBe(0.642)
    expect(efficiencyLine(fitted)).toContain("overlap_efficiency 0.642")
    const full = efficiencySummary({ ...base, efficiency: { compute: 0.8 } }, "hardware")
    expect(full.constants?.overlap_efficiency).toBe(NO_DATA)
    expect(efficiencyLine(full)).toMatch(/none \(no data\): .*overlap_efficiency \(.*full overlap/)
  })
})

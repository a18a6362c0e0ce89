/**
 * Numeric schemas at decode: non-finite, denormal and huge numbers are refused in every schema;
 * a quantity a formula divides by is strictly positive. Errors carry file:line:col and the path.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { decodeYamlText } from "../../src/config/yamlFile.ts"
import { Fraction, MAX_MAGNITUDE, MIN_NORMAL, NonNegative, Positive, PositiveFraction } from "../../src/schema/common.ts"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { CommLayerTemplate } from "../../src/schema/layer.ts"

const accepts = (s: Schema.Top, v: unknown) => Schema.decodeUnknownExit(s as any)(v)._tag === "Success"

describe("shared numbers", () => {
  it("refuse non-finite, denormal and huge values; accept 0, the smallest normal and the cap", () => {
    for (const v of [Infinity, -Infinity, NaN, 5e-324, -5e-324, MIN_NORMAL / 2, 1e308, MAX_MAGNITUDE * 10]) expect(accepts(NonNegative, v)).toBe(false)
    for (const v of [0, MIN_NORMAL, 0.5, MAX_MAGNITUDE]) expect(accepts(NonNegative, v)).toBe(true)
  })

  it("a divisor is > 0; an efficiency fraction is in (0, 1]; a multiplier fraction may be 0", () => {
    expect(accepts(Positive, 0)).toBe(false)
    expect(accepts(Positive, MIN_NORMAL)).toBe(true)
    expect(accepts(PositiveFraction, 0)).toBe(false)
    expect(accepts(PositiveFraction, 1)).toBe(true)
    expect(accepts(PositiveFraction, 1.01)).toBe(false)
    expect(accepts(Fraction, 0)).toBe(true)
  })
})

const HW = [
  "name: X",
  "peak_tflops: 989",
  "memory_bandwidth_gbps: 3350",
  "hbm_gb: 80",
  "interconnect_gbps: 450",
  "max_concurrency: 2",
  "overlap_efficiency: 0",
  "efficiency:",
  "  compute: 0.8",
  "  memory: 0.7",
  ""
].join("\n")

const issuesOf = (r: unknown) => (r instanceof ConfigError ? r.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`) : [])

describe("hardware file", () => {
  it("decodes as shipped (overlap_efficiency 0 only means no overlap)", () => {
    expect(decodeYamlText(HardwareSpec, HW, "hw.yaml")).not.toBeInstanceOf(ConfigError)
  })

  it("efficiency 0 of compute, memory, interconnect or nic is refused at its position", () => {
    const text = HW.replace("compute: 0.8", "compute: 0").replace("memory: 0.7", "memory: 0\n  interconnect: 0\n  nic: 0")
    expect(issuesOf(decodeYamlText(HardwareSpec, text, "hw.yaml"))).toEqual([
      "9:12 efficiency.compute: Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0",
      "10:11 efficiency.memory: Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0",
      "11:17 efficiency.interconnect: Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0",
      "12:8 efficiency.nic: Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0"
    ])
  })

  it("a denormal, .inf or 0 bandwidth is refused", () => {
    const text = HW.replace("memory_bandwidth_gbps: 3350", "memory_bandwidth_gbps: 5e-324")
      .replace("hbm_gb: 80", "hbm_gb: .inf")
      .replace("interconnect_gbps: 450", "interconnect_gbps: 0")
    const issues = issuesOf(decodeYamlText(HardwareSpec, text, "hw.yaml"))
    expect(issues).toHaveLength(3)
    expect(issues[0]).toMatch(/^3:24 memory_bandwidth_gbps: Expected 0 or a number of magnitude >= 2\.2250738585072014e-308 \(not a denormal\), got 5e-324$/)
    expect(issues[1]).toBe("4:9 hbm_gb: Expected a finite number")
    expect(issues[2]).toBe("5:20 interconnect_gbps: Expected a bandwidth between 1e-3 and 1e8 GB/s (its physical range), got 0")
  })

  it("GEMM tiles are whole numbers", () => {
    expect(issuesOf(decodeYamlText(HardwareSpec, `${HW}  tile_m: 64.5\n  tile_n: 128\n`, "hw.yaml"))[0]).toMatch(/^11:11 efficiency\.tile_m: /)
  })
})

describe("comm layer", () => {
  it("payload_mb 1e308 is refused before it can overflow to Infinity bytes", () => {
    const issues = issuesOf(decodeYamlText(CommLayerTemplate, "comm_config:\n  payload_mb: 1e308\n  pattern: all_reduce\n", "c.yaml"))
    expect(issues).toEqual(["2:15 comm_config.payload_mb: Expected a number of magnitude at most 1e15 (llmsim's input limit), got 1e+308"])
  })
})

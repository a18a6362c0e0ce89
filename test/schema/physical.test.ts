/**
 * Physical ranges (src/schema/physical.ts): one table, one rule for every rate, bandwidth,
 * capacity, achievable share, latency and price a config states (issue 24: `memory_bandwidth_gbps:
 * 2.3e-308` ended as "internal error" exit 70, `kernel_latency_us: 1e15` printed a TPOT of 6.4e14 ms
 * with exit 0). Each bad value is one positioned issue; every field of that kind is under the rule
 * (found by its name in the generated JSON Schema, so a new `*_gbps` field cannot slip past); and
 * at the edges of every range a run's numbers stay finite.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { decodeYamlText } from "../../src/config/yamlFile.ts"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { isPhysical, PHYSICAL, physicalProblem, type PhysicalKind } from "../../src/schema/physical.ts"
import { makeProject, REPO } from "../helpers/cli.ts"
import { runInProcess, runOptions } from "../helpers/inProcess.ts"

describe("the physical ranges", () => {
  it("accept each kind's bounds, refuse just outside them, denormals, huge values and non-finite ones", () => {
    for (const kind of Object.keys(PHYSICAL) as Array<PhysicalKind>) {
      const r = PHYSICAL[kind]
      expect(isPhysical(kind, r.min), kind).toBe(true)
      expect(isPhysical(kind, r.max), kind).toBe(true)
      expect(isPhysical(kind, r.max * 1.0001), kind).toBe(false)
      for (const bad of [1e308, Infinity, Number.NaN, -1]) expect(isPhysical(kind, bad), `${kind} ${bad}`).toBe(false)
      if (r.min > 0) for (const bad of [r.min / 2, 2.3e-308, 5e-324, 0]) expect(isPhysical(kind, bad), `${kind} ${bad}`).toBe(false)
    }
    expect(isPhysical("gbps", 0, true)).toBe(true)
    expect(isPhysical("gbps", 1e-5, true)).toBe(false)
  })

  it("say what was expected in one line", () => {
    expect(physicalProblem("gbps", 2.3e-308)).toBe("Expected a bandwidth between 1e-3 and 1e8 GB/s (its physical range), got 2.3e-308")
    expect(physicalProblem("latency_us", 1e15)).toBe("Expected a fixed latency between 0 and 1e6 us (its physical range), got 1000000000000000")
    expect(physicalProblem("share", 0)).toBe("Expected an achievable fraction of a peak between 1e-3 and 1 (its physical range), got 0")
    expect(physicalProblem("gbps", 1e-5, true)).toBe("Expected a bandwidth between 1e-3 and 1e8 GB/s, or 0 (off) (its physical range), got 0.00001")
    expect(physicalProblem("kernel_us", 1e308, false, '"1e308"')).toBe('Expected a kernel time between 1e-3 and 1e9 us (its physical range), got "1e308"')
    expect(physicalProblem("tflops", 989)).toBeUndefined()
  })
})

/** The kind a field's name gives it (its own key, else its parent's), or undefined for a count, a multiplier, a length. */
const kindOfField = (key: string, parent: string): PhysicalKind | undefined => {
  const name = /_(gbps|tflops|gb|us|usd)$/.exec(key)?.[1] ?? /_(gbps|tflops|gb|us|usd)$/.exec(parent)?.[1]
  if (parent === "tflops" || key === "peak_tflops" || name === "tflops") return "tflops"
  if (name === "gbps") return "gbps"
  if (name === "gb") return "gb"
  if (name === "us") return "latency_us"
  if (name === "usd") return "usd_per_gpu_hour"
  // The efficiency block's fractions divide a peak rate (tile sizes and tile_choice are not quantities).
  if (parent === "efficiency" && !key.startsWith("tile")) return "share"
  return undefined
}

/** Every number field of a JSON Schema document with its path, its parent key and its own schema. */
const numberFields = (node: unknown, at: Array<string> = []): Array<{ path: string; key: string; parent: string; schema: Record<string, unknown> }> => {
  if (node === null || typeof node !== "object") return []
  const n = node as Record<string, unknown>
  if (n.type === "number") return [{ path: at.join("."), key: at[at.length - 1] ?? "", parent: at[at.length - 2] ?? "", schema: n }]
  const props = (n.properties ?? {}) as Record<string, unknown>
  return [
    ...Object.entries(props).flatMap(([k, v]) => numberFields(v, [...at, k])),
    ...["anyOf", "allOf"].flatMap((k) => ((n[k] as Array<unknown>) ?? []).flatMap((m) => numberFields(m, at)))
  ]
}

/** The [minimum, maximum] a field's JSON Schema states (directly, in allOf, or in anyOf beside `const: 0`). */
const rangeOf = (s: Record<string, unknown>): [number, number] | undefined => {
  if (typeof s.minimum === "number" && typeof s.maximum === "number") return [s.minimum, s.maximum]
  for (const k of ["allOf", "anyOf"])
    for (const m of (s[k] as Array<Record<string, unknown>>) ?? []) {
      const r = rangeOf(m)
      if (r !== undefined) return r
    }
  return undefined
}

describe("every rate, bandwidth, capacity, share, latency and price is under the rule", () => {
  for (const doc of ["hardware.json", "scenario.json"]) {
    it(`${doc}: each such field states its kind's range (the decoder and the editor refuse the same)`, () => {
      const fields = numberFields(JSON.parse(fs.readFileSync(path.join(REPO, "schema", doc), "utf8")))
      const physical = fields.filter((f) => kindOfField(f.key, f.parent) !== undefined)
      expect(physical.length).toBeGreaterThan(doc === "hardware.json" ? 20 : 4)
      for (const f of physical) {
        const r = PHYSICAL[kindOfField(f.key, f.parent)!]
        expect(rangeOf(f.schema), f.path).toEqual([r.min, r.max])
      }
    })
  }

  const HW = [
    "name: X",
    "peak_tflops: 989",
    "tflops: {bf16: 989, fp8: 1979}",
    "memory_bandwidth_gbps: 3350",
    "hbm_gb: 80",
    "interconnect_gbps: 450",
    "nic_gbps: 50",
    "max_concurrency: 2",
    "overlap_efficiency: 1",
    "price_per_gpu_hour_usd: 2",
    "efficiency: {compute: 0.8, memory: 0.8, interconnect: 0.8, nic: 0.8, attention_compute: 0.8, attention_memory: 0.8, sm_load_gbps: 60, kernel_latency_us: 2, link_latency_us: 3}",
    ""
  ].join("\n")

  const cases: ReadonlyArray<readonly [string, RegExp, string, string]> = [
    ["memory_bandwidth_gbps", /memory_bandwidth_gbps: 3350/, "memory_bandwidth_gbps: 2.3e-308", "4:24 memory_bandwidth_gbps: Expected a bandwidth"],
    ["peak_tflops", /peak_tflops: 989/, "peak_tflops: 2.3e-308", "2:14 peak_tflops: Expected a compute rate"],
    ["tflops.fp8", /fp8: 1979/, "fp8: 2.3e-308", "3:26 tflops.fp8: Expected a compute rate"],
    ["hbm_gb", /hbm_gb: 80/, "hbm_gb: 1e-300", "5:9 hbm_gb: Expected a memory capacity"],
    ["interconnect_gbps", /interconnect_gbps: 450/, "interconnect_gbps: 2.3e-308", "6:20 interconnect_gbps: Expected a bandwidth"],
    ["nic_gbps", /nic_gbps: 50/, "nic_gbps: 1e300", "7:11 nic_gbps: Expected a bandwidth"],
    ["price_per_gpu_hour_usd", /price_per_gpu_hour_usd: 2/, "price_per_gpu_hour_usd: 2.3e-308", "10:25 price_per_gpu_hour_usd: Expected a price"],
    ["efficiency.compute", /compute: 0\.8,/, "compute: 2.3e-308,", "11:23 efficiency.compute: Expected an achievable fraction"],
    [
      "efficiency.sm_load_gbps",
      /sm_load_gbps: 60/,
      "sm_load_gbps: 2.3e-308",
      "efficiency.sm_load_gbps: Expected a bandwidth between 1e-3 and 1e8 GB/s, or 0 (off)"
    ],
    [
      "efficiency.kernel_latency_us",
      /kernel_latency_us: 2/,
      "kernel_latency_us: 1e15",
      "efficiency.kernel_latency_us: Expected a fixed latency between 0 and 1e6 us"
    ]
  ]
  for (const [field, from, to, expected] of cases) {
    it(`${field}: an absurd value is one positioned issue`, () => {
      const r = decodeYamlText(HardwareSpec, HW.replace(from, to), "hw.yaml")
      expect(r).toBeInstanceOf(ConfigError)
      const issues = (r as ConfigError).issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`)
      expect(issues).toHaveLength(1)
      expect(issues[0]).toContain(expected)
    })
  }
})

describe("at the edges of every range, a run's numbers stay finite", () => {
  it("Llama-3.1-70B TP8 on a GPU at 1e-3 TFLOPS, 1e-3 GB/s, shares of 1e-3 and 1 s latencies: exit 0, every time finite", async () => {
    const dir = makeProject("llmsim-physical-")
    const file = path.join(dir, "configs/hardware/edge.yaml")
    fs.writeFileSync(
      file,
      [
        "name: edge",
        "peak_tflops: 1e-3",
        "memory_bandwidth_gbps: 1e-3",
        "hbm_gb: 1e6",
        "interconnect_gbps: 1e-3",
        "nic_gbps: 1e-3",
        "max_concurrency: 2",
        "overlap_efficiency: 1",
        "efficiency: {compute: 1e-3, memory: 1e-3, interconnect: 1e-3, nic: 1e-3, kernel_latency_us: 1e6, link_latency_us: 1e6}",
        ""
      ].join("\n")
    )
    const scenario = path.join(dir, "configs/scenarios/llama_3_1_70b_h100.yaml")
    fs.writeFileSync(scenario, fs.readFileSync(scenario, "utf8").replace(/^hardware: .*$/m, "hardware: configs/hardware/edge.yaml"))
    const r = await runInProcess(runOptions(dir, "configs/scenarios/llama_3_1_70b_h100.yaml", { noCache: true, runtime: { batch_size: 512, seq_len: 131072 } }))
    const numbers: Array<number> = []
    JSON.stringify(r.out.result, (_, v) => (typeof v === "number" && numbers.push(v), v))
    expect(numbers.length).toBeGreaterThan(1000)
    expect(numbers.every(Number.isFinite)).toBe(true)
    expect(r.out.result.serving.tpot_ms!).toBeGreaterThan(1e9)
  })
})

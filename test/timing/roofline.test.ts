import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import { evaluateOpCost } from "../../src/ops/registry.ts"
import type { OpCost } from "../../src/ops/types.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { timeOp, timingHardware } from "../../src/timing/roofline.ts"
import { REPO } from "../helpers/cli.ts"

const hardware = (name: string): HardwareSpec => parse(fs.readFileSync(path.join(REPO, "configs", "hardware", `${name}.yaml`), "utf8"))

const base: HardwareSpec = {
  name: "test",
  peak_tflops: 1000,
  tflops: { bf16: 1000, fp8: 2000 },
  memory_bandwidth_gbps: 2000,
  hbm_gb: 80,
  interconnect_gbps: 200,
  nic_gbps: 50,
  max_concurrency: 2,
  overlap_efficiency: 1,
  sm_count: 100
}

const withEff: HardwareSpec = {
  ...base,
  efficiency: { compute: 0.8, memory: 0.5, kernel_latency_us: 2, tile_m: 64, tile_n: 128, interconnect: 0.75, nic: 0.8, link_latency_us: 3 }
}

const linear = (tokens: number, inF: number, outF: number, weight = "fp8"): OpCost =>
  evaluateOpCost({
    kind: "linear",
    name: "x",
    category: "other",
    params: { tokens, in_features: inF, out_features: outF, weight_dtype: weight, act_dtype: "bf16" }
  })

describe("timeOp, peak-only (no efficiency block or --efficiency none)", () => {
  it("is max(compute, memory) with no latency and no tiling", () => {
    const c = linear(4096, 4096, 4096)
    const t = timeOp(c, timingHardware(base))
    const compute = (c.flops / 2000e12) * 1e3
    const memory = ((c.bytes_read + c.bytes_written) / 2000e9) * 1e3
    expect(t.compute_time_ms).toBeCloseTo(compute, 12)
    expect(t.memory_time_ms).toBeCloseTo(memory, 12)
    expect(t.dominant_latency_ms).toBeCloseTo(Math.max(compute, memory), 12)
    expect(t.bound).toBe("compute")
  })

  it("--efficiency none ignores the file's constants", () => {
    const c = linear(64, 7168, 2112)
    expect(timeOp(c, timingHardware(withEff, "none"))).toEqual(timeOp(c, timingHardware(base)))
  })
})

describe("timeOp with efficiency constants", () => {
  it("tiled GEMM: max(quantised compute, reads) + writes (epilogue) + kernel latency", () => {
    const c = linear(64, 7168, 2112)
    const t = timeOp(c, timingHardware(withEff))
    // 1 x 17 tiles of 64 x 128 -> one wave of 100 SMs
    const spent = 100 * 64 * 128 * 2 * 7168
    const compute = (spent / (2000e12 * 0.8)) * 1e3
    const read = (c.bytes_read / (2000e9 * 0.5)) * 1e3
    const write = (c.bytes_written / (2000e9 * 0.5)) * 1e3
    expect(t.compute_time_ms).toBeCloseTo(compute, 12)
    expect(t.memory_time_ms).toBeCloseTo(read + write, 12)
    expect(t.dominant_latency_ms).toBeCloseTo(Math.max(compute, read) + write + 0.002, 12)
  })

  it("untiled ops (no GEMM shapes): max(compute, reads + writes) + kernels x latency", () => {
    const c = evaluateOpCost({ kind: "rmsnorm", name: "n", category: "other", params: { tokens: 1000, hidden: 7168, act_dtype: "bf16" } })
    const t = timeOp(c, timingHardware(withEff))
    const memory = ((c.bytes_read + c.bytes_written) / (2000e9 * 0.5)) * 1e3
    expect(t.dominant_latency_ms).toBeCloseTo(memory + c.kernels * 0.002, 12)
    expect(t.bound).toBe("memory")
  })

  it("communication: bytes / (link x fraction) + messages x link latency, NIC or NVLink, never HBM", () => {
    const p = { tokens: 128, top_k: 8, d_model: 7168, dtype: "fp8", ep: 144, peers: 136 }
    const nic = evaluateOpCost({ kind: "ep_all_to_all", name: "d", category: "comm", params: { ...p, link: "nic" } })
    const nvl = evaluateOpCost({ kind: "ep_all_to_all", name: "d", category: "comm", params: { ...p, peers: 7, link: "interconnect" } })
    const tn = timeOp(nic, timingHardware(withEff))
    const tv = timeOp(nvl, timingHardware(withEff))
    expect(tn.dominant_latency_ms).toBeCloseTo((nic.comm_bytes / (50e9 * 0.8)) * 1e3 + 0.003, 12)
    expect(tv.dominant_latency_ms).toBeCloseTo((nvl.comm_bytes / (200e9 * 0.75)) * 1e3 + 0.003, 12)
    expect(tn.memory_time_ms).toBe(0)
    expect(tn.bound).toBe("comm")
  })

  it("dominant latency is never below max(compute, memory)", () => {
    const hw = timingHardware(hardware("H800-SXM"))
    for (const [m, n, k] of [
      [1, 7168, 1536],
      [64, 2112, 7168],
      [4096, 32768, 512],
      [16384, 7168, 18432]
    ]) {
      const t = timeOp(linear(m, k, n), hw)
      expect(t.dominant_latency_ms).toBeGreaterThanOrEqual(Math.max(t.compute_time_ms, t.memory_time_ms))
    }
  })
})

describe("timeOp with the operand-load lane (tile_choice: waves, sm_load_gbps)", () => {
  // 64 x 2112 x 7168 FP8 with a BF16 output on 132 SMs, 1980 TFLOPS FP8, 3350 GB/s, every fraction 1:
  // DeepGEMM's block is 64 x 16 (132 blocks, one full wave; waves.test.ts).
  const lane: HardwareSpec = {
    ...base,
    tflops: { bf16: 990, fp8: 1980 },
    memory_bandwidth_gbps: 3350,
    sm_count: 132,
    efficiency: { compute: 1, memory: 1, kernel_latency_us: 0, tile_choice: "waves", sm_load_gbps: 80 }
  }
  const m = 64,
    n = 2112,
    k = 7168
  const cost: OpCost = {
    flops: 2 * m * n * k,
    bytes_read: m * k + k * n,
    bytes_written: 2 * m * n,
    comm_bytes: 0,
    kernels: 1,
    math_dtype: "fp8",
    gemms: [{ m, n, k, groups: 1 }],
    notes: ""
  }

  it("a thin block is bound by one SM's shared-memory fill: max(max(compute, reads) + writes, loads)", () => {
    const t = timeOp(cost, timingHardware(lane))
    // compute: 132 x 64 x 16 x 2 x 7168 = 1,937,768,448 FLOPs (no waste) / 1980e12 = 0.97867 us
    expect(t.compute_time_ms * 1e3).toBeCloseTo(0.978671, 5)
    // reads 458,752 + 15,138,816 B / 3350e9 = 4.65599 us; writes 270,336 B = 0.080697 us
    // loads: one wave of (64 + 16) x 7168 = 573,440 FP8 bytes per SM / 80e9 = 7.168 us: the lane binds
    expect(t.dominant_latency_ms * 1e3).toBeCloseTo(7.168, 9)
  })

  it("without sm_load_gbps the lane is off: max(compute, reads) + writes", () => {
    const off = { ...lane, efficiency: { ...lane.efficiency, sm_load_gbps: 0 } }
    expect(timeOp(cost, timingHardware(off)).dominant_latency_ms * 1e3).toBeCloseTo(4.65599 + 0.080697, 5)
  })

  it("the epilogue does not stall the lane: loads are not added to writes", () => {
    // 4096 x 2112 x 7168: block 256 x 88, 3 waves; loads 3 x (256 + 88) x 7168 = 7,397,376 B / 80e9 = 92.47 us,
    // compute 3 x 132 x 256 x 88 x 2 x 7168 / 1980e12 = 64.66 us, reads 44,040,192 B / 3350e9 = 13.15 us,
    // writes 17,301,504 B / 3350e9 = 5.165 us: max(64.66 + 5.165, 92.47) = 92.47 us
    const big: OpCost = {
      flops: 2 * 4096 * n * k,
      bytes_read: 4096 * k + k * n,
      bytes_written: 2 * 4096 * n,
      comm_bytes: 0,
      kernels: 1,
      math_dtype: "fp8",
      gemms: [{ m: 4096, n, k, groups: 1 }],
      notes: ""
    }
    expect(timeOp(big, timingHardware(lane)).dominant_latency_ms * 1e3).toBeCloseTo(92.4672, 4)
  })
})

describe("shipped constants", () => {
  it("H800-SXM and H100-SXM carry a full efficiency block; fractions in (0, 1]", () => {
    for (const name of ["H800-SXM", "H100-SXM", "H200-SXM"]) {
      const e = hardware(name).efficiency!
      for (const k of ["compute", "memory", "interconnect", "nic"] as const) {
        expect(e[k]).toBeGreaterThan(0)
        expect(e[k]).toBeLessThanOrEqual(1)
      }
      expect(e.kernel_latency_us).toBeGreaterThan(0)
      expect(e.link_latency_us).toBeGreaterThan(0)
      // H800 times DeepGEMM's per-shape block; H100 and H200 keep the fixed-tile fit (their files say why).
      if (name === "H800-SXM") expect([e.tile_choice, e.sm_load_gbps! > 0]).toEqual(["waves", true])
      else expect([e.tile_m, e.tile_n]).toEqual([64, 128])
    }
  })

  it("a 64-row FP8 GEMM on H800 reaches far less of peak than a 4096-row one", () => {
    const hw = timingHardware(hardware("H800-SXM"))
    const tflops = (m: number) => {
      const c = linear(m, 7168, 4096)
      return c.flops / (timeOp(c, hw).dominant_latency_ms * 1e-3) / 1e12
    }
    expect(tflops(64)).toBeLessThan(400)
    expect(tflops(4096)).toBeGreaterThan(1200)
  })
})

describe("timeOp, serial CUDA-core instructions (cudaCores.ts)", () => {
  // 100 SMs at 67e12 / 2 / 132 instructions per SM per s: 2.5378...e13 per s for the part
  const rate = (100 * 67e12) / 2 / 132
  const gemm: OpCost = {
    flops: 2 * 6400 * 1280 * 1024,
    bytes_read: 0,
    bytes_written: 0,
    comm_bytes: 0,
    math_dtype: "fp8",
    kernels: 0,
    gemms: [{ m: 6400, n: 1280, k: 1024, groups: 1 }],
    notes: "t"
  }

  it("adds cuda_core_ops / FP32 rate to the tensor time of a tiled GEMM", () => {
    const hw = { ...timingHardware(withEff), kernel_latency_us: 0 }
    // 6400 x 1280 on 64 x 128 tiles: 100 x 10 = 1000 tiles = 10 full waves of 100 SMs (no waste)
    const tensor = ((2 * 6400 * 1280 * 1024) / (2000e12 * 0.8)) * 1e3
    const ops = 1e9
    const t = timeOp({ ...gemm, cuda_core_ops: ops }, hw)
    expect(t.compute_time_ms).toBeCloseTo(tensor + (ops / rate) * 1e3, 12)
    expect(t.dominant_latency_ms - timeOp(gemm, hw).dominant_latency_ms).toBeCloseTo((ops / rate) * 1e3, 12)
  })

  it("is not counted on the peak-only roofline (no tiles)", () => {
    expect(timeOp({ ...gemm, cuda_core_ops: 1e9 }, timingHardware(base)).compute_time_ms).toBeCloseTo(timeOp(gemm, timingHardware(base)).compute_time_ms, 15)
  })
})

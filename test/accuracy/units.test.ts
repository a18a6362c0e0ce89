import { describe, expect, it } from "vitest"
import { parseCsv, splitCsvLine } from "../../src/reference/csv.ts"
import { gemmMeasurements, gemmOpCost, predictGemmUs } from "../../src/accuracy/gemm.ts"
import { timingHardware } from "../../src/timing/roofline.ts"
import { hardwareFileFor } from "../../src/reference/hardware.ts"
import { nelderMead } from "../../src/accuracy/nelderMead.ts"
import { ape, median, quantile, summarise } from "../../src/reference/stats.ts"
import { ascii, fmt } from "../../src/accuracy/text.ts"
import { largestSatisfying } from "../../src/kernel/search.ts"
import { concurrencyPerGpu, parseCount, parsePercent, parseRange } from "../../src/accuracy/datasets/deepseek.ts"

describe("csv", () => {
  it("splits quoted fields with commas and doubled quotes", () => {
    expect(splitCsvLine(`a,"H800 (README says ""H800"")",,3`)).toEqual(["a", `H800 (README says "H800")`, "", "3"])
  })

  it("skips # comment lines and keys rows by the header, with 1-based lines", () => {
    const t = parseCsv("# source\nm,n,k,tflops\n64,2112,7168,206\n\n# note\n128,2112,7168,352\n")
    expect(t.columns).toEqual(["m", "n", "k", "tflops"])
    expect(t.rows.map((r) => [r.line, r.values.m])).toEqual([
      [3, "64"],
      [6, "128"]
    ])
  })
})

describe("stats", () => {
  it("APE, median and p90 by linear interpolation (numpy's default)", () => {
    expect(ape(110, 100)).toBeCloseTo(10, 12)
    expect(ape(90, 100)).toBeCloseTo(10, 12)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, Number.NaN])
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12)
    expect(summarise([5, 1, 3])).toEqual({ rows: 3, median_ape: 3, p90_ape: 4.6, max_ape: 5 })
  })
})

describe("GEMM rows", () => {
  it("bytes match DeepGEMM's GB/s count: FP8 A and B at 1 B, BF16 D at 2 B", () => {
    const m = 64,
      n = 2112,
      k = 7168
    const c = gemmOpCost({ kind: "dense_fp8", groups: 1, m, n, k })
    expect(c.bytes_read + c.bytes_written).toBe(m * k + k * n + 2 * m * n)
    expect(c.flops).toBe(2 * m * n * k)
    const g = gemmOpCost({ kind: "grouped_contiguous", groups: 4, m: 8192, n: 4096, k: 7168 })
    expect(g.bytes_read + g.bytes_written).toBe(4 * (8192 * 7168 + 7168 * 4096 + 2 * 8192 * 4096))
    expect(g.gemms).toEqual([{ m: 8192, n: 4096, k: 7168, groups: 4, layout: "contiguous" }])
    expect(gemmOpCost({ kind: "grouped_masked", groups: 2, m: 16, n: 4096, k: 7168 }).gemms).toEqual([{ m: 16, n: 4096, k: 7168, groups: 2, layout: "masked" }])
  })

  it("kgrouped_wgrad: DeepGEMM's wgrad kernel, FP32 D read and written, one kernel per group", () => {
    // Issue #107 row 1: 4 groups, m = 7168, n = 4096, average k = 4096 (32 scale blocks)
    const c = gemmOpCost({ kind: "kgrouped_wgrad", groups: 4, m: 7168, n: 4096, k: 4096 })
    // FP8 A + B: (7168 + 4096) * 4096 * 4 = 184,549,376; scales (7168 + 4096) * 32 * 4 B * 4 = 5,767,168;
    // FP32 D: 7168 * 4096 * 4 B * 4 = 469,762,048, read once and written once
    expect(c.bytes_read).toBe(184_549_376 + 5_767_168 + 469_762_048)
    expect(c.bytes_written).toBe(469_762_048)
    // one extra FMUL per accumulator per block: 7168 * 4096 * 32 * 4 = 3,758,096,384
    expect(c.cuda_core_ops).toBe(3_758_096_384)
    expect(c.kernels).toBe(4)
    expect(c.gemms).toEqual(Array.from({ length: 4 }, () => ({ m: 7168, n: 4096, k: 4096, groups: 1 })))
    // H200-SXM constants (compute 0.815 of 1979 TFLOPS, memory 0.8 of 4.8 TB/s, 3 us, 64 x 128 tiles, 132 SMs):
    // each group 112 x 32 = 3,584 tiles = 28 waves (27.15 rounded up), spent / useful = 28 * 132 / 3584 = 1.03125;
    // tensor 2 * 7168 * 4096 * 4096 * 4 * 1.03125 / 1612.885e12 = 615.13 us (above the 171.90 us of reads);
    // FMULs 3,758,096,384 / 33.5e12 = 112.18 us; D write 469,762,048 / 3.84e12 = 122.33 us; 4 launches 12 us
    const t = timingHardware({
      name: "h200",
      peak_tflops: 989,
      tflops: { bf16: 989, fp8: 1979 },
      memory_bandwidth_gbps: 4800,
      hbm_gb: 141,
      interconnect_gbps: 450,
      max_concurrency: 2,
      overlap_efficiency: 1,
      sm_count: 132,
      efficiency: { compute: 0.815, memory: 0.8, kernel_latency_us: 3, tile_m: 64, tile_n: 128 }
    })
    expect(predictGemmUs(c, t)).toBeCloseTo(615.13 + 112.18 + 122.33 + 12, 0)
  })

  it("time from TFLOPS (t = 2 g m n k / TFLOPS), else time_us; filters with where; names skipped rows", () => {
    const t = parseCsv(
      [
        "kind,num_groups,m,n,k,time_us,tflops,hardware",
        "dense_fp8,,64,2112,7168,,206,H800",
        "dense_fp8,,64,2112,7168,13,,H100",
        "grouped_masked,2,16,4096,7168,35,61,H20",
        "attention,,1,1,1,1,1,H800",
        "dense_fp8,,,2112,7168,1,,H800"
      ].join("\n")
    )
    const all = gemmMeasurements(t)
    expect(all.rows.map((r) => [r.measured_from, Number(r.measured_us.toFixed(4))])).toEqual([
      ["tflops", Number((((2 * 64 * 2112 * 7168) / 206e12) * 1e6).toFixed(4))],
      ["time_us", 13],
      ["tflops", Number((((2 * 2 * 16 * 4096 * 7168) / 61e12) * 1e6).toFixed(4))]
    ])
    expect(all.skipped.map((s) => s.line)).toEqual([5, 6])
    expect(gemmMeasurements(t, [["hardware", "H100"]]).rows).toHaveLength(1)
  })
})

describe("hardware mapping", () => {
  it("maps reference labels to hardware files only when unambiguous", () => {
    expect(hardwareFileFor("H800 SXM5")).toBe("H800-SXM")
    expect(hardwareFileFor(`H800 (README says "H800"; later commits say "H800 SXM5")`)).toBe("H800-SXM")
    expect(hardwareFileFor("H100")).toBe("H100-SXM")
    expect(hardwareFileFor("H100 (Modal cloud; SXM/PCIe not stated)")).toBe("H100-SXM")
    expect(hardwareFileFor("H100 PCIe")).toBeUndefined()
    expect(hardwareFileFor("H200 (CUDA 12.4)")).toBe("H200-SXM")
    expect(hardwareFileFor("H20")).toBe("H20")
    expect(hardwareFileFor("NVIDIA GH200 SXM")).toBeUndefined()
    expect(hardwareFileFor("NVIDIA GB200 SXM")).toBeUndefined()
    expect(hardwareFileFor("AMD MI300X")).toBe("MI300X")
    expect(hardwareFileFor("AMD MI325X")).toBeUndefined()
  })
})

describe("Nelder-Mead", () => {
  it("finds the minimum of the Rosenbrock function", () => {
    const r = nelderMead(([x, y]) => (1 - x) ** 2 + 100 * (y - x * x) ** 2, [-1.2, 1], { maxIterations: 5000, tolerance: 1e-20 })
    expect(r.x[0]).toBeCloseTo(1, 4)
    expect(r.x[1]).toBeCloseTo(1, 4)
  })

  it("is deterministic", () => {
    const f = (x: ReadonlyArray<number>) => (x[0] - 3) ** 2 + Math.abs(x[1] + 1) + (x[2] - 0.5) ** 4
    expect(nelderMead(f, [0, 0, 0])).toEqual(nelderMead(f, [0, 0, 0]))
  })
})

describe("helpers", () => {
  it("largestSatisfying finds the last x with a monotone predicate", () => {
    expect(largestSatisfying((x) => x <= 87, 4096)).toBe(87)
    expect(largestSatisfying((x) => x <= 4096, 4096)).toBe(4096)
    expect(largestSatisfying(() => false, 4096)).toBe(0)
  })

  it("parses DeepSeek's published figures", () => {
    expect(parseCount("~14.8k")).toBe(14800)
    expect(parseCount("~73.7k (including cache hits)")).toBe(73700)
    expect(parseCount("608B")).toBe(608e9)
    expect(parseRange("20-22")).toEqual([20, 22])
    expect(parsePercent("342B (56.3%)")).toBeCloseTo(0.563, 12)
  })

  it("DeepSeek's decode load by Little's law: 14.8k / (8 x 21) = 88 sequences per GPU", () => {
    expect(concurrencyPerGpu(14800, 8, 21)).toBe(88)
    expect(concurrencyPerGpu(14800, 8, 20)).toBe(93)
  })

  it("formats deterministically and keeps text ASCII", () => {
    expect(fmt(9.4067)).toBe("9.407")
    expect(fmt(14622.4)).toBe("14622")
    expect(ascii("section \u00a74.1\nnext")).toBe("section ?4.1\nnext")
  })
})

describe("GEMM rows from the MAMF table", () => {
  it("reads best_shape_MxNxK, mamf_tflops, dtype and accelerator as a GEMM row", () => {
    const t = parseCsv(
      "dtype,accelerator,mamf_tflops,theory_tflops,efficiency,best_shape_MxNxK\nbf16,NVIDIA A100 SXM,271.2,312,86.9%,1024x10240x5120\nfp8_e4m3fn,NVIDIA B200 SXM,3433,4500,76.3%,15360x4096x3072\n"
    )
    const { rows } = gemmMeasurements(t, [["accelerator", "NVIDIA A100 SXM"]])
    expect(rows.map((r) => [r.kind, r.m, r.n, r.k, r.hardware])).toEqual([["dense_bf16", 1024, 10240, 5120, "NVIDIA A100 SXM"]])
    // t = 2 M N K / TFLOPS = 2 x 1024 x 10240 x 5120 / 271.2e12 s = 395.9 us.
    expect(rows[0].measured_us).toBeCloseTo(395.9, 1)
    expect(gemmMeasurements(t).rows[1].kind).toBe("dense_fp8")
  })
})

import { describe, expect, it } from "vitest"
import type { OpCost } from "../../src/ops/types.ts"
import { gemmWaves, quantisedGemmFlops, spentGemmFlops, tilingEnabled } from "../../src/timing/waves.ts"

const H800 = { tile_m: 64, tile_n: 128, sm_count: 132 }

const gemmOp = (m: number, n: number, k: number, groups = 1): OpCost => ({
  flops: 2 * m * n * k * groups,
  bytes_read: 0,
  bytes_written: 0,
  comm_bytes: 0,
  kernels: 1,
  gemms: [{ m, n, k, groups }],
  notes: ""
})

describe("wave quantisation", () => {
  it("counts waves of sm_count tiles, partial tiles and waves rounded up", () => {
    // 4096 x 2112: 64 row tiles x ceil(2112 / 128) = 17 column tiles = 1088 tiles -> ceil(1088 / 132) = 9 waves
    expect(gemmWaves({ m: 4096, n: 2112, k: 7168, groups: 1 }, H800)).toBe(9)
    // 64 x 7168: 1 x 56 tiles -> one (partial) wave
    expect(gemmWaves({ m: 64, n: 7168, k: 2048, groups: 1 }, H800)).toBe(1)
    // groups multiply the tiles: 8 x (64 x 32) tiles = 16384 tiles -> 125 waves
    expect(gemmWaves({ m: 4096, n: 4096, k: 7168, groups: 8 }, H800)).toBe(125)
  })

  it("charges whole waves of whole tiles: spent = waves * sm_count * tile_m * tile_n * 2k", () => {
    expect(spentGemmFlops({ m: 64, n: 7168, k: 2048, groups: 1 }, H800)).toBe(132 * 64 * 128 * 2 * 2048)
  })

  it("a 64-row GEMM does not run at the speed of a 4096-row one", () => {
    const useful = (m: number) => 2 * m * 7168 * 2048
    const small = useful(64) / quantisedGemmFlops(gemmOp(64, 7168, 2048), H800)
    const large = useful(4096) / quantisedGemmFlops(gemmOp(4096, 7168, 2048), H800)
    // 56 of 132 SMs busy for the 64-row GEMM; 3584 tiles in 28 waves (97 % full) for 4096 rows
    expect(small).toBeCloseTo(56 / 132, 12)
    expect(large).toBeCloseTo(3584 / (28 * 132), 12)
    expect(large).toBeGreaterThan(2 * small)
  })

  it("never charges less than the useful FLOPs, and scales an op's extra FLOPs by the same factor", () => {
    for (const [m, n, k] of [[1, 1, 1], [63, 127, 5], [4096, 24576, 1536], [8192, 7168, 2048], [100, 3000, 7]]) {
      const c = gemmOp(m, n, k)
      expect(quantisedGemmFlops(c, H800)).toBeGreaterThanOrEqual(c.flops)
    }
    const withExtra = { ...gemmOp(64, 7168, 2048), flops: 2 * 64 * 7168 * 2048 + 1000 }
    expect(quantisedGemmFlops(withExtra, H800)).toBeCloseTo(withExtra.flops * (132 / 56), 3)
  })

  it("is off without a tile or an SM count, and for ops without GEMM shapes", () => {
    const c = gemmOp(64, 7168, 2048)
    expect(tilingEnabled({ tile_m: 0, tile_n: 128, sm_count: 132 })).toBe(false)
    expect(quantisedGemmFlops(c, { tile_m: 0, tile_n: 0, sm_count: 132 })).toBe(c.flops)
    expect(quantisedGemmFlops(c, { tile_m: 64, tile_n: 128, sm_count: 0 })).toBe(c.flops)
    const { gemms: _, ...noShapes } = c
    expect(quantisedGemmFlops(noShapes, H800)).toBe(c.flops)
  })
})

import { describe, expect, it } from "vitest"
import type { OpCost } from "../../src/ops/types.ts"
import {
  expectedRoutedBlocks,
  gemmBlock,
  gemmMBlocks,
  gemmWaves,
  operandLoadPerSm,
  quantisedGemmFlops,
  spentGemmFlops,
  tilingEnabled
} from "../../src/timing/waves.ts"

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
    for (const [m, n, k] of [
      [1, 1, 1],
      [63, 127, 5],
      [4096, 24576, 1536],
      [8192, 7168, 2048],
      [100, 3000, 7]
    ]) {
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

describe("grouped GEMM layouts (DeepGEMM contiguous and masked)", () => {
  const oneSm = { tile_m: 64, tile_n: 128, sm_count: 1 }

  it("pads each group's rows to the M block: contiguous on 128 rows, masked on tile_m", () => {
    // contiguous: 2 x 150 -> 2 * ceil(150 / 128) = 4 blocks of 128 rows; 1 x 300 -> ceil(300 / 128) = 3
    expect(gemmMBlocks({ m: 150, n: 128, k: 512, groups: 2, layout: "contiguous" }, oneSm)).toBe(4)
    expect(gemmMBlocks({ m: 300, n: 128, k: 512, groups: 1, layout: "contiguous" }, oneSm)).toBe(3)
    // masked: 2 x 150 -> 2 * ceil(150 / 64) = 6 blocks of 64 rows; 1 x 300 -> ceil(300 / 64) = 5
    expect(gemmMBlocks({ m: 150, n: 128, k: 512, groups: 2, layout: "masked" }, oneSm)).toBe(6)
    expect(gemmMBlocks({ m: 300, n: 128, k: 512, groups: 1, layout: "masked" }, oneSm)).toBe(5)
    // one SM, one column of tiles: the blocks are the waves; spent = 4 tiles of 128 x 128 x 2k
    expect(spentGemmFlops({ m: 150, n: 128, k: 512, groups: 2, layout: "contiguous" }, oneSm)).toBe(4 * 128 * 128 * 2 * 512)
    expect(spentGemmFlops({ m: 150, n: 128, k: 512, groups: 2, layout: "masked" }, oneSm)).toBe(6 * 64 * 128 * 2 * 512)
  })

  it("runs the contiguous grid on 128-row blocks: the README's 8 x 4096x4096x7168 row on H800", () => {
    // 8 * (4096 / 128) = 256 m blocks x 32 n tiles = 8192 tiles -> ceil(8192 / 132) = 63 waves (125 on 64-row tiles)
    expect(gemmWaves({ m: 4096, n: 4096, k: 7168, groups: 8, layout: "contiguous" }, H800)).toBe(63)
  })

  it("pads the spread of routed expert loads: 1 x 1024 and 2 x 512 differ", () => {
    // X ~ Poisson(n), n on a block boundary: E[ceil(X / 128)] = n / 128 + P(X > n) (the next
    // boundary is 4 sd away for n = 1024, 5.7 sd for n = 512). Ramanujan: P(X <= n) = 1/2 +
    // (2/3) P(X = n), P(X = n) = (1 - 1/(12n)) / sqrt(2 pi n):
    //   n = 1024: P(X = n) = 0.012467, P(X > n) = 0.49169 -> 8.4917 blocks
    //   n = 512:  P(X = n) = 0.017631, P(X > n) = 0.48825 -> 4.4882 blocks per group, 8.9765 for two
    const contiguous = (m: number, groups: number) => ({ m, n: 12800, k: 512, groups, layout: "contiguous" as const, routed: true })
    expect(gemmMBlocks(contiguous(1024, 1), oneSm)).toBeCloseTo(8.4917, 3)
    expect(gemmMBlocks(contiguous(512, 2), oneSm)).toBeCloseTo(8.9765, 3)
    // 100 n tiles on one SM: ceil(849.17) = 850 waves vs ceil(897.65) = 898
    expect(gemmWaves(contiguous(1024, 1), oneSm)).toBe(850)
    expect(gemmWaves(contiguous(512, 2), oneSm)).toBe(898)
    // exact counts (no spread) tie: 8 blocks each
    expect(gemmMBlocks({ ...contiguous(1024, 1), routed: false }, oneSm)).toBe(8)
    expect(gemmMBlocks({ ...contiguous(512, 2), routed: false }, oneSm)).toBe(8)
  })

  it("counts a touched group with few routed rows as one block", () => {
    // m = 2 on 64-row blocks: every non-empty count is one block, and the empty case counts one too
    expect(expectedRoutedBlocks(2, 64)).toBeCloseTo(1, 12)
    expect(expectedRoutedBlocks(0, 64)).toBe(0)
  })
})

describe("DeepGEMM's per-shape block (tile_choice: waves)", () => {
  const chosen = { tile_m: 0, tile_n: 0, sm_count: 132, tile_choice: "waves" as const }

  it("turns tiling on without a fixed tile", () => {
    expect(tilingEnabled(chosen)).toBe(true)
    expect(tilingEnabled({ ...chosen, sm_count: 0 })).toBe(false)
  })

  it("64 x 2112: 2112 / 16 = 132 blocks of 64 x 16, one full wave (a 64 x 128 tile would use 17 SMs)", () => {
    const g = { m: 64, n: 2112, k: 7168, groups: 1 }
    expect(gemmBlock(g, chosen)).toEqual({ m: 64, n: 16 })
    expect(gemmWaves(g, chosen)).toBe(1)
    // no padding and no idle SM: spent = useful
    expect(spentGemmFlops(g, chosen)).toBe(2 * 64 * 2112 * 7168)
  })

  it("4096 x 2112: 256 x 88, 3 waves with 120 blocks in the last", () => {
    // Two waves (<= 264 blocks) would need 16 x ceil(2112 / n) <= 264, n >= 132 (over 128 on 256 rows), or
    // 32 x ceil(2112 / n) <= 264, n >= 264 (over 160). In three waves the last is fullest at 384 blocks:
    // 16 x 24 (n = 88); 32 x 12 would need n >= 176; 96 gives 16 x 22 = 352 (last 88).
    const g = { m: 4096, n: 2112, k: 7168, groups: 1 }
    expect(gemmBlock(g, chosen)).toEqual({ m: 256, n: 88 })
    expect(gemmWaves(g, chosen)).toBe(3)
  })

  it("contiguous grouped GEMMs keep 128-row blocks and take the N block with the fewest waves", () => {
    // 4 x 8192 rows: 256 M blocks; N 160 -> 26 blocks, 6656 / 132 -> 51 waves; 144 -> 29, 57; 128 -> 32, 63
    const g = { m: 8192, n: 4096, k: 7168, groups: 4, layout: "contiguous" as const }
    expect(gemmBlock(g, chosen)).toEqual({ m: 128, n: 160 })
    expect(gemmWaves(g, chosen)).toBe(51)
  })

  it("a fixed tile ignores the shape", () => {
    expect(gemmBlock({ m: 64, n: 2112, k: 7168, groups: 1 }, H800)).toEqual({ m: 64, n: 128 })
  })

  it("operand elements one SM loads: waves x (block m + block n) x k", () => {
    expect(operandLoadPerSm(gemmOp(64, 2112, 7168), chosen)).toBe(1 * (64 + 16) * 7168)
    expect(operandLoadPerSm(gemmOp(4096, 2112, 7168), chosen)).toBe(3 * (256 + 88) * 7168)
    // fixed 64 x 128 tile on 4096 x 2112: 9 waves
    expect(operandLoadPerSm(gemmOp(4096, 2112, 7168), H800)).toBe(9 * (64 + 128) * 7168)
  })
})

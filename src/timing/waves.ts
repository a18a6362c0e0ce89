/**
 * Wave quantisation of tiled GEMMs.
 *
 * A GEMM kernel cuts its output into tile_m x tile_n tiles; each streaming multiprocessor (SM)
 * computes one tile at a time, so the tiles run in waves of `sm_count`. A partial last wave
 * still takes a whole wave's time (the idle SMs do not speed up the busy ones), and a tile that
 * hangs over the edge of the output costs a whole tile. The tensor cores therefore spend
 *
 *   spent = waves * sm_count * tile_m * tile_n * 2 * k    per GEMM,
 *   waves = ceil(ceil(m / tile_m) * ceil(n / tile_n) * groups / sm_count)
 *
 * FLOP-times, against the useful 2 * m * n * k * groups. A 64-row GEMM on a 64 x 128 tile fills
 * every tile row; a 4096-row GEMM with n = 2112 wastes 17 % of its last column of tiles and part
 * of its last wave. Quantisation is off when a tile side or the SM count is 0 (the peak-only
 * "speed of light" model).
 */
import type { GemmShape, OpCost } from "../ops/types.ts"

export interface TileGrid {
  readonly tile_m: number
  readonly tile_n: number
  readonly sm_count: number
}

export const tilingEnabled = (t: TileGrid): boolean => t.tile_m > 0 && t.tile_n > 0 && t.sm_count > 0

/** Waves one GEMM (all its groups) takes on the SMs. */
export const gemmWaves = (g: GemmShape, t: TileGrid): number =>
  Math.ceil((Math.ceil(g.m / t.tile_m) * Math.ceil(g.n / t.tile_n) * g.groups) / t.sm_count)

/** FLOP-times the tensor cores spend on one GEMM, whole waves of whole tiles. */
export const spentGemmFlops = (g: GemmShape, t: TileGrid): number => gemmWaves(g, t) * t.sm_count * t.tile_m * t.tile_n * 2 * g.k

/**
 * The FLOPs an op's tensor cores actually spend (>= its useful FLOPs). The op's FLOPs (which may
 * include a little elementwise work besides its GEMMs) are scaled by the GEMMs' waste factor
 * spent / useful. Ops without GEMM shapes, and disabled tiling, return the op's FLOPs unchanged.
 */
export const quantisedGemmFlops = (cost: OpCost, t: TileGrid): number => {
  if (!cost.gemms || cost.gemms.length === 0 || !tilingEnabled(t)) return cost.flops
  let spent = 0
  let useful = 0
  for (const g of cost.gemms) {
    if (g.m <= 0 || g.n <= 0 || g.k <= 0 || g.groups <= 0) continue
    spent += spentGemmFlops(g, t)
    useful += 2 * g.m * g.n * g.k * g.groups
  }
  return useful > 0 ? cost.flops * (spent / useful) : cost.flops
}

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
 *
 * Grouped GEMMs (MoE experts) pad each group's rows to the M block separately; both of
 * DeepGEMM's layouts run every group's tiles in one persistent grid (deepseek-ai/DeepGEMM @
 * 989c9e3694638dd02aa36b4d8cb42339305caa85, deep_gemm/include/deep_gemm/scheduler.cuh):
 *  - contiguous (prefill): the groups are concatenated on one M axis, each segment padded to
 *    128 rows (jit_kernels/utils.py get_m_alignment_for_contiguous_layout), and the M block is
 *    that 128 (jit_kernels/m_grouped_gemm.py: get_best_configs(..., is_grouped_contiguous=True)
 *    tries block_ms = (128,) only), so m blocks = groups * ceil(m / 128).
 *  - masked (decode): a [groups, max_m, k] buffer; the scheduler walks group by group with
 *    ceil(masked_m[g] / BLOCK_M) blocks each, BLOCK_M chosen as for a dense GEMM (our tile_m),
 *    so m blocks = sum over groups of ceil(m_g / tile_m).
 *   tiles = m blocks * ceil(n / tile_n),   waves = ceil(tiles / sm_count)
 * So 2 x 150 rows take 2 * 2 = 4 contiguous m blocks where 1 x 300 takes 3.
 * When m is the mean of a routed count (uniform routing: each of T tokens picks an expert with
 * probability k/E, a binomial with small k/E, i.e. Poisson with mean m), the expected blocks per
 * group are E[max(1, ceil(X / block))], X ~ Poisson(m): the spread of expert loads pads more
 * than the mean does (m = 512 on 64-row blocks: 8.49 blocks, not 8), and a touched group holds
 * at least one block.
 */
import type { GemmShape, OpCost } from "../ops/types.ts"

export interface TileGrid {
  readonly tile_m: number
  readonly tile_n: number
  readonly sm_count: number
}

export const tilingEnabled = (t: TileGrid): boolean => t.tile_m > 0 && t.tile_n > 0 && t.sm_count > 0

/** M block of DeepGEMM's contiguous grouped layout (each group's segment is padded to it). */
export const CONTIGUOUS_BLOCK_M = 128

/** Rows of one M block: 128 for the contiguous layout, the hardware tile otherwise. */
export const blockM = (g: GemmShape, t: TileGrid): number => (g.layout === "contiguous" ? CONTIGUOUS_BLOCK_M : t.tile_m)

/** ln(j!), exact sum below 256, Stirling's series above (error < 1e-10 there). */
const logFactorial = (j: number): number => {
  if (j < 256) {
    let s = 0
    for (let i = 2; i <= j; i++) s += Math.log(i)
    return s
  }
  return j * Math.log(j) - j + 0.5 * Math.log(2 * Math.PI * j) + 1 / (12 * j) - 1 / (360 * j ** 3)
}

/**
 * E[max(1, ceil(X / block))] for X ~ Poisson(mean): the M blocks of one touched group whose
 * row count is routed (see header). Sums the pmf over mean +- 12 standard deviations.
 */
const routedBlocksMemo = new Map<string, number>()

export const expectedRoutedBlocks = (mean: number, block: number): number => {
  if (mean <= 0) return 0
  const key = `${mean}/${block}`
  const hit = routedBlocksMemo.get(key)
  if (hit !== undefined) return hit
  const v = poissonBlocks(mean, block)
  // A sweep visits a bounded set of shapes; the cap only guards against unbounded growth.
  if (routedBlocksMemo.size > 4096) routedBlocksMemo.clear()
  routedBlocksMemo.set(key, v)
  return v
}

const poissonBlocks = (mean: number, block: number): number => {
  const sd = Math.sqrt(mean)
  const lo = Math.max(0, Math.floor(mean - 12 * sd - 12))
  const hi = Math.ceil(mean + 12 * sd + 12)
  const lnMean = Math.log(mean)
  let lnP = -mean + lo * lnMean - logFactorial(lo)
  let sum = 0
  for (let j = lo; j <= hi; j++) {
    if (j > lo) lnP += lnMean - Math.log(j)
    sum += Math.exp(lnP) * Math.max(1, Math.ceil(j / block))
  }
  return sum
}

/** M blocks of one GEMM over all its groups (per-group padding for grouped layouts). */
export const gemmMBlocks = (g: GemmShape, t: TileGrid): number => {
  const bm = blockM(g, t)
  if (g.layout === undefined) return Math.ceil(g.m / bm) * g.groups
  return (g.routed === true ? expectedRoutedBlocks(g.m, bm) : Math.ceil(g.m / bm)) * g.groups
}

/** Waves one GEMM (all its groups) takes on the SMs. */
export const gemmWaves = (g: GemmShape, t: TileGrid): number =>
  Math.ceil((gemmMBlocks(g, t) * Math.ceil(g.n / t.tile_n)) / t.sm_count)

/** FLOP-times the tensor cores spend on one GEMM, whole waves of whole tiles. */
export const spentGemmFlops = (g: GemmShape, t: TileGrid): number => gemmWaves(g, t) * t.sm_count * blockM(g, t) * t.tile_n * 2 * g.k

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

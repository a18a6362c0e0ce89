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
 *
 * Block choice. With `tile_choice: fixed` (the default) every GEMM runs on the tile_m x tile_n
 * tile. With `tile_choice: waves` each GEMM gets the block DeepGEMM's JIT picks for its shape
 * (deepseek-ai/DeepGEMM @ 989c9e3694638dd02aa36b4d8cb42339305caa85,
 * deep_gemm/jit_kernels/gemm.py get_best_configs), because the kernel that ran is the one whose
 * tiles are counted: BLOCK_M in {64, 128, 256} (128 only for the contiguous layout), BLOCK_N in
 * 16..128 step 8 and 144, 160 (BLOCK_N <= 128 when BLOCK_M is 256); the fewest waves win, then
 * the fullest last wave, then on a tie the smaller block on a shared side, else the wider N.
 * So 64 x 2112 runs 132 blocks of 64 x 16 (one full wave) where a fixed 64 x 128 tile uses 17 SMs.
 */
import type { GemmShape, OpCost } from "../ops/types.ts"

/** fixed: every GEMM on the hardware's tile_m x tile_n; waves: DeepGEMM's per-shape block (header). */
export type TileChoice = "fixed" | "waves"

export interface TileGrid {
  readonly tile_m: number
  readonly tile_n: number
  readonly sm_count: number
  readonly tile_choice?: TileChoice
}

/** Tiling is on with an SM count and either a fixed tile or the per-shape choice. */
export const tilingEnabled = (t: TileGrid): boolean => t.sm_count > 0 && (t.tile_choice === "waves" || (t.tile_m > 0 && t.tile_n > 0))

/** M block of DeepGEMM's contiguous grouped layout (each group's segment is padded to it). */
const CONTIGUOUS_BLOCK_M = 128

/** One GEMM block (output tile) on an SM: rows m, columns n. */
export interface Block {
  readonly m: number
  readonly n: number
}

/** DeepGEMM's candidate blocks (get_best_configs @ 989c9e3, see header). */
const CHOICE_BLOCK_M: ReadonlyArray<number> = [64, 128, 256]
const CHOICE_BLOCK_N: ReadonlyArray<number> = [...Array.from({ length: 15 }, (_, i) => 16 + 8 * i), 144, 160]

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

/** M blocks of `bm` rows over all the GEMM's groups (per-group padding for grouped layouts). */
const mBlocksOf = (g: GemmShape, bm: number): number => {
  if (g.layout === undefined) return Math.ceil(g.m / bm) * g.groups
  return (g.routed === true ? expectedRoutedBlocks(g.m, bm) : Math.ceil(g.m / bm)) * g.groups
}

/** DeepGEMM's pick among its candidate blocks (header): fewest waves, fullest last wave, ties. */
const chooseBlock = (g: GemmShape, sms: number): Block => {
  const ms = g.layout === "contiguous" ? [CONTIGUOUS_BLOCK_M] : CHOICE_BLOCK_M
  let best: { readonly block: Block; readonly waves: number; readonly last: number } | undefined
  for (const m of ms) {
    for (const n of CHOICE_BLOCK_N) {
      if (m > 128 && n > 128) continue
      const tiles = mBlocksOf(g, m) * Math.ceil(g.n / n)
      const waves = Math.ceil(tiles / sms)
      const rest = tiles % sms
      const last = rest === 0 ? sms : rest
      let better = best === undefined || waves < best.waves
      if (best !== undefined && waves === best.waves) {
        const b = best.block
        better = last > best.last || (last === best.last && ((m === b.m && n < b.n) || (n === b.n && m < b.m) || (m !== b.m && n > b.n)))
      }
      if (better) best = { block: { m, n }, waves, last }
    }
  }
  return best!.block
}

const blockMemo = new Map<string, Block>()

/** The block one GEMM runs on: the fixed tile (M 128 for the contiguous layout) or DeepGEMM's choice. */
export const gemmBlock = (g: GemmShape, t: TileGrid): Block => {
  if (t.tile_choice !== "waves") return { m: g.layout === "contiguous" ? CONTIGUOUS_BLOCK_M : t.tile_m, n: t.tile_n }
  const key = `${g.m}/${g.n}/${g.groups}/${g.layout ?? ""}/${g.routed === true}/${t.sm_count}`
  const hit = blockMemo.get(key)
  if (hit !== undefined) return hit
  const b = chooseBlock(g, t.sm_count)
  // A sweep visits a bounded set of shapes; the cap only guards against unbounded growth.
  if (blockMemo.size > 4096) blockMemo.clear()
  blockMemo.set(key, b)
  return b
}

/** Rows of one M block: 128 for the contiguous layout, else the fixed tile or the chosen block. */
const blockM = (g: GemmShape, t: TileGrid): number => gemmBlock(g, t).m

/** M blocks of one GEMM over all its groups (per-group padding for grouped layouts). */
export const gemmMBlocks = (g: GemmShape, t: TileGrid): number => mBlocksOf(g, blockM(g, t))

/** Waves one GEMM (all its groups) takes on the SMs. */
export const gemmWaves = (g: GemmShape, t: TileGrid): number => Math.ceil((gemmMBlocks(g, t) * Math.ceil(g.n / gemmBlock(g, t).n)) / t.sm_count)

/** FLOP-times the tensor cores spend on one GEMM, whole waves of whole tiles. */
export const spentGemmFlops = (g: GemmShape, t: TileGrid): number => {
  const b = gemmBlock(g, t)
  return gemmWaves(g, t) * t.sm_count * b.m * b.n * 2 * g.k
}

/**
 * Operand elements one SM loads into shared memory for the GEMMs of an op: each of its tiles
 * (at most `waves` per SM) streams a (block m x k) slab of A and a (k x block n) slab of B.
 * TMA multicast (one L2 read feeding two SMs of a cluster) does not lower this: each SM still
 * receives its own copy (DeepGEMM @ 989c9e3 fp8_gemm.cuh tma_copy<kNumTMAMulticast>).
 */
export const operandLoadPerSm = (cost: OpCost, t: TileGrid): number => {
  if (!cost.gemms || !tilingEnabled(t)) return 0
  let elements = 0
  for (const g of cost.gemms) {
    if (g.m <= 0 || g.n <= 0 || g.k <= 0 || g.groups <= 0) continue
    const b = gemmBlock(g, t)
    elements += gemmWaves(g, t) * (b.m + b.n) * g.k
  }
  return elements
}

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

/**
 * Heads of a learned estimator: one regressor per op family, each reading its own feature list
 * from a feature row (features.ts). A registry, so training, the envelope check and prediction
 * never switch on op kinds.
 *
 *   gemm                   dense GEMMs (linear ops, and the k-grouped weight-gradient kernel's
 *                          measurements): the GEMM's m, n, k, groups; learns from every GEMM row but the masked calls
 *   grouped_gemm           m-grouped MoE GEMMs (DeepGEMM's contiguous and masked layouts): M blocks
 *                          per group, n, k, the call's tiles and their last wave, the layout
 *   mla_attention_decode   FlashMLA-style absorbed MLA decoding: batch, kv_len, heads
 *   gqa_attention_prefill  FlashAttention-style causal prefill: batch, seq_len, q_heads, kv_heads, head_dim
 *
 * Fused ops made of GEMMs (an MoE layer's experts, a dense FFN) have no head of their own: the
 * estimator times each of their GEMMs with the two GEMM heads (src/ml/estimator.ts).
 *
 * The grouped head reads what the kernel runs, not the raw row and group counts: whole M blocks
 * (4 routed rows run the same 64-row block as 60) and tiles, and the hardware's peak, bandwidth,
 * SM count and kernel latency. The other heads read their shape, a derived tile or wave fill, the
 * op's FLOPs, arithmetic intensity and analytic time, and the same hardware figures (COMMON).
 * Either way one model covers several GPUs and says so in its envelope. Size features enter in
 * log2 (kernel time scales multiplicatively with them; a tree splits the same
 * either way, but the envelope and any future linear head read better in log space).
 */
import { parseShape, type FeatureRow } from "./features.ts"

interface HeadFeature {
  readonly name: string
  /** The raw value (before log2), or undefined when the row lacks it. */
  readonly value: (row: FeatureRow) => number | undefined
  readonly log2: boolean
}

export interface Head {
  readonly id: string
  /** Op kinds (feature rows' `kind`) this head times. */
  readonly kinds: ReadonlyArray<string>
  /** The op's shape: what makes two measurements the same case (shape family, for grouped folds). */
  readonly shape: ReadonlyArray<HeadFeature>
  /** Every input: the shape, features derived from it, then COMMON. */
  readonly features: ReadonlyArray<HeadFeature>
  /**
   * The time the correction multiplies, us: the analytic time, or a head's refinement of it that
   * charges a known structural cost the roofline leaves out (whole tiles), so the learned
   * correction stays near constant across shapes instead of having to extrapolate.
   */
  readonly baseline: (row: FeatureRow) => number | undefined
  /** Rows of its kinds the head leaves out of its training (default: none). */
  readonly skips?: (row: FeatureRow) => boolean
}

const column = (name: keyof FeatureRow & string, log2 = true): HeadFeature => ({
  name,
  log2,
  value: (r) => {
    const v = r[name]
    return typeof v === "number" ? v : undefined
  }
})

const param = (name: string): HeadFeature => ({
  name,
  log2: true,
  value: (r) => {
    const v = parseShape(r.shape)[name]
    return typeof v === "number" ? v : undefined
  }
})

/**
 * Fill of the last tile when `rows` are cut into `tile`-row tiles: rows / (ceil(rows / tile) * tile).
 * The roofline charges useful work only; a kernel pays for whole tiles, which is where much of
 * what it misses comes from on small shapes.
 */
const tileFill = (rows: number, tile: number): number => rows / (Math.ceil(rows / tile) * tile)

/**
 * FlashMLA decoding runs the h_q * s_q query rows of a sequence in 64-row tiles (the kernel's
 * block_size_m of 64, deepseek-ai/FlashMLA csrc; flashmla.yaml's H20 runs are flat from 16 to 64
 * rows and double at 80), so a decode op's query rows fill their tile by heads / 64-padded heads.
 */
const MLA_QUERY_TILE = 64
/** DeepGEMM's usual 128-column output block (deepseek-ai/DeepGEMM README): tiles = M blocks * n blocks * groups. */
const GEMM_BLOCK = 128

const mlaTileFill: HeadFeature = {
  name: "query_tile_fill",
  log2: false,
  value: (r) => {
    const h = parseShape(r.shape).heads
    return typeof h === "number" && h > 0 ? tileFill(h, MLA_QUERY_TILE) : undefined
  }
}

/**
 * DeepGEMM's smallest M block (BLOCK_M 64; 128 for the contiguous layout, whose segments are
 * padded to 128 rows): a kernel sees a group's rows only as whole blocks, so 4 and 60 rows run
 * the same tiles (src/timing/waves.ts). The grouped head reads blocks, not rows.
 */
const minBlockM = (layout: string | number | undefined): number => (layout === "contiguous" ? 128 : 64)

const gemmLayout = (r: FeatureRow): string | number | undefined => parseShape(r.shape).layout

const mBlocks: HeadFeature = {
  name: "m_blocks_per_group",
  log2: true,
  value: (r) => (r.gemm_m === null || r.gemm_m <= 0 ? undefined : Math.ceil(r.gemm_m / minBlockM(gemmLayout(r))))
}

/** The call's output tiles at DeepGEMM's usual 128-column block: M blocks * n blocks * groups. */
const gemmTiles = (r: FeatureRow): number | undefined => {
  if (r.gemm_m === null || r.gemm_n === null || r.gemm_groups === null || r.gemm_m <= 0) return undefined
  return Math.ceil(r.gemm_m / minBlockM(gemmLayout(r))) * Math.ceil(r.gemm_n / GEMM_BLOCK) * r.gemm_groups
}

const tileCount: HeadFeature = { name: "tiles", log2: true, value: gemmTiles }

const tileWaveFill: HeadFeature = {
  name: "tile_wave_fill",
  log2: false,
  value: (r) => {
    const t = gemmTiles(r)
    return t === undefined || r.hw_sm_count === null || r.hw_sm_count <= 0 ? undefined : tileFill(t, r.hw_sm_count)
  }
}

/** 1 for the masked (decode) layout, 0 for the contiguous (prefill) one. */
const groupedMasked: HeadFeature = {
  name: "masked_layout",
  log2: false,
  value: (r) => {
    const l = gemmLayout(r)
    return l === "masked" ? 1 : l === "contiguous" ? 0 : undefined
  }
}

const gemmWaveFill: HeadFeature = {
  name: "cta_wave_fill",
  log2: false,
  value: (r) => {
    if (r.gemm_m === null || r.gemm_n === null || r.gemm_groups === null || r.hw_sm_count === null || r.hw_sm_count <= 0) return undefined
    const ctas = Math.ceil(r.gemm_m / GEMM_BLOCK) * Math.ceil(r.gemm_n / GEMM_BLOCK) * r.gemm_groups
    return tileFill(ctas, r.hw_sm_count)
  }
}

const COMMON: ReadonlyArray<HeadFeature> = [
  column("flops"),
  column("arithmetic_intensity_flops_per_byte"),
  column("analytic_us"),
  column("hw_peak_tflops", false),
  column("hw_memory_bandwidth_gbps", false),
  column("hw_sm_count", false),
  column("hw_kernel_latency_us", false)
]

const analyticUs = (row: FeatureRow): number | undefined => row.analytic_us ?? undefined

const head = (
  id: string,
  kinds: ReadonlyArray<string>,
  shape: ReadonlyArray<HeadFeature>,
  derived: ReadonlyArray<HeadFeature> = [],
  baseline: (row: FeatureRow) => number | undefined = analyticUs
): Head => ({ id, kinds, shape, features: [...shape, ...derived, ...COMMON], baseline })

/** The hardware part of COMMON: a grouped call's size enters through its blocks and tiles only. */
const HARDWARE: ReadonlyArray<HeadFeature> = COMMON.filter((f) => f.name.startsWith("hw_"))

/**
 * Grouped GEMMs: the shape family is the call (rows per group, n, k, groups, layout), the inputs
 * are what the kernel runs (blocks per group, n, k, tiles, last-wave fill, layout) and the part:
 * the raw row and group counts are left out, so a decode call of 4 routed rows over 16 experts is
 * judged by the 64-row blocks and tiles it runs, which the masked rows of the data cover.
 */
const groupedHead: Head = {
  id: "grouped_gemm",
  kinds: ["grouped_gemm"],
  shape: [column("gemm_m"), column("gemm_n"), column("gemm_k"), column("gemm_groups"), groupedMasked],
  features: [mBlocks, column("gemm_n"), column("gemm_k"), tileCount, tileWaveFill, groupedMasked, ...HARDWARE],
  baseline: analyticUs
}

/**
 * The first head listing a kind times it (headForKind, the estimator; the cross-validation
 * attributes a row the same way), so the grouped head, first, times grouped GEMMs. The dense head
 * still learns from the GEMM rows of the same kernel family it learned from before the grouped
 * head existed: dense, contiguous grouped and weight-gradient rows, not the masked (decode MoE)
 * calls, which are the grouped head's alone. Measured, 5-fold grouped CV median: dense rows alone
 * gave community H800 8.7% (analytic 6.2%); every GEMM row, masked ones included, the H800 dense
 * table 3.5% (analytic 2.8%); this set 2.85% and 6.2%. It reads the raw shape with COMMON (block
 * inputs cross-validated worse on the H800 dense table). The training kernel's k-grouped
 * weight-gradient rows (one dense kernel per group, src/accuracy/gemm.ts) are read as their first
 * GEMM: they are H200's only GEMM data.
 */
export const HEADS: ReadonlyArray<Head> = [
  groupedHead,
  {
    ...head(
      "gemm",
      ["linear", "grouped_gemm", "kgrouped_wgrad"],
      [column("gemm_m"), column("gemm_n"), column("gemm_k"), column("gemm_groups")],
      [gemmWaveFill]
    ),
    skips: (r) => gemmLayout(r) === "masked"
  },
  head("mla_attention_decode", ["mla_attention_decode"], [param("batch"), param("kv_len"), param("heads")], [mlaTileFill]),
  head("gqa_attention_prefill", ["gqa_attention_prefill"], [param("batch"), param("seq_len"), param("q_heads"), param("kv_heads"), param("head_dim")])
]

/**
 * A row's shape family: head, hardware, math dtype and shape values. Rows of one family are the
 * same kernel call measured again (another source, a variant, varlen): cross-validation holds
 * them out together so a near-duplicate never scores a held-out row.
 */
export const familyOf = (h: Head, row: FeatureRow): string =>
  [h.id, row.hardware, row.math_dtype, ...h.shape.map((f) => `${f.name}=${f.value(row) ?? ""}`)].join(" ")

export const headForKind = (kind: string): Head | undefined => HEADS.find((h) => h.kinds.includes(kind))

export const headById = (id: string): Head | undefined => HEADS.find((h) => h.id === id)

/** The head's raw feature values of a row (envelope space), or the name of the first missing one. */
export const rawFeatures = (head: Head, row: FeatureRow): ReadonlyArray<number> | string => {
  const out: Array<number> = []
  for (const f of head.features) {
    const v = f.value(row)
    if (v === undefined || !Number.isFinite(v) || (f.log2 && v <= 0)) return f.name
    out.push(v)
  }
  return out
}

/** Raw values as the regressor's inputs (log2 where the feature says so). */
export const modelInputs = (head: Head, raw: ReadonlyArray<number>): Array<number> => raw.map((v, i) => (head.features[i].log2 ? Math.log2(v) : v))

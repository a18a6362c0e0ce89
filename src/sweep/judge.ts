/**
 * Judging a point: the constraints it must meet, what it costs, and the objectives a sweep ranks
 * points by. Pure; applied after evaluation (or replay), so changing a constraint or a price
 * re-judges cached points without re-evaluating them.
 *
 * Cost (USD per 1M tokens) = GPUs x price per GPU-hour / (tokens/s x 3600) x 1e6
 *                          = price / (tokens/s per GPU x 3600) x 1e6
 * output tokens from the decode throughput, input tokens from the prefill throughput. The price
 * is the hardware file's `price_per_gpu_hour_usd` (user-set), or `--price-per-gpu-hour`.
 */
import type { AxisName, AxisValue } from "./axes.ts"
import type { PointResult } from "./point.ts"

export interface Constraints {
  readonly ttft_ms_max?: number
  readonly tpot_ms_max?: number
  readonly tokens_per_s_per_user_min?: number
  readonly gpus_max?: number
}

/** Axis values a row carries besides those a PointResult already names (hardware, batch, seq, output, tp, dp, ep). */
export const EXTRA_AXES = [
  "weights",
  "kv_cache",
  "moe_experts",
  "instances",
  "redundant_experts",
  "tbo",
  "micro_batches"
] as const satisfies ReadonlyArray<AxisName>

/** A judged point, flat: its index, the swept extra axes' values, its result, price, cost and verdict. */
export interface Row extends PointResult, Readonly<Partial<Record<(typeof EXTRA_AXES)[number], AxisValue>>> {
  /** The point's index in the whole sweep (stable across shards). */
  readonly index: number
  readonly price_per_gpu_hour_usd: number | null
  readonly cost_per_1m_output_tokens_usd: number | null
  readonly cost_per_1m_input_tokens_usd: number | null
  readonly feasible: boolean
  /** Every constraint the point fails, `; `-separated ("" when feasible). */
  readonly rejected_by: string
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`

/** The reasons `p` fails `c` (empty when it meets every one). HBM always applies. */
export const rejections = (p: PointResult, c: Constraints): Array<string> => {
  if (p.invalid !== null) return [`layout: ${p.invalid}`]
  const out: Array<string> = []
  if (!p.fits_in_hbm) out.push(`hbm: ${gb(p.memory_per_gpu_bytes!)} per GPU > ${gb(p.capacity_bytes!)}`)
  if (c.ttft_ms_max !== undefined && (p.ttft_ms === null || p.ttft_ms > c.ttft_ms_max))
    out.push(p.ttft_ms === null ? "ttft: no prefill phase" : `ttft: ${p.ttft_ms.toFixed(1)} ms > ${c.ttft_ms_max} ms`)
  if (c.tpot_ms_max !== undefined && (p.tpot_ms === null || p.tpot_ms > c.tpot_ms_max))
    out.push(p.tpot_ms === null ? "tpot: no decode phase" : `tpot: ${p.tpot_ms.toFixed(2)} ms > ${c.tpot_ms_max} ms`)
  if (c.tokens_per_s_per_user_min !== undefined && (p.tokens_per_s_per_user === null || p.tokens_per_s_per_user < c.tokens_per_s_per_user_min)) {
    out.push(
      p.tokens_per_s_per_user === null
        ? "tokens/s per user: no decode phase"
        : `tokens/s per user: ${p.tokens_per_s_per_user.toFixed(1)} < ${c.tokens_per_s_per_user_min}`
    )
  }
  if (c.gpus_max !== undefined && p.gpus! > c.gpus_max) out.push(`gpus: ${p.gpus} > ${c.gpus_max}`)
  return out
}

/** What `sweep --bench` ranks layouts by, and which way (src/sweep/bench.ts). */
export const BENCH_OBJECTIVES = {
  goodput_per_gpu: "max",
  output_tokens_per_s_per_gpu: "max",
  cost_per_1m_output_tokens_usd: "min"
} as const
export type BenchObjective = keyof typeof BENCH_OBJECTIVES

export const costPer1M = (price: number | null, tokensPerSPerGpu: number | null): number | null =>
  price === null || tokensPerSPerGpu === null || tokensPerSPerGpu <= 0 ? null : (price / (tokensPerSPerGpu * 3600)) * 1e6

export const judge = (index: number, axes: Readonly<Partial<Record<AxisName, AxisValue>>>, p: PointResult, c: Constraints, price: number | null): Row => {
  const reasons = rejections(p, c)
  const row: Record<string, unknown> = { index }
  for (const a of EXTRA_AXES) if (axes[a] !== undefined) row[a] = axes[a]
  return {
    ...(row as { index: number }),
    ...p,
    price_per_gpu_hour_usd: price,
    cost_per_1m_output_tokens_usd: costPer1M(price, p.tokens_per_s_per_gpu),
    cost_per_1m_input_tokens_usd: costPer1M(price, p.prefill_tokens_per_s_per_gpu),
    feasible: reasons.length === 0,
    rejected_by: reasons.join("; ")
  }
}

/** What a sweep can rank by, and which way. */
export const OBJECTIVES = {
  tokens_per_s_per_gpu: "max",
  tokens_per_s_per_user: "max",
  cost_per_1m_output_tokens_usd: "min",
  cost_per_1m_input_tokens_usd: "min"
} as const
export type Objective = keyof typeof OBJECTIVES

const objectiveValue = (r: Row, o: Objective): number | null => r[o]

/** Whether `a` ranks before `b` on `o` (ties: the lower index, so every run and every merge agrees). */
export const better = (a: Row, b: Row, o: Objective): boolean => {
  const x = objectiveValue(a, o)
  const y = objectiveValue(b, o)
  if (x === null) return false
  if (y === null) return true
  if (x !== y) return OBJECTIVES[o] === "max" ? x > y : x < y
  return a.index < b.index
}

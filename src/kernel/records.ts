/**
 * Result records (the JSON contract). Field names follow the product spec; every time is in
 * milliseconds and every size in bytes, and the unit is in the field name.
 */
import type { Bound } from "../timing/roofline.ts"
import type { OpCategory } from "../ops/types.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { StrategyName } from "./strategies.ts"
import type { EfficiencySummary } from "../timing/efficiency.ts"
import type { CalibrationSummary } from "../timing/calibration.ts"

/** One fused op inside a layer (a `breakdown` row). */
export interface OpExecution {
  readonly op: string
  readonly kind: string
  readonly category: OpCategory
  readonly flops: number
  readonly bytes_read: number
  readonly bytes_written: number
  readonly comm_bytes: number
  readonly link: string | null
  readonly math_dtype: string | null
  readonly compute_time_ms: number
  readonly memory_time_ms: number
  readonly comm_time_ms: number
  readonly dominant_latency_ms: number
  readonly bound: Bound
  readonly notes: string
  /** Under a learned estimator only: `ml` (its model timed the op) or `analytic-fallback`. */
  readonly estimator?: "ml" | "analytic-fallback"
  /** The correction factor applied, or why the analytic times were kept. */
  readonly estimator_note?: string
}

/** A layer template evaluated once (shared by all identical instances). */
export interface LayerSummary {
  readonly layer_type: string
  readonly flops: number
  readonly bytes_read: number
  readonly bytes_written: number
  readonly comm_bytes: number
  readonly compute_time_ms: number
  readonly memory_time_ms: number
  readonly comm_time_ms: number
  /** Sum over ops of max(compute, memory), plus communication not hidden by overlap. */
  readonly dominant_latency_ms: number
  /** Alias of dominant_latency_ms for downstream tooling (the spec's field). */
  readonly estimated_execution_time_ms: number
  readonly bound: Bound
  readonly weight_bytes: number
  readonly kv_cache_bytes_per_token: number
  readonly activation_bytes: number
  readonly features: Readonly<Record<string, number>>
  readonly breakdown: ReadonlyArray<OpExecution>
}

export interface LayerExecution extends LayerSummary {
  /** Unique per instance: `L<index>.<type or name>`, e.g. `L17.moe_layer`. */
  readonly layer_name: string
}

interface MemoryBreakdown {
  readonly weights_bytes: number
  readonly kv_cache_bytes: number
  readonly activation_bytes: number
}

export interface SimulationResult {
  readonly phase: SinglePhase
  readonly layers: ReadonlyArray<LayerExecution>
  readonly total_latency_ms: number
  readonly total_flops: number
  readonly total_bytes: number
  readonly total_comm_bytes: number
  /** Per GPU: weights + KV cache for the batch + the largest layer's live activations. */
  readonly peak_memory_bytes: number
  readonly memory: MemoryBreakdown
  readonly bottleneck_layer: string
}

export interface ServingSummary {
  /** How ops and layers were composed in time (src/kernel/strategies.ts). */
  readonly strategy: StrategyName
  /** Prefill latency of the batch (first token comes out of prefill's LM head). */
  readonly ttft_ms: number | null
  /** Decode step latency at KV length seq_len. */
  readonly tpot_ms: number | null
  /** Decode output tokens/s of the whole replica (batch_size x dp sequences). */
  readonly throughput_tokens_per_s: number | null
  readonly throughput_tokens_per_s_per_gpu: number | null
  /** Prompt tokens/s of the whole replica during prefill. */
  readonly prefill_throughput_tokens_per_s: number | null
  readonly gpus: number
  readonly peak_memory_bytes: number
  readonly hbm_bytes_per_gpu: number
  readonly fits_in_hbm: boolean
}

export interface RunResult {
  readonly scenario: string
  readonly hardware: string
  readonly runtime: {
    readonly batch_size: number
    readonly seq_len: number
    readonly phase: string
    readonly micro_batch?: number
    readonly tokens_per_expert?: number
    /** MTP speculative decoding: draft tokens per step (the MTP layers) and their acceptance rate. */
    readonly mtp_draft_tokens?: number
    readonly mtp_acceptance_rate?: number
  }
  readonly parallelism: { readonly tp: number; readonly dp: number; readonly ep: number }
  readonly estimator: string
  /** The hardware file's timing constants, or `none (no data)` for each it lacks (src/timing/efficiency.ts). */
  readonly efficiency?: EfficiencySummary
  /** Where each of those constants comes from: fitted, borrowed or datasheet only (src/timing/calibration.ts). */
  readonly calibration?: CalibrationSummary
  readonly phases: { readonly prefill?: SimulationResult; readonly decode?: SimulationResult }
  readonly serving: ServingSummary
  /** What the figures take for granted that flatters them (src/deploy/notes.ts); absent when nothing. */
  readonly notes?: ReadonlyArray<string>
}

/** The per-layer figures the run table and its CSV show (in CSV order), and watch compares. */
export const LAYER_FIGURES = [
  "flops",
  "bytes_read",
  "bytes_written",
  "comm_bytes",
  "compute_time_ms",
  "memory_time_ms",
  "comm_time_ms",
  "dominant_latency_ms"
] as const satisfies ReadonlyArray<keyof LayerExecution>

/** The serving figures with a change watch compares, in the run screen's order. */
export const SERVING_FIGURES = [
  "ttft_ms",
  "tpot_ms",
  "throughput_tokens_per_s",
  "throughput_tokens_per_s_per_gpu",
  "prefill_throughput_tokens_per_s",
  "peak_memory_bytes"
] as const satisfies ReadonlyArray<keyof ServingSummary>

export type ServingFigure = (typeof SERVING_FIGURES)[number]

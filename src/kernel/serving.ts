/**
 * The serving arithmetic, once: a step time into tokens/s, for every deployment model (the core
 * roll-up below, the large-EP and AFD models in src/deploy/serving.ts, a sweep point in
 * src/sweep/point.ts), so a sweep point equals its single-point command to the last bit.
 *
 *   decode tokens/s (unit)   = sequences x 1000 / TPOT ms        (one output token per sequence per step)
 *   prefill tokens/s (unit)  = sequences x seq_len x 1000 / TTFT ms
 *   per GPU                  = unit rate / GPUs of the unit
 *   per node                 = per GPU x gpus_per_node
 *   per user                 = 1000 / TPOT ms
 * where `sequences` is the batch per attention data-parallel rank times the ranks. A rate is
 * null when its phase was not evaluated (or took no time).
 */
import { expectedTokensPerStep } from "../layers/mtp.ts"
import type { ServingSummary, SimulationResult } from "./records.ts"
import type { StrategyName } from "./strategies.ts"

/** What the rates of a serving unit depend on besides the step times. */
export interface ServingUnit {
  /** Sequences in flight: batch per attention DP rank x DP ranks. */
  readonly sequences: number
  readonly gpus: number
  readonly gpus_per_node: number
}

export interface ServingRates {
  readonly decode_tokens_per_s: number | null
  readonly decode_tokens_per_s_per_gpu: number | null
  readonly decode_tokens_per_s_per_node: number | null
  readonly prefill_tokens_per_s: number | null
  readonly prefill_tokens_per_s_per_gpu: number | null
  readonly prefill_tokens_per_s_per_node: number | null
  readonly tokens_per_s_per_user: number | null
}

/** `tokens` per `ms` as tokens/s; null without a positive time. */
const perSecond = (tokens: number, ms: number | null): number | null => (ms !== null && ms > 0 ? (tokens * 1e3) / ms : null)

export const servingRates = (unit: ServingUnit, seqLen: number, ttftMs: number | null, tpotMs: number | null): ServingRates => {
  const decode = perSecond(unit.sequences, tpotMs)
  const prefill = perSecond(unit.sequences * seqLen, ttftMs)
  const perGpu = (r: number | null) => (r === null ? null : r / unit.gpus)
  const perNode = (r: number | null) => (r === null ? null : (r / unit.gpus) * unit.gpus_per_node)
  return {
    decode_tokens_per_s: decode,
    decode_tokens_per_s_per_gpu: perGpu(decode),
    decode_tokens_per_s_per_node: perNode(decode),
    prefill_tokens_per_s: prefill,
    prefill_tokens_per_s_per_gpu: perGpu(prefill),
    prefill_tokens_per_s_per_node: perNode(prefill),
    tokens_per_s_per_user: perSecond(1, tpotMs)
  }
}

/**
 * The core roll-up's serving summary: TTFT = the prefill step, TPOT = the decode step (over the
 * tokens an MTP step emits per sequence, expectedTokensPerStep), the rates above over tp x dp
 * GPUs, and the fit of the larger phase in HBM.
 */
export const servingSummary = (
  phases: { prefill?: SimulationResult; decode?: SimulationResult },
  run: { batch_size: number; seq_len: number; mtp_draft_tokens?: number; mtp_acceptance_rate?: number },
  layout: { tp: number; dp: number },
  hbm_gb: number,
  strategy: StrategyName
): ServingSummary => {
  const gpus = layout.tp * layout.dp
  const ttft = phases.prefill?.total_latency_ms ?? null
  const perStep = run.mtp_draft_tokens === undefined ? 1 : expectedTokensPerStep(run.mtp_draft_tokens, run.mtp_acceptance_rate ?? 0)
  const step = phases.decode?.total_latency_ms ?? null
  const tpot = step === null ? null : step / perStep
  // gpus_per_node only scales the per-node rate, which the core summary does not report.
  const rates = servingRates({ sequences: run.batch_size * layout.dp, gpus, gpus_per_node: 1 }, run.seq_len, ttft, tpot)
  const peak = Math.max(phases.prefill?.peak_memory_bytes ?? 0, phases.decode?.peak_memory_bytes ?? 0)
  const hbm = hbm_gb * 1e9
  return {
    strategy,
    ttft_ms: ttft,
    tpot_ms: tpot,
    throughput_tokens_per_s: rates.decode_tokens_per_s,
    throughput_tokens_per_s_per_gpu: rates.decode_tokens_per_s_per_gpu,
    prefill_throughput_tokens_per_s: rates.prefill_tokens_per_s,
    gpus,
    peak_memory_bytes: peak,
    hbm_bytes_per_gpu: hbm,
    fits_in_hbm: peak <= hbm
  }
}

/**
 * Attention-FFN disaggregation pipeline (AIC's model, ai-dynamo/aiconfigurator
 * src/aiconfigurator/sdk/inference_session.py; MegaScale-Infer's
 * ping-pong pipeline, arXiv 2504.02263). Per layer and micro-batch: t_a attention on the
 * attention GPUs, t_a2f the hidden-state transfer, t_f the experts on the FFN GPUs, t_f2a the
 * transfer back. With m micro-batches in flight each stage runs m times per layer:
 *
 *   three_stage   t_cycle = max(t_a, t_f, t_a2f + t_f2a)
 *                 needs m >= 2 + (t_a2f + t_f2a) / max(t_a, t_f) micro-batches, else it falls
 *                 back to conservative
 *   conservative  t_cycle = max(t_a + t_a2f, t_f + t_f2a)
 *   serial        t_cycle = t_a + t_a2f + t_f + t_f2a          (m = 1 is always serial)
 *   cyclic        t_cycle = max(t_a, t_f, t_a2f + t_f2a, (t_a + t_a2f + t_f + t_f2a) / m)
 *                 the default. The m micro-batches circulate through attention, the link (both
 *                 transfer directions share it, as in three_stage) and the FFN: a timed event graph
 *                 whose cycle time is the largest circuit time over the tokens on it (Baccelli,
 *                 Cohen, Olsder, Quadrat, "Synchronization and Linearity", 1992, theorem 3.23 on
 *                 the cycle time of strongly connected event graphs): each resource's self-loop
 *                 (one micro-batch at a time) and the whole loop (m micro-batches). It is
 *                 continuous in every stage time and in m: serial at m = 1, three_stage once
 *                 m >= serial / max(t_a, t_f, t_a2f + t_f2a), and between them the loop binds,
 *                 where AIC's auto switches from conservative to three_stage at one threshold.
 *
 *   layer time per step = m * t_cycle
 *   step (TPOT)         = sum over layers of m * t_cycle + fill,
 *   fill                = max over layers of (t_a + t_a2f + t_f + t_f2a - t_cycle)
 * AIC's global step for L identical layers is (t_a + t_f + t_a2f + t_f2a) + t_cycle (m L - 1),
 * i.e. m L t_cycle plus one pipeline fill; with unlike layers (dense and MoE) we charge the
 * largest fill once.
 *
 * Binding term: three_stage -> the largest of attention, ffn, transfer (a2f + f2a);
 * conservative -> the longer side, then its larger part; serial -> the largest of the three.
 */
import type { AfdRegime } from "../schema/deployment.ts"

export interface AfdStages {
  readonly attention: number
  readonly a2f: number
  readonly ffn: number
  readonly f2a: number
}

export type AfdBound = "attention" | "ffn" | "transfer"
export type ResolvedRegime = "three_stage" | "conservative" | "serial" | "cyclic"

const serialMs = (s: AfdStages): number => s.attention + s.a2f + s.ffn + s.f2a

/** Micro-batches the three-stage regime needs: 2 + (t_a2f + t_f2a) / max(t_a, t_f). */
export const threeStageMinMicroBatches = (s: AfdStages): number => {
  const compute = Math.max(s.attention, s.ffn)
  return compute > 0 ? 2 + (s.a2f + s.f2a) / compute : Infinity
}

export const resolveRegime = (requested: AfdRegime, microBatches: number, s: AfdStages): { regime: ResolvedRegime; fell_back: boolean } => {
  if (requested === "serial" || microBatches <= 1)
    return { regime: "serial", fell_back: requested !== "serial" && requested !== "auto" && requested !== "cyclic" }
  if (requested === "cyclic") return { regime: "cyclic", fell_back: false }
  if (requested === "conservative") return { regime: "conservative", fell_back: false }
  const enough = microBatches >= threeStageMinMicroBatches(s)
  return enough ? { regime: "three_stage", fell_back: false } : { regime: "conservative", fell_back: requested === "three_stage" }
}

export const cycleMs = (regime: ResolvedRegime, s: AfdStages, microBatches = 1): number =>
  regime === "cyclic"
    ? Math.max(s.attention, s.ffn, s.a2f + s.f2a, serialMs(s) / microBatches)
    : regime === "three_stage"
      ? Math.max(s.attention, s.ffn, s.a2f + s.f2a)
      : regime === "conservative"
        ? Math.max(s.attention + s.a2f, s.ffn + s.f2a)
        : serialMs(s)

const afdBound = (regime: ResolvedRegime, s: AfdStages): AfdBound => {
  const transfer = s.a2f + s.f2a
  if (regime === "conservative") {
    return s.attention + s.a2f >= s.ffn + s.f2a ? (s.attention >= s.a2f ? "attention" : "transfer") : s.ffn >= s.f2a ? "ffn" : "transfer"
  }
  if (s.attention >= s.ffn && s.attention >= transfer) return "attention"
  return s.ffn >= transfer ? "ffn" : "transfer"
}

export interface AfdLayerTime {
  readonly regime: ResolvedRegime
  readonly regime_fell_back: boolean
  readonly cycle_ms: number
  readonly layer_ms: number
  readonly fill_ms: number
  readonly bound: AfdBound
}

export const afdLayerTime = (requested: AfdRegime, microBatches: number, s: AfdStages): AfdLayerTime => {
  const { regime, fell_back } = resolveRegime(requested, microBatches, s)
  const cycle = cycleMs(regime, s, microBatches)
  return { regime, regime_fell_back: fell_back, cycle_ms: cycle, layer_ms: microBatches * cycle, fill_ms: serialMs(s) - cycle, bound: afdBound(regime, s) }
}

/** Step time of a stack of layers (each listed once per instance). */
export const afdStepMs = (layers: ReadonlyArray<AfdLayerTime>): number =>
  layers.reduce((a, l) => a + l.layer_ms, 0) + layers.reduce((m, l) => Math.max(m, l.fill_ms), 0)

/**
 * How a large-EP layer's compute and communication add up, per GPU, for one step.
 *
 * A layer of one micro-batch runs four terms (ms): `a` the attention stage (norms, attention,
 * the TP all-reduce's compute neighbours and the MoE router: everything before dispatch), `d`
 * the communication after it (TP all-reduce of attention + EP dispatch), `f` the FFN stage
 * (shared and routed experts, or the dense FFN), `c` the communication after it (EP combine +
 * MoE all-reduce).
 *
 *  - serial (no overlap): m micro-batches one after another: layer = m (a + d + f + c).
 *  - two-batch overlap (TBO, m = 2): the compute stream alternates between the micro-batches
 *    while the other's communication runs (SGLang TBO, lmsys blog 2025-05-05; DeepSeek's
 *    dual-batch overlap, open-infra-index day-6 overview). One layer passes four stages
 *    (InferSim's prefill TBO sums max(compute, comm) over four stages, alibaba/InferSim models/model.py):
 *    stage 1: attention of micro-batch B || dispatch of A; 2: experts of A || dispatch of B;
 *    3: experts of B || combine of A; 4: attention of A (next layer) || combine of B.
 *    A stage lasts its longer side plus the part of the shorter side the overlap does not hide
 *    (the hardware's overlap_efficiency e, the `overlapped` rule of strategies.ts hiddenMs):
 *        stage(x, y) = x + y - e * min(x, y)        (e = 1: max(x, y))
 *        layer = stage(a, d) + stage(f, d) + stage(f, c) + stage(a, c)
 *    Concurrent kernels do not run at their stand-alone speed: the communication kernels
 *    share HBM, L2 and (normal kernels) SMs with the GEMMs and attention beside them, and a
 *    stage waits for the slower stream's tail. e < 1 is that loss, fitted per GPU on measured
 *    serving throughput (`llmsim calibrate --overlap`, src/accuracy/calibrateOverlap.ts).
 *
 * The term that binds: every stage's longer side is charged to its kind (a compute kind, or
 * communication), and the unhidden part of the shorter side to the shorter's kind; the charges
 * sum to the layer time, and the layer's `bound` is the kind charged the most.
 */
import { hiddenMs } from "./strategies.ts"

export type LargeEpBound = "attention" | "ffn" | "comm"

export interface LayerTerms {
  /** Attention stage of one micro-batch, ms. */
  readonly a: number
  /** Communication after the attention stage (TP all-reduce, dispatch), ms. */
  readonly d: number
  /** FFN / MoE stage of one micro-batch, ms. */
  readonly f: number
  /** Communication after the FFN stage (combine, MoE all-reduce), ms. */
  readonly c: number
}

export interface Composed {
  readonly layer_ms: number
  /** Time charged to each kind (sums to layer_ms). */
  readonly charged: Readonly<Record<LargeEpBound, number>>
  readonly bound: LargeEpBound
}

const ORDER: ReadonlyArray<LargeEpBound> = ["attention", "ffn", "comm"]

export const boundOf = (charged: Readonly<Record<string, number>>, order: ReadonlyArray<string>): string =>
  order.reduce((best, k) => ((charged[k] ?? 0) > (charged[best] ?? 0) ? k : best), order[0])

export const serialLayer = (t: LayerTerms, microBatches: number): Composed => {
  const charged = { attention: microBatches * t.a, ffn: microBatches * t.f, comm: microBatches * (t.d + t.c) }
  return { layer_ms: charged.attention + charged.ffn + charged.comm, charged, bound: boundOf(charged, ORDER) as LargeEpBound }
}

/** Two-batch overlap of one layer; `overlapEfficiency` is the hardware's overlap_efficiency (1: full overlap). */
export const tboLayer = (t: LayerTerms, overlapEfficiency = 1): Composed => {
  const charged: Record<LargeEpBound, number> = { attention: 0, ffn: 0, comm: 0 }
  const stages: ReadonlyArray<[LargeEpBound, number, number]> = [
    ["attention", t.a, t.d],
    ["ffn", t.f, t.d],
    ["ffn", t.f, t.c],
    ["attention", t.a, t.c]
  ]
  for (const [kind, compute, comm] of stages) {
    // The unhidden part of the shorter side: (1 - e) * min; exactly 0 at e = 1.
    const exposed = Math.min(compute, comm) - hiddenMs(overlapEfficiency, compute, comm)
    if (compute >= comm) {
      charged[kind] += compute
      if (exposed > 0) charged.comm += exposed
    } else {
      charged.comm += comm
      if (exposed > 0) charged[kind] += exposed
    }
  }
  return { layer_ms: charged.attention + charged.ffn + charged.comm, charged, bound: boundOf(charged, ORDER) as LargeEpBound }
}

/**
 * The GPU time of one engine step priced by a deployment playbook's step model, for the served
 * workloads of `llmsim bench`: what stepCost.ts prices for the core layout, for
 *   wide EP   DeepSeek's production layout (src/deploy/largeEp.ts: DP attention on every GPU,
 *             routed experts over the EP group, DeepEP all-to-all in its normal or low-latency
 *             kernel, two-batch overlap, load imbalance): wideEpCost;
 *   AFD       attention-FFN disaggregation (src/deploy/afd.ts: attention instances holding the
 *             KV cache, FFN instances holding the experts, hidden states sent between them every
 *             layer through a micro-batch pipeline): afdCost.
 * The playbook's step is a function of (phase, sequences per attention rank, length):
 *
 *   decode-only step   D sequences on the busiest rank (the CUDA graph's padded batch when the
 *                      engine pads), at the mean context length K of the step's decoding
 *                      sequences: the playbook's decode step (low-latency kernels by default) of
 *                      batch D at KV length K. MTP verification tokens count as sequences.
 *   step with prefill  T tokens on the busiest rank (chunks and decode tokens together), as
 *                      prompts of the length L with the same attention work per token: a chunk
 *                      of c tokens at offset o attends c (o + c/2) keys, a decode K, a whole
 *                      prompt of L tokens L^2/2, so L = 2 x (keys attended) / (tokens). The
 *                      playbook's prefill step (normal kernels by default) of B = round(T / L)
 *                      prompts of T / B tokens: the step's token count is exact and its attention
 *                      that of prompts of that length. L is capped at T (at least one prompt): a
 *                      chunk late in a long prompt attends more keys than T tokens of prompt do,
 *                      so its attention is under-priced there.
 *
 * Every figure is priced on the grid of grid.ts (D or T by K or L) and interpolated, as
 * stepCost.ts does, so a step costs a few array reads. On a grid point a decode-only step is
 * exactly the playbook's decode step, `llmsim large-ep evaluate`'s or `llmsim afd simulate`'s
 * (test/serve/playbookCost.test.ts). The ranks run in lockstep: the playbook's step is per rank
 * with every rank equally loaded, and its load imbalance factor already charges the hottest
 * expert GPU. Pure.
 */
import { afdStep } from "../deploy/afd.ts"
import { largeEpStepTotals, type PlaybookInput } from "../deploy/largeEp.ts"
import type { AfdPlan, LargeEpDeployment } from "../deploy/deployment.ts"
import { Grid2 } from "./grid.ts"
import type { RankStep } from "./stepCost.ts"

/** A playbook's step time, ms: `batch` sequences per attention rank of `seq` tokens (prefill) or at KV length `seq` (decode). */
export type PlaybookStep = (phase: "prefill" | "decode", batch: number, seq: number) => number

export class PlaybookCost {
  /** MTP: query tokens per decoding sequence. */
  readonly queriesPerDecode: number
  private readonly decode: Grid2
  private readonly prefill: Grid2

  constructor(step: PlaybookStep, queriesPerDecode: number) {
    this.queriesPerDecode = queriesPerDecode
    this.decode = new Grid2((d, k) => (d === 0 ? 0 : step("decode", d, Math.max(1, k))))
    this.prefill = new Grid2((t, l) => {
      if (t === 0) return 0
      const b = Math.max(1, Math.round(t / Math.max(1, l)))
      return step("prefill", b, t / b)
    })
  }

  /** GPU time of one step, ms (the StepPricer of src/serve/simulate.ts). */
  stepMs(ranks: ReadonlyArray<RankStep>, paddedDecodes?: number): number {
    let tokens = 0
    let decodes = 0
    let kv = 0
    let decoding = 0
    let prefill = false
    // Keys attended and tokens, every rank: the equivalent prompt length of the step.
    let keys = 0
    let all = 0
    for (const r of ranks) {
      let t = r.decodes * this.queriesPerDecode
      for (let i = 0; i < r.chunkLens.length; i++) {
        const c = r.chunkLens[i]
        t += c
        keys += c * (r.chunkOffsets[i] + c / 2)
      }
      if (r.chunkLens.length > 0) prefill = true
      tokens = Math.max(tokens, t)
      all += t
      decodes = Math.max(decodes, r.decodes)
      kv += r.decodeKvTokens
      decoding += r.decodes
    }
    if (tokens === 0) return 0
    if (!prefill) return this.decode.get(Math.max(decodes, paddedDecodes ?? 0) * this.queriesPerDecode, kv / decoding)
    return this.prefill.get(tokens, Math.min(tokens, (2 * (keys + kv * this.queriesPerDecode)) / all))
  }

  /** Grid points priced so far (each one a playbook step). */
  get pricedPoints(): number {
    return this.decode.size + this.prefill.size
  }
}

/** A wide expert-parallel instance's steps (src/deploy/largeEp.ts). */
export const wideEpCost = (input: PlaybookInput, deployment: LargeEpDeployment): PlaybookCost =>
  new PlaybookCost(
    (phase, batch, seq) => largeEpStepTotals(input, deployment, { phase, batch_size: batch, seq_len: seq }).step_ms,
    1 + (input.model.mtp_draft_tokens ?? 0)
  )

/** An AFD unit's steps (src/deploy/afd.ts): every attention rank's sequences through the attention-FFN pipeline. */
export const afdCost = (input: PlaybookInput, plan: AfdPlan): PlaybookCost =>
  new PlaybookCost((phase, batch, seq) => afdStep(input, plan, { phase, batch_size: batch, seq_len: seq }).step_ms, 1 + (input.model.mtp_draft_tokens ?? 0))

/**
 * The GPU time of one engine step of a served workload: prefill chunks (each at its offset in its
 * prompt) and decoding sequences (each at its own context length) in one forward pass, on every
 * attention data-parallel rank at once, priced op by op by the step kernel (src/kernel).
 *
 * How a mixed step is priced, per layer of the model:
 *   token ops      every op except the attention core (projections, norms, FFN, router, experts,
 *                  their communication) at the step's token count T: the kernel's prefill context
 *                  (1 sequence of T tokens) when the step holds a prefill chunk, else its decode
 *                  context (D sequences, MTP verification tokens included). With attention DP the
 *                  ranks run the experts together, so T is the largest rank's (engines pad the
 *                  all-to-all to it), and the kernel's context already counts every rank's tokens
 *                  in the experts.
 *   attention      the attention-core ops (FlashAttention / FlashMLA / the DSA indexer / linear
 *                  attention) of each rank: decodes at (D, mean context) of the kernel's decode
 *                  context, which reads D x mean = every sequence's KV exactly; a chunk of c tokens
 *                  at offset o as the causal prefill of o + c tokens less that of o (the FLOPs of
 *                  the chunk's queries against its o + c keys, exactly, for causal attention). The
 *                  slowest rank sets the layer's attention time (the ranks meet at the experts).
 *   layer          composeLayer's rule: compute side + communication - the overlap the strategy
 *                  hides, times the layer's repeat.
 *   LM head        at the token count, plus logits for every sampling sequence beyond the first
 *                  (a prefill step's head scores one row; a mixed step's scores one per sampler).
 * Every figure is priced on a grid of token counts and context lengths and interpolated (grid.ts),
 * so one step costs a few array reads. A lone prefill of L tokens on a grid point is exactly
 * `llmsim run`'s prefill step; a decode-only step of D sequences at context K on grid points is
 * exactly its decode step (test/serve/stepCost.test.ts).
 */
import { contextFor, type ContextLayout } from "../kernel/layout.ts"
import type { Model } from "../kernel/model.ts"
import { timeSpecs } from "../kernel/opTiming.ts"
import { hiddenCommMs, type Composition } from "../kernel/strategies.ts"
import { planLayer } from "../layers/layer.ts"
import { planLmHead } from "../layers/lmHead.ts"
import type { OpSpec } from "../ops/types.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import type { Estimator } from "../timing/estimator.ts"
import type { TimingHardware } from "../timing/roofline.ts"
import { Grid1, Grid2 } from "./grid.ts"

/** What one attention-DP rank runs in a step. */
export interface RankStep {
  /** Prefill chunk lengths, tokens. */
  readonly chunkLens: ReadonlyArray<number>
  /** Tokens already in the KV cache before each chunk (its offset in its prompt). */
  readonly chunkOffsets: ReadonlyArray<number>
  /** Sequences decoding one token (1 + MTP drafts verified). */
  readonly decodes: number
  /** Sum of the decoding sequences' context lengths (KV tokens each attends to), tokens. */
  readonly decodeKvTokens: number
  /** Sequences that sample a token this step (the decodes and the chunks that end a prompt). */
  readonly sampled: number
}

export interface StepCostInput {
  readonly model: Model
  readonly layout: ContextLayout
  readonly timing: TimingHardware
  readonly estimator: Estimator
  readonly composition: Composition
}

const isAttention = (s: OpSpec): boolean => s.category === "attention_core"

interface Priced {
  readonly compute: number
  readonly comm: number
}

const priceOps = (specs: ReadonlyArray<OpSpec>, input: StepCostInput): Priced => {
  let compute = 0
  let comm = 0
  for (const o of timeSpecs(specs, input.timing, input.estimator)) {
    if (o.bound === "comm") comm += o.dominant_latency_ms
    else compute += o.dominant_latency_ms
  }
  return { compute, comm }
}

/** The step pricer of one model under one layout, hardware, estimator and composition. */
export class StepCost {
  private readonly entries: ReadonlyArray<{ readonly repeat: number; readonly template: Model["entries"][number]["template"] }>
  /** Per entry then the LM head: [compute, comm] of the token ops, by phase. */
  private readonly tokenGrids: Record<SinglePhase, Array<{ compute: Grid1; comm: Grid1 }>>
  private readonly decodeAttention: Array<Grid2>
  private readonly prefillAttention: Array<Grid1>
  private readonly logits: Grid1 | undefined
  /** MTP: query tokens per decoding sequence. */
  readonly queriesPerDecode: number

  private readonly input: StepCostInput

  constructor(input: StepCostInput) {
    this.input = input
    const { model, layout } = input
    this.entries = model.entries
    this.queriesPerDecode = 1 + (model.mtp_draft_tokens ?? 0)
    const ctxOf = (phase: SinglePhase, batch: number, seq: number) => contextFor(model, layout, phase, batch, seq)
    const tokenCtx = (phase: SinglePhase, x: number) => (phase === "prefill" ? ctxOf("prefill", 1, x) : ctxOf("decode", x, 1))
    // One memo per (phase, layer): pricing all layers at one point would price unused ones too.
    const tokenGrid = (plan: (x: number) => ReadonlyArray<OpSpec>) => {
      const memo = new Map<number, Priced>()
      const at = (x: number): Priced => {
        let p = memo.get(x)
        if (p === undefined) {
          p = x === 0 ? { compute: 0, comm: 0 } : priceOps(plan(x), input)
          memo.set(x, p)
        }
        return p
      }
      return { compute: new Grid1((x) => at(x).compute), comm: new Grid1((x) => at(x).comm) }
    }
    const byPhase = (phase: SinglePhase) => [
      ...model.entries.map((e) => tokenGrid((x) => planLayer(e.template, tokenCtx(phase, x)).filter((s) => !isAttention(s)))),
      ...(model.lm_head ? [tokenGrid((x) => planLmHead(model.lm_head!, tokenCtx(phase, x)))] : [])
    ]
    this.tokenGrids = { prefill: byPhase("prefill"), decode: byPhase("decode") }
    this.decodeAttention = model.entries.map(
      (e) => new Grid2((d, k) => (d === 0 || k === 0 ? 0 : priceOps(planLayer(e.template, ctxOf("decode", d, k)).filter(isAttention), input).compute))
    )
    this.prefillAttention = model.entries.map(
      (e) => new Grid1((l) => (l === 0 ? 0 : priceOps(planLayer(e.template, ctxOf("prefill", 1, l)).filter(isAttention), input).compute))
    )
    const lm = model.lm_head
    this.logits =
      lm === undefined
        ? undefined
        : new Grid1((b) => {
            if (b === 0) return 0
            const p = priceOps(planLmHead(lm, ctxOf("decode", b, 1)), input)
            return p.compute + p.comm
          })
  }

  private layerMs(compute: number, comm: number): number {
    return compute + comm - hiddenCommMs(this.input.composition, compute, comm)
  }

  /**
   * GPU time of one step, ms. `paddedDecodes` is the decode batch the token ops run at in a
   * decode-only step (a CUDA graph's padded size; the decodes themselves when not padded).
   */
  stepMs(ranks: ReadonlyArray<RankStep>, paddedDecodes?: number): number {
    let prefill = false
    let tokens = 0
    let decodes = 0
    let sampled = 0
    for (const r of ranks) {
      let t = r.decodes * this.queriesPerDecode
      for (const c of r.chunkLens) t += c
      if (r.chunkLens.length > 0) prefill = true
      tokens = Math.max(tokens, t)
      decodes = Math.max(decodes, r.decodes)
      sampled = Math.max(sampled, r.sampled)
    }
    if (tokens === 0) return 0
    const phase: SinglePhase = prefill ? "prefill" : "decode"
    const x = prefill ? tokens : Math.max(decodes, paddedDecodes ?? 0)
    const grids = this.tokenGrids[phase]
    let total = 0
    for (let e = 0; e < this.entries.length; e++) {
      let attention = 0
      for (const r of ranks) {
        let a = 0
        if (r.decodes > 0) a += this.decodeAttention[e].get(r.decodes, r.decodeKvTokens / r.decodes)
        for (let i = 0; i < r.chunkLens.length; i++) {
          const o = r.chunkOffsets[i]
          a += this.prefillAttention[e].get(o + r.chunkLens[i]) - (o === 0 ? 0 : this.prefillAttention[e].get(o))
        }
        if (a > attention) attention = a
      }
      const g = grids[e]
      total += this.entries[e].repeat * this.layerMs(g.compute.get(x) + attention, g.comm.get(x))
    }
    if (this.logits !== undefined) {
      const g = grids[this.entries.length]
      total += this.layerMs(g.compute.get(x), g.comm.get(x))
      // A prefill step's head scores one row; every other sampler adds its row.
      if (prefill && sampled > 1) total += this.logits.get(sampled) - this.logits.get(1)
    }
    return total
  }

  /** Grid points priced so far (each one planned and timed by the kernel once). */
  get pricedPoints(): number {
    let n = 0
    for (const phase of ["prefill", "decode"] as const) for (const g of this.tokenGrids[phase]) n += g.compute.size
    for (const g of this.decodeAttention) n += g.size
    for (const g of this.prefillAttention) n += g.size
    return n + (this.logits?.size ?? 0)
  }
}

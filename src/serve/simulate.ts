/**
 * The discrete-event core: a stream of requests served by one engine instance, step by step.
 *
 *   client     sends each request at its arrival time; with --max-concurrency, no more than that
 *              many are in flight and a request waits for a slot (its latencies count from when
 *              it is sent, as `vllm bench serve` times them).
 *   ranks      each attention-DP rank has its own queue, batch and KV cache (scheduler.ts); a new
 *              request goes to the rank with the fewest requests (ties: the lowest rank), as
 *              TensorRT-LLM's attention-DP balancing and SGLang's shortest-queue method do.
 *   step       every rank schedules, the step kernel prices the ranks' work together
 *              (stepCost.ts: the slowest rank sets the pace), the engine adds host time
 *              (engine.ts), and the clock moves to the step's end, when its tokens are delivered:
 *              a chunk that ends a prompt delivers the first token, a decode 1 token plus the
 *              MTP drafts accepted (each accepted with the acceptance rate until the first miss).
 *   idle       with nothing to run, the clock jumps to the next arrival.
 * Deterministic: one seeded generator draws the MTP acceptances; the same inputs give the same
 * outcomes in the same order. Memory is flat in the number of requests: requests are pulled
 * from an iterator as they arrive and each outcome is handed to `onOutcome` and dropped; the
 * time series keeps at most `SERIES_POINTS` points (every other point is dropped when it fills).
 */
import { paddedBatch, stepWallMs, type EngineSettings } from "./engine.ts"
import { backlogCap, ConcurrencyCount, newLive, outcomeOf, RequestStream } from "./client.ts"
import { type Live, Rank, type RankPlan } from "./scheduler.ts"
import type { RankStep } from "./stepCost.ts"
import type { RequestOutcome, ServeRequest } from "./types.ts"

/** The step pricer the core needs (StepCost, or a hand-worked one in tests). */
export interface StepPricer {
  readonly queriesPerDecode: number
  stepMs(ranks: ReadonlyArray<RankStep>, paddedDecodes?: number): number
}

export interface ServeInput {
  readonly settings: EngineSettings
  readonly pricer: StepPricer
  /** Attention data-parallel ranks of the instance. */
  readonly ranks: number
  /** KV-cache capacity of one rank, tokens. */
  readonly kvTokensPerRank: number
  readonly requests: Iterable<ServeRequest>
  readonly maxConcurrency?: number
  /** MTP: chance each draft token is accepted (0 without MTP). */
  readonly acceptance: number
  /** Uniform [0, 1) draws for the MTP acceptances. */
  readonly random: () => number
  /** Prompt tokens the prefix cache holds for a request being admitted (0 without prefix caching). */
  readonly prefixHit?: (req: ServeRequest, blockSize: number, rank: number) => number
  readonly onOutcome: (o: RequestOutcome) => void
  /** Each inter-token gap as it happens (ms, and the time of the token). */
  readonly onGap?: (gapMs: number, atMs: number) => void
  /** Whether outcomes carry their `itls_ms` list (default true); without, a request keeps no per-token state. */
  readonly keepItls?: boolean
  /** Called every `progressEvery` finished requests. */
  readonly onProgress?: (finished: number) => void
}

/** One point of the time series a report draws. */
export interface SeriesPoint {
  readonly t_ms: number
  readonly running: number
  readonly waiting: number
  /** KV cache in use, fraction of the capacity (all ranks). */
  readonly kv_used: number
  /** Output tokens delivered since the previous point per second. */
  readonly output_tokens_per_s: number
}

export interface ServeRun {
  /** From the first send to the last token, ms. */
  readonly duration_ms: number
  readonly first_send_ms: number
  readonly steps: number
  readonly prefill_steps: number
  readonly preemptions: number
  readonly max_running: number
  /**
   * Most requests in flight at once, as `vllm bench serve` counts them (each over [sent, last
   * token), an end at t before a start at t), requests held in the stream by the backlog included.
   */
  readonly max_concurrent: number
  readonly series: ReadonlyArray<SeriesPoint>
}

const SERIES_POINTS = 2048

/** What the step pricer sees of a rank's plan: its chunks, its decodes and the sequences that sample a token. */
export const rankShape = (p: RankPlan): RankStep => ({
  chunkLens: p.chunkLens,
  chunkOffsets: p.chunkOffsets,
  decodes: p.decodes.length,
  decodeKvTokens: p.decodeKvTokens,
  sampled: p.decodes.length + p.chunks.reduce((n, l, j) => n + (p.chunkOffsets[j] + p.chunkLens[j] >= l.prompt ? 1 : 0), 0)
})

/** A step that found work but could schedule none of it: the engine can never run what waits. */
export class StuckError extends Error {
  readonly _tag = "StuckError"
}

export const serve = (input: ServeInput): ServeRun => {
  const s = input.settings
  const q = input.pricer.queriesPerDecode
  const drafts = q - 1
  const prefixHit = input.prefixHit
  const onGap = input.onGap
  const keepItls = input.keepItls ?? true
  const ranks = Array.from(
    { length: input.ranks },
    (_, i) => new Rank(s, input.kvTokensPerRank, q, prefixHit === undefined ? () => 0 : (l) => Math.min(prefixHit(l.req, s.block_size, i), l.prompt - 1))
  )
  const stream = new RequestStream(input.requests)
  const limit = input.maxConcurrency ?? Number.POSITIVE_INFINITY
  const backlog = backlogCap(limit, input.ranks * s.max_running)
  const pull = () => stream.peek()
  let now = 0
  let inFlight = 0
  /** When the client last got a free slot back (a request held by the limit is sent then). */
  let slotFreedMs = 0
  let firstSend = Number.NaN
  let lastToken = 0
  let steps = 0
  let prefillSteps = 0
  let preemptions = 0
  let maxRunning = 0
  let finished = 0
  let series: Array<SeriesPoint> = []
  let seriesStride = 1
  let tokensSincePoint = 0
  let lastPointMs = 0
  const capacity = input.kvTokensPerRank * input.ranks

  const waitingCount = () => {
    let n = 0
    for (const r of ranks) n += r.waiting.length
    return n
  }

  const concurrency = new ConcurrencyCount()

  const send = (req: ServeRequest, at: number) => {
    if (Number.isNaN(firstSend)) firstSend = at
    concurrency.send(at)
    let best = ranks[0]
    for (const r of ranks) if (r.load < best.load) best = r
    best.waiting.push(newLive(req, at))
    inFlight++
  }

  const complete = (rank: Rank, live: Live) => {
    rank.finish(live)
    if (inFlight >= limit) slotFreedMs = now
    inFlight--
    finished++
    preemptions += live.preemptions
    concurrency.end(live.lastMs)
    input.onOutcome(outcomeOf(live))
    if (input.onProgress !== undefined) input.onProgress(finished)
  }

  const deliver = (live: Live, tokens: number) => {
    const n = Math.min(tokens, live.req.output_len - live.generated)
    if (live.generated === 0) live.firstMs = now
    else {
      if (onGap !== undefined) onGap(now - live.lastMs, now)
      if (keepItls) live.itls.push(now - live.lastMs)
    }
    live.generated += n
    live.lastMs = now
    lastToken = now
    tokensSincePoint += n
    return live.generated >= live.req.output_len
  }

  const plans: Array<RankPlan> = new Array(ranks.length)
  const shapes: Array<RankStep> = new Array(ranks.length)
  for (;;) {
    // The client: every request due by now (and under the concurrency limit) is sent.
    for (let r = pull(); r !== undefined && inFlight < limit && r.arrival_ms <= now && waitingCount() < backlog; r = pull()) {
      send(r, Math.max(r.arrival_ms, slotFreedMs))
      stream.take()
    }
    if (inFlight === 0) {
      const next = pull()
      if (next === undefined) break
      now = Math.max(now, next.arrival_ms)
      continue
    }
    let work = false
    let decodes = 0
    let sequences = 0
    let prefill = false
    for (let i = 0; i < ranks.length; i++) {
      const p = ranks[i].schedule()
      plans[i] = p
      shapes[i] = rankShape(p)
      if (p.chunks.length > 0) prefill = true
      if (p.chunks.length + p.decodes.length > 0) work = true
      decodes = Math.max(decodes, p.decodes.length)
      sequences = Math.max(sequences, p.chunks.length + p.decodes.length)
    }
    if (!work) {
      const next = pull()
      // Work waits but nothing could run: only an arrival (which adds none) or a bug could change that.
      if (next !== undefined && inFlight < limit && ranks.every((r) => r.running.length === 0)) {
        now = Math.max(now, next.arrival_ms)
        continue
      }
      throw new StuckError(
        `the engine cannot schedule any waiting request (${ranks.reduce((n, r) => n + r.waiting.length, 0)} waiting, KV cache ${input.kvTokensPerRank} tokens per rank)`
      )
    }
    const padded = !prefill && s.cuda_graph_sizes.length > 0 ? paddedBatch(s.cuda_graph_sizes, decodes) : undefined
    const gpu = input.pricer.stepMs(shapes, padded)
    now += stepWallMs(s, gpu, sequences)
    steps++
    if (prefill) prefillSteps++
    let running = 0
    for (let i = 0; i < ranks.length; i++) {
      const rank = ranks[i]
      const p = plans[i]
      const done = new Set<Live>()
      for (let j = 0; j < p.chunks.length; j++) {
        const live = p.chunks[j]
        live.computed = p.chunkOffsets[j] + p.chunkLens[j]
        if (live.computed >= live.prompt && deliver(live, 1)) done.add(live)
      }
      for (const live of p.decodes) {
        let tokens = 1
        while (tokens <= drafts && input.random() < input.acceptance) tokens++
        if (deliver(live, tokens)) done.add(live)
      }
      if (done.size > 0) {
        rank.running = rank.running.filter((l) => !done.has(l))
        for (const l of done) complete(rank, l)
      }
      running += rank.running.length
    }
    maxRunning = Math.max(maxRunning, running)
    if (steps % seriesStride === 0) {
      let waiting = 0
      let used = 0
      for (const r of ranks) {
        waiting += r.waiting.length
        used += r.usedTokens
      }
      const dt = now - lastPointMs
      series.push({ t_ms: now, running, waiting, kv_used: capacity > 0 ? used / capacity : 0, output_tokens_per_s: dt > 0 ? (tokensSincePoint * 1e3) / dt : 0 })
      tokensSincePoint = 0
      lastPointMs = now
      if (series.length >= SERIES_POINTS) {
        series = series.filter((_, k) => k % 2 === 1)
        seriesStride *= 2
      }
    }
  }
  return {
    duration_ms: Number.isNaN(firstSend) ? 0 : lastToken - firstSend,
    first_send_ms: Number.isNaN(firstSend) ? 0 : firstSend,
    steps,
    prefill_steps: prefillSteps,
    preemptions,
    max_running: maxRunning,
    max_concurrent: concurrency.max,
    series
  }
}

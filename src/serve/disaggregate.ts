/**
 * The discrete-event core of prefill/decode disaggregation: a stream of requests served by a
 * pool of prefill instances and a pool of decode instances, with each request's KV cache moved
 * between them (kvTransfer.ts). Every instance is an engine as in simulate.ts (its ranks, its
 * scheduler, its steps priced by its pool's step pricer, its host time); what differs is the
 * path of a request:
 *
 *   prefill   the client's request joins the least-loaded prefill rank of any prefill instance;
 *             its prompt is prefilled in chunks as on an aggregated engine, and the step that
 *             ends it samples the first token (SGLang's and vLLM's prefill servers do). Its KV
 *             stays on the prefill rank until the transfer has moved it.
 *   transfer  in the order prompts finish, a request takes the least-loaded decode rank that has
 *             room for it: a free running slot and blocks for its prompt and whole output,
 *             reserved when the transfer starts, so no decode-side preemption is needed (decode
 *             capacity is what bounds the transfers in flight; a request with no room waits,
 *             and the ones behind it wait too). The transfer waits for the sender's and the
 *             receiver's links (one transfer at a time on each: contention), then takes
 *             transferMs; with layer-by-layer sending it may start when the last chunk's step
 *             starts. When it ends the prefill rank frees the blocks and the client receives
 *             the first token: TTFT = queueing + prefill + transfer.
 *   decode    the decode rank runs the request with its other requests (decode-only steps,
 *             CUDA-graph padding, MTP acceptances) until its output is complete.
 * A pool of no instances measures the other alone: with no decode pool every transfer is received
 * at once and the request ends with its first token (a prefill instance's TTFT); with no prefill
 * pool a prompt is ready on arrival and only moves (a decode instance's TPOT).
 * Events are taken in time order (ties: transfers, then steps by instance, then arrivals), so the
 * same inputs give the same outcomes. Memory is flat in the number of requests, as simulate.ts.
 */
import { Heap } from "heap-js"
import { paddedBatch, stepWallMs, type EngineSettings } from "./engine.ts"
import { transferEndMs, transferMs, type TransferLink } from "./kvTransfer.ts"
import { backlogCap, ConcurrencyCount, newLive, outcomeOf, RequestStream } from "./client.ts"
import { Queue } from "./queue.ts"
import { type Live, Rank, type RankPlan } from "./scheduler.ts"
import { rankShape, type SeriesPoint, type ServeRun, type StepPricer, StuckError } from "./simulate.ts"
import type { RankStep } from "./stepCost.ts"
import type { RequestOutcome, ServeRequest } from "./types.ts"

/** One pool: `instances` engines of `ranks` attention-DP ranks each. */
export interface PoolInput {
  readonly settings: EngineSettings
  readonly pricer: StepPricer
  readonly ranks: number
  readonly instances: number
  readonly kvTokensPerRank: number
}

export interface DisaggregatedInput {
  readonly prefill: PoolInput
  readonly decode: PoolInput
  readonly link: TransferLink
  /** KV bytes per prompt token of one request (every layer), bytes. */
  readonly kvBytesPerToken: number
  /** Transformer layers, for layer-by-layer sending. */
  readonly layers: number
  readonly layerwise: boolean
  readonly requests: Iterable<ServeRequest>
  readonly maxConcurrency?: number
  readonly acceptance: number
  readonly random: () => number
  readonly onOutcome: (o: RequestOutcome) => void
  readonly onGap?: (gapMs: number, atMs: number) => void
  readonly keepItls?: boolean
  readonly onProgress?: (finished: number) => void
}

export interface DisaggregatedRun extends ServeRun {
  readonly transfers: number
  readonly transfer_bytes: number
  /** Mean time from a prompt's end to its KV's arrival (link waits included), ms. */
  readonly transfer_wait_ms_mean: number
  /** Mean time on the link, ms. */
  readonly transfer_ms_mean: number
  readonly max_transfers_in_flight: number
  readonly prefill_steps_total: number
  readonly decode_steps_total: number
}

interface Instance {
  readonly ranks: ReadonlyArray<Rank>
  /** First global rank index (links and loads are per global rank). */
  readonly first: number
  /** Step in progress: its start and end (NaN: idle) and each rank's plan. */
  start: number
  end: number
  sequences: number
  readonly plans: Array<RankPlan>
}

/** What a prefill rank serves: the prompt and its first token, with the request it belongs to. */
interface PrefillRequest extends ServeRequest {
  readonly full: ServeRequest
}

/** A prompt prefilled, waiting for a decode rank and the links. */
interface Handoff {
  readonly live: Live
  readonly prefillRank: number
  readonly stepStart: number
  readonly stepEnd: number
}

/** A transfer on the links. */
interface Transfer {
  readonly handoff: Handoff
  readonly decodeLive: Live
  readonly decodeRank: number
  readonly held: number
  readonly end: number
  /** Order of start: among transfers ending at once, the one started first ends first. */
  readonly seq: number
}

/**
 * Transfers in flight by (end, seq): the next to end is the top. A binary heap (heap-js): under
 * load thousands are in flight, and scanning and filtering a list of them at every event was a
 * third of a disaggregated plan's time.
 */
const transferOrder = (a: Transfer, b: Transfer): number => a.end - b.end || a.seq - b.seq

const SERIES_POINTS = 2048

const makeInstances = (pool: PoolInput, queries: number): Array<Instance> =>
  Array.from({ length: pool.instances }, (_, k) => ({
    ranks: Array.from({ length: pool.ranks }, () => new Rank(pool.settings, pool.kvTokensPerRank, queries, () => 0)),
    first: k * pool.ranks,
    start: Number.NaN,
    end: Number.NaN,
    sequences: 0,
    plans: new Array(pool.ranks)
  }))

export const serveDisaggregated = (input: DisaggregatedInput): DisaggregatedRun => {
  const keepItls = input.keepItls ?? true
  const onGap = input.onGap
  const q = input.decode.pricer.queriesPerDecode
  const drafts = q - 1
  const pre = makeInstances(input.prefill, input.prefill.pricer.queriesPerDecode)
  const dec = makeInstances(input.decode, q)
  const preRanks = pre.flatMap((i) => i.ranks)
  const decRanks = dec.flatMap((i) => i.ranks)
  const senderFree = new Float64Array(preRanks.length)
  const receiverFree = new Float64Array(decRanks.length)
  /** Requests on their way to each decode rank (they count against its running limit). */
  const incoming = new Int32Array(decRanks.length)
  const handoffs = new Queue<Handoff>()
  const transfers = new Heap<Transfer>(transferOrder)

  const stream = new RequestStream(input.requests)
  const limit = input.maxConcurrency ?? Number.POSITIVE_INFINITY
  const backlog = backlogCap(limit, preRanks.length * input.prefill.settings.max_running + decRanks.length * input.decode.settings.max_running)
  const pull = () => stream.peek()

  let now = 0
  let inFlight = 0
  let slotFreedMs = 0
  let firstSend = Number.NaN
  let lastToken = 0
  let preSteps = 0
  let prefillSteps = 0
  let decSteps = 0
  let maxRunning = 0
  let finished = 0
  let nTransfers = 0
  let bytesMoved = 0
  let waitSum = 0
  let linkSum = 0
  let maxTransfers = 0
  let series: Array<SeriesPoint> = []
  let seriesStride = 1
  let tokensSincePoint = 0
  let lastPointMs = 0
  const decCapacity = input.decode.kvTokensPerRank * decRanks.length
  const concurrency = new ConcurrencyCount()

  const prefillWaiting = () => {
    let n = handoffs.length
    for (const r of preRanks) n += r.waiting.length
    return n
  }

  const send = (req: ServeRequest, at: number) => {
    if (Number.isNaN(firstSend)) firstSend = at
    concurrency.send(at)
    let best = 0
    for (let i = 1; i < preRanks.length; i++) if (preRanks[i].load < preRanks[best].load) best = i
    // The prefill side produces the first token only; the request it serves rides along.
    const view: PrefillRequest = { ...req, output_len: 1, full: req }
    // No prefill pool (a decode instance measured alone): the prompt is ready on arrival.
    if (preRanks.length === 0) handoffs.push({ live: newLive(view, at), prefillRank: -1, stepStart: at, stepEnd: at })
    else preRanks[best].waiting.push(newLive(view, at))
    inFlight++
  }

  const complete = (live: Live) => {
    if (inFlight >= limit) slotFreedMs = now
    inFlight--
    finished++
    concurrency.end(live.lastMs)
    input.onOutcome(outcomeOf(live))
    if (input.onProgress !== undefined) input.onProgress(finished)
  }

  const tokenAt = (live: Live, tokens: number): boolean => {
    const n = Math.min(tokens, live.req.output_len - live.generated)
    if (live.generated > 0) {
      if (onGap !== undefined) onGap(now - live.lastMs, now)
      if (keepItls) live.itls.push(now - live.lastMs)
    } else live.firstMs = now
    live.generated += n
    live.lastMs = now
    lastToken = now
    tokensSincePoint += n
    return live.generated >= live.req.output_len
  }

  /** Start the waiting handoffs, in order, while a decode rank has room. */
  const startTransfers = () => {
    for (let h = handoffs.peek(); h !== undefined; h = handoffs.peek()) {
      const req = (h.live.req as PrefillRequest).full
      const prompt = req.input_len
      // The decode side holds the prompt and the whole output from the start: no preemption there.
      const need = prompt + req.output_len
      let best = -1
      for (let i = 0; i < decRanks.length; i++) {
        const load = decRanks[i].running.length + incoming[i]
        if (load >= input.decode.settings.max_running || !decRanks[i].fits(need)) continue
        if (best < 0 || load < decRanks[best].running.length + incoming[best]) best = i
      }
      // No decode pool (a prefill instance measured alone): every transfer is received at once.
      const sink = decRanks.length === 0
      if (best < 0 && !sink) return
      const held = sink ? 0 : decRanks[best].take(need)
      handoffs.shift()
      if (!sink) incoming[best]++
      const bytes = prompt * input.kvBytesPerToken
      const duration = transferMs(bytes, input.link)
      // Layer by layer, sending may begin as the last chunk's step begins (earlier layers are done).
      const earliest = input.layerwise && h.stepEnd === now ? h.stepStart : now
      const start = Math.max(earliest, h.prefillRank < 0 ? 0 : senderFree[h.prefillRank], sink ? 0 : receiverFree[best])
      const end = transferEndMs({ start, durationMs: duration, prefillEnd: h.stepEnd, layers: input.layers, layerwise: input.layerwise })
      if (h.prefillRank >= 0) senderFree[h.prefillRank] = end
      if (!sink) receiverFree[best] = end
      const d = newLive(sink ? { ...req, output_len: 1 } : req, h.live.sendMs)
      d.computed = prompt
      transfers.push({ handoff: h, decodeLive: d, decodeRank: sink ? -1 : best, held, end, seq: nTransfers })
      nTransfers++
      bytesMoved += bytes
      waitSum += end - h.stepEnd
      linkSum += end - start
      maxTransfers = Math.max(maxTransfers, transfers.size())
    }
  }

  /** Plan and price a step of `inst`; false when it has no work. */
  const startStep = (inst: Instance, pool: PoolInput, prefill: boolean): boolean => {
    const shapes: Array<RankStep> = new Array(inst.ranks.length)
    let work = false
    let sequences = 0
    let decodes = 0
    let hasChunks = false
    for (let i = 0; i < inst.ranks.length; i++) {
      const p = inst.ranks[i].schedule()
      inst.plans[i] = p
      shapes[i] = rankShape(p)
      if (p.chunks.length + p.decodes.length > 0) work = true
      if (p.chunks.length > 0) hasChunks = true
      sequences = Math.max(sequences, p.chunks.length + p.decodes.length)
      decodes = Math.max(decodes, p.decodes.length)
    }
    if (!work) return false
    const s = pool.settings
    const padded = !hasChunks && s.cuda_graph_sizes.length > 0 ? paddedBatch(s.cuda_graph_sizes, decodes) : undefined
    inst.start = now
    inst.end = now + stepWallMs(s, pool.pricer.stepMs(shapes, padded), sequences)
    inst.sequences = sequences
    if (prefill) {
      preSteps++
      if (hasChunks) prefillSteps++
    } else decSteps++
    return true
  }

  const endPrefillStep = (inst: Instance) => {
    for (let i = 0; i < inst.ranks.length; i++) {
      const rank = inst.ranks[i]
      const p = inst.plans[i]
      let done: Set<Live> | undefined
      for (let j = 0; j < p.chunks.length; j++) {
        const live = p.chunks[j]
        live.computed = p.chunkOffsets[j] + p.chunkLens[j]
        if (live.computed >= live.prompt) {
          done ??= new Set()
          done.add(live)
          handoffs.push({ live, prefillRank: inst.first + i, stepStart: inst.start, stepEnd: now })
        }
      }
      if (done !== undefined) rank.running = rank.running.filter((l) => !done.has(l))
    }
    inst.start = Number.NaN
    inst.end = Number.NaN
  }

  const endDecodeStep = (inst: Instance) => {
    for (let i = 0; i < inst.ranks.length; i++) {
      const rank = inst.ranks[i]
      const p = inst.plans[i]
      let done: Set<Live> | undefined
      for (const live of p.decodes) {
        let tokens = 1
        while (tokens <= drafts && input.random() < input.acceptance) tokens++
        if (tokenAt(live, tokens)) {
          done ??= new Set()
          done.add(live)
        }
      }
      if (done !== undefined) {
        rank.running = rank.running.filter((l) => !done.has(l))
        for (const l of done) {
          rank.finish(l)
          complete(l)
        }
      }
    }
    inst.start = Number.NaN
    inst.end = Number.NaN
    record()
  }

  const record = () => {
    let running = 0
    let used = 0
    for (const r of decRanks) {
      running += r.running.length
      used += r.usedTokens
    }
    maxRunning = Math.max(maxRunning, running)
    if (decSteps % seriesStride !== 0) return
    const dt = now - lastPointMs
    series.push({
      t_ms: now,
      running,
      waiting: prefillWaiting(),
      kv_used: decCapacity > 0 ? used / decCapacity : 0,
      output_tokens_per_s: dt > 0 ? (tokensSincePoint * 1e3) / dt : 0
    })
    tokensSincePoint = 0
    lastPointMs = now
    if (series.length >= SERIES_POINTS) {
      series = series.filter((_, k) => k % 2 === 1)
      seriesStride *= 2
    }
  }

  /** The transfer at the top of the heap ends. */
  const endTransfer = () => {
    const t = transfers.pop() as Transfer
    const h = t.handoff
    if (h.prefillRank >= 0) preRanks[h.prefillRank].finish(h.live)
    const d = t.decodeLive
    // The first token, sampled by the prefill step, reaches the client with the KV.
    if (t.decodeRank < 0) {
      tokenAt(d, 1)
      complete(d)
      return
    }
    incoming[t.decodeRank]--
    d.held = t.held
    if (tokenAt(d, 1)) {
      decRanks[t.decodeRank].finish(d)
      complete(d)
      return
    }
    decRanks[t.decodeRank].running.push(d)
  }

  for (;;) {
    for (let r = pull(); r !== undefined && inFlight < limit && r.arrival_ms <= now && prefillWaiting() < backlog; r = pull()) {
      send(r, Math.max(r.arrival_ms, slotFreedMs))
      stream.take()
    }
    startTransfers()
    for (const inst of pre) if (Number.isNaN(inst.end)) startStep(inst, input.prefill, true)
    for (const inst of dec) if (Number.isNaN(inst.end)) startStep(inst, input.decode, false)
    // The next event.
    let next = Number.POSITIVE_INFINITY
    let kind: "transfer" | "prefill" | "decode" | "arrival" | undefined
    let which = -1
    const first = transfers.peek()
    if (first !== undefined && first.end < next) {
      next = first.end
      kind = "transfer"
    }
    for (let i = 0; i < pre.length; i++)
      if (pre[i].end < next) {
        next = pre[i].end
        kind = "prefill"
        which = i
      }
    for (let i = 0; i < dec.length; i++)
      if (dec[i].end < next) {
        next = dec[i].end
        kind = "decode"
        which = i
      }
    // An arrival is an event only when it can be sent (a full backlog waits for the engines' events).
    const arrival = inFlight < limit && prefillWaiting() < backlog ? pull() : undefined
    if (arrival !== undefined && Math.max(arrival.arrival_ms, now) < next) {
      next = Math.max(arrival.arrival_ms, now)
      kind = "arrival"
    }
    if (kind === undefined) {
      if (inFlight === 0 && pull() === undefined) break
      throw new StuckError(
        `the disaggregated engines cannot move any request (${prefillWaiting()} waiting for prefill or a decode slot; decode KV cache ${input.decode.kvTokensPerRank} tokens per rank)`
      )
    }
    now = Math.max(now, next)
    if (kind === "transfer") endTransfer()
    else if (kind === "prefill") endPrefillStep(pre[which])
    else if (kind === "decode") endDecodeStep(dec[which])
  }
  return {
    duration_ms: Number.isNaN(firstSend) ? 0 : lastToken - firstSend,
    first_send_ms: Number.isNaN(firstSend) ? 0 : firstSend,
    steps: preSteps + decSteps,
    prefill_steps: prefillSteps,
    preemptions: 0,
    max_running: maxRunning,
    max_concurrent: concurrency.max,
    series,
    transfers: nTransfers,
    transfer_bytes: bytesMoved,
    transfer_wait_ms_mean: nTransfers > 0 ? waitSum / nTransfers : 0,
    transfer_ms_mean: nTransfers > 0 ? linkSum / nTransfers : 0,
    max_transfers_in_flight: maxTransfers,
    prefill_steps_total: preSteps,
    decode_steps_total: decSteps
  }
}

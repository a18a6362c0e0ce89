/**
 * The benchmark client's side of a simulation, shared by the aggregated core (simulate.ts) and the
 * disaggregated one (disaggregate.ts): the request stream it sends from, read one request ahead,
 * and the count of requests in flight as `vllm bench serve` takes it (each request over [sent,
 * last token), an end at t before a start at t). Pure.
 */
import { Queue } from "./queue.ts"
import type { Live } from "./scheduler.ts"
import type { RequestOutcome, ServeRequest } from "./types.ts"

/** The requests, one looked at ahead: `peek` it, `take` it once sent. Memory flat in their number. */
export class RequestStream {
  private readonly it: Iterator<ServeRequest>
  private pending: ServeRequest | undefined
  private exhausted = false

  constructor(requests: Iterable<ServeRequest>) {
    this.it = requests[Symbol.iterator]()
  }

  peek(): ServeRequest | undefined {
    if (this.pending === undefined && !this.exhausted) {
      const r = this.it.next()
      if (r.done) this.exhausted = true
      else this.pending = r.value
    }
    return this.pending
  }

  take(): void {
    this.pending = undefined
  }
}

/**
 * Peak concurrency without a list per request: arrivals come in time order, and when one is sent
 * every request that ended by its time has ended (the clock is past it); so the requests in flight
 * at a send are those sent so far less the ends at or before it, counted off a queue of the ends
 * not yet passed.
 */
export class ConcurrencyCount {
  private readonly ends = new Queue<number>()
  private sent = 0
  private endedBefore = 0
  max = 0

  send(at: number): void {
    this.sent++
    while ((this.ends.peek() ?? Number.POSITIVE_INFINITY) <= at) {
      this.ends.shift()
      this.endedBefore++
    }
    this.max = Math.max(this.max, this.sent - this.endedBefore)
  }

  end(at: number): void {
    this.ends.push(at)
  }
}

/**
 * How many requests may wait in the engines before the rest stay in the stream: without a client
 * concurrency limit an overloaded engine's queue grows with the run, so requests past this backlog
 * keep their arrival times in the stream until the queues have room, and memory stays flat (FIFO
 * admission makes this exact but for which DP rank a request joins). `runningSlots`: the requests
 * the engines run at once.
 */
export const backlogCap = (maxConcurrency: number, runningSlots: number): number =>
  maxConcurrency < Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(4096, 4 * runningSlots)

/** A request as it enters an engine, sent at `sendMs`. */
export const newLive = (req: ServeRequest, sendMs: number): Live => ({
  req,
  sendMs,
  prompt: req.input_len,
  computed: 0,
  cached: 0,
  generated: 0,
  folded: 0,
  held: 0,
  firstMs: Number.NaN,
  lastMs: Number.NaN,
  itls: [],
  preemptions: 0
})

/** What the client saw of a finished request. */
export const outcomeOf = (live: Live): RequestOutcome => ({
  id: live.req.id,
  arrival_ms: live.sendMs,
  input_len: live.req.input_len,
  output_len: live.req.output_len,
  cached_tokens: live.cached,
  ttft_ms: live.firstMs - live.sendMs,
  itls_ms: live.itls,
  e2el_ms: live.lastMs - live.sendMs,
  preemptions: live.preemptions
})

/**
 * One attention-DP rank of an engine: its waiting queue, its running batch, its KV-cache blocks,
 * and the in-flight batching scheduler that picks each step's work. One scheduler for every
 * engine; the engine's settings (engine.ts) choose its policies:
 *
 *   order        running requests first, in admission order (a partly prefilled prompt continues
 *                its chunks, a decoding one takes 1 + MTP tokens), then waiting requests in
 *                arrival order (first come, first served) while the step's token budget, the
 *                running limit and the KV cache allow: vLLM V1's Scheduler.schedule, TensorRT-LLM's
 *                capacity + micro-batch schedulers, SGLang's PrefillAdder.
 *   mixed steps  with `mixed_steps` chunks and decodes share a step; without (SGLang), a step is a
 *                prefill batch whenever a prompt can be admitted or a chunk is in progress, else a
 *                decode batch of every running request.
 *   admission    on-demand: blocks as tokens arrive; out of blocks, the newest running request is
 *                preempted (its KV freed, recomputed from its prompt and the tokens generated so
 *                far) until the request fits, and no waiting request is admitted in that step.
 *                reserve-full: prompt + output reserved on admission, nothing is evicted.
 *                estimated (SGLang's PrefillAdder): admitted when its prompt and its output (clipped)
 *                fit beside new_token_ratio x every running request's remaining output; a decode
 *                step that finds no room retracts the request with the fewest outputs (then the
 *                longest prompt) until the rest fit, and the ratio is reset from the requests left
 *                (ScheduleBatch.retract_decode); it decays each decode step otherwise.
 *   chunking     with chunked prefill a prompt takes what is left of the budget; without, a prompt
 *                waits for a step whose budget holds it whole.
 */
import type { EngineSettings } from "./engine.ts"
import { Queue } from "./queue.ts"
import type { ServeRequest } from "./types.ts"

/** A request inside the engine. */
export interface Live {
  readonly req: ServeRequest
  /** When the client sent it (its arrival, or later when --max-concurrency held it back), ms. */
  readonly sendMs: number
  /** Tokens to prefill: the prompt, plus what was generated before a preemption. */
  prompt: number
  /** Prompt tokens in the KV cache. */
  computed: number
  /** Prompt tokens the prefix cache supplied at the last admission. */
  cached: number
  generated: number
  /** Generated tokens folded into `prompt` by the last preemption (their KV is recomputed with it). */
  folded: number
  /** KV tokens held (whole blocks). */
  held: number
  firstMs: number
  lastMs: number
  readonly itls: Array<number>
  preemptions: number
}

/** One rank's work in one step. */
export interface RankPlan {
  readonly chunks: Array<Live>
  readonly chunkLens: Array<number>
  readonly chunkOffsets: Array<number>
  readonly decodes: Array<Live>
  decodeKvTokens: number
}

/** Tokens in a decoding request's KV cache: its prompt and what it generated since (the newest token's KV is written by the step that reads it). */
const kvTokens = (live: Live): number => live.computed + live.generated - live.folded

const emptyPlan = (): RankPlan => ({ chunks: [], chunkLens: [], chunkOffsets: [], decodes: [], decodeKvTokens: 0 })

/** Hits of a request's prompt in the prefix cache, tokens (whole blocks, at least one token left to compute). */
export type PrefixLookup = (live: Live) => number

export class Rank {
  readonly waiting = new Queue<Live>()
  running: Array<Live> = []
  /** KV tokens free (whole blocks). */
  free: number
  ratio: number

  private readonly s: EngineSettings
  /** KV-cache capacity of the rank, tokens. */
  readonly capacity: number
  private readonly queries: number
  private readonly prefix: PrefixLookup

  constructor(s: EngineSettings, capacity: number, queries: number, prefix: PrefixLookup) {
    this.s = s
    this.capacity = capacity
    this.queries = queries
    this.prefix = prefix
    this.free = Math.floor(capacity / s.block_size) * s.block_size
    this.ratio = s.new_token_ratio?.init ?? 0
  }

  get load(): number {
    return this.waiting.length + this.running.length
  }

  get usedTokens(): number {
    return this.capacity - this.free
  }

  private blocks(tokens: number): number {
    return Math.ceil(tokens / this.s.block_size) * this.s.block_size
  }

  /** Grow `live`'s KV holding to `tokens`; false when the blocks are not there. */
  private grow(live: Live, tokens: number): boolean {
    const need = this.blocks(tokens) - live.held
    if (need <= 0) return true
    if (need > this.free) return false
    this.free -= need
    live.held += need
    return true
  }

  private release(live: Live): void {
    this.free += live.held
    live.held = 0
  }

  /** Disaggregated decode: whether blocks for `tokens` are free for a request whose KV is on its way from a prefill instance. */
  fits(tokens: number): boolean {
    return this.blocks(tokens) <= this.free
  }

  /** Blocks for `tokens` taken from the pool (see fits); the tokens held, 0 when they are not free. */
  take(tokens: number): number {
    const need = this.blocks(tokens)
    if (need > this.free) return 0
    this.free -= need
    return need
  }

  /** A request done: its blocks back to the pool. */
  finish(live: Live): void {
    this.release(live)
  }

  /** Preempt (recompute) or retract `live`: its KV dropped, its generated tokens become prompt, back to the queue's head. */
  private evict(live: Live): void {
    this.release(live)
    live.prompt = live.req.input_len + live.generated
    live.folded = live.generated
    live.computed = 0
    live.cached = 0
    live.preemptions++
    this.waiting.unshift(live)
  }

  private remainingOutput(live: Live): number {
    return live.req.output_len - live.generated
  }

  private clipped(tokens: number): number {
    return Math.min(tokens, this.s.new_token_ratio?.clip ?? Number.POSITIVE_INFINITY)
  }

  /** KV tokens the running requests will still take under the estimate. */
  private estimatedNeed(): number {
    let n = 0
    for (const r of this.running) n += Math.max(0, r.prompt - r.computed) + this.clipped(this.remainingOutput(r)) * this.ratio
    return n
  }

  /** Try to admit the head of the queue with `budget` tokens left; the chunk length scheduled, 0 when it was not admitted. */
  private admit(budget: number, plan: RankPlan, reserved: { n: number }): number {
    const live = this.waiting.peek()!
    if (this.s.prefix_caching && live.computed === 0) live.cached = this.prefix(live)
    const offset = live.computed === 0 ? live.cached : live.computed
    const rest = live.prompt - offset
    if (!this.s.chunked_prefill && rest > budget) return 0
    const n = Math.min(rest, budget)
    if (n <= 0) return 0
    switch (this.s.admission) {
      case "reserve-full":
        if (this.blocks(live.prompt + this.remainingOutput(live)) > this.free) return 0
        this.grow(live, live.prompt + this.remainingOutput(live))
        break
      case "estimated": {
        const output = this.clipped(this.remainingOutput(live))
        if (rest + output + reserved.n > this.free) return 0
        if (!this.grow(live, offset + n)) return 0
        // What it will still take beyond the blocks it now holds.
        reserved.n += rest - n + output
        break
      }
      case "on-demand":
        if (!this.grow(live, offset + n)) return 0
        break
    }
    this.waiting.shift()
    live.computed = offset
    this.running.push(live)
    plan.chunks.push(live)
    plan.chunkLens.push(n)
    plan.chunkOffsets.push(offset)
    return n
  }

  /** The step's work on this rank; `decodeOnly` forbids prefill (the other ranks' mode does not matter here). */
  schedule(): RankPlan {
    const plan = emptyPlan()
    if (this.running.length === 0 && this.waiting.length === 0) return plan
    if (!this.s.mixed_steps) {
      const prefill = this.schedulePrefillOnly(plan)
      if (prefill) return plan
      this.scheduleDecodes(plan, Number.POSITIVE_INFINITY)
      return plan
    }
    let budget = this.s.max_step_tokens
    let preempted = false
    // Running requests first, in admission order.
    for (let i = 0; i < this.running.length; i++) {
      const live = this.running[i]
      if (live.computed < live.prompt) {
        if (budget <= 0) continue
        const n = Math.min(live.prompt - live.computed, budget)
        if (!this.s.chunked_prefill && n < live.prompt - live.computed) continue
        if (!this.makeRoom(live, live.computed + n, i)) {
          preempted = true
          break
        }
        if (this.running[i] !== live) break
        plan.chunks.push(live)
        plan.chunkLens.push(n)
        plan.chunkOffsets.push(live.computed)
        budget -= n
      } else {
        if (budget < this.queries) continue
        const ctx = kvTokens(live)
        const before = this.running.length
        if (!this.makeRoom(live, ctx + this.queries - 1, i)) {
          preempted = true
          break
        }
        if (this.running.length < before) preempted = true
        if (this.running[i] !== live) break
        plan.decodes.push(live)
        plan.decodeKvTokens += ctx
        budget -= this.queries
      }
    }
    if (preempted) return plan
    const reserved = { n: this.s.admission === "estimated" ? this.estimatedNeed() : 0 }
    while (this.waiting.length > 0 && this.running.length < this.s.max_running && budget > 0) {
      const n = this.admit(budget, plan, reserved)
      if (n === 0) break
      budget -= n
    }
    return plan
  }

  /**
   * Grow `live` (running at index i) to `tokens`, preempting the newest running requests while
   * the blocks are short (never one already scheduled in this step, which come before i). False
   * when `live` itself had to go.
   */
  private makeRoom(live: Live, tokens: number, i: number): boolean {
    while (!this.grow(live, tokens)) {
      if (this.s.admission === "reserve-full") return false
      const victim = this.running[this.running.length - 1]
      this.running.pop()
      this.evict(victim)
      if (victim === live || this.running.length <= i) return false
    }
    return true
  }

  /** SGLang: a prefill batch when a chunk is in progress or a prompt can be admitted; true if it made one. */
  private schedulePrefillOnly(plan: RankPlan): boolean {
    let budget = this.s.max_step_tokens
    for (const live of this.running) {
      if (live.computed >= live.prompt || budget <= 0) continue
      const n = Math.min(live.prompt - live.computed, budget)
      if (!this.grow(live, live.computed + n)) continue
      plan.chunks.push(live)
      plan.chunkLens.push(n)
      plan.chunkOffsets.push(live.computed)
      budget -= n
    }
    const reserved = { n: this.s.admission === "estimated" ? this.estimatedNeed() : 0 }
    while (this.waiting.length > 0 && this.running.length < this.s.max_running && budget > 0) {
      const n = this.admit(budget, plan, reserved)
      if (n === 0) break
      budget -= n
    }
    return plan.chunks.length > 0
  }

  /** A decode batch of every running request past its prompt, retracting the newest while the blocks are short. */
  private scheduleDecodes(plan: RankPlan, budget: number): void {
    let need = 0
    for (const r of this.running) if (r.computed >= r.prompt) need += Math.max(0, this.blocks(kvTokens(r) + this.queries - 1) - r.held)
    let retracted = false
    while (need > this.free && this.running.length > 1) {
      // The fewest outputs go first, then the longest prompt (SGLang's retract_decode order).
      let v = 0
      for (let i = 1; i < this.running.length; i++) {
        const a = this.running[i]
        const b = this.running[v]
        if (a.generated < b.generated || (a.generated === b.generated && a.req.input_len > b.req.input_len)) v = i
      }
      const victim = this.running[v]
      this.running.splice(v, 1)
      if (victim.computed >= victim.prompt) need -= Math.max(0, this.blocks(kvTokens(victim) + this.queries - 1) - victim.held)
      this.evict(victim)
      retracted = true
    }
    const r = this.s.new_token_ratio
    if (retracted && r !== undefined) {
      let decoded = 0
      let maxNew = 0
      for (const x of this.running) {
        decoded += x.generated
        maxNew += x.req.output_len
      }
      this.ratio = Math.min(1, (decoded + r.retract_steps * this.running.length) / (maxNew + 1))
    }
    for (const live of this.running) {
      if (live.computed < live.prompt || budget < this.queries) continue
      const ctx = kvTokens(live)
      if (!this.grow(live, ctx + this.queries - 1)) continue
      plan.decodes.push(live)
      plan.decodeKvTokens += ctx
      budget -= this.queries
    }
    if (r !== undefined && !retracted) this.ratio = Math.max(r.min, this.ratio - r.decay)
  }
}

/**
 * The discrete-event core on hand-worked cases: a stub pricer with fixed step times (10 ms for a
 * step with a prefill chunk, 2 ms for a decode-only step) makes every timestamp a sum a reader
 * can check by hand.
 */
import { describe, expect, it } from "vitest"
import type { EngineSettings } from "../../src/serve/engine.ts"
import { serve, StuckError } from "../../src/serve/simulate.ts"
import { stubPricer, testSettings } from "../helpers/serve.ts"
import type { RequestOutcome, ServeRequest } from "../../src/serve/types.ts"
import { MetricsAccumulator } from "../../src/serve/metrics.ts"

const stub = stubPricer
const settings = testSettings

const fixed = (n: number, input: number, output: number, gapMs = 0): Array<ServeRequest> =>
  Array.from({ length: n }, (_, id) => ({ id, arrival_ms: id * gapMs, input_len: input, output_len: output }))

const runWith = (s: EngineSettings, requests: Array<ServeRequest>, o: { kv?: number; ranks?: number; maxConcurrency?: number } = {}) => {
  const outcomes: Array<RequestOutcome> = []
  const run = serve({
    settings: s,
    pricer: stub,
    ranks: o.ranks ?? 1,
    kvTokensPerRank: o.kv ?? 1_000_000,
    requests,
    ...(o.maxConcurrency === undefined ? {} : { maxConcurrency: o.maxConcurrency }),
    acceptance: 0,
    random: () => 0.5,
    onOutcome: (x) => outcomes.push(x)
  })
  return { run, outcomes: outcomes.sort((a, b) => a.id - b.id) }
}

describe("serve: saturated fixed-length workloads", () => {
  // 8 requests of 8 + 5 tokens at t = 0, 4 running at most. Step 1 prefills 4 (10 ms, their first
  // tokens), steps 2-5 decode their other 4 tokens (2 ms each): they finish at 18 ms. The next 4 are
  // admitted at step 6: prefill to 28 ms, decodes to 36 ms. 40 tokens in 36 ms.
  for (const mixed of [true, false]) {
    it(`batch limit 4, ${mixed ? "mixed steps (vLLM)" : "prefill and decode apart (SGLang)"}: 36 ms, TTFT 10 and 28 ms, TPOT 2 ms`, () => {
      const { run, outcomes } = runWith(settings({ mixed_steps: mixed }), fixed(8, 8, 5))
      expect(run.duration_ms).toBe(36)
      expect(run.steps).toBe(10)
      expect(outcomes.map((o) => o.ttft_ms)).toEqual([10, 10, 10, 10, 28, 28, 28, 28])
      expect(outcomes.map((o) => o.e2el_ms)).toEqual([18, 18, 18, 18, 36, 36, 36, 36])
      for (const o of outcomes) expect(o.itls_ms).toEqual([2, 2, 2, 2])
    })
  }

  it("host time adds to the GPU's, per step and per sequence", () => {
    const { run } = runWith(settings({ host_step_ms: 1, host_per_seq_ms: 0.25 }), fixed(4, 8, 5))
    // Each step runs 4 sequences: 1 + 4 x 0.25 = 2 ms of host time: 12 + 4 x 4 = 28 ms.
    expect(run.duration_ms).toBe(28)
  })

  it("with attention-DP ranks, host time per sequence is the busiest rank's (each rank schedules in its own process)", () => {
    // 8 requests over 2 ranks, 4 each: every step runs 4 sequences a rank, 8 in all. Host time is
    // 1 + 4 x 0.25 = 2 ms a step (not 1 + 8 x 0.25 = 3): 12 + 4 x 4 = 28 ms, as one rank alone.
    const { run } = runWith(settings({ host_step_ms: 1, host_per_seq_ms: 0.25 }), fixed(8, 8, 5), { ranks: 2 })
    expect(run.duration_ms).toBe(28)
  })

  it("a step's token budget splits a long prompt into chunks (chunked prefill)", () => {
    // 2500-token prompt, budget 1000: three prefill steps (1000, 1000, 500), then 2 decodes.
    const { outcomes } = runWith(settings(), fixed(1, 2500, 3))
    expect(outcomes[0].ttft_ms).toBe(30)
    expect(outcomes[0].e2el_ms).toBe(34)
  })
})

describe("serve: the KV cache bounds the batch", () => {
  it("reserve-full admits only what fits whole: 2 of 4 requests of 8 + 5 in 26 tokens", () => {
    const { run, outcomes } = runWith(settings({ admission: "reserve-full" }), fixed(4, 8, 5), { kv: 26 })
    expect(run.preemptions).toBe(0)
    expect(outcomes.map((o) => o.ttft_ms)).toEqual([10, 10, 28, 28])
  })

  it("on-demand preempts the newest request when blocks run out, and recomputes it", () => {
    // 2 requests of 8 + 5 need 12 tokens each at the end (the last token's KV is never written); 20 tokens hold 2 x 10.
    const { run, outcomes } = runWith(settings(), fixed(2, 8, 5), { kv: 20 })
    expect(run.preemptions).toBeGreaterThan(0)
    expect(outcomes.every((o) => o.itls_ms.length === 4)).toBe(true)
    expect(outcomes[1].preemptions).toBeGreaterThan(0)
  })

  it("estimated admission (SGLang) reserves each new request's output whole and the running ones' at the ratio", () => {
    // KV 30 tokens, requests of 8 + 5: the first two reserve 13 each (26 <= 30), the third would need 39.
    const ratio = { init: 0.5, min: 0.1, decay: 0.1, clip: 4096, retract_steps: 20 }
    const { outcomes } = runWith(settings({ admission: "estimated", mixed_steps: false, new_token_ratio: ratio }), fixed(3, 8, 5), { kv: 30 })
    expect(outcomes.map((o) => o.ttft_ms)).toEqual([10, 10, 28])
  })

  it("a request that can never fit is an error, not a hang", () => {
    expect(() => runWith(settings({ admission: "reserve-full" }), fixed(1, 8, 5), { kv: 10 })).toThrow(StuckError)
  })
})

describe("serve: the client", () => {
  it("counts peak concurrency as vLLM does from each request's [sent, last token) interval", () => {
    // Arrivals every 3 ms against 10 ms prefills and 2 ms decodes: requests overlap and queue.
    for (const limit of [undefined, 3]) {
      const { run, outcomes } = runWith(settings({ max_running: 2 }), fixed(12, 8, 4, 3), limit === undefined ? {} : { maxConcurrency: limit })
      const acc = new MetricsAccumulator()
      for (const o of outcomes) acc.add(o)
      expect(run.max_concurrent).toBe(acc.totals().max_concurrent_requests)
      expect(run.max_concurrent).toBeGreaterThan(1)
    }
  })

  it("a closed loop of one request at a time: each request's TTFT is one prefill step", () => {
    const { outcomes, run } = runWith(settings(), fixed(3, 8, 3), { maxConcurrency: 1 })
    expect(outcomes.map((o) => o.ttft_ms)).toEqual([10, 10, 10])
    expect(run.duration_ms).toBe(3 * 14)
  })

  it("spaced arrivals find an idle engine: latency is the bare request's", () => {
    const { outcomes, run } = runWith(settings(), fixed(3, 8, 3, 100))
    expect(outcomes.map((o) => o.e2el_ms)).toEqual([14, 14, 14])
    expect(run.duration_ms).toBe(214)
  })

  it("attention-DP ranks share requests: 8 requests over 2 ranks of 4 finish in one wave", () => {
    const { run } = runWith(settings(), fixed(8, 8, 5), { ranks: 2 })
    expect(run.duration_ms).toBe(18)
  })
})

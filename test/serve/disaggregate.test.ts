/**
 * Prefill/decode disaggregation on hand-worked cases: the stub prices a step with a prefill chunk
 * at 10 ms and a decode-only step at 2 ms, and the link moves 1,000 bytes per token at
 * 1 GB/s x 0.5 efficiency with 100 us latency over one lane, so a 1,000-token prompt's KV
 * (1 MB) takes 0.1 + 1e6 / (1 x 1 x 0.5 x 1e6) = 2.1 ms: every timestamp is a sum a reader can
 * check.
 */
import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { appLayer, Evaluator } from "../../src/app/services.ts"
import { loadScenario } from "../../src/config/load.ts"
import { projectPaths } from "../../src/config/paths.ts"
import { modelOf } from "../../src/kernel/model.ts"
import { requestKvBytesPerToken, transferLink } from "../../src/sim/serving.ts"
import { runEffect } from "../helpers/inProcess.ts"
import { stubPricer, testSettings } from "../helpers/serve.ts"
import { serveDisaggregated, type PoolInput } from "../../src/serve/disaggregate.ts"
import type { EngineSettings } from "../../src/serve/engine.ts"
import { transferEndMs, transferMs, type TransferLink } from "../../src/serve/kvTransfer.ts"
import type { RequestOutcome, ServeRequest } from "../../src/serve/types.ts"

const stub = stubPricer
const settings = (o: Partial<EngineSettings> = {}): EngineSettings => testSettings({ max_step_tokens: 4096, ...o })

const LINK: TransferLink = { kind: "nic", gbps: 1, efficiency: 0.5, latency_us: 100, lanes: 1 }
const pool = (o: Partial<PoolInput> = {}): PoolInput => ({ settings: settings(), pricer: stub, ranks: 1, instances: 1, kvTokensPerRank: 1_000_000, ...o })

const run = (requests: ReadonlyArray<ServeRequest>, o: { prefill?: PoolInput; decode?: PoolInput; layerwise?: boolean } = {}) => {
  const outcomes: Array<RequestOutcome> = []
  const r = serveDisaggregated({
    prefill: o.prefill ?? pool(),
    decode: o.decode ?? pool(),
    link: LINK,
    kvBytesPerToken: 1000,
    layers: 10,
    layerwise: o.layerwise ?? false,
    requests,
    acceptance: 0,
    random: () => 0.5,
    onOutcome: (x) => outcomes.push(x)
  })
  return { run: r, outcomes: outcomes.sort((a, b) => a.id - b.id) }
}

describe("KV transfer", () => {
  it("bytes / (lanes x GB/s x efficiency) plus latency; layer by layer it hides under the prefill", () => {
    expect(transferMs(1e6, LINK)).toBeCloseTo(2.1, 12)
    expect(transferMs(1e6, { ...LINK, lanes: 4 })).toBeCloseTo(0.1 + 0.5, 12)
    // Prefill 0-10 ms, link free from 0: whole transfer after it ends at 12.1; layer by layer from
    // 0, the last layer's tenth (0.21 ms) after 10 ms: max(0 + 2.1, 10 + 0.21) = 10.21.
    expect(transferEndMs({ start: 10, durationMs: 2.1, prefillEnd: 10, layers: 10, layerwise: false })).toBeCloseTo(12.1, 12)
    expect(transferEndMs({ start: 0, durationMs: 2.1, prefillEnd: 10, layers: 10, layerwise: true })).toBeCloseTo(10.21, 12)
  })
})

describe("serveDisaggregated: 1P1D", () => {
  it("one request: TTFT = prefill step + transfer, then one decode step per token", () => {
    const { run: r, outcomes } = run([{ id: 0, arrival_ms: 0, input_len: 1000, output_len: 4 }])
    // Prefill 0-10, transfer 10-12.1 (first token then), decodes 14.1, 16.1, 18.1.
    expect(outcomes[0].ttft_ms).toBeCloseTo(12.1, 12)
    expect(outcomes[0].itls_ms.map((x) => x.toFixed(9))).toEqual(["2.000000000", "2.000000000", "2.000000000"])
    expect(outcomes[0].e2el_ms).toBeCloseTo(18.1, 12)
    expect(r.transfers).toBe(1)
    expect(r.transfer_bytes).toBe(1e6)
    expect(r.transfer_ms_mean).toBeCloseTo(2.1, 12)
  })

  it("layer-by-layer sending leaves one layer's share after the prefill", () => {
    const { outcomes } = run([{ id: 0, arrival_ms: 0, input_len: 1000, output_len: 2 }], { layerwise: true })
    expect(outcomes[0].ttft_ms).toBeCloseTo(10.21, 12)
    expect(outcomes[0].e2el_ms).toBeCloseTo(12.21, 12)
  })

  it("transfers share the sender's link one at a time", () => {
    // Two prompts prefilled in one step (0-10 ms): the second's transfer waits for the first's.
    const { outcomes } = run([
      { id: 0, arrival_ms: 0, input_len: 1000, output_len: 1 },
      { id: 1, arrival_ms: 0, input_len: 1000, output_len: 1 }
    ])
    expect(outcomes[0].ttft_ms).toBeCloseTo(12.1, 12)
    expect(outcomes[1].ttft_ms).toBeCloseTo(14.2, 12)
  })

  it("decode capacity bounds the transfers: a request waits on the prefill side for a slot", () => {
    // One decode slot: request 1 is prefilled with request 0 (0-10) but moves only when 0 has
    // finished: 0's transfer ends 12.1, its 2 decodes end 16.1; 1's transfer 16.1-18.2.
    const { outcomes, run: r } = run(
      [
        { id: 0, arrival_ms: 0, input_len: 1000, output_len: 3 },
        { id: 1, arrival_ms: 0, input_len: 1000, output_len: 3 }
      ],
      { decode: pool({ settings: settings({ max_running: 1 }) }) }
    )
    expect(outcomes[0].e2el_ms).toBeCloseTo(16.1, 12)
    expect(outcomes[1].ttft_ms).toBeCloseTo(18.2, 12)
    expect(outcomes[1].e2el_ms).toBeCloseTo(22.2, 12)
    expect(r.max_transfers_in_flight).toBe(1)
  })

  it("two decode instances take the handoffs in turn (least loaded)", () => {
    const { outcomes } = run(
      [
        { id: 0, arrival_ms: 0, input_len: 1000, output_len: 3 },
        { id: 1, arrival_ms: 0, input_len: 1000, output_len: 3 }
      ],
      { decode: pool({ instances: 2, settings: settings({ max_running: 1 }) }) }
    )
    // Each on its own decode rank; they still share the one prefill rank's link: 12.1 and 14.2.
    expect(outcomes.map((o) => o.ttft_ms.toFixed(1))).toEqual(["12.1", "14.2"])
    expect(outcomes.map((o) => o.e2el_ms.toFixed(1))).toEqual(["16.1", "18.2"])
  })
})

describe("KV transfer of DeepSeek-V3 by hand", () => {
  it("FP8 latent KV of a 4K-token prompt over a 400 Gb/s NIC", async () => {
    const root = path.resolve(import.meta.dirname, "..", "..")
    const loaded = await runEffect(
      Effect.gen(function* () {
        const evaluator = yield* Evaluator
        return yield* loadScenario(evaluator, projectPaths(root), path.join(root, "configs/scenarios/deepseek_v3_h800.yaml"))
      }).pipe(Effect.provide(appLayer({ cwd: root, noCache: true })))
    )
    const model = modelOf({ ...loaded, spec: { ...loaded.spec, precision: { ...loaded.spec.precision!, kv_cache: "fp8" } } })
    // MLA caches one latent per token and layer: kv_lora_rank 512 + rope 64 = 576 values, 1 B in
    // FP8, x 61 layers = 35,136 B per token; 4,096 tokens = 143,917,056 B.
    const perToken = requestKvBytesPerToken(model, 4096)
    expect(perToken).toBe(35_136)
    // H800: 400 Gb/s = 50 GB/s per NIC, 0.8 of it effective (ISCA'25 §4.3), 3.3 us a message;
    // one lane (DP attention, tp 1): 143,917,056 / 40e9 s = 3.5979264 ms + 0.0033 = 3.6012264 ms.
    const link = transferLink(loaded.hardware, loaded.hardware, "hardware", { kind: "nic", lanes: 1 })
    if (typeof link === "string") throw new Error(link)
    expect(transferMs(perToken * 4096, link)).toBeCloseTo(3.6012264, 9)
  })
})

describe("serveDisaggregated: one pool measured alone", () => {
  it("no decode pool: a request ends with its first token, at the transfer's end", () => {
    const { outcomes } = run([{ id: 0, arrival_ms: 0, input_len: 1000, output_len: 4 }], { decode: pool({ instances: 0 }) })
    expect(outcomes[0].ttft_ms).toBeCloseTo(12.1, 12)
    expect(outcomes[0].e2el_ms).toBeCloseTo(12.1, 12)
  })
  it("no prefill pool: the prompt is ready on arrival and only moves, then decodes", () => {
    const { outcomes } = run([{ id: 0, arrival_ms: 5, input_len: 1000, output_len: 3 }], { prefill: pool({ instances: 0 }) })
    // Transfer 5-7.1, decodes at 9.1 and 11.1.
    expect(outcomes[0].ttft_ms).toBeCloseTo(2.1, 12)
    expect(outcomes[0].e2el_ms).toBeCloseTo(6.1, 12)
  })
})

describe("serveDisaggregated: a backlog past its cap", () => {
  it("holds arrivals in the stream and serves them all (no prefill pool, 5,000 at once)", () => {
    const reqs = Array.from({ length: 5000 }, (_, id) => ({ id, arrival_ms: 0, input_len: 10, output_len: 2 }))
    const { outcomes } = run(reqs, { prefill: pool({ instances: 0 }), decode: pool({ settings: settings({ max_running: 1 }) }) })
    expect(outcomes).toHaveLength(5000)
  })
})

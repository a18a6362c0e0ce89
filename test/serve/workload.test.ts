/** Generated workloads (src/serve/workload.ts) against vLLM's rules, worked by hand. */
import { describe, expect, it } from "vitest"
import type { ServeRequest } from "../../src/serve/types.ts"
import {
  arrivalTimesMs,
  HASH_BLOCK_TOKENS,
  keepsShareGptPair,
  type LengthModel,
  lognormalFromMeanMedian,
  prefixHashes,
  randomLengthBounds,
  requests,
  SHAREGPT_FILTER,
  validateWorkload,
  type Workload,
  type WorkloadProblem,
  type WorkloadSpec
} from "../../src/serve/workload.ts"

const check = (spec: WorkloadSpec): Workload => {
  const c = validateWorkload(spec)
  if (!c.ok) throw new Error(JSON.stringify(c.problems))
  return c.workload
}
const problemsOf = (spec: WorkloadSpec) => {
  const c = validateWorkload(spec)
  return c.ok ? [] : c.problems.map((p: WorkloadProblem) => p.field)
}
const all = (spec: WorkloadSpec): ServeRequest[] => [...requests(check(spec))]

describe("validateWorkload", () => {
  it("fills vLLM's defaults: 1000 prompts at once, 1024 in, 128 out, seed 0, Poisson; Mooncake's 512-token blocks", () => {
    const lengths: LengthModel = { kind: "random", prefix_len: 0, input: [1024, 1024], output: [128, 128] }
    expect(HASH_BLOCK_TOKENS).toBe(512)
    expect(check({ dataset: "random" })).toEqual({
      num_prompts: 1000,
      request_rate: Number.POSITIVE_INFINITY,
      burstiness: 1,
      seed: 0,
      lengths,
      shared_prefix: null,
      hash_block_tokens: 512
    })
  })

  it("refuses what vLLM refuses, each problem naming its field", () => {
    expect(problemsOf({ dataset: "random", range_ratio: 1 })).toEqual(["range_ratio"])
    expect(problemsOf({ dataset: "random", input_len: 0 })).toEqual(["input_len"])
    expect(problemsOf({ dataset: "random", burstiness: 0 })).toEqual(["burstiness"])
    expect(problemsOf({ dataset: "random", request_rate: 0, num_prompts: 0 })).toEqual(["num_prompts", "request_rate"])
    expect(problemsOf({ dataset: "random", prefix_len: 64, prefix_hit_rate: 0.5 })).toEqual(["prefix_hit_rate"])
    expect(problemsOf({ dataset: "trace" })).toEqual(["dataset"])
    expect(problemsOf({ dataset: "sharegpt" })).toEqual(["sharegpt"])
    expect(problemsOf({ dataset: "sharegpt", input_len: 10, sharegpt: { input: { mean: 2, median: 1 }, output: { mean: 2, median: 1 } } })).toEqual([
      "input_len"
    ])
    // A lognormal's mean is never below its median.
    expect(problemsOf({ dataset: "sharegpt", sharegpt: { input: { mean: 90, median: 100 }, output: { mean: 200, median: 100 } } })).toEqual(["sharegpt.input"])
    // Prompts with median 5000 almost never pass vLLM's 1024-token prompt limit.
    expect(problemsOf({ dataset: "sharegpt", sharegpt: { input: { mean: 6000, median: 5000 }, output: { mean: 200, median: 100 } } })).toEqual(["sharegpt"])
  })
})

describe("random dataset lengths", () => {
  it("bounds [floor(L (1 - r)), ceil(L (1 + r))], outputs at least 1", () => {
    // 1024 x 0.9 = 921.6 -> 921; 1024 x 1.1 = 1126.4 -> 1127; 128 x 0.9 = 115.2 -> 115; 140.8 -> 141
    expect(randomLengthBounds(1024, 128, 0.1)).toEqual({ input: [921, 1127], output: [115, 141] })
    expect(randomLengthBounds(1000, 100, 0.5)).toEqual({ input: [500, 1500], output: [50, 150] })
    expect(randomLengthBounds(10, 0, 0)).toEqual({ input: [10, 10], output: [1, 1] })
  })

  it("draws every request inside the bounds, the prefix added to the prompt, ids in order", () => {
    const rs = all({ dataset: "random", num_prompts: 300, input_len: 100, output_len: 10, range_ratio: 0.5, prefix_len: 7, seed: 3 })
    expect(rs.map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => i))
    for (const r of rs) {
      expect(r.input_len).toBeGreaterThanOrEqual(7 + 50)
      expect(r.input_len).toBeLessThanOrEqual(7 + 150)
      expect(r.output_len).toBeGreaterThanOrEqual(5)
      expect(r.output_len).toBeLessThanOrEqual(15)
    }
    // Both ends are reachable.
    expect(Math.min(...rs.map((r) => r.output_len))).toBe(5)
    expect(Math.max(...rs.map((r) => r.output_len))).toBe(15)
  })

  it("is a function of the seed", () => {
    const spec: WorkloadSpec = { dataset: "random", num_prompts: 50, range_ratio: 0.3, request_rate: 5 }
    expect(all({ ...spec, seed: 1 })).toEqual(all({ ...spec, seed: 1 }))
    expect(all({ ...spec, seed: 2 })).not.toEqual(all({ ...spec, seed: 1 }))
  })

  it("is lazy: the first requests of a billion come without making the rest", () => {
    const gen = requests(check({ dataset: "random", num_prompts: 1_000_000_000 }))
    const first = [gen.next().value, gen.next().value, gen.next().value] as ServeRequest[]
    expect(first.map((r) => [r.id, r.arrival_ms, r.input_len, r.output_len])).toEqual([
      [0, 0, 1024, 128],
      [1, 0, 1024, 128],
      [2, 0, 1024, 128]
    ])
  })
})

describe("arrivals (vLLM get_request)", () => {
  it("rate Infinity: everything at time 0", () => {
    expect([...arrivalTimesMs(4, Number.POSITIVE_INFINITY, 1, 0)]).toEqual([0, 0, 0, 0])
  })

  it("burstiness Infinity: constant gaps of 1 / rate, the first after one gap", () => {
    // 4 req/s: 250 ms apart, the last at 4 / 4 s.
    expect([...arrivalTimesMs(4, 4, Number.POSITIVE_INFINITY, 0)]).toEqual([250, 500, 750, 1000])
  })

  it("Gamma gaps rescaled so the last arrival is exactly num_prompts / rate", () => {
    const t = [...arrivalTimesMs(100, 4, 1, 9)]
    // 100 requests at 4 req/s: the last at 25 s.
    expect(t.at(-1)).toBeCloseTo(25_000, 6)
    expect(t[0]).toBeGreaterThan(0)
    for (let i = 1; i < t.length; i++) expect(t[i] as number).toBeGreaterThanOrEqual(t[i - 1] as number)
  })

  it("burstiness b sets the gaps' coefficient of variation to 1 / sqrt(b) (Gamma shape b)", () => {
    for (const b of [0.25, 1, 4]) {
      const t = [...arrivalTimesMs(20_000, 10, b, 21)]
      const gaps = t.map((x, i) => x - (i === 0 ? 0 : (t[i - 1] as number)))
      const mean = gaps.reduce((a, c) => a + c, 0) / gaps.length
      const sd = Math.sqrt(gaps.reduce((a, c) => a + (c - mean) ** 2, 0) / gaps.length)
      // Mean gap 100 ms (rescaled exactly: 2000 s over 20,000 gaps).
      expect(mean).toBeCloseTo(100, 6)
      expect(Math.abs(sd / mean - 1 / Math.sqrt(b)) * Math.sqrt(b)).toBeLessThan(0.05)
    }
  })

  it("requests carry those arrival times", () => {
    const rs = all({ dataset: "random", num_prompts: 4, request_rate: 4, burstiness: Number.POSITIVE_INFINITY })
    expect(rs.map((r) => r.arrival_ms)).toEqual([250, 500, 750, 1000])
  })
})

describe("sharegpt-like lengths", () => {
  it("fits the lognormal: mu = ln median, sigma = sqrt(2 ln(mean / median))", () => {
    // mean / median = e^(1/2) -> sigma = 1
    const d = lognormalFromMeanMedian({ mean: 100 * Math.exp(0.5), median: 100 })
    expect(d).toEqual({ mu: Math.log(100), sigma: expect.closeTo(1, 12) })
    expect(lognormalFromMeanMedian({ mean: 50, median: 50 })).toEqual({ mu: Math.log(50), sigma: 0 })
    expect(typeof lognormalFromMeanMedian({ mean: 10, median: 0 })).toBe("string")
  })

  it("keeps a pair as vLLM's is_valid_sequence: prompt 4..1024, output >= 4, total <= 2048", () => {
    const f = SHAREGPT_FILTER
    expect(keepsShareGptPair(4, 4, f, false)).toBe(true)
    expect(keepsShareGptPair(3, 4, f, false)).toBe(false)
    expect(keepsShareGptPair(4, 3, f, false)).toBe(false)
    // --sharegpt-output-len skips the output minimum
    expect(keepsShareGptPair(4, 3, f, true)).toBe(true)
    expect(keepsShareGptPair(1024, 1024, f, false)).toBe(true)
    expect(keepsShareGptPair(1025, 4, f, false)).toBe(false)
    expect(keepsShareGptPair(1000, 1049, f, false)).toBe(false)
  })

  it("every generated pair passes the filter; a fixed output leaves prompts of at most 2048 - output", () => {
    const stats = { input: { mean: 230, median: 100 }, output: { mean: 200, median: 120 } }
    for (const r of all({ dataset: "sharegpt", num_prompts: 2000, sharegpt: stats, seed: 4 }))
      expect(keepsShareGptPair(r.input_len, r.output_len, SHAREGPT_FILTER, false)).toBe(true)
    const fixed = all({ dataset: "sharegpt", num_prompts: 500, sharegpt: stats, output_len: 2000, seed: 4 })
    for (const r of fixed) {
      expect(r.output_len).toBe(2000)
      expect(r.input_len).toBeGreaterThanOrEqual(4)
      expect(r.input_len).toBeLessThanOrEqual(48)
    }
  })

  it("a lognormal well inside the filter keeps its median", () => {
    // median 200, sigma ~0.3: nearly nothing is filtered, so the sample median stays near 200.
    const stats = { input: { mean: 200 * Math.exp(0.045), median: 200 }, output: { mean: 50 * Math.exp(0.045), median: 50 } }
    const ins = all({ dataset: "sharegpt", num_prompts: 4001, sharegpt: stats, seed: 5 })
      .map((r) => r.input_len)
      .sort((a, b) => a - b)
    expect(Math.abs((ins[2000] as number) - 200)).toBeLessThanOrEqual(6)
  })
})

describe("prefix hashes", () => {
  it("shared full blocks are 0..k-1, the straddling block and the rest unique", () => {
    // 1300 tokens = 3 blocks of 512; 650 shared tokens = 1 full block.
    expect(prefixHashes(1300, 650, 512, 100)).toEqual([0, 100, 101])
    expect(prefixHashes(1024, 1024, 512, 100)).toEqual([0, 1])
    expect(prefixHashes(100, 0, 512, 7)).toEqual([7])
  })

  it("--random-prefix-len: every request starts with the same blocks, the rest never repeat", () => {
    // prompt = 1024 prefix + 1000 = 2024 tokens = 4 blocks, 2 of them shared.
    const rs = all({ dataset: "random", num_prompts: 3, input_len: 1000, prefix_len: 1024 })
    const base = 2 ** 31
    expect(rs.map((r) => r.prefix_hashes)).toEqual([
      [0, 1, base, base + 1],
      [0, 1, base + 2, base + 3],
      [0, 1, base + 4, base + 5]
    ])
  })

  it("prefix_hit_rate: that fraction of each prompt, in whole blocks, is shared", () => {
    // 2048 tokens x 0.5 = 1024 shared = 2 blocks of 512, of 4.
    const rs = all({ dataset: "random", num_prompts: 2, input_len: 2048, prefix_hit_rate: 0.5 })
    expect(rs.map((r) => r.prefix_hashes?.slice(0, 2))).toEqual([
      [0, 1],
      [0, 1]
    ])
    expect(rs[0]?.prefix_hashes?.[2]).not.toBe(rs[1]?.prefix_hashes?.[2])
    // Without a shared prefix no hashes are attached.
    expect(all({ dataset: "random", num_prompts: 1 })[0]?.prefix_hashes).toBeUndefined()
  })
})

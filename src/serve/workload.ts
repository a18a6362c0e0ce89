/**
 * Generated workloads as `vllm bench serve` makes them: a lazy stream of requests (lengths and
 * arrival times), so a million requests take the memory of one. A recorded trace is read line by
 * line instead (src/serve/trace.ts).
 *
 * Sources (vLLM, github.com/vllm-project/vllm):
 *   - `vllm/benchmarks/serve.py` @ 009e6d4a1cd6ba3fb2a9fc00f4ec06f5297232a1, `get_request` and
 *     `add_cli_args`: --request-rate (req/s, default inf = every request at time 0), --burstiness
 *     (default 1). Each gap is Gamma(shape = burstiness, scale = 1 / (rate x burstiness)), an
 *     exponential (Poisson arrivals) at 1; burstiness = inf makes every gap 1 / rate. The gaps
 *     accumulate from the start (the first request waits one gap), and without a ramp-up the
 *     cumulative times are then scaled so the last arrival is exactly num_prompts / rate ("their
 *     sum would have 1-2% gap from target_total_delay_s"). We do the same in two passes over one
 *     seeded stream (sum the gaps, then replay them scaled), which keeps memory flat.
 *   - `vllm/benchmarks/datasets.py` @ 0056b87fc1fda2642f39dda4392824c425dd1638,
 *     `RandomDataset.get_sampling_params` and `add_dataset_parser`: --num-prompts 1000, --seed 0,
 *     --random-input-len 1024, --random-output-len 128, --random-range-ratio 0 (must be in
 *     [0, 1)), --random-prefix-len 0. Input length = prefix_len + an integer uniform on
 *     [floor(L (1 - r)), ceil(L (1 + r))]; output uniform on [max(floor(O (1 - r)), 1),
 *     max(ceil(O (1 + r)), 1)]. vLLM first subtracts the tokenizer's special tokens from L; we
 *     model token counts directly (no tokenizer), i.e. zero special tokens.
 *   - `vllm/benchmarks/dataset_utils.py` @ 5c92be2491896f931cb83f518402741421c871dc,
 *     `is_valid_sequence` (used by `ShareGPTDataset.sample`): a ShareGPT pair is kept when
 *     prompt >= 4, output >= 4 (skipped when --sharegpt-output-len fixes the output),
 *     prompt <= 1024 and prompt + output <= 2048.
 *
 * ShareGPT lengths: the dataset is not shipped, so a "sharegpt" workload draws each length from a
 * lognormal fitted to a mean and a median the caller supplies (median = e^mu,
 * mean = e^(mu + sigma^2 / 2), so sigma = sqrt(2 ln(mean / median))), rounds it to tokens and
 * keeps the pair only if vLLM's filter above keeps it (rejection, so the bounds hold exactly;
 * statistics measured after vLLM's filter are trimmed once more at the tails). No published
 * mean-and-median pair for ShareGPT_V3 under vLLM's filter was found to ship as a default, so
 * the statistics are required: measure them from a `vllm bench serve --dataset-name sharegpt
 * --save-result --save-detailed` file (its `input_lens`, and `output_lens` under --ignore-eos).
 *
 * Prefix structure: with --random-prefix-len (or `prefix_hit_rate`, the fraction of every prompt
 * that repeats one prefix shared by all requests) each request carries block hashes like a
 * Mooncake trace line (github.com/kvcache-ai/Mooncake `FAST25-release/README.md`: one hash per
 * 512-token block, equal hashes = reusable KV): the shared full blocks get the same ids in every
 * request (0, 1, 2, ...), the rest ids no other request has. The block that straddles the end of
 * the shared prefix is unique (its tokens differ), as a prefix cache only reuses full blocks.
 */
import { createRng, type Rng } from "./random.ts"
import type { ServeRequest } from "./types.ts"

type DatasetName = "random" | "sharegpt" | "trace"

/** A length distribution by two statistics (tokens). */
export interface LengthStats {
  readonly mean: number
  readonly median: number
}

/** vLLM's ShareGPT filter (`is_valid_sequence` defaults). */
export interface ShareGptFilter {
  readonly min_len: number
  readonly max_prompt_len: number
  readonly max_total_len: number
}

export const SHAREGPT_FILTER: ShareGptFilter = { min_len: 4, max_prompt_len: 1024, max_total_len: 2048 }

/** Tokens per prefix-hash block: Mooncake's trace block (FAST25-release/README.md). */
export const HASH_BLOCK_TOKENS = 512

/**
 * First id given to a block no other request shares; shared-prefix blocks count up from 0, and
 * no prompt has 2^31 blocks, so the two ranges never meet.
 */
const UNIQUE_BLOCK_BASE = 2 ** 31

/** What to generate: `vllm bench serve`'s flags, by their names without the dataset prefix. */
export interface WorkloadSpec {
  readonly dataset: DatasetName
  /** --num-prompts (default 1000). */
  readonly num_prompts?: number
  /** --request-rate in requests/s (default Infinity: every request at time 0). */
  readonly request_rate?: number
  /** --burstiness (default 1: Poisson arrivals; < 1 burstier, > 1 more even, Infinity constant gaps). */
  readonly burstiness?: number
  /** --seed (default 0). */
  readonly seed?: number
  /** random: --random-input-len (default 1024). */
  readonly input_len?: number
  /** random: --random-output-len (default 128); sharegpt: --sharegpt-output-len (fixes every output). */
  readonly output_len?: number
  /** random: --random-range-ratio (default 0, in [0, 1)). */
  readonly range_ratio?: number
  /** random: --random-prefix-len (default 0): tokens of one prefix every prompt starts with. */
  readonly prefix_len?: number
  /** Fraction of every prompt (in [0, 1]) that repeats one prefix shared by all requests. */
  readonly prefix_hit_rate?: number
  /** Tokens per prefix-hash block (default 512, Mooncake's). */
  readonly hash_block_tokens?: number
  /** sharegpt: the length statistics to fit (required; see the module header). */
  readonly sharegpt?: { readonly input: LengthStats; readonly output: LengthStats }
  /** sharegpt: the pair filter (default vLLM's). */
  readonly sharegpt_filter?: ShareGptFilter
}

/** A spec field that cannot be generated, and why. */
export interface WorkloadProblem {
  readonly field: string
  readonly message: string
}

/** Lognormal parameters: median e^mu, mean e^(mu + sigma^2 / 2). */
export interface Lognormal {
  readonly mu: number
  readonly sigma: number
}

/** How each request's lengths are drawn. */
export type LengthModel =
  | {
      readonly kind: "random"
      readonly prefix_len: number
      readonly input: readonly [number, number]
      readonly output: readonly [number, number]
    }
  | {
      readonly kind: "sharegpt"
      readonly input: Lognormal
      /** A lognormal, or a fixed output (--sharegpt-output-len). */
      readonly output: Lognormal | number
      readonly filter: ShareGptFilter
    }

/** A checked spec with every default filled in: what `requests` generates from. */
export interface Workload {
  readonly num_prompts: number
  readonly request_rate: number
  readonly burstiness: number
  readonly seed: number
  readonly lengths: LengthModel
  /** Shared prefix per request: a fixed token count, a fraction of the prompt, or none. */
  readonly shared_prefix: { readonly kind: "tokens"; readonly tokens: number } | { readonly kind: "fraction"; readonly fraction: number } | null
  readonly hash_block_tokens: number
}

export type WorkloadCheck = { readonly ok: true; readonly workload: Workload } | { readonly ok: false; readonly problems: ReadonlyArray<WorkloadProblem> }

/**
 * The lognormal with this median and mean: mu = ln median, sigma = sqrt(2 ln(mean / median)).
 * Needs mean >= median > 0 (a lognormal's mean is never below its median).
 */
export const lognormalFromMeanMedian = (stats: LengthStats): Lognormal | string => {
  if (!(Number.isFinite(stats.median) && stats.median > 0)) return `median must be a positive number, got ${stats.median}`
  if (!(Number.isFinite(stats.mean) && stats.mean >= stats.median))
    return `mean must be at least the median (a lognormal's mean is e^(sigma^2/2) >= 1 times its median), got mean ${stats.mean}, median ${stats.median}`
  return { mu: Math.log(stats.median), sigma: Math.sqrt(2 * Math.log(stats.mean / stats.median)) }
}

/** vLLM's `is_valid_sequence` with the given filter; `fixedOutput` skips the minimum-output check. */
export const keepsShareGptPair = (prompt: number, output: number, filter: ShareGptFilter, fixedOutput: boolean): boolean =>
  prompt >= filter.min_len && (fixedOutput || output >= filter.min_len) && prompt <= filter.max_prompt_len && prompt + output <= filter.max_total_len

/** vLLM's random-dataset bounds: [floor(L (1 - r)), ceil(L (1 + r))], outputs at least 1. */
export const randomLengthBounds = (
  inputLen: number,
  outputLen: number,
  rangeRatio: number
): { readonly input: readonly [number, number]; readonly output: readonly [number, number] } => ({
  input: [Math.floor(inputLen * (1 - rangeRatio)), Math.ceil(inputLen * (1 + rangeRatio))],
  output: [Math.max(Math.floor(outputLen * (1 - rangeRatio)), 1), Math.max(Math.ceil(outputLen * (1 + rangeRatio)), 1)]
})

// Standard normal CDF via erfc (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7): only used
// to refuse statistics the filter would reject almost always.
const normalCdf = (z: number): number => {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x)
  return z >= 0 ? 1 - erfc / 2 : erfc / 2
}

/** P(round(X) in [lo, hi]) for X lognormal. */
const roundedIn = (d: Lognormal, lo: number, hi: number): number => {
  if (hi < lo) return 0
  const cdf = (x: number) => (x <= 0 ? 0 : normalCdf((Math.log(x) - d.mu) / d.sigma))
  return cdf(hi + 0.5) - cdf(lo - 0.5)
}

/**
 * A lower bound on the share of draws vLLM's filter keeps: prompt in [min, m] and output in
 * [min, total - m] (m = min(max_prompt, floor(total / 2))) is one way to pass, so its probability
 * bounds the acceptance from below. Under 1% we refuse rather than spin.
 */
const MIN_ACCEPTANCE = 0.01

const acceptanceLowerBound = (input: Lognormal, output: Lognormal | number, f: ShareGptFilter): number => {
  if (typeof output === "number") return roundedIn(input, f.min_len, Math.min(f.max_prompt_len, f.max_total_len - output))
  const m = Math.min(f.max_prompt_len, Math.floor(f.max_total_len / 2))
  return roundedIn(input, f.min_len, m) * roundedIn(output, f.min_len, f.max_total_len - m)
}

const isNonNegativeInt = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0

/** Checks a spec against vLLM's own argument checks and fills in vLLM's defaults. */
export const validateWorkload = (spec: WorkloadSpec): WorkloadCheck => {
  const problems: WorkloadProblem[] = []
  const bad = (field: string, message: string) => problems.push({ field, message })
  const num_prompts = spec.num_prompts ?? 1000
  const request_rate = spec.request_rate ?? Number.POSITIVE_INFINITY
  const burstiness = spec.burstiness ?? 1
  const seed = spec.seed ?? 0
  const hash_block_tokens = spec.hash_block_tokens ?? HASH_BLOCK_TOKENS
  if (!(Number.isSafeInteger(num_prompts) && num_prompts >= 1)) bad("num_prompts", `must be a positive integer, got ${num_prompts}`)
  if (!(request_rate > 0)) bad("request_rate", `must be positive (requests/s) or Infinity, got ${request_rate}`)
  if (!(burstiness > 0)) bad("burstiness", `must be positive (vLLM asserts burstiness > 0), got ${burstiness}`)
  if (!Number.isSafeInteger(seed)) bad("seed", `must be an integer, got ${seed}`)
  if (!(Number.isSafeInteger(hash_block_tokens) && hash_block_tokens >= 1)) bad("hash_block_tokens", `must be a positive integer, got ${hash_block_tokens}`)
  if (spec.prefix_hit_rate !== undefined && !(spec.prefix_hit_rate >= 0 && spec.prefix_hit_rate <= 1))
    bad("prefix_hit_rate", `must be in [0, 1], got ${spec.prefix_hit_rate}`)

  let lengths: LengthModel | null = null
  let shared_prefix: Workload["shared_prefix"] =
    spec.prefix_hit_rate === undefined || spec.prefix_hit_rate === 0 ? null : { kind: "fraction", fraction: spec.prefix_hit_rate }
  if (spec.dataset === "random") {
    const inputLen = spec.input_len ?? 1024
    const outputLen = spec.output_len ?? 128
    const ratio = spec.range_ratio ?? 0
    const prefixLen = spec.prefix_len ?? 0
    if (!isNonNegativeInt(inputLen)) bad("input_len", `must be a non-negative integer, got ${inputLen}`)
    if (!isNonNegativeInt(outputLen)) bad("output_len", `must be a non-negative integer, got ${outputLen}`)
    if (!isNonNegativeInt(prefixLen)) bad("prefix_len", `must be a non-negative integer, got ${prefixLen}`)
    if (!(ratio >= 0 && ratio < 1)) bad("range_ratio", `must be in [0, 1) (vLLM: "range_ratio must be in [0, 1)"), got ${ratio}`)
    if (prefixLen > 0 && shared_prefix !== null) bad("prefix_hit_rate", "give either prefix_len or prefix_hit_rate, not both")
    if (problems.length === 0) {
      const b = randomLengthBounds(inputLen, outputLen, ratio)
      if (prefixLen + b.input[0] < 1)
        bad("input_len", `the shortest prompt would have ${prefixLen + b.input[0]} tokens: prefix_len + floor(input_len (1 - range_ratio)) must be at least 1`)
      else lengths = { kind: "random", prefix_len: prefixLen, ...b }
      if (prefixLen > 0) shared_prefix = { kind: "tokens", tokens: prefixLen }
    }
  } else if (spec.dataset === "sharegpt") {
    for (const f of ["input_len", "range_ratio", "prefix_len"] as const)
      if (spec[f] !== undefined) bad(f, `applies to the random dataset only (vLLM's --random-${f.replace("_", "-")})`)
    const filter = spec.sharegpt_filter ?? SHAREGPT_FILTER
    if (!(isNonNegativeInt(filter.min_len) && isNonNegativeInt(filter.max_prompt_len) && isNonNegativeInt(filter.max_total_len)))
      bad("sharegpt_filter", "min_len, max_prompt_len and max_total_len must be non-negative integers")
    if (spec.output_len !== undefined && !(Number.isSafeInteger(spec.output_len) && spec.output_len >= 1))
      bad("output_len", `must be a positive integer, got ${spec.output_len}`)
    if (spec.sharegpt === undefined) {
      bad(
        "sharegpt",
        "needs the input and output length statistics ({input: {mean, median}, output: {mean, median}}): the dataset is not shipped and no published pair is bundled; measure them from a vllm bench serve --save-detailed result"
      )
    } else {
      const input = lognormalFromMeanMedian(spec.sharegpt.input)
      const output = spec.output_len ?? lognormalFromMeanMedian(spec.sharegpt.output)
      if (typeof input === "string") bad("sharegpt.input", input)
      if (typeof output === "string") bad("sharegpt.output", output)
      if (typeof input !== "string" && typeof output !== "string" && problems.length === 0) {
        const keep = acceptanceLowerBound(input, output, filter)
        if (keep < MIN_ACCEPTANCE)
          bad(
            "sharegpt",
            `vLLM's filter (prompt ${filter.min_len}-${filter.max_prompt_len}, total <= ${filter.max_total_len}) would keep under ${MIN_ACCEPTANCE * 100}% of draws from these statistics`
          )
        else lengths = { kind: "sharegpt", input, output, filter }
      }
    }
  } else {
    bad("dataset", 'a "trace" workload is read line by line with TraceReader (src/serve/trace.ts); requests() generates "random" and "sharegpt"')
  }
  if (problems.length > 0 || lengths === null) return { ok: false, problems }
  return { ok: true, workload: { num_prompts, request_rate, burstiness, seed, lengths, shared_prefix, hash_block_tokens } }
}

/** The two independent streams of a seed: lengths and arrivals (so each can be replayed alone). */
const streams = (seed: number): { readonly lengths: Rng; readonly arrivals: Rng } => {
  const root = createRng(seed)
  return { lengths: root.fork(), arrivals: root.fork() }
}

/**
 * Arrival times in ms, as vLLM's `get_request` (see the header): gaps Gamma(b, 1 / (rate b)),
 * cumulative, scaled so the last is n / rate seconds. Two passes over the seed's arrival stream,
 * O(1) memory.
 */
export function* arrivalTimesMs(n: number, rate: number, burstiness: number, seed: number): Generator<number> {
  if (rate === Number.POSITIVE_INFINITY) {
    for (let i = 0; i < n; i++) yield 0
    return
  }
  const gap = (rng: Rng) => (burstiness === Number.POSITIVE_INFINITY ? 1 / rate : rng.gamma(burstiness, 1 / (rate * burstiness)))
  const first = streams(seed).arrivals
  let total = 0
  for (let i = 0; i < n; i++) total += gap(first)
  // vLLM rescales only when the last cumulative delay is non-zero.
  const scaleMs = total === 0 ? 1000 : (1000 * (n / rate)) / total
  const again = streams(seed).arrivals
  let cumulative = 0
  for (let i = 0; i < n; i++) {
    cumulative += gap(again)
    yield cumulative * scaleMs
  }
}

const drawLengths = (model: LengthModel, rng: Rng): { readonly input: number; readonly output: number } => {
  if (model.kind === "random") return { input: model.prefix_len + rng.int(model.input[0], model.input[1]), output: rng.int(model.output[0], model.output[1]) }
  const fixed = typeof model.output === "number"
  for (;;) {
    const input = Math.round(rng.lognormal(model.input.mu, model.input.sigma))
    const output = typeof model.output === "number" ? model.output : Math.round(rng.lognormal(model.output.mu, model.output.sigma))
    if (keepsShareGptPair(input, output, model.filter, fixed)) return { input, output }
  }
}

/**
 * The block hashes of a prompt of `inputLen` tokens whose first `sharedTokens` repeat the shared
 * prefix: the shared full blocks are 0..k-1, every other block takes the next unique id.
 */
export const prefixHashes = (inputLen: number, sharedTokens: number, blockTokens: number, nextUnique: number): number[] => {
  const blocks = Math.ceil(inputLen / blockTokens)
  const shared = Math.min(Math.floor(sharedTokens / blockTokens), blocks)
  const hashes = new Array<number>(blocks)
  for (let b = 0; b < blocks; b++) hashes[b] = b < shared ? b : nextUnique + (b - shared)
  return hashes
}

/** The requests of a checked workload, lazily, ids 0.. in arrival order. */
export function* requests(workload: Workload): Generator<ServeRequest> {
  const rng = streams(workload.seed).lengths
  const arrivals = arrivalTimesMs(workload.num_prompts, workload.request_rate, workload.burstiness, workload.seed)
  let nextUnique = UNIQUE_BLOCK_BASE
  for (let id = 0; id < workload.num_prompts; id++) {
    const { input, output } = drawLengths(workload.lengths, rng)
    const arrival_ms = arrivals.next().value as number
    const sp = workload.shared_prefix
    if (sp === null) {
      yield { id, arrival_ms, input_len: input, output_len: output }
      continue
    }
    const shared = sp.kind === "tokens" ? sp.tokens : Math.floor(sp.fraction * input)
    const prefix_hashes = prefixHashes(input, shared, workload.hash_block_tokens, nextUnique)
    nextUnique += prefix_hashes.length - Math.min(Math.floor(shared / workload.hash_block_tokens), prefix_hashes.length)
    yield { id, arrival_ms, input_len: input, output_len: output, prefix_hashes }
  }
}

/** A typical request's prompt + output, tokens: what per-sequence state (sliding windows, linear attention) is sized by. */
export const typicalContext = (w: WorkloadSpec): number =>
  w.dataset === "random" ? (w.input_len ?? 1024) + (w.prefix_len ?? 0) + (w.output_len ?? 128) : (w.sharegpt_filter ?? SHAREGPT_FILTER).max_total_len / 2

/** The longest prompt and prompt + output a generated workload can draw, tokens. */
export const longestRequest = (w: WorkloadSpec): { readonly input: number; readonly total: number } => {
  if (w.dataset === "random") {
    const b = randomLengthBounds(w.input_len ?? 1024, w.output_len ?? 128, w.range_ratio ?? 0)
    const input = (w.prefix_len ?? 0) + b.input[1]
    return { input, total: input + b.output[1] }
  }
  const f = w.sharegpt_filter ?? SHAREGPT_FILTER
  return { input: f.max_prompt_len, total: f.max_total_len }
}

/**
 * The flags `bench` and `sweep --bench` share: the engine model and its settings, a generated
 * workload (vLLM's names) and the SLOs, and what they parse to. Apart from src/cli/bench.ts so a
 * sweep loads the flags without the bench playbook.
 */
import { Option, Result } from "effect"
import { Flag } from "effect/cli"
import { parseGoodput } from "../serve/metrics.ts"
import type { WorkloadSpec } from "../serve/workload.ts"
import type { EngineOverrides } from "../sim/serving.ts"
import { parsedWith, positiveIntFlag } from "./flags.ts"
import { physicalProblem } from "../schema/physical.ts"

/** The flags.ts helper under the name the serving commands use. */
export const positiveInt = positiveIntFlag

const nonNegativeInt = (name: string, description: string) =>
  Flag.Int(name).pipe(
    Flag.withDescription(description),
    Flag.filter(
      (n) => n >= 0,
      (n) => `--${name} must be an integer >= 0, got ${n}`
    ),
    Flag.optional
  )

const finiteIn = (name: string, description: string, ok: (x: number) => boolean, expected: string) =>
  Flag.Finite(name).pipe(
    Flag.withDescription(description),
    Flag.filter(ok, (x) => `--${name} must be ${expected}, got ${x}`),
    Flag.optional
  )

/** The engine model and its settings: `bench` and `sweep --bench`. */
export const engineFlags = {
  engine: Flag.Literals("engine", ["vllm", "sglang", "trtllm"]).pipe(
    Flag.withDescription("Engine model (default: the scenario's engine.name, else vllm); docs/bench.md lists each engine's defaults"),
    Flag.optional
  ),
  maxRunning: positiveInt(
    "max-running",
    "Most sequences running per rank (vLLM --max-num-seqs, SGLang --max-running-requests, TensorRT-LLM max_batch_size)"
  ).pipe(Flag.withAlias("max-num-seqs")),
  maxStepTokens: positiveInt(
    "max-step-tokens",
    "Token budget of a step (vLLM --max-num-batched-tokens, SGLang --chunked-prefill-size, TensorRT-LLM max_num_tokens)"
  ).pipe(Flag.withAlias("max-num-batched-tokens")),
  memoryFraction: finiteIn(
    "memory-fraction",
    "The engine's memory fraction (vLLM --gpu-memory-utilization, SGLang --mem-fraction-static, TensorRT-LLM free_gpu_memory_fraction)",
    (x) => x > 0 && x <= 1,
    "in (0, 1]"
  ).pipe(Flag.withAlias("gpu-memory-utilization")),
  maxModelLen: positiveInt("max-model-len", "Longest prompt + output accepted, tokens (default: the scenario's engine.max_model_len)"),
  chunkedPrefill: Flag.Boolean("chunked-prefill").pipe(
    Flag.withDescription("Split long prompts over steps (--no-chunked-prefill: whole prompts)"),
    Flag.optional
  ),
  cudaGraphMaxBs: nonNegativeInt("cuda-graph-max-bs", "Largest decode batch run as a CUDA graph (0: none)"),
  hostStepMs: finiteIn("host-step-ms", "Host time of a step, ms (default: the engine's fitted value)", (x) => x >= 0, ">= 0"),
  hostPerSeqMs: finiteIn("host-per-seq-ms", "Host time per scheduled sequence, ms", (x) => x >= 0, ">= 0")
}

/** A generated workload's flags (vLLM's names) and the SLOs: `bench` and `sweep --bench`. */
export const workloadFlags = {
  inputLen: nonNegativeInt("random-input-len", "Prompt tokens of the random dataset (default 1024)"),
  outputLen: positiveInt("random-output-len", "Output tokens of the random dataset (default 128)"),
  rangeRatio: finiteIn("random-range-ratio", "Lengths uniform in [L(1-r), L(1+r)] (default 0)", (x) => x >= 0 && x < 1, "in [0, 1)"),
  prefixLen: nonNegativeInt("random-prefix-len", "Tokens of one prefix every random prompt starts with (default 0)"),
  sharegptLengths: Flag.String("sharegpt-lengths").pipe(
    Flag.withDescription("sharegpt: IN_MEAN,IN_MEDIAN,OUT_MEAN,OUT_MEDIAN tokens of the dataset after vLLM's filter (not shipped: measure them)"),
    parsedWith("sharegpt-lengths", (t: string) => {
      const xs = t.split(",").map((s) => Number(s.trim()))
      return xs.length === 4 && xs.every((x) => Number.isFinite(x) && x > 0)
        ? Result.succeed({ input: { mean: xs[0], median: xs[1] }, output: { mean: xs[2], median: xs[3] } })
        : Result.fail(`expected four positive numbers IN_MEAN,IN_MEDIAN,OUT_MEAN,OUT_MEDIAN, got "${t}"`)
    }),
    Flag.optional
  ),
  numPrompts: positiveInt("num-prompts", "Requests to send (default 1000; a trace: its first N lines)"),
  burstiness: finiteIn("burstiness", "Gamma shape of the arrival gaps: 1 Poisson, < 1 burstier, > 1 more even (default 1)", (x) => x > 0, "> 0"),
  goodput: Flag.String("goodput").pipe(
    Flag.withDescription('SLOs a good request meets, ms: "ttft:500 tpot:50 e2el:20000" (any of the three)'),
    parsedWith("goodput", (t: string) => {
      const r = parseGoodput(t.split(/[\s,]+/).filter((s) => s !== ""))
      return typeof r === "string" ? Result.fail(r) : Result.succeed(r)
    }),
    Flag.optional
  ),
  seed: Flag.Int("seed").pipe(Flag.withDescription("Seed of the lengths, arrivals and MTP acceptances (default 0)"), Flag.optional),
  prefixHitRate: finiteIn("prefix-hit-rate", "Fraction of every prompt that repeats one shared prefix (prefix caching)", (x) => x >= 0 && x <= 1, "in [0, 1]"),
  mtpAcceptance: finiteIn(
    "mtp-acceptance",
    "MTP: chance each draft token is accepted, drawn per step and sequence (default runtime.mtp_acceptance_rate)",
    (x) => x >= 0 && x <= 1,
    "in [0, 1]"
  )
}

export const some = <K extends string, V>(k: K, v: Option.Option<V>) => (Option.isSome(v) ? ({ [k]: v.value } as { [key in K]: V }) : {})

/** What each flag group parses to (effect/cli's values of engineFlags and workloadFlags). */
type Parsed<F> = { readonly [K in keyof F]: F[K] extends Flag.Flag<infer A> ? A : never }

/** The engine settings the flags set (over the scenario's engine block). */
export const engineOverridesOf = (a: Parsed<typeof engineFlags>): EngineOverrides => ({
  ...some("max_running", a.maxRunning),
  ...some("max_step_tokens", a.maxStepTokens),
  ...some("memory_fraction", a.memoryFraction),
  ...some("max_model_len", a.maxModelLen),
  ...some("chunked_prefill", a.chunkedPrefill),
  ...some("cuda_graph_max_bs", a.cudaGraphMaxBs),
  ...some("host_step_ms", a.hostStepMs),
  ...some("host_per_seq_ms", a.hostPerSeqMs)
})

/** The workload the flags describe. */
export const workloadSpecOf = (a: Parsed<typeof workloadFlags>, dataset: WorkloadSpec["dataset"], rate: Option.Option<number>): WorkloadSpec => ({
  dataset,
  ...some("num_prompts", a.numPrompts),
  ...some("request_rate", rate),
  ...some("burstiness", a.burstiness),
  ...some("seed", a.seed),
  ...(dataset === "random" ? { ...some("input_len", a.inputLen), ...some("range_ratio", a.rangeRatio), ...some("prefix_len", a.prefixLen) } : {}),
  ...some("output_len", a.outputLen),
  ...some("prefix_hit_rate", a.prefixHitRate),
  ...some("sharegpt", a.sharegptLengths)
})

/** --price-per-gpu-hour: one price for every hardware, else each file's price_per_gpu_hour_usd (sweep, plan). */
export const priceFlag = (description: string) =>
  Flag.Finite("price-per-gpu-hour").pipe(
    Flag.withDescription(description),
    Flag.filter(
      (n) => physicalProblem("usd_per_gpu_hour", n) === undefined,
      (n) => `--price-per-gpu-hour: ${physicalProblem("usd_per_gpu_hour", n)}`
    ),
    Flag.optional
  )

/** --slo-percentile: the percentile the --goodput SLOs hold at (sweep --bench, plan). */
export const sloPercentileFlag = (description: string) =>
  Flag.Finite("slo-percentile").pipe(
    Flag.withDescription(description),
    Flag.filter(
      (p) => p > 0 && p < 100,
      (p) => `--slo-percentile must be in (0, 100), got ${p}`
    ),
    Flag.optional
  )

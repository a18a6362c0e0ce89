/**
 * A predicted run against a measured one: every numeric field both sides have, side by side with
 * the relative error, and the fields only one side has.
 *
 * The measured side is the JSON a benchmark client saved, read by I/O code elsewhere and passed
 * here parsed:
 *   - `vllm bench serve --save-result` (vllm-project/vllm `vllm/benchmarks/serve.py` @
 *     009e6d4a1cd6ba3fb2a9fc00f4ec06f5297232a1): the keys of src/serve/metrics.ts, as they are;
 *   - `python -m sglang.bench_serving --output-file` (sgl-project/sglang
 *     `python/sglang/bench_serving.py` @ 0033168f0f58b2bc05aa0273bd475d9c01bafb1c, the `result`
 *     dict of `benchmark`): the same names for duration, completed, total_input_tokens,
 *     total_output_tokens, request_throughput, output_throughput and the ttft/tpot/itl
 *     statistics; end-to-end latency as mean/median/std/p99_e2e_latency_ms (vLLM's *_e2el_ms),
 *     total_throughput for vLLM's total_token_throughput. Its other keys (input_throughput,
 *     concurrency: the mean number of requests in flight, not vLLM's peak; accept_length,
 *     max_itl_ms, total_output_tokens_retokenized, the run's arguments) have no vLLM twin and are
 *     listed as measured-only.
 * Units agree on both sides (seconds for duration, ms for latencies, per second for rates).
 * error_pct = (predicted - measured) / |measured| x 100: positive when the prediction is high;
 * null when measured is 0 and predicted is not.
 */

export interface CompareRow {
  readonly field: string
  readonly predicted: number
  readonly measured: number
  readonly error_pct: number | null
}

export interface Comparison {
  /** Which client wrote the measured file (by its key names). */
  readonly measured_by: "vllm" | "sglang"
  /** Fields both sides have, in the predicted result's order. */
  readonly rows: ReadonlyArray<CompareRow>
  /** Numeric fields only the prediction has, in its order. */
  readonly only_predicted: ReadonlyArray<string>
  /** Numeric fields only the measurement has (under vLLM's name where it has one), in its order. */
  readonly only_measured: ReadonlyArray<string>
}

export type CompareOutcome = { readonly ok: true; readonly comparison: Comparison } | { readonly ok: false; readonly message: string }

/** SGLang names with a vLLM twin. */
const SGLANG_E2E = /^(mean|median|std|p[0-9.e+-]+)_e2e_latency_ms$/
const SGLANG_RENAMES: Readonly<Record<string, string>> = { total_throughput: "total_token_throughput" }
/** Keys only sglang.bench_serving writes. */
const SGLANG_ONLY = ["input_throughput", "total_output_tokens_retokenized", "concurrency", "accept_length", "max_itl_ms"]

/** The vLLM name of a measured key. */
export const vllmName = (key: string): string => {
  const e2e = SGLANG_E2E.exec(key)
  if (e2e !== null) return `${e2e[1]}_e2el_ms`
  return SGLANG_RENAMES[key] ?? key
}

const numeric = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** Relative error in percent (see the module header). */
export const errorPct = (predicted: number, measured: number): number | null =>
  measured === 0 ? (predicted === 0 ? 0 : null) : ((predicted - measured) / Math.abs(measured)) * 100

/** Compares a predicted result (metrics.ts `summarize`) with a parsed measured result file. */
export const compareResults = (predicted: Readonly<Record<string, unknown>>, measured: unknown): CompareOutcome => {
  if (typeof measured !== "object" || measured === null || Array.isArray(measured))
    return { ok: false, message: "the measured result must be a JSON object (a vllm bench serve --save-result file or a sglang.bench_serving output line)" }
  const raw = measured as Record<string, unknown>
  const keys = Object.keys(raw)
  const measured_by = keys.some((k) => SGLANG_E2E.test(k) || SGLANG_ONLY.includes(k)) ? "sglang" : "vllm"
  // Measured numbers under vLLM's names; a key already given under its vLLM name keeps that value.
  const m = new Map<string, number>()
  for (const k of keys) if (numeric(raw[k]) && vllmName(k) === k) m.set(k, raw[k])
  for (const k of keys) if (numeric(raw[k]) && vllmName(k) !== k && !m.has(vllmName(k))) m.set(vllmName(k), raw[k])
  const rows: CompareRow[] = []
  const only_predicted: string[] = []
  for (const [field, p] of Object.entries(predicted)) {
    if (!numeric(p)) continue
    const v = m.get(field)
    if (v === undefined) only_predicted.push(field)
    else rows.push({ field, predicted: p, measured: v, error_pct: errorPct(p, v) })
  }
  const only_measured = [...m.keys()].filter((k) => !numeric(predicted[k]))
  // Map order is insertion order: vLLM-named keys first; put them back in the file's order.
  const position = new Map<string, number>()
  for (const [i, k] of keys.entries()) if (!position.has(vllmName(k))) position.set(vllmName(k), i)
  only_measured.sort((a, b) => (position.get(a) as number) - (position.get(b) as number))
  return { ok: true, comparison: { measured_by, rows, only_predicted, only_measured } }
}

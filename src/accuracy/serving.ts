/**
 * The serving check: every row of the serving dataset (datasets/serving.ts) simulated by
 * `llmsim bench`'s engine model for TensorRT-LLM, the host-time constants fitted, and the error
 * reported in and out of sample, beside what the step answer (the old `sweep` throughput:
 * decode output only, the whole HBM as KV) gives on the same rows.
 *
 * Why the fit is cheap. At max load every request is queued at time 0, so which requests run in
 * which step depends on the scheduler's state only, never on how long a step took: one
 * simulation per row with host time 0 records each step's GPU time and sequence count, and any
 * host-time constants then give the run's duration as a sum over the recorded steps
 * (duration = sum of stepWallMs(gpu, sequences)), exactly what a rerun would give.
 *
 * The fit: host_step_ms and host_per_seq_ms >= 0 minimizing the squared log error of the output
 * throughput per GPU over the training rows (Nelder-Mead from a grid's best point). Reported:
 *   - in sample: fitted on every row, judged on every row;
 *   - leave one model out: for each model, fitted on the other models' rows, judged on its own
 *     (the held-out figure the acceptance gates on), dense and MoE apart.
 */
import type { PoolValidation } from "./disaggregated.ts"
import type { LoadedScenario } from "../config/load.ts"
import { contextFor } from "../kernel/layout.ts"
import { modelOf } from "../kernel/model.ts"
import { phaseMemory, simulatePhase } from "../kernel/step.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import { stepWallMs, type EngineSettings } from "../serve/engine.ts"
import { trtllmBenchFinetune, trtllmBenchMaxNumTokens, trtllmCudaGraphBatchSizes } from "../serve/engineDefaults.ts"
import { ENGINES } from "../serve/engines.ts"
import { deviceMemoryBytes, type MemoryInputs } from "../serve/memory.ts"
import { serve, type StepPricer } from "../serve/simulate.ts"
import { StepCost, type RankStep } from "../serve/stepCost.ts"
import type { ServeRequest } from "../serve/types.ts"
import { analyticEstimator } from "../timing/estimator.ts"
import { timingHardware } from "../timing/roofline.ts"
import type { ServingCase } from "./datasets/serving.ts"
import { nelderMead } from "./nelderMead.ts"

/** trtllm-bench's KV fraction on the page ("--kv_cache_free_gpu_mem_fraction 0.95" in many cases). */
const BENCH_KV_FRACTION = 0.95

/** One simulated row: its recorded steps and what the step answer said. */
export interface ServingRun {
  readonly case: ServingCase
  readonly settings: EngineSettings
  readonly kv_tokens_per_rank: number
  readonly output_tokens: number
  /** Per step: GPU ms and sequences scheduled. */
  readonly gpu_ms: Float64Array
  readonly sequences: Float64Array
  /** Output tokens/s per GPU by the step answer at the largest batch the whole HBM holds. */
  readonly step_answer_per_gpu: number
}

/**
 * The row's scenario: the shipped model on the row's hardware, the checkpoint's weights (FP8, or
 * NVFP4: NVIDIA's ModelOpt FP4 checkpoints quantize weights and activations, so the GEMMs run at
 * the part's fp4 rate, src/schema/dtypes.ts), FP8 KV, the row's layout. A model whose experts ship
 * in another 4-bit format (gpt-oss: MXFP4) keeps it.
 */
export const caseScenario = (base: LoadedScenario, hardware: HardwareSpec, c: ServingCase): LoadedScenario => {
  const p = base.spec.precision
  const keepsExperts = p?.moe_experts !== undefined && p.moe_experts !== "fp8" && p.moe_experts !== "bf16"
  const { deployment: _, ...spec } = base.spec
  return {
    ...base,
    hardware,
    spec: {
      ...spec,
      precision: {
        weights: c.weights,
        activations: p?.activations ?? "bf16",
        kv_cache: "fp8",
        ...(keepsExperts ? { moe_experts: p?.moe_experts } : { moe_experts: c.weights }),
        ...(p?.lm_head === undefined ? {} : { lm_head: p.lm_head })
      },
      parallelism: { tp: c.tp, dp: c.dp, ep: c.ep }
    }
  }
}

/** Records the steps of one row at max load with host time 0. */
export const simulateCase = (loaded: LoadedScenario, c: ServingCase): ServingRun => {
  const model = modelOf(loaded)
  const hw = loaded.hardware
  const layout = { gpus_per_node: hw.gpus_per_node ?? 8, nodes: 1, gpus: c.tp * c.dp, tp: c.tp, dp: c.dp, ep: c.ep, redundant_experts: 0 }
  const engine = ENGINES.trtllm
  const base = engine.defaults({ hbm_gb: hw.hbm_gb, tp: c.tp, dp: c.dp, ep: c.ep, max_model_len: c.isl + c.osl })
  const context = c.isl + c.osl
  const step = phaseMemory(model, contextFor(model, layout, "prefill", 1, base.max_step_tokens))
  const memory: MemoryInputs = {
    device_bytes: deviceMemoryBytes(hw.hbm_gb),
    weights_bytes: step.weights_bytes,
    activation_bytes: step.activation_bytes,
    kv_bytes_per_token: phaseMemory(model, contextFor(model, layout, "decode", 1, context)).kv_cache_bytes / context
  }
  const first = { ...base, memory_fraction: BENCH_KV_FRACTION, host_step_ms: 0, host_per_seq_ms: 0 }
  const kv = engine.kvBudget(memory, first)
  // trtllm-bench: KV requests over the whole layout, its rounding; max_num_tokens holds a prompt and the batch.
  const tuned = trtllmBenchFinetune((kv.kv_tokens * c.dp) / context, c.isl, c.osl, 1)
  const settings: EngineSettings = {
    ...first,
    max_running: tuned.maxBatchSize,
    max_step_tokens: trtllmBenchMaxNumTokens(tuned.maxNumTokens, tuned.maxBatchSize, c.isl, false),
    cuda_graph_sizes: trtllmCudaGraphBatchSizes(tuned.maxBatchSize, true)
  }
  const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
  const cost = new StepCost({ model, layout, timing: timingHardware(hw, "hardware"), estimator: analyticEstimator, composition })
  const gpu: Array<number> = []
  const seqs: Array<number> = []
  const recorder: StepPricer = {
    queriesPerDecode: cost.queriesPerDecode,
    stepMs: (ranks: ReadonlyArray<RankStep>, padded?: number) => {
      const ms = cost.stepMs(ranks, padded)
      // The busiest rank's sequences: each attention-DP rank's host work runs in its own process (src/serve/engine.ts stepWallMs).
      let n = 0
      for (const r of ranks) n = Math.max(n, r.chunkLens.length + r.decodes)
      gpu.push(ms)
      seqs.push(n)
      return ms
    }
  }
  function* requests(): Generator<ServeRequest> {
    for (let id = 0; id < c.num_requests; id++) yield { id, arrival_ms: 0, input_len: c.isl, output_len: c.osl }
  }
  let output = 0
  serve({
    settings,
    pricer: recorder,
    ranks: c.dp,
    kvTokensPerRank: kv.kv_tokens,
    requests: requests(),
    acceptance: 0,
    random: () => 0,
    onOutcome: (o) => void (output += o.output_len)
  })
  return {
    case: c,
    settings,
    kv_tokens_per_rank: kv.kv_tokens,
    output_tokens: output,
    gpu_ms: Float64Array.from(gpu),
    sequences: Float64Array.from(seqs),
    step_answer_per_gpu: stepAnswer(loaded, c)
  }
}

/**
 * What llmsim answered before `bench`: decode tokens/s per GPU of one decode step at the largest
 * batch whose weights, KV (ISL + OSL tokens each) and activations fit the whole HBM.
 */
const stepAnswer = (loaded: LoadedScenario, c: ServingCase): number => {
  const model = modelOf(loaded)
  const hw = loaded.hardware
  const layout = { gpus_per_node: hw.gpus_per_node ?? 8, tp: c.tp, dp: c.dp, ep: c.ep, redundant_experts: 0 }
  const seq = c.isl + c.osl
  const hbm = hw.hbm_gb * 1e9
  const fits = (b: number) => {
    const m = phaseMemory(model, contextFor(model, layout, "decode", b, seq))
    return m.weights_bytes + m.kv_cache_bytes + m.activation_bytes <= hbm
  }
  let lo = 0
  let hi = 1
  while (fits(hi) && hi < 1 << 16) {
    lo = hi
    hi *= 2
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1
    if (fits(mid)) lo = mid
    else hi = mid
  }
  if (lo === 0) return 0
  const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: 1 }
  const step = simulatePhase(model, contextFor(model, layout, "decode", lo, seq), timingHardware(hw, "hardware"), analyticEstimator, composition)
  return (lo * c.dp * 1000) / step.total_latency_ms / (c.tp * c.dp)
}

export interface HostConstants {
  readonly host_step_ms: number
  readonly host_per_seq_ms: number
}

/** Output tokens/s per GPU of a recorded run under host constants. */
export const predictedPerGpu = (run: ServingRun, h: HostConstants): number => {
  const s = { ...run.settings, host_step_ms: h.host_step_ms, host_per_seq_ms: h.host_per_seq_ms }
  let ms = 0
  for (let i = 0; i < run.gpu_ms.length; i++) ms += stepWallMs(s, run.gpu_ms[i], run.sequences[i])
  return (run.output_tokens * 1000) / ms / run.case.gpus
}

const logError = (runs: ReadonlyArray<ServingRun>, h: HostConstants): number => {
  let e = 0
  for (const r of runs) e += Math.log(predictedPerGpu(r, h) / r.case.measured_per_gpu) ** 2
  return e
}

/** Host constants minimizing the squared log error over `runs`: the best of a coarse grid, refined by Nelder-Mead. */
export const fitHost = (runs: ReadonlyArray<ServingRun>): HostConstants => {
  let best: HostConstants = { host_step_ms: 0, host_per_seq_ms: 0 }
  let bestErr = logError(runs, best)
  for (const a of [0, 1, 2, 5, 10, 20, 40]) {
    for (const b of [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]) {
      const e = logError(runs, { host_step_ms: a, host_per_seq_ms: b })
      if (e < bestErr) {
        bestErr = e
        best = { host_step_ms: a, host_per_seq_ms: b }
      }
    }
  }
  // The per-sequence term in units of 10 us, so one simplex step suits both axes.
  const clamp = (x: ReadonlyArray<number>): HostConstants => ({ host_step_ms: Math.max(0, x[0]), host_per_seq_ms: Math.max(0, x[1] / 100) })
  const refined = nelderMead((x) => logError(runs, clamp(x)), [best.host_step_ms, best.host_per_seq_ms * 100], { step: 0.5 })
  return clamp(refined.x)
}

/** Why a row stays out of the fit (still predicted and reported). */
export const excludedFromFit = (c: ServingCase): string | undefined =>
  c.blackwell
    ? BLACKWELL_NOTE
    : c.model.startsWith("gpt-oss")
      ? "gpt-oss on Hopper: the MXFP4 experts run through Triton with upcasting (the page's moe_config note), which llmsim does not model (issue 27)"
      : undefined

/** Why the B200 rows are judged apart: held out from the fit, on a part with datasheet-only constants. */
const BLACKWELL_NOTE =
  "B200 (NVFP4 / MXFP4 checkpoints): held out, judged with the host time fitted on the Hopper rows; B200.yaml's memory, kernel latency, tile and overlap constants are datasheet only (no B200 kernel data in data/reference)"

interface ServingRow {
  readonly line: number
  readonly model: string
  readonly moe: boolean
  readonly hardware: string
  readonly layout: string
  readonly isl: number
  readonly osl: number
  readonly measured: number
  /** Predicted with the constants fitted without this row's model. */
  readonly held_out: number
  readonly held_out_error_pct: number
  /** Predicted with the constants fitted on every trainable row. */
  readonly in_sample: number
  readonly in_sample_error_pct: number
  /** The step answer before `bench` (decode step throughput at the largest batch the HBM holds). */
  readonly step_answer: number
  readonly step_answer_error_pct: number
  readonly max_batch: number
  readonly excluded?: string
}

export interface ServingSummary {
  readonly rows: number
  readonly median_abs_error_pct: number
  readonly max_abs_error_pct: number
}

export interface ServingValidation {
  /** The constants shipped for trtllm (engines.ts TRTLLM_HOST_TIME) come from `fit`. */
  readonly fit: HostConstants
  readonly fitted_rows: number
  readonly rows: ReadonlyArray<ServingRow>
  /** Held-out (leave one model out) errors over the fitted rows' models, dense and MoE apart. */
  readonly held_out: { readonly dense: ServingSummary; readonly moe: ServingSummary }
  readonly in_sample: { readonly dense: ServingSummary; readonly moe: ServingSummary }
  readonly step_answer: { readonly dense: ServingSummary; readonly moe: ServingSummary }
  /** The B200 rows (never fitted on), predicted with the Hopper fit, dense and MoE apart. */
  readonly blackwell: { readonly dense: ServingSummary; readonly moe: ServingSummary }
  readonly excluded: ReadonlyArray<string>
  /** Published disaggregated pools at saturation (src/accuracy/disaggregated.ts), with validate --serving. */
  readonly pools?: PoolValidation
}

const pct = (p: number, m: number): number => (p / m - 1) * 100

const summary = (errors: ReadonlyArray<number>): ServingSummary => {
  const a = errors.map(Math.abs).sort((x, y) => x - y)
  const n = a.length
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2
  return { rows: n, median_abs_error_pct: median, max_abs_error_pct: n === 0 ? Number.NaN : a[n - 1] }
}

/** The fit on every trainable row, leave-one-model-out predictions, and the step answer beside them. */
export const servingValidation = (runs: ReadonlyArray<ServingRun>): ServingValidation => {
  const trainable = runs.filter((r) => excludedFromFit(r.case) === undefined)
  const fit = fitHost(trainable)
  const models = [...new Set(runs.map((r) => r.case.model))]
  const heldOut = new Map<string, HostConstants>()
  for (const m of models) heldOut.set(m, fitHost(trainable.filter((r) => r.case.model !== m)))
  const rows: Array<ServingRow> = runs.map((r) => {
    const c = r.case
    const held = predictedPerGpu(r, heldOut.get(c.model)!)
    const inSample = predictedPerGpu(r, fit)
    const excluded = excludedFromFit(c)
    return {
      line: c.line,
      model: c.model,
      moe: c.moe,
      hardware: c.hardware_config.replace(/^configs\/hardware\/|\.yaml$/g, ""),
      layout: c.dp > 1 ? `DEP${c.dp}` : `TP${c.tp}`,
      isl: c.isl,
      osl: c.osl,
      measured: c.measured_per_gpu,
      held_out: held,
      held_out_error_pct: pct(held, c.measured_per_gpu),
      in_sample: inSample,
      in_sample_error_pct: pct(inSample, c.measured_per_gpu),
      step_answer: r.step_answer_per_gpu,
      step_answer_error_pct: pct(r.step_answer_per_gpu, c.measured_per_gpu),
      max_batch: r.settings.max_running,
      ...(excluded === undefined ? {} : { excluded })
    }
  })
  const fitted = rows.filter((r) => r.excluded === undefined)
  const split = (f: (r: ServingRow) => number, of: ReadonlyArray<ServingRow> = fitted) => ({
    dense: summary(of.filter((r) => !r.moe).map(f)),
    moe: summary(of.filter((r) => r.moe).map(f))
  })
  const blackwell = rows.filter((r) => r.excluded === BLACKWELL_NOTE)
  return {
    fit,
    fitted_rows: fitted.length,
    rows,
    held_out: split((r) => r.held_out_error_pct),
    in_sample: split((r) => r.in_sample_error_pct),
    step_answer: split((r) => r.step_answer_error_pct),
    blackwell: split((r) => r.held_out_error_pct, blackwell),
    excluded: [...new Set(rows.flatMap((r) => (r.excluded === undefined ? [] : [r.excluded === BLACKWELL_NOTE ? r.excluded : `${r.model}: ${r.excluded}`])))]
  }
}

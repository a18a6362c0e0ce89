/**
 * The engine models, one per engine, in one registry: each engine's defaults and memory rule as its
 * own source sets them (engineDefaults.ts holds every value with its file and symbol at a named
 * release; docs/bench-engines.md explains them), and the scheduler policies engine.ts names. A
 * scenario's `engine:` block and the bench flags override any setting.
 *
 *   vllm     v0.16.0 `vllm serve`: one token budget, chunked prefill, mixed steps, on-demand blocks
 *            with preemption by recompute, async scheduling (host work overlaps the GPU's).
 *   sglang   v0.5.6 `sglang.launch_server`: prefill and decode batches apart, admission by the
 *            new-token ratio with retraction, the overlap scheduler, page size 1.
 *   trtllm   TensorRT-LLM's LLM API / trtllm-serve (PyTorch backend): GUARANTEED_NO_EVICT (each
 *            request's blocks to completion reserved on admission), no chunking, mixed steps, the
 *            overlap scheduler.
 *
 * Host time per step (host_step_ms, host_per_seq_ms: what the GPU waits for, HOST_TIME) is not an
 * engine default: it is fitted on published max-load measurements (`llmsim validate --serving`,
 * src/accuracy/serving.ts, docs/bench.md: the rows, the fit and the held-out error). Only
 * TensorRT-LLM has such rows; vLLM and SGLang borrow its fit and say so in every result.
 */
import type { EngineSettings } from "./engine.ts"
import {
  SGLANG_DEFAULTS,
  sglangCudaGraphBatchSizes,
  sglangMaxRunningRequests,
  sglangMemoryDefaults,
  sglangNewTokenRatio,
  TRTLLM_DEFAULTS,
  trtllmCudaGraphBatchSizes,
  VLLM_DEFAULTS,
  vllmCudaGraphCaptureSizes,
  vllmSchedulerLimits
} from "./engineDefaults.ts"
import { kvTokensOf, type KvBudget, type MemoryInputs } from "./memory.ts"

/** What an engine's defaults depend on. */
export interface EngineContext {
  /** The datasheet's HBM, GB (device memory as CUDA reports it is this many GiB: memory.ts). */
  readonly hbm_gb: number
  readonly tp: number
  /** Attention data-parallel ranks. */
  readonly dp: number
  /** Expert-parallel ranks (1: no EP); with dp > 1 it makes the ranks one engine with DP attention, not replicas. */
  readonly ep: number
  /** Longest prompt + output the engine accepts, tokens. */
  readonly max_model_len: number
}

/** Host-time constants of an engine, with where they come from. */
interface HostTime {
  readonly host_step_ms: number
  readonly host_per_seq_ms: number
  readonly source: string
}

/**
 * TensorRT-LLM's exposed host time, fitted by `llmsim validate --serving` on the 118 max-load rows
 * of trtllm_perf_overview.csv whose kernels llmsim models (gpt-oss on Hopper is left out: its MXFP4
 * experts run through Triton with upcasting, which llmsim does not model): least squares on the
 * log of output tokens/s per GPU, with the per-sequence term counted on the busiest attention-DP
 * rank (each rank's executor is its own process: src/serve/engine.ts stepWallMs). The fit puts all
 * of it in the per-step term. Leave-one-model-out median error: dense 17.1%, MoE 28.9%
 * (docs/serving-validation.md, every row). (Counting every rank's sequences, as before, gave 4.563
 * ms + 0.00998 ms a sequence and dense 15.8%, MoE 32.2%: the per-sequence term stood in for
 * attention-DP rows' host time that runs in parallel.) Hiding the host time under the GPU time
 * (wall = max(GPU, host)) instead of adding it refits to 9.345 ms + 0.01923 ms a sequence and
 * holds out worse: dense 22.5%, MoE 30.5%.
 */
export const TRTLLM_HOST_TIME: HostTime = {
  host_step_ms: 10.816,
  host_per_seq_ms: 0,
  source: "fitted on 118 TensorRT-LLM max-load rows: docs/serving-validation.md"
}

/** An engine without serving measurements takes TensorRT-LLM's fit, labelled as borrowed. */
const borrowed = (engine: string): HostTime => ({
  host_step_ms: TRTLLM_HOST_TIME.host_step_ms,
  host_per_seq_ms: TRTLLM_HOST_TIME.host_per_seq_ms,
  source: `borrowed from trtllm's fit: no ${engine} max-load measurements with full settings`
})

const hostSettings = (h: HostTime) => ({ host_step_ms: h.host_step_ms, host_per_seq_ms: h.host_per_seq_ms, host_source: h.source })

export interface EngineModel {
  readonly name: string
  readonly version: string
  /** The engine's flag for each overridable setting (messages, docs, `export`). */
  readonly flags: Readonly<Partial<Record<keyof EngineSettings, string>>>
  readonly defaults: (c: EngineContext) => EngineSettings
  /** The decode batches the engine captures as CUDA graphs when the largest is `maxBs` (its own list). */
  readonly cudaGraphSizes: (maxBs: number) => ReadonlyArray<number>
  readonly kvBudget: (m: MemoryInputs, s: EngineSettings) => KvBudget
  /** Settings that follow from the KV budget (SGLang's max_running_requests); identity elsewhere. */
  readonly afterBudget: (s: EngineSettings, kvTokensPerRank: number, c: EngineContext, userSet: ReadonlySet<keyof EngineSettings>) => EngineSettings
}

const budget = (m: MemoryInputs, s: EngineSettings, kv: number, rule: string, terms: KvBudget["terms"]): KvBudget => {
  const kv_bytes = Math.max(0, kv)
  return { kv_bytes, kv_tokens: kvTokensOf(kv_bytes, m.kv_bytes_per_token, s.block_size), rule, terms }
}

const gpuMiB = (hbmGb: number): number => hbmGb * 1024

const H100_CLASS = (hbmGb: number) => ({ totalMemoryBytes: hbmGb * 2 ** 30, name: "" })

const VLLM: EngineModel = {
  name: "vllm",
  version: VLLM_DEFAULTS.release,
  flags: {
    max_running: "--max-num-seqs",
    max_step_tokens: "--max-num-batched-tokens",
    memory_fraction: "--gpu-memory-utilization",
    block_size: "--block-size",
    chunked_prefill: "--enable-chunked-prefill",
    prefix_caching: "--enable-prefix-caching"
  },
  defaults: (c) => {
    const limits = vllmSchedulerLimits({ gpu: H100_CLASS(c.hbm_gb), usage: "openai_api_server", maxModelLen: c.max_model_len })
    return {
      engine: "vllm",
      version: VLLM_DEFAULTS.release,
      max_running: limits.maxNumSeqs,
      max_step_tokens: limits.maxNumBatchedTokens,
      chunked_prefill: VLLM_DEFAULTS.enableChunkedPrefill.value,
      mixed_steps: true,
      memory_fraction: VLLM_DEFAULTS.gpuMemoryUtilization.value,
      block_size: VLLM_DEFAULTS.blockSize.value,
      cuda_graph_sizes: vllmCudaGraphCaptureSizes({ maxNumSeqs: limits.maxNumSeqs, maxNumBatchedTokens: limits.maxNumBatchedTokens }),
      ...hostSettings(borrowed("vLLM")),
      admission: "on-demand",
      prefix_caching: VLLM_DEFAULTS.enablePrefixCaching.value
    }
  },
  cudaGraphSizes: (maxBs) => vllmCudaGraphCaptureSizes({ maxNumSeqs: maxBs, maxNumBatchedTokens: maxBs, maxCudagraphCaptureSize: maxBs }),
  kvBudget: (m, s) => {
    const requested = Math.ceil(m.device_bytes * s.memory_fraction)
    return budget(
      m,
      s,
      requested - m.weights_bytes - m.activation_bytes,
      "gpu_memory_utilization x device memory - weights - peak activations of the profile run",
      [
        { label: `device memory x gpu_memory_utilization ${s.memory_fraction}`, bytes: requested },
        { label: "weights", bytes: -m.weights_bytes },
        { label: `activations of a ${s.max_step_tokens}-token step`, bytes: -m.activation_bytes }
      ]
    )
  },
  afterBudget: (s) => s
}

const SGLANG: EngineModel = {
  name: "sglang",
  version: SGLANG_DEFAULTS.release,
  flags: {
    max_running: "--max-running-requests",
    max_step_tokens: "--chunked-prefill-size",
    memory_fraction: "--mem-fraction-static",
    block_size: "--page-size",
    prefix_caching: "--disable-radix-cache (off)"
  },
  defaults: (c) => {
    // DP attention (dp ranks sharing experts by EP) is one server of tp_size = tp x dp GPUs
    // (--tp N --dp N --enable-dp-attention); without EP, dp ranks are replicas of tp_size = tp.
    const dpAttention = c.dp > 1 && c.ep > 1
    const mem = sglangMemoryDefaults({ gpuMemMiB: gpuMiB(c.hbm_gb), tpSize: dpAttention ? c.tp * c.dp : c.tp, dpSize: c.dp, enableDpAttention: dpAttention })
    return {
      engine: "sglang",
      version: SGLANG_DEFAULTS.release,
      // Settled by afterBudget from the KV pool (TpModelWorker's rule).
      max_running: 4096,
      max_step_tokens: mem.chunkedPrefillSize,
      chunked_prefill: true,
      mixed_steps: SGLANG_DEFAULTS.enableMixedChunk.value,
      memory_fraction: mem.memFractionStatic,
      block_size: SGLANG_DEFAULTS.pageSize.value,
      cuda_graph_sizes: sglangCudaGraphBatchSizes(mem.cudaGraphMaxBs),
      ...hostSettings(borrowed("SGLang")),
      admission: "estimated",
      new_token_ratio: {
        ...sglangNewTokenRatio(mem.scheduleConservativeness),
        clip: SGLANG_DEFAULTS.clipMaxNewTokensEstimation.value,
        retract_steps: SGLANG_DEFAULTS.retractDecodeSteps.value
      },
      prefix_caching: !SGLANG_DEFAULTS.disableRadixCache.value
    }
  },
  cudaGraphSizes: (maxBs) => sglangCudaGraphBatchSizes(maxBs),
  kvBudget: (m, s) => {
    // profile_max_num_token: rest = free after load - free before load x (1 - fraction); before load the whole device is free.
    const kept = m.device_bytes * (1 - s.memory_fraction)
    return budget(m, s, m.device_bytes - m.weights_bytes - kept, "device memory x mem_fraction_static - weights", [
      { label: "device memory", bytes: m.device_bytes },
      { label: "weights", bytes: -m.weights_bytes },
      { label: `kept for activations and CUDA graphs (1 - mem_fraction_static ${s.memory_fraction})`, bytes: -kept }
    ])
  },
  afterBudget: (s, kvTokens, c, userSet) =>
    userSet.has("max_running") ? s : { ...s, max_running: Math.max(1, sglangMaxRunningRequests({ maxTotalNumTokens: kvTokens, contextLen: c.max_model_len })) }
}

const TRTLLM: EngineModel = {
  name: "trtllm",
  version: TRTLLM_DEFAULTS.release,
  flags: {
    max_running: "max_batch_size",
    max_step_tokens: "max_num_tokens",
    memory_fraction: "kv_cache_config.free_gpu_memory_fraction",
    block_size: "kv_cache_config.tokens_per_block",
    chunked_prefill: "enable_chunked_prefill"
  },
  defaults: () => ({
    engine: "trtllm",
    version: TRTLLM_DEFAULTS.release,
    max_running: TRTLLM_DEFAULTS.maxBatchSize.value,
    max_step_tokens: TRTLLM_DEFAULTS.maxNumTokens.value,
    chunked_prefill: TRTLLM_DEFAULTS.enableChunkedPrefill.value,
    mixed_steps: true,
    memory_fraction: TRTLLM_DEFAULTS.freeGpuMemoryFraction.value,
    block_size: TRTLLM_DEFAULTS.tokensPerBlock.value,
    cuda_graph_sizes: trtllmCudaGraphBatchSizes(0, TRTLLM_DEFAULTS.cudaGraphEnablePadding.value),
    ...hostSettings(TRTLLM_HOST_TIME),
    admission: "reserve-full",
    prefix_caching: false
  }),
  // trtllm-bench and the published configurations turn padding on (TRTLLM_BENCH_DEFAULTS.cudaGraphPadding).
  cudaGraphSizes: (maxBs) => trtllmCudaGraphBatchSizes(maxBs, true),
  kvBudget: (m, s) => {
    // KvCacheCreator._cal_max_memory: the fraction of what the warm-up (weights, a max_num_tokens forward) left free.
    const free = m.device_bytes - m.weights_bytes - m.activation_bytes
    return budget(m, s, free * s.memory_fraction, "free_gpu_memory_fraction x (device memory - weights - peak activations of the warm-up)", [
      { label: "device memory", bytes: m.device_bytes },
      { label: "weights", bytes: -m.weights_bytes },
      { label: `activations of a ${s.max_step_tokens}-token step`, bytes: -m.activation_bytes },
      { label: `left free (1 - free_gpu_memory_fraction ${s.memory_fraction})`, bytes: -(1 - s.memory_fraction) * free }
    ])
  },
  afterBudget: (s) => s
}

export const ENGINES: Readonly<Record<string, EngineModel>> = { vllm: VLLM, sglang: SGLANG, trtllm: TRTLLM }

export const ENGINE_NAMES = Object.keys(ENGINES)

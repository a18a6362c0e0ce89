/**
 * The three serving engines' defaults and memory rules, as their own source code sets them, each value
 * with the file and symbol it comes from (docs/bench-engines.md explains them and the scheduling rules).
 *
 * Versions read:
 * - vLLM v0.16.0: the release branch head 2d5be1dd5ce2e44dfea53ea03ff61143da5137eb (the tag's tree for
 *   every file cited here; the branch's last commit only touches .buildkite/).
 * - SGLang v0.5.6: 7ae368efde14f0b2abe769a5fbb99b8154b2a9b7 (the "bump SGLang version to 0.5.6" commit, which
 *   the repository's release-fake-tag workflow tags as v0.5.6).
 * - TensorRT-LLM: no tagged tree could be read here; each source names the commit of the file read (main-branch
 *   snapshots, 2025-2026). The LLM API defaults agree with the published 1.3.0rc27 / 1.4.0rc4 API reference.
 *
 * Pure: plain data and arithmetic, no effect, no file system.
 */

/** One default and where it is set. */
export interface Sourced<T> {
  readonly value: T
  /** A URL to the file at the release tag or commit, then the symbol that sets the value. */
  readonly source: string
}

const VLLM = "https://github.com/vllm-project/vllm/blob/v0.16.0/"
const SGL = "https://github.com/sgl-project/sglang/blob/v0.5.6/"
const TRT = (commit: string, file: string): string => `https://github.com/NVIDIA/TensorRT-LLM/blob/${commit}/${file}`
/** TensorRT-LLM file versions read (one commit per file: see the module comment). */
const TRT_LLM_ARGS = TRT("0004396720054fd8e205cbf616f21f0b57c6b412", "tensorrt_llm/llmapi/llm_args.py")
const TRT_UTIL = TRT("0004396720054fd8e205cbf616f21f0b57c6b412", "tensorrt_llm/_torch/pyexecutor/_util.py")
const TRT_CAPACITY = TRT("02a10fed0dbf5db74c7da035be9c5fbef6d2df7a", "cpp/tensorrt_llm/batch_manager/capacityScheduler.cpp")
const TRT_BLOCKS = TRT("1ce9149bf3c290610ec8091806d68f6226ce3328", "cpp/tensorrt_llm/batch_manager/scheduledBlocksManager.h")
const TRT_KVCM = TRT("b35ac1b64368513d215c57d2ed01d62d910df8da", "cpp/tensorrt_llm/batch_manager/kvCacheManager.cpp")
const TRT_MICRO = TRT("0a949d3128bfaf4ddedefb0259125622a9ec830f", "cpp/tensorrt_llm/batch_manager/microBatchScheduler.cpp")
const TRT_TUNING = TRT("04cba882084a25665e7f80f5bda71b35b9790b6f", "tensorrt_llm/bench/build/tuning.py")
const TRT_BENCH_UTILS = TRT("7ed07f0691dff2c1c89196adee670ce9f4f15f67", "tensorrt_llm/bench/build/utils.py")
const TRT_GENERAL = TRT("0171265edef1c67ef334e0db2427148161aa2815", "tensorrt_llm/bench/benchmark/utils/general.py")
/** throughput.py at this commit sits beside tensorrt_llm/version.py = "1.0.0rc4". */
const TRT_THROUGHPUT = TRT("000a01de66f0eab4ab05640711f0253f50f5209c", "tensorrt_llm/bench/benchmark/throughput.py")

const GIB = 2 ** 30

// ---------------------------------------------------------------------------------------------
// vLLM v0.16.0 (V1 engine, `vllm serve`)
// ---------------------------------------------------------------------------------------------

/** `vllm serve` runs with UsageContext.OPENAI_API_SERVER; the offline `LLM` class with LLM_CLASS. */
export type VllmUsageContext = "openai_api_server" | "llm_class"

/** The GPU as vLLM's get_batch_defaults sees it: NVML total memory and the lower-cased device name. */
export interface VllmGpu {
  readonly totalMemoryBytes: number
  readonly name: string
}

/**
 * EngineArgs.get_batch_defaults on a CUDA GPU: at least 70 GiB and not an A100 gets the large table
 * (H100/H200/MI300-class), everything else the small one. TPU and CPU branches are left out.
 */
export function vllmBatchDefaults(gpu: VllmGpu, usage: VllmUsageContext): { readonly maxNumBatchedTokens: number; readonly maxNumSeqs: number } {
  const large = gpu.totalMemoryBytes >= 70 * GIB && !gpu.name.toLowerCase().includes("a100")
  if (large) return usage === "llm_class" ? { maxNumBatchedTokens: 16384, maxNumSeqs: 1024 } : { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 }
  return usage === "llm_class" ? { maxNumBatchedTokens: 8192, maxNumSeqs: 256 } : { maxNumBatchedTokens: 2048, maxNumSeqs: 256 }
}

/**
 * EngineArgs._set_default_max_num_seqs_and_batched_tokens_args: the table's values, then (only when the
 * user set neither) a non-chunked engine's budget is raised to max_model_len, the budget is capped at
 * max_num_seqs * max_model_len, and max_num_seqs at the budget.
 */
export function vllmSchedulerLimits(o: {
  readonly gpu: VllmGpu
  readonly usage: VllmUsageContext
  readonly maxModelLen: number
  /** Default true for decoder-only generative models (ModelConfig.is_chunked_prefill_supported). */
  readonly enableChunkedPrefill?: boolean
  readonly maxNumBatchedTokens?: number
  readonly maxNumSeqs?: number
}): { readonly maxNumBatchedTokens: number; readonly maxNumSeqs: number } {
  const table = vllmBatchDefaults(o.gpu, o.usage)
  let tokens = o.maxNumBatchedTokens ?? table.maxNumBatchedTokens
  let seqs = o.maxNumSeqs ?? table.maxNumSeqs
  if (o.maxNumBatchedTokens === undefined) {
    if (o.enableChunkedPrefill === false) tokens = Math.max(o.maxModelLen, tokens)
    tokens = Math.min(seqs * o.maxModelLen, tokens)
  }
  if (o.maxNumSeqs === undefined) seqs = Math.min(seqs, tokens)
  return { maxNumBatchedTokens: tokens, maxNumSeqs: seqs }
}

/**
 * VllmConfig._set_cudagraph_sizes with no user sizes: max capture size = min(max_num_seqs * (1 + spec
 * tokens) * 2, 512), capped by max_num_batched_tokens; sizes 1, 2, 4, then every 8 below 256, then every
 * 16 from 256. Sizes count tokens (a decode step has one token per request).
 */
export function vllmCudaGraphCaptureSizes(o: {
  readonly maxNumSeqs: number
  readonly maxNumBatchedTokens: number
  readonly numSpeculativeTokens?: number
  /** --max-cudagraph-capture-size, when given. */
  readonly maxCudagraphCaptureSize?: number
}): ReadonlyArray<number> {
  const decodeQueryLen = 1 + (o.numSpeculativeTokens ?? 0)
  const max = Math.min(o.maxNumBatchedTokens, o.maxCudagraphCaptureSize ?? Math.min(o.maxNumSeqs * decodeQueryLen * 2, 512))
  const sizes = [1, 2, 4].filter((s) => s <= max)
  for (let s = 8; s < Math.min(max + 1, 256); s += 8) sizes.push(s)
  for (let s = 256; s <= max; s += 16) sizes.push(s)
  return sizes
}

/**
 * CudagraphDispatcher.dispatch: a batch of `numTokens` tokens runs the smallest captured size at or above
 * it (FULL graph for a uniform decode batch, PIECEWISE for a mixed one); above the largest size it runs
 * eagerly (null).
 */
export function vllmCudaGraphPaddedTokens(numTokens: number, sizes: ReadonlyArray<number>): number | null {
  for (const s of sizes) if (s >= numTokens) return s
  return null
}

/**
 * Worker.determine_available_memory (gpu_worker.py) with request_memory (v1/worker/utils.py) and
 * memory_profiling (utils/mem_utils.py): KV bytes = ceil(total * gpu_memory_utilization) - (weights + torch
 * peak increase during profile_run + non-torch increase since the worker's start). profile_run is one dummy
 * forward of max_num_batched_tokens tokens (spread over min(max_num_seqs, tokens) requests) plus a sampler
 * run. CUDA graphs are captured after the KV cache is allocated and are not subtracted in v0.16.0.
 */
export function vllmKvCacheBytes(o: {
  readonly totalBytes: number
  readonly gpuMemoryUtilization: number
  readonly weightsBytes: number
  readonly peakActivationBytes: number
  readonly nonTorchBytes: number
}): number {
  return Math.ceil(o.totalBytes * o.gpuMemoryUtilization) - (o.weightsBytes + o.peakActivationBytes + o.nonTorchBytes)
}

/** kv_cache_utils.get_num_blocks: floor(floor(available / page_size) / num_layers), page_size one layer's block in bytes. */
export function vllmNumGpuBlocks(availableBytes: number, pageSizeBytes: number, numLayers: number): number {
  return Math.max(Math.floor(Math.floor(availableBytes / pageSizeBytes) / numLayers), 0)
}

/** vLLM v0.16.0 defaults for `vllm serve` on an H100/H200-class GPU (>= 70 GiB, not an A100). */
export const VLLM_DEFAULTS = {
  release: "v0.16.0",
  usageContext: { value: "openai_api_server", source: `${VLLM}vllm/entrypoints/cli/serve.py usage_context = UsageContext.OPENAI_API_SERVER` },
  maxNumBatchedTokens: { value: 8192, source: `${VLLM}vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (>= 70 GiB, not A100, OPENAI_API_SERVER)` },
  maxNumSeqs: { value: 1024, source: `${VLLM}vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (>= 70 GiB, not A100)` },
  enableChunkedPrefill: {
    value: true,
    source: `${VLLM}vllm/engine/arg_utils.py EngineArgs._set_default_chunked_prefill_and_prefix_caching_args <- vllm/config/model.py ModelConfig.is_chunked_prefill_supported`
  },
  enablePrefixCaching: {
    value: true,
    source: `${VLLM}vllm/engine/arg_utils.py EngineArgs._set_default_chunked_prefill_and_prefix_caching_args <- vllm/config/model.py ModelConfig.is_prefix_caching_supported (decoder: True; hybrid/attention-free: False)`
  },
  blockSize: { value: 16, source: `${VLLM}vllm/platforms/cuda.py CudaPlatformBase.check_and_update_config (block_size None -> 16; MLA backends force 64/128)` },
  gpuMemoryUtilization: { value: 0.9, source: `${VLLM}vllm/config/cache.py CacheConfig.gpu_memory_utilization` },
  schedulingPolicy: { value: "fcfs", source: `${VLLM}vllm/config/scheduler.py SchedulerConfig.policy` },
  longPrefillTokenThreshold: {
    value: 0,
    source: `${VLLM}vllm/config/scheduler.py SchedulerConfig.long_prefill_token_threshold (0 = off; int(max_model_len * 0.04) only when max_num_partial_prefills > 1)`
  },
  maxNumPartialPrefills: { value: 1, source: `${VLLM}vllm/config/scheduler.py SchedulerConfig.max_num_partial_prefills` },
  asyncScheduling: {
    value: true,
    source: `${VLLM}vllm/config/vllm.py VllmConfig.__post_init__ (async_scheduling None -> True unless non-EAGLE spec decode, a non mp/uni/external_launcher executor, or Mamba prefix caching)`
  },
  preemptionMode: {
    value: "recompute",
    source: `${VLLM}vllm/v1/core/sched/scheduler.py Scheduler._preempt_request (frees the KV blocks, num_computed_tokens = 0)`
  },
  preemptedRequest: {
    value: "last_of_running",
    source: `${VLLM}vllm/v1/core/sched/scheduler.py Scheduler.schedule (fcfs: self.running.pop(); priority: max (priority, arrival_time))`
  },
  optimizationLevel: { value: "O2", source: `${VLLM}vllm/config/vllm.py VllmConfig.optimization_level` },
  cudagraphMode: { value: "FULL_AND_PIECEWISE", source: `${VLLM}vllm/config/vllm.py OPTIMIZATION_LEVEL_02 compilation_config.cudagraph_mode` },
  maxCudagraphCaptureSize: { value: 512, source: `${VLLM}vllm/config/vllm.py VllmConfig._set_cudagraph_sizes (min(1024 * 2, 512), <= 8192)` },
  cudaGraphMemoryInKvBudget: {
    value: false,
    source: `${VLLM}vllm/v1/worker/gpu_worker.py Worker.compile_or_warm_up_model (capture_model after the KV cache; only logged as a --kv-cache-memory hint)`
  }
} as const satisfies Record<string, Sourced<unknown> | string>

// ---------------------------------------------------------------------------------------------
// SGLang v0.5.6 (`python -m sglang.launch_server`)
// ---------------------------------------------------------------------------------------------

/** What ServerArgs._handle_gpu_memory_settings (then _handle_data_parallelism) settles. */
export interface SglangMemoryDefaults {
  readonly chunkedPrefillSize: number
  readonly cudaGraphMaxBs: number
  /** Activations + CUDA graphs + constants the rule keeps out of the static pool, MiB. */
  readonly reservedMemMiB: number | null
  readonly memFractionStatic: number
  readonly scheduleConservativeness: number
}

/** Python's round(x, 3) for the positive values met here (ties are not reachable from MiB integers in practice). */
const round3 = (x: number): number => Math.round(x * 1000) / 1000

/**
 * ServerArgs._handle_gpu_memory_settings for a CUDA GPU (NPU branches left out), then the DP-attention
 * adjustments of ServerArgs._handle_data_parallelism. `gpuMemMiB` is nvidia-smi's memory.total (MiB, the
 * smallest GPU; get_nvgpu_memory_capacity), e.g. 81559 for an H100 SXM 80GB. null: no GPU known (fallbacks).
 * Model-specific (_handle_model_specific_adjustments), multimodal (adjust_mem_fraction_for_vlm) and AMD aiter
 * adjustments are left out.
 */
export function sglangMemoryDefaults(o: {
  readonly gpuMemMiB: number | null
  readonly tpSize: number
  readonly ppSize?: number
  readonly dpSize?: number
  readonly enableDpAttention?: boolean
  /** ServerArgs.speculative_algorithm (e.g. "EAGLE", "NGRAM", "STANDALONE"); null: none. */
  readonly speculativeAlgorithm?: string | null
  readonly enablePiecewiseCudaGraph?: boolean
  readonly piecewiseCudaGraphMaxTokens?: number
  readonly chunkedPrefillSize?: number
  readonly cudaGraphMaxBs?: number
  readonly maxPrefillTokens?: number
  readonly memFractionStatic?: number
  readonly scheduleConservativeness?: number
}): SglangMemoryDefaults {
  const tp = o.tpSize
  const pp = o.ppSize ?? 1
  const dp = o.dpSize ?? 1
  const dpAttention = (o.enableDpAttention ?? false) && dp > 1
  const gpu = o.gpuMemMiB
  let chunk = o.chunkedPrefillSize
  let bs = o.cudaGraphMaxBs
  const pick = (c: number, small: number, large: number): void => {
    chunk ??= c
    bs ??= tp < 4 ? small : large
  }
  if (gpu === null) pick(4096, 160, 160)
  else if (gpu < 20 * 1024) pick(2048, 8, 8)
  else if (gpu < 35 * 1024) pick(2048, 24, 80)
  else if (gpu < 60 * 1024) pick(4096, 32, 160)
  else if (gpu < 90 * 1024) pick(8192, 256, 512)
  else if (gpu < 160 * 1024) pick(8192, 256, 512)
  else pick(16384, 512, 512)
  const chunked = chunk as number
  const maxBs = bs as number

  let reserved: number | null = null
  let fraction = o.memFractionStatic
  if (fraction === undefined) {
    let r = 512
    r += Math.max(chunked > 0 ? chunked : (o.maxPrefillTokens ?? 16384), 2048) * 1.5
    r += maxBs * 2
    r += ((tp * pp) / 8) * 1024
    if (dpAttention) {
      r += maxBs * dp * 3
      if (maxBs > 300) r += maxBs * dp * 1.5
    }
    if (gpu !== null && gpu > 60 * 1024) r = Math.max(r, 10 * 1024)
    const spec = o.speculativeAlgorithm ?? null
    if (spec === "STANDALONE") r += 6 * 1024
    else if (spec !== null && spec !== "NGRAM") r += 2 * 1024
    if (o.enablePiecewiseCudaGraph) r += Math.floor((o.piecewiseCudaGraphMaxTokens ?? 4096) / 4)
    reserved = r
    fraction = gpu !== null ? round3((gpu - r) / gpu) : 0.88
  }
  const conservativeness = o.scheduleConservativeness ?? 1.0
  return {
    chunkedPrefillSize: dpAttention ? Math.floor(chunked / dp) : chunked,
    cudaGraphMaxBs: maxBs,
    reservedMemMiB: reserved,
    memFractionStatic: fraction,
    scheduleConservativeness: dpAttention ? conservativeness * 0.3 : conservativeness
  }
}

/** mem_fraction_static as a function of (GPU memory in MiB, tp size), every other input at its default. */
export function sglangMemFractionStatic(gpuMemMiB: number | null, tpSize: number): number {
  return sglangMemoryDefaults({ gpuMemMiB, tpSize }).memFractionStatic
}

/**
 * ServerArgs._generate_cuda_graph_batch_sizes: [1, 2, 4, 8, 12] + every 8 to 256 + every 16 from 272 below
 * 512 + every 32 from 512, kept <= cuda_graph_max_bs (a different list with speculative decoding;
 * 1..max when padding is disabled). A decode batch of B requests replays the smallest size >= B
 * (cuda_graph_runner.py CudaGraphRunner.replay_prepare, bisect); above the largest it runs eagerly.
 */
export function sglangCudaGraphBatchSizes(
  cudaGraphMaxBs: number,
  o: { readonly speculative?: boolean; readonly disablePadding?: boolean } = {}
): ReadonlyArray<number> {
  const range = (start: number, stop: number, step: number): Array<number> => {
    const out: Array<number> = []
    for (let i = start; i < stop; i += step) out.push(i)
    return out
  }
  let sizes: Array<number>
  if (o.disablePadding) sizes = range(1, cudaGraphMaxBs + 1, 1)
  else if (!o.speculative) sizes = [1, 2, 4, 8, 12, ...range(16, 257, 8), ...range(272, 512, 16), ...range(512, cudaGraphMaxBs + 1, 32)]
  else sizes = [...range(1, 9, 1), ...range(10, 33, 2), ...range(40, 65, 4), ...range(72, 257, 8), ...range(272, cudaGraphMaxBs + 1, 16)]
  return sizes.filter((b) => b <= cudaGraphMaxBs)
}

/**
 * Scheduler.__init__: the new-token ratio that admission multiplies each running request's remaining
 * max_new_tokens by. It starts at init, falls by `decay` after every decode step without retraction, floors at min.
 */
export function sglangNewTokenRatio(scheduleConservativeness = 1.0): { readonly init: number; readonly min: number; readonly decay: number } {
  const init = Math.min(SGLANG_DEFAULTS.initNewTokenRatio.value * scheduleConservativeness, 1.0)
  const min = Math.min(init * SGLANG_DEFAULTS.minNewTokenRatioFactor.value, 1.0)
  return { init, min, decay: (init - min) / SGLANG_DEFAULTS.newTokenRatioDecaySteps.value }
}

/** ScheduleBatch.retract_decode: the ratio after a retraction, from the requests left running. */
export function sglangRetractNewTokenRatio(o: { readonly decodedTokens: number; readonly runningRequests: number; readonly maxNewTokensSum: number }): number {
  return Math.min(1.0, (o.decodedTokens + SGLANG_DEFAULTS.retractDecodeSteps.value * o.runningRequests) / (o.maxNewTokensSum + 1))
}

/** ModelRunner.profile_max_num_token cell_size: KV bytes per token over all layers (MHA: heads per attention-TP rank; MLA: one latent). */
export function sglangKvCellSizeBytes(
  o:
    | { readonly kind: "mha"; readonly numKvHeads: number; readonly headDim: number; readonly numLayers: number; readonly elemBytes: number }
    | { readonly kind: "mla"; readonly kvLoraRank: number; readonly qkRopeHeadDim: number; readonly numLayers: number; readonly elemBytes: number }
): number {
  return o.kind === "mha" ? o.numKvHeads * o.headDim * o.numLayers * 2 * o.elemBytes : (o.kvLoraRank + o.qkRopeHeadDim) * o.numLayers * o.elemBytes
}

/**
 * ModelRunner.profile_max_num_token, then init_memory_pool's page rounding: rest = free_after_load -
 * free_before_load * (1 - mem_fraction_static) (GiB, min over ranks); tokens = floor(rest * 2^30 / cell_size),
 * rounded down to page_size. free_before_load is measured after torch.distributed init, before the weights.
 */
export function sglangMaxTotalNumTokens(o: {
  readonly freeGiBBeforeLoad: number
  readonly freeGiBAfterLoad: number
  readonly memFractionStatic: number
  readonly cellSizeBytes: number
  readonly pageSize?: number
}): number {
  const rest = o.freeGiBAfterLoad - o.freeGiBBeforeLoad * (1 - o.memFractionStatic)
  const tokens = Math.floor((rest * GIB) / o.cellSizeBytes)
  const page = o.pageSize ?? 1
  return Math.floor(tokens / page) * page
}

/**
 * max_running_requests: the request-slot pool (ModelRunner.init_memory_pool max_num_reqs, when unset:
 * min(max(int(tokens / context_len * 512), 2048), 4096)) and TpModelWorker.__init__'s cap
 * min(tokens // 2 or the user's value // dp under DP attention, pool size).
 */
export function sglangMaxRunningRequests(o: {
  readonly maxTotalNumTokens: number
  readonly contextLen: number
  readonly maxRunningRequests?: number
  readonly dpSize?: number
  readonly enableDpAttention?: boolean
}): number {
  const pool = o.maxRunningRequests ?? Math.min(Math.max(Math.trunc((o.maxTotalNumTokens / o.contextLen) * 512), 2048), 4096)
  const dp = o.enableDpAttention && (o.dpSize ?? 1) > 1 ? (o.dpSize as number) : 1
  const wanted = o.maxRunningRequests === undefined ? Math.floor(o.maxTotalNumTokens / 2) : Math.floor(o.maxRunningRequests / dp)
  return Math.min(wanted, pool)
}

/** SGLang v0.5.6 server defaults (the memory-dependent ones are rules: sglangMemoryDefaults). */
export const SGLANG_DEFAULTS = {
  release: "v0.5.6",
  memFractionStatic: { value: null, source: `${SGL}python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings (rule: sglangMemoryDefaults)` },
  chunkedPrefillSize: { value: null, source: `${SGL}python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings (8192 on 60-160 GB GPUs)` },
  cudaGraphMaxBs: {
    value: null,
    source: `${SGL}python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings (256 at tp < 4, 512 at tp >= 4 on 60-160 GB)`
  },
  maxRunningRequests: { value: null, source: `${SGL}python/sglang/srt/managers/tp_worker.py TpModelWorker.__init__ (rule: sglangMaxRunningRequests)` },
  maxPrefillTokens: { value: 16384, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.max_prefill_tokens` },
  schedulePolicy: { value: "fcfs", source: `${SGL}python/sglang/srt/server_args.py ServerArgs.schedule_policy` },
  scheduleConservativeness: { value: 1.0, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.schedule_conservativeness` },
  initNewTokenRatio: { value: 0.7, source: `${SGL}python/sglang/srt/environ.py Envs.SGLANG_INIT_NEW_TOKEN_RATIO` },
  minNewTokenRatioFactor: { value: 0.14, source: `${SGL}python/sglang/srt/environ.py Envs.SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR` },
  newTokenRatioDecaySteps: { value: 600, source: `${SGL}python/sglang/srt/environ.py Envs.SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS` },
  retractDecodeSteps: { value: 20, source: `${SGL}python/sglang/srt/environ.py Envs.SGLANG_RETRACT_DECODE_STEPS` },
  clipMaxNewTokensEstimation: {
    value: 4096,
    source: `${SGL}python/sglang/srt/managers/schedule_policy.py CLIP_MAX_NEW_TOKENS (SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION)`
  },
  pageSize: { value: 1, source: `${SGL}python/sglang/srt/server_args.py ServerArgs._handle_page_size` },
  enableMixedChunk: { value: false, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.enable_mixed_chunk` },
  disableOverlapSchedule: {
    value: false,
    source: `${SGL}python/sglang/srt/server_args.py ServerArgs.disable_overlap_schedule (Scheduler.enable_overlap = not it)`
  },
  disableRadixCache: { value: false, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.disable_radix_cache` },
  disableCudaGraphPadding: { value: false, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.disable_cuda_graph_padding` },
  enablePiecewiseCudaGraph: { value: false, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.enable_piecewise_cuda_graph` },
  enableDpAttention: { value: false, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.enable_dp_attention` },
  dpSize: { value: 1, source: `${SGL}python/sglang/srt/server_args.py ServerArgs.dp_size` },
  lpmFcfsFallbackQueueLength: {
    value: 128,
    source: `${SGL}python/sglang/srt/managers/schedule_policy.py SchedulePolicy._determine_active_policy (lpm runs as fcfs above 128 waiting)`
  }
} as const satisfies Record<string, Sourced<unknown> | string>

// ---------------------------------------------------------------------------------------------
// TensorRT-LLM (PyTorch backend: LLM API, trtllm-serve, trtllm-bench)
// ---------------------------------------------------------------------------------------------

/**
 * BaseCudaGraphConfig._generate_cuda_graph_batch_sizes (max_batch_size 0 -> 128). With padding: 1, 2, 4,
 * every 8 to 128, then +64 steps; without: 1..31, 32, 64, 128, then powers of two from 256 below max. The
 * max itself is always appended. Graphs serve generation-only batches (TorchLlmArgs.cuda_graph_config).
 */
export function trtllmCudaGraphBatchSizes(maxBatchSize = 0, enablePadding = false): ReadonlyArray<number> {
  const max = maxBatchSize || 128
  let sizes: Array<number>
  if (enablePadding) {
    sizes = [1, 2, 4]
    for (let i = 1; i <= 16; i++) sizes.push(i * 8)
    while ((sizes.at(-1) as number) + 64 <= max) sizes.push((sizes.at(-1) as number) + 64)
  } else {
    sizes = []
    for (let i = 1; i < 32; i++) sizes.push(i)
    sizes.push(32, 64, 128)
    for (let i = 8; i < Math.ceil(Math.log2(max)); i++) sizes.push(2 ** i)
  }
  sizes = sizes.filter((s) => s <= max).sort((a, b) => a - b)
  if (sizes.length === 0 || sizes.at(-1) !== max) sizes.push(max)
  return sizes
}

/**
 * KvCacheCreator._cal_max_memory after configure_kv_cache_capacity's warm-up: a dummy run of context
 * requests totalling max_num_tokens (and the CUDA-graph warm-up) on a small estimation KV cache; peak =
 * torch allocated peak (weights included) + memory used outside torch after the run. KV bytes =
 * (device total - peak + the estimation KV cache's bytes) * free_gpu_memory_fraction.
 */
export function trtllmKvCacheBytes(o: {
  readonly totalGpuBytes: number
  readonly peakBytes: number
  readonly estimationKvBytes: number
  readonly freeGpuMemoryFraction: number
}): number {
  return Math.trunc((o.totalGpuBytes - o.peakBytes + o.estimationKvBytes) * o.freeGpuMemoryFraction)
}

/**
 * KVCacheManager::getRemainingBlocksToCompletion for full attention, beam 1: the blocks a request still
 * needs to reach prompt + max_new_tokens. GUARANTEED_NO_EVICT admits a request only if these fit in the
 * free blocks left after every running request's own remainder (NoEvictScheduledBlocksManager).
 */
export function trtllmRemainingBlocksToCompletion(promptLen: number, maxNewTokens: number, tokensPerBlock: number, allocatedBlocks = 0): number {
  return Math.ceil((promptLen + maxNewTokens) / tokensPerBlock) - allocatedBlocks
}

/**
 * trtllm-bench's finetune_setting (bench/build/tuning.py): raw batch = min(kv_cache_max_requests, 4096) / pp,
 * raw tokens = min(raw batch * (1 + isl / osl), 32768), then rounded up: batch to 32s (min 64) below 256,
 * 128s below 1024, else 256s; tokens to 256s (min 2048) below 4096, 512s below 8192, else 1024s.
 */
export function trtllmBenchFinetune(
  kvCacheMaxRequests: number,
  inputLen: number,
  outputLen: number,
  ppSize: number,
  optimistic = true
): { readonly maxBatchSize: number; readonly maxNumTokens: number } {
  const rawBs = Math.min(kvCacheMaxRequests, 4096) / ppSize
  const rawToken = Math.min(rawBs * (1 + inputLen / outputLen), 32768)
  let maxBs: number
  if (!optimistic) maxBs = 2 * Math.floor(rawBs / 2)
  else if (rawBs < 256) maxBs = Math.max(64, 32 * Math.ceil(rawBs / 32))
  else if (rawBs < 1024) maxBs = 128 * Math.ceil(rawBs / 128)
  else maxBs = 256 * Math.ceil(rawBs / 256)
  let maxToken: number
  if (rawToken < 4096) maxToken = Math.max(2048, 256 * Math.ceil(rawToken / 256))
  else if (rawToken < 8192) maxToken = 512 * Math.ceil(rawToken / 512)
  else maxToken = 1024 * Math.ceil(rawToken / 1024)
  return { maxBatchSize: maxBs, maxNumTokens: maxToken }
}

/**
 * trtllm-bench's calc_engine_setting for a dense attention model (Mamba hybrids left out): bytes per token =
 * 2 * layers * max(tp, kv_heads) * head_size * kv_elem_bytes; available = device GiB (NVML total,
 * bench/build/utils.py get_device_memory) * tp * pp - params * elem_bytes; KV requests = available *
 * fraction / (bytes per token * (isl + osl)); then finetune. The dataset's average isl/osl are the targets,
 * and `throughput` passes --kv_cache_free_gpu_mem_fraction (default 0.90) as the fraction.
 */
export function trtllmBenchEngineSettings(o: {
  readonly paramCount: number
  /** 2 unquantized, 1 FP8 / FP8 block scales, 0.5 NVFP4 (BYTES_PER_ELEM). */
  readonly bytesPerElem: number
  readonly kvBytesPerElem: number
  readonly numAttentionLayers: number
  readonly numKvHeads: number
  readonly headSize: number
  readonly tpSize: number
  readonly ppSize: number
  readonly deviceMemoryGiB: number
  readonly targetInputLen: number
  readonly targetOutputLen: number
  readonly kvCacheGpuMemFraction?: number
}): { readonly kvCacheMaxRequests: number; readonly maxBatchSize: number; readonly maxNumTokens: number } {
  const kvHeads = Math.max(o.tpSize, o.numKvHeads)
  const bytePerTokenGiB = (2 * o.numAttentionLayers * kvHeads * o.headSize * o.kvBytesPerElem) / GIB
  const engineGiB = (o.paramCount * o.bytesPerElem) / GIB
  const available = o.deviceMemoryGiB * o.tpSize * o.ppSize - engineGiB
  const cache = available * (o.kvCacheGpuMemFraction ?? TRTLLM_BENCH_DEFAULTS.kvCacheFreeGpuMemFraction.value)
  const kvCacheMaxRequests = cache / (bytePerTokenGiB * (o.targetInputLen + o.targetOutputLen))
  return { kvCacheMaxRequests, ...trtllmBenchFinetune(kvCacheMaxRequests, o.targetInputLen, o.targetOutputLen, o.ppSize) }
}

/** bench get_settings: without chunked prefill, max_num_tokens is raised to max ISL + max batch size. */
export function trtllmBenchMaxNumTokens(maxNumTokens: number, maxBatchSize: number, maxIsl: number, chunkedPrefill: boolean): number {
  return chunkedPrefill ? maxNumTokens : Math.max(maxNumTokens, maxIsl + maxBatchSize)
}

/** TensorRT-LLM LLM API / trtllm-serve defaults (PyTorch backend). */
export const TRTLLM_DEFAULTS = {
  release: "main (per-file commits)",
  maxBatchSize: { value: 2048, source: `${TRT_LLM_ARGS} BaseLlmArgs.max_batch_size` },
  maxNumTokens: { value: 8192, source: `${TRT_LLM_ARGS} BaseLlmArgs.max_num_tokens` },
  enableChunkedPrefill: { value: false, source: `${TRT_LLM_ARGS} BaseLlmArgs.enable_chunked_prefill` },
  enableAttentionDp: { value: false, source: `${TRT_LLM_ARGS} BaseLlmArgs.enable_attention_dp` },
  freeGpuMemoryFraction: { value: 0.9, source: `${TRT_LLM_ARGS} KvCacheConfig.free_gpu_memory_fraction` },
  tokensPerBlock: { value: 32, source: `${TRT_LLM_ARGS} KvCacheConfig.tokens_per_block` },
  enableBlockReuse: { value: true, source: `${TRT_LLM_ARGS} KvCacheConfig.enable_block_reuse` },
  capacitySchedulerPolicy: { value: "GUARANTEED_NO_EVICT", source: `${TRT_LLM_ARGS} SchedulerConfig.capacity_scheduler_policy` },
  waitingQueuePolicy: { value: "fcfs", source: `${TRT_LLM_ARGS} SchedulerConfig.waiting_queue_policy` },
  contextChunkingPolicy: { value: null, source: `${TRT_LLM_ARGS} SchedulerConfig.context_chunking_policy` },
  cudaGraphConfig: { value: "CudaGraphConfig()", source: `${TRT_LLM_ARGS} TorchLlmArgs.cuda_graph_config (default_factory=CudaGraphConfig)` },
  cudaGraphMaxBatchSize: { value: 128, source: `${TRT_LLM_ARGS} BaseCudaGraphConfig.validate_base_cuda_graph_config (max_batch_size 0 -> 128)` },
  cudaGraphEnablePadding: { value: false, source: `${TRT_LLM_ARGS} BaseCudaGraphConfig.enable_padding` },
  disableOverlapScheduler: { value: false, source: `${TRT_LLM_ARGS} TorchLlmArgs.disable_overlap_scheduler` },
  batchWaitTimeoutMs: { value: 0, source: `${TRT_LLM_ARGS} TorchLlmArgs.batch_wait_timeout_ms` },
  kvBudgetRule: { value: "(total - peak + estimation_kv) * fraction", source: `${TRT_UTIL} KvCacheCreator._cal_max_memory` },
  admission: {
    value: "blocks to completion",
    source: `${TRT_BLOCKS} NoEvictScheduledBlocksManager <- ${TRT_KVCM} KVCacheManager::getRemainingBlocksToCompletion`
  },
  capacityScheduler: { value: "GuaranteedNoEvictScheduler", source: `${TRT_CAPACITY} GuaranteedNoEvictScheduler::impl` },
  microBatchScheduler: { value: "max_num_tokens and max_batch_size in request order", source: `${TRT_MICRO} MicroBatchScheduler::operator()` }
} as const satisfies Record<string, Sourced<unknown> | string>

/** What `trtllm-bench throughput` (PyTorch backend) sets on top of the LLM API defaults. */
export const TRTLLM_BENCH_DEFAULTS = {
  kvCacheFreeGpuMemFraction: { value: 0.9, source: `${TRT_THROUGHPUT} throughput_command --kv_cache_free_gpu_mem_fraction` },
  schedulerPolicy: { value: "guaranteed_no_evict", source: `${TRT_THROUGHPUT} throughput_command --scheduler_policy` },
  enableChunkedContext: { value: false, source: `${TRT_THROUGHPUT} throughput_command --enable_chunked_context` },
  concurrency: { value: -1, source: `${TRT_THROUGHPUT} throughput_command --concurrency (<= 0: no limit)` },
  warmup: { value: 2, source: `${TRT_THROUGHPUT} throughput_command --warmup` },
  maxBatchSizeAndTokens: { value: "heuristic", source: `${TRT_GENERAL} get_settings <- ${TRT_TUNING} calc_engine_setting, finetune_setting` },
  deviceMemory: { value: "NVML total / 2^30", source: `${TRT_BENCH_UTILS} get_device_memory` },
  cudaGraphPadding: { value: true, source: `${TRT_GENERAL} get_settings cuda_graph_config padding_enabled` },
  cudaGraphMaxBatchSize: { value: "max_batch_size", source: `${TRT_GENERAL} get_settings cuda_graph_config max_batch_size` }
} as const satisfies Record<string, Sourced<unknown>>

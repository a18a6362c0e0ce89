/**
 * The engines' default rules (src/serve/engineDefaults.ts) at points worked by hand from the thresholds in
 * the engines' source (docs/bench-engines.md): SGLang's mem_fraction_static on an H100/H200/A100, vLLM's
 * batch defaults and CUDA-graph sizes on an H100, TensorRT-LLM's trtllm-bench heuristic and graph sizes.
 */
import { describe, expect, it } from "vitest"
import { ENGINES } from "../../src/serve/engines.ts"
import {
  SGLANG_DEFAULTS,
  type SglangMemoryDefaults,
  type Sourced,
  sglangCudaGraphBatchSizes,
  sglangKvCellSizeBytes,
  sglangMaxRunningRequests,
  sglangMaxTotalNumTokens,
  sglangMemFractionStatic,
  sglangMemoryDefaults,
  sglangNewTokenRatio,
  sglangRetractNewTokenRatio,
  TRTLLM_BENCH_DEFAULTS,
  TRTLLM_DEFAULTS,
  trtllmBenchEngineSettings,
  trtllmBenchFinetune,
  trtllmBenchMaxNumTokens,
  trtllmCudaGraphBatchSizes,
  trtllmKvCacheBytes,
  trtllmRemainingBlocksToCompletion,
  VLLM_DEFAULTS,
  type VllmGpu,
  type VllmUsageContext,
  vllmBatchDefaults,
  vllmCudaGraphCaptureSizes,
  vllmCudaGraphPaddedTokens,
  vllmKvCacheBytes,
  vllmNumGpuBlocks,
  vllmSchedulerLimits
} from "../../src/serve/engineDefaults.ts"

const GIB = 2 ** 30
/** nvidia-smi memory.total, MiB: H100 SXM 80GB, H200 141GB. */
const H100_MIB = 81559
const H200_MIB = 143771
const H100: VllmGpu = { totalMemoryBytes: H100_MIB * 2 ** 20, name: "NVIDIA H100 80GB HBM3" }
const A100_80: VllmGpu = { totalMemoryBytes: 81920 * 2 ** 20, name: "NVIDIA A100-SXM4-80GB" }

describe("every default names its source", () => {
  it("each field is a value with a URL at the release tag or a commit, and a symbol", () => {
    const tables: Array<Record<string, Sourced<unknown> | string>> = [VLLM_DEFAULTS, SGLANG_DEFAULTS, TRTLLM_DEFAULTS, TRTLLM_BENCH_DEFAULTS]
    for (const table of tables) {
      for (const [key, field] of Object.entries(table)) {
        if (typeof field === "string") continue
        expect(field.source, key).toMatch(
          /^https:\/\/github\.com\/(vllm-project\/vllm\/blob\/v0\.16\.0|sgl-project\/sglang\/blob\/v0\.5\.6|NVIDIA\/TensorRT-LLM\/blob\/[0-9a-f]{40})\/\S+ \S/
        )
      }
    }
  })
})

describe("vLLM v0.16.0", () => {
  it("get_batch_defaults: an H100 gets 8192 tokens / 1024 seqs for vllm serve, 16384 / 1024 offline; an A100 80GB the small table", () => {
    const serve: VllmUsageContext = "openai_api_server"
    expect(vllmBatchDefaults(H100, serve)).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 1024 })
    expect(vllmBatchDefaults(H100, "llm_class")).toEqual({ maxNumBatchedTokens: 16384, maxNumSeqs: 1024 })
    expect(vllmBatchDefaults(A100_80, serve)).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 })
    // 69 GiB is under the 70 GiB line.
    expect(vllmBatchDefaults({ totalMemoryBytes: 69 * GIB, name: "l40s" }, serve)).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 })
    expect(VLLM_DEFAULTS.maxNumBatchedTokens.value).toBe(8192)
    expect(VLLM_DEFAULTS.maxNumSeqs.value).toBe(1024)
  })

  it("the final limits: chunked prefill keeps 8192; without it the budget rises to max_model_len", () => {
    expect(vllmSchedulerLimits({ gpu: H100, usage: "openai_api_server", maxModelLen: 4096 })).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 1024 })
    expect(vllmSchedulerLimits({ gpu: H100, usage: "openai_api_server", maxModelLen: 32768, enableChunkedPrefill: false })).toEqual({
      maxNumBatchedTokens: 32768,
      maxNumSeqs: 1024
    })
    // A tiny context caps the budget at max_num_seqs * max_model_len: min(1024 * 4, 8192) = 4096.
    expect(vllmSchedulerLimits({ gpu: H100, usage: "openai_api_server", maxModelLen: 4 })).toEqual({ maxNumBatchedTokens: 4096, maxNumSeqs: 1024 })
    // A user-set budget is kept; max_num_seqs is then capped by it.
    expect(vllmSchedulerLimits({ gpu: H100, usage: "openai_api_server", maxModelLen: 4096, maxNumBatchedTokens: 512 })).toEqual({
      maxNumBatchedTokens: 512,
      maxNumSeqs: 512
    })
  })

  it("CUDA-graph sizes on an H100: 1, 2, 4, 8..248 by 8, 256..512 by 16 (51 sizes); a batch pads up to the next", () => {
    const sizes = vllmCudaGraphCaptureSizes({ maxNumSeqs: 1024, maxNumBatchedTokens: 8192 })
    expect(sizes.length).toBe(3 + 31 + 17)
    expect(sizes.slice(0, 6)).toEqual([1, 2, 4, 8, 16, 24])
    expect(sizes.slice(33, 37)).toEqual([248, 256, 272, 288])
    expect(sizes.at(-1)).toBe(VLLM_DEFAULTS.maxCudagraphCaptureSize.value)
    expect(vllmCudaGraphPaddedTokens(5, sizes)).toBe(8)
    expect(vllmCudaGraphPaddedTokens(250, sizes)).toBe(256)
    expect(vllmCudaGraphPaddedTokens(512, sizes)).toBe(512)
    expect(vllmCudaGraphPaddedTokens(513, sizes)).toBeNull()
    // max_num_seqs 4: min(4 * 2, 512) = 8 -> [1, 2, 4, 8]; with 3 speculative tokens min(4 * 4 * 2, 512) = 32.
    expect(vllmCudaGraphCaptureSizes({ maxNumSeqs: 4, maxNumBatchedTokens: 8192 })).toEqual([1, 2, 4, 8])
    expect(vllmCudaGraphCaptureSizes({ maxNumSeqs: 4, maxNumBatchedTokens: 8192, numSpeculativeTokens: 3 })).toEqual([1, 2, 4, 8, 16, 24, 32])
  })

  it("KV memory: ceil(80 GiB * 0.9) - (16 + 2 + 1) GiB = 53 GiB; blocks = floor(floor(bytes / page) / layers)", () => {
    const kv = vllmKvCacheBytes({
      totalBytes: 80 * GIB,
      gpuMemoryUtilization: 0.9,
      weightsBytes: 16 * GIB,
      peakActivationBytes: 2 * GIB,
      nonTorchBytes: 1 * GIB
    })
    expect(kv).toBe(53 * GIB)
    // Llama-3.1-8B, bf16: one layer's 16-token block is 16 * 8 heads * 128 * 2 (K, V) * 2 bytes = 65536 bytes.
    expect(vllmNumGpuBlocks(kv, 65536, 32)).toBe((53 * GIB) / 65536 / 32)
  })
})

describe("SGLang v0.5.6", () => {
  it("mem_fraction_static on an H100 80GB: tp1 (512 + 8192*1.5 + 256*2 + 128) -> 0.835; tp8 (512 + 12288 + 512*2 + 1024) -> 0.818", () => {
    const tp1: SglangMemoryDefaults = sglangMemoryDefaults({ gpuMemMiB: H100_MIB, tpSize: 1 })
    expect(tp1).toEqual({ chunkedPrefillSize: 8192, cudaGraphMaxBs: 256, reservedMemMiB: 13440, memFractionStatic: 0.835, scheduleConservativeness: 1 })
    expect(sglangMemoryDefaults({ gpuMemMiB: H100_MIB, tpSize: 8 })).toMatchObject({ cudaGraphMaxBs: 512, reservedMemMiB: 14848, memFractionStatic: 0.818 })
    expect(sglangMemFractionStatic(H100_MIB, 1)).toBe(0.835)
    expect(sglangMemFractionStatic(H100_MIB, 8)).toBe(0.818)
  })

  it("on an H200 tp1 (130331 / 143771) -> 0.907; an A100 40GB tp1 has no 10 GiB floor: (40960 - 6848) / 40960 -> 0.833; no GPU -> 0.88", () => {
    expect(sglangMemFractionStatic(H200_MIB, 1)).toBe(0.907)
    expect(sglangMemoryDefaults({ gpuMemMiB: 40960, tpSize: 1 })).toMatchObject({
      chunkedPrefillSize: 4096,
      cudaGraphMaxBs: 32,
      reservedMemMiB: 6848,
      memFractionStatic: 0.833
    })
    expect(sglangMemoryDefaults({ gpuMemMiB: null, tpSize: 1 })).toMatchObject({ chunkedPrefillSize: 4096, cudaGraphMaxBs: 160, memFractionStatic: 0.88 })
  })

  it("DP attention (dp 8 on 8 H100s): reserve += 512*8*3 + 512*8*1.5, chunk 8192 // 8, conservativeness * 0.3", () => {
    const d = sglangMemoryDefaults({ gpuMemMiB: H100_MIB, tpSize: 8, dpSize: 8, enableDpAttention: true })
    expect(d.reservedMemMiB).toBe(14848 + 12288 + 6144)
    expect(d.memFractionStatic).toBe(0.592)
    expect(d.chunkedPrefillSize).toBe(1024)
    expect(d.scheduleConservativeness).toBeCloseTo(0.3, 12)
  })

  it("CUDA-graph batch sizes: 36 up to 256 at tp < 4, 52 up to 512 at tp >= 4", () => {
    const small = sglangCudaGraphBatchSizes(256)
    expect(small.slice(0, 7)).toEqual([1, 2, 4, 8, 12, 16, 24])
    expect(small.length).toBe(36)
    const large = sglangCudaGraphBatchSizes(512)
    expect(large.length).toBe(52)
    expect(large.slice(35, 38)).toEqual([256, 272, 288])
    expect(large.at(-1)).toBe(512)
    expect(sglangCudaGraphBatchSizes(4, { disablePadding: true })).toEqual([1, 2, 3, 4])
    expect(sglangCudaGraphBatchSizes(16, { speculative: true })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16])
  })

  it("the new-token ratio: 0.7 -> floor 0.098 over 600 steps; after a retraction (decoded + 20 * n) / (max_new + 1)", () => {
    const r = sglangNewTokenRatio()
    expect(r.init).toBe(0.7)
    expect(r.min).toBeCloseTo(0.098, 12)
    expect(r.decay).toBeCloseTo(0.602 / 600, 12)
    expect(sglangRetractNewTokenRatio({ decodedTokens: 1000, runningRequests: 10, maxNewTokensSum: 9999 })).toBe(0.12)
    expect(sglangRetractNewTokenRatio({ decodedTokens: 9000, runningRequests: 100, maxNewTokensSum: 9999 })).toBe(1)
  })

  it("the KV pool of Llama-3.1-8B on an H100: (63 - 79 * 0.165) GiB / 131072 B -> 409313 tokens, 4096 running requests", () => {
    const cell = sglangKvCellSizeBytes({ kind: "mha", numKvHeads: 8, headDim: 128, numLayers: 32, elemBytes: 2 })
    expect(cell).toBe(131072)
    expect(sglangKvCellSizeBytes({ kind: "mla", kvLoraRank: 512, qkRopeHeadDim: 64, numLayers: 61, elemBytes: 2 })).toBe(576 * 61 * 2)
    const tokens = sglangMaxTotalNumTokens({ freeGiBBeforeLoad: 79, freeGiBAfterLoad: 63, memFractionStatic: 0.835, cellSizeBytes: cell })
    expect(tokens).toBe(409313)
    expect(sglangMaxTotalNumTokens({ freeGiBBeforeLoad: 79, freeGiBAfterLoad: 63, memFractionStatic: 0.835, cellSizeBytes: cell, pageSize: 64 })).toBe(409280)
    expect(sglangMaxRunningRequests({ maxTotalNumTokens: tokens, contextLen: 8192 })).toBe(4096)
    // A small pool: 3000 tokens -> slots min(max(int(3000 / 8192 * 512), 2048), 4096) = 2048, running min(1500, 2048).
    expect(sglangMaxRunningRequests({ maxTotalNumTokens: 3000, contextLen: 8192 })).toBe(1500)
    expect(sglangMaxRunningRequests({ maxTotalNumTokens: tokens, contextLen: 8192, maxRunningRequests: 256, dpSize: 8, enableDpAttention: true })).toBe(32)
  })
})

describe("TensorRT-LLM", () => {
  it("LLM API defaults: 2048 requests, 8192 tokens, 0.9 of free memory, 32-token blocks, no chunking, GUARANTEED_NO_EVICT", () => {
    expect(TRTLLM_DEFAULTS.maxBatchSize.value).toBe(2048)
    expect(TRTLLM_DEFAULTS.maxNumTokens.value).toBe(8192)
    expect(TRTLLM_DEFAULTS.freeGpuMemoryFraction.value).toBe(0.9)
    expect(TRTLLM_DEFAULTS.tokensPerBlock.value).toBe(32)
    expect(TRTLLM_DEFAULTS.enableChunkedPrefill.value).toBe(false)
    expect(TRTLLM_DEFAULTS.capacitySchedulerPolicy.value).toBe("GUARANTEED_NO_EVICT")
  })

  it("CUDA-graph batch sizes: the default config captures 1..32, 64, 128; trtllm-bench's padded one 1, 2, 4, 8..128, then +64", () => {
    const plain = trtllmCudaGraphBatchSizes()
    expect(plain.length).toBe(34)
    expect(plain.slice(29)).toEqual([30, 31, 32, 64, 128])
    expect(trtllmCudaGraphBatchSizes(256, true)).toEqual([1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 192, 256])
    expect(trtllmCudaGraphBatchSizes(300, true).slice(-3)).toEqual([192, 256, 300])
    expect(trtllmCudaGraphBatchSizes(1024).slice(-4)).toEqual([128, 256, 512, 1024])
  })

  it("KV memory: (80 - 20 + 2) GiB * 0.9; admission reserves ceil((prompt + max_new) / 32) blocks", () => {
    expect(trtllmKvCacheBytes({ totalGpuBytes: 80 * GIB, peakBytes: 20 * GIB, estimationKvBytes: 2 * GIB, freeGpuMemoryFraction: 0.9 })).toBe(
      Math.trunc(62 * GIB * 0.9)
    )
    expect(trtllmRemainingBlocksToCompletion(1000, 1000, 32)).toBe(63)
    expect(trtllmRemainingBlocksToCompletion(1000, 1000, 32, 40)).toBe(23)
  })

  it("trtllm-bench finetune_setting at three points", () => {
    // raw bs 1000 -> 128 * 8; raw tokens 2000 -> the 2048 floor.
    expect(trtllmBenchFinetune(1000, 1024, 1024, 1)).toEqual({ maxBatchSize: 1024, maxNumTokens: 2048 })
    // raw bs capped at 4096; raw tokens 8192 -> 1024 * 8.
    expect(trtllmBenchFinetune(5000, 128, 128, 1)).toEqual({ maxBatchSize: 4096, maxNumTokens: 8192 })
    // raw bs 100 -> 32 * 4; raw tokens 100 * 17 = 1700 -> 2048.
    expect(trtllmBenchFinetune(100, 2048, 128, 1)).toEqual({ maxBatchSize: 128, maxNumTokens: 2048 })
    // raw tokens 5000 -> 512 * 10.
    expect(trtllmBenchFinetune(2500, 1024, 1024, 1).maxNumTokens).toBe(5120)
  })

  it("trtllm-bench calc_engine_setting: an 8B bf16 model on an 80 GiB GPU at 1024/1024 -> 230.4 requests -> 256 / 2048", () => {
    const s = trtllmBenchEngineSettings({
      paramCount: 8 * GIB,
      bytesPerElem: 2,
      kvBytesPerElem: 2,
      numAttentionLayers: 32,
      numKvHeads: 8,
      headSize: 128,
      tpSize: 1,
      ppSize: 1,
      deviceMemoryGiB: 80,
      targetInputLen: 1024,
      targetOutputLen: 1024
    })
    // (80 - 16) GiB * 0.9 / (2 * 32 * 8 * 128 * 2 B * 2048 tokens = 0.25 GiB).
    expect(s.kvCacheMaxRequests).toBeCloseTo(230.4, 9)
    expect(s).toMatchObject({ maxBatchSize: 256, maxNumTokens: 2048 })
    expect(TRTLLM_BENCH_DEFAULTS.kvCacheFreeGpuMemFraction.value).toBe(0.9)
    expect(trtllmBenchMaxNumTokens(2048, 256, 4000, false)).toBe(4256)
    expect(trtllmBenchMaxNumTokens(2048, 256, 4000, true)).toBe(2048)
  })
})

describe("SGLang's memory defaults as the engine model applies them", () => {
  it("DP attention with EP is one server of tp x dp GPUs; dp without EP is replicas", () => {
    // 80 GB -> 81,920 MiB. DEP8: tp_size 8 (>= 4: cuda_graph_max_bs 512), chunk 8192 / dp 8 = 1024;
    // reserved 512 + 8192 x 1.5 + 512 x 2 + 8/8 x 1024 + 512 x 8 x 3 + 512 x 8 x 1.5 = 33,280 MiB,
    // fraction (81,920 - 33,280) / 81,920 = 0.594 (ServerArgs._handle_gpu_memory_settings).
    const dep8 = ENGINES.sglang!.defaults({ hbm_gb: 80, tp: 1, dp: 8, ep: 8, max_model_len: 4096 })
    expect(dep8.memory_fraction).toBe(0.594)
    expect(dep8.max_step_tokens).toBe(1024)
    expect(dep8.cuda_graph_sizes.at(-1)).toBe(512)
    // tp 2 x 4 replicas of a dense model: each a tp_size 2 server (< 4: 256); reserved 512 + 12,288 + 512 + 256 = 13,568
    // -> max(13,568, 10,240); fraction (81,920 - 13,568) / 81,920 = 0.834.
    const replicas = ENGINES.sglang!.defaults({ hbm_gb: 80, tp: 2, dp: 4, ep: 1, max_model_len: 4096 })
    expect(replicas.memory_fraction).toBe(0.834)
    expect(replicas.max_step_tokens).toBe(8192)
    expect(replicas.cuda_graph_sizes.at(-1)).toBe(256)
  })
})

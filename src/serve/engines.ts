/**
 * The engine models, one per engine, in one registry: each engine's defaults (read from its own
 * source at a named release: docs/bench.md lists every value with its file), its memory rule, and
 * the scheduler policies engine.ts names. A scenario's `engine:` block and the bench flags
 * override any setting.
 *
 * Host time per step (host_step_ms, host_per_seq_ms) is the one fitted part: see
 * src/accuracy/datasets/serving.ts for the rows it was fitted on and the held-out error.
 */
import type { EngineSettings } from "./engine.ts"
import { kvTokensOf, type KvBudget, type MemoryInputs } from "./memory.ts"

export interface EngineModel {
  readonly name: string
  readonly version: string
  /** Where the defaults were read. */
  readonly source: string
  /** The engine's flag for each overridable setting (for messages and `export`). */
  readonly flags: Readonly<Partial<Record<keyof EngineSettings, string>>>
  readonly defaults: (device: { readonly hbm_gb: number }, layout: { readonly tp: number }) => EngineSettings
  readonly kvBudget: (m: MemoryInputs, s: EngineSettings) => KvBudget
}

const GiB = 2 ** 30

const budget = (m: MemoryInputs, s: EngineSettings, kv: number, rule: string, terms: KvBudget["terms"]): KvBudget => {
  const kv_bytes = Math.max(0, kv)
  return { kv_bytes, kv_tokens: kvTokensOf(kv_bytes, m.kv_bytes_per_token, s.block_size), rule, terms }
}

/** vLLM's CUDA-graph capture sizes: 1, 2, 4, then every 8 up to the largest (vllm/config/compilation.py). */
const vllmGraphSizes = (max: number): Array<number> => {
  const out = [1, 2, 4]
  for (let b = 8; b <= max; b += 8) out.push(b)
  return out.filter((b) => b <= max)
}

const VLLM: EngineModel = {
  name: "vllm",
  version: "v0.11.0",
  source: "https://github.com/vllm-project/vllm/tree/v0.11.0",
  flags: {
    max_running: "--max-num-seqs",
    max_step_tokens: "--max-num-batched-tokens",
    memory_fraction: "--gpu-memory-utilization",
    block_size: "--block-size",
    chunked_prefill: "--enable-chunked-prefill",
    prefix_caching: "--enable-prefix-caching"
  },
  defaults: () => ({
    engine: "vllm",
    version: "v0.11.0",
    max_running: 1024,
    max_step_tokens: 8192,
    chunked_prefill: true,
    mixed_steps: true,
    memory_fraction: 0.9,
    block_size: 16,
    cuda_graph_sizes: vllmGraphSizes(512),
    overlap_scheduler: false,
    host_step_ms: 0,
    host_per_seq_ms: 0,
    admission: "on-demand",
    prefix_caching: true
  }),
  kvBudget: (m, s) => {
    const requested = m.device_bytes * s.memory_fraction
    return budget(m, s, requested - m.weights_bytes - m.activation_bytes, "gpu_memory_utilization x device memory - weights - peak activations", [
      { label: `device memory x gpu_memory_utilization ${s.memory_fraction}`, bytes: requested },
      { label: "weights", bytes: -m.weights_bytes },
      { label: `activations of a ${s.max_step_tokens}-token step`, bytes: -m.activation_bytes }
    ])
  }
}

const SGLANG: EngineModel = {
  name: "sglang",
  version: "v0.5.3",
  source: "https://github.com/sgl-project/sglang/tree/v0.5.3",
  flags: {
    max_running: "--max-running-requests",
    max_step_tokens: "--chunked-prefill-size",
    memory_fraction: "--mem-fraction-static",
    block_size: "--page-size",
    prefix_caching: "--disable-radix-cache"
  },
  defaults: (device, layout) => ({
    engine: "sglang",
    version: "v0.5.3",
    max_running: 4096,
    max_step_tokens: device.hbm_gb >= 80 ? 8192 : 4096,
    chunked_prefill: true,
    mixed_steps: false,
    memory_fraction: layout.tp >= 8 ? 0.85 : 0.88,
    block_size: 1,
    cuda_graph_sizes: vllmGraphSizes(layout.tp >= 8 ? 256 : 160),
    overlap_scheduler: true,
    host_step_ms: 0,
    host_per_seq_ms: 0,
    admission: "estimated",
    new_token_ratio: { init: 0.7, min: 0.1, decay: 0.001 },
    prefix_caching: true
  }),
  kvBudget: (m, s) => {
    const static_ = m.device_bytes * s.memory_fraction
    return budget(m, s, static_ - m.weights_bytes, "mem_fraction_static x device memory - weights", [
      { label: `device memory x mem_fraction_static ${s.memory_fraction}`, bytes: static_ },
      { label: "weights", bytes: -m.weights_bytes }
    ])
  }
}

const TRTLLM: EngineModel = {
  name: "trtllm",
  version: "v1.0.0",
  source: "https://github.com/NVIDIA/TensorRT-LLM/tree/v1.0.0",
  flags: {
    max_running: "max_batch_size",
    max_step_tokens: "max_num_tokens",
    memory_fraction: "kv_cache_config.free_gpu_memory_fraction",
    block_size: "kv_cache_config.tokens_per_block",
    chunked_prefill: "enable_chunked_prefill"
  },
  defaults: () => ({
    engine: "trtllm",
    version: "v1.0.0",
    max_running: 2048,
    max_step_tokens: 8192,
    chunked_prefill: false,
    mixed_steps: true,
    memory_fraction: 0.9,
    block_size: 32,
    cuda_graph_sizes: [1, 2, 4, ...vllmGraphSizes(128).slice(3)],
    overlap_scheduler: true,
    host_step_ms: 0,
    host_per_seq_ms: 0,
    admission: "reserve-full",
    prefix_caching: false
  }),
  kvBudget: (m, s) => {
    const free = m.device_bytes - m.weights_bytes - m.activation_bytes
    return budget(m, s, free * s.memory_fraction, "free_gpu_memory_fraction x (device memory - weights - peak activations)", [
      { label: "device memory", bytes: m.device_bytes },
      { label: "weights", bytes: -m.weights_bytes },
      { label: `activations of a ${s.max_step_tokens}-token step`, bytes: -m.activation_bytes },
      { label: `x free_gpu_memory_fraction ${s.memory_fraction}`, bytes: -(1 - s.memory_fraction) * free }
    ])
  }
}

export const ENGINES: Readonly<Record<string, EngineModel>> = { vllm: VLLM, sglang: SGLANG, trtllm: TRTLLM }

export const ENGINE_NAMES = Object.keys(ENGINES)

void GiB

/**
 * How many KV-cache tokens an engine instance holds: the engine's memory rule (engines.ts names
 * each engine's) applied to the model's bytes per GPU from the layer estimators (src/kernel
 * phaseMemory: weights, KV bytes per token, live activations of a step).
 *
 * Device memory. The rules start from the memory CUDA reports (torch.cuda.mem_get_info's
 * total). A datasheet's "80 GB" / "141 GB" of HBM is, within 1%, that many GiB as CUDA reports
 * it (nvidia-smi: H100 SXM 81,559 MiB = 79.6 GiB; H200 143,771 MiB = 140.4 GiB), while the
 * hardware files keep the datasheet number as decimal GB: so device memory = hbm_gb x 2^30.
 */

/** Device memory as CUDA reports it, bytes, from a datasheet's GB figure. */
export const deviceMemoryBytes = (hbmGb: number): number => hbmGb * 2 ** 30

/** What a memory rule reads, per GPU, bytes. */
export interface MemoryInputs {
  readonly device_bytes: number
  readonly weights_bytes: number
  /** Live activations of the largest step the engine runs (its token budget in one prefill). */
  readonly activation_bytes: number
  readonly kv_bytes_per_token: number
}

/** One term of a memory rule, for the printed breakdown. */
interface MemoryTerm {
  readonly label: string
  readonly bytes: number
}

export interface KvBudget {
  /** KV-cache bytes per GPU. */
  readonly kv_bytes: number
  /** Tokens of KV cache one attention-DP rank holds. */
  readonly kv_tokens: number
  /** The rule, in words (with the engine's parameter name). */
  readonly rule: string
  readonly terms: ReadonlyArray<MemoryTerm>
}

/** Tokens a KV budget holds, whole blocks. */
export const kvTokensOf = (kvBytes: number, perToken: number, blockSize: number): number =>
  perToken <= 0 ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(kvBytes / perToken / blockSize) * blockSize)

/**
 * The fused-op contract. A layer estimator emits `OpSpec`s; an op formula turns a spec's
 * `params` (exactly the slice of config it reads, nothing more, so cache keys stay narrow)
 * into an `OpCost`. Formulas are pure functions on numbers.
 */
import type { Dtype } from "../schema/dtypes.ts"

const OP_CATEGORIES = ["attention_linear", "attention_core", "ffn", "moe_router", "moe_experts", "moe_shared", "comm", "lm_head", "other"] as const
export type OpCategory = (typeof OP_CATEGORIES)[number]

export type Link = "interconnect" | "nic"

/** Scalar parameters only: they are hashed into cache keys with canonical JSON. */
export type OpParams = Readonly<Record<string, number | string | boolean>>

export interface OpSpec {
  /** Formula id in the registry (src/ops/registry.ts). */
  readonly kind: string
  /** Name shown in the breakdown, unique within a layer (e.g. `q_down_proj`). */
  readonly name: string
  readonly category: OpCategory
  readonly params: OpParams
}

/** A GEMM's shape, for wave-quantisation aware timing: `groups` x (m x k) * (k x n). */
/**
 * How a grouped GEMM lays out its groups' rows (timing/waves.ts): `contiguous` (all groups on
 * one M axis, each group's rows padded to 128; MoE prefill) or `masked` (a [groups, max_m, k]
 * buffer, each group's actual rows padded to the block; MoE decode). Absent: a dense GEMM.
 */
export type GemmLayout = "contiguous" | "masked"

export interface GemmShape {
  /** Rows per group (for routed experts, the expected (token, expert) pairs per touched expert). */
  readonly m: number
  readonly n: number
  readonly k: number
  readonly groups: number
  readonly layout?: GemmLayout
  /** True when m is the mean of a per-group count that varies (uniform routing): waves.ts pads the spread. */
  readonly routed?: boolean
}

export interface OpCost {
  readonly flops: number
  /** HBM bytes read (weights, activations, KV cache). Link traffic is never counted here. */
  readonly bytes_read: number
  /** HBM bytes written. */
  readonly bytes_written: number
  /** Bytes this GPU sends on `link` (communication ops only; 0 otherwise). */
  readonly comm_bytes: number
  readonly link?: Link
  /** Messages / collective calls on the link (each pays the link latency). */
  readonly messages?: number
  /** Tensor-core format of the math; selects the peak TFLOPS. */
  readonly math_dtype?: Dtype
  /** Kernel launches (each pays the per-kernel latency). */
  readonly kernels: number
  /** GEMM shapes, when the op is GEMM-like. */
  readonly gemms?: ReadonlyArray<GemmShape>
  /**
   * FP32 CUDA-core instructions a tiled GEMM issues between its tensor-core steps (not overlapped
   * with them) beyond those the hardware's fitted compute fraction covers; timed by
   * src/timing/cudaCores.ts. Absent: none (every inference GEMM).
   */
  readonly cuda_core_ops?: number
  /** One line on how the numbers were counted. */
  readonly notes: string
}

export interface OpFormula {
  /** Bump whenever the formula's output changes for some input (golden test enforces it). */
  readonly version: number
  readonly cost: (params: OpParams) => OpCost
}

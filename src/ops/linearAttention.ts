/**
 * Linear attention with a fixed-size recurrent state per sequence and head (a dk x dv matrix)
 * instead of a KV cache that grows with the context. Head counts are per GPU; q and k have
 * `key_heads` heads, repeated to the `heads` value heads (Qwen3-Next repeat_interleave).
 *
 * Variants, per value head and token (Hv heads, dk = key_head_dim, dv = value_head_dim):
 *  - `gated_deltanet`: gated delta rule (Yang, Kautz, Hatamizadeh, Gated Delta Networks, arXiv
 *    2412.06464, eq. 10; HF transformers modeling_qwen3_next.py `torch_recurrent_gated_delta_rule`):
 *      S <- g*S;  S <- S + k (beta (v - S^T k))^T;  o = S^T q
 *    decode: decay dk*dv + retrieval 2*dk*dv + rank-1 update 2*dk*dv + output 2*dk*dv = 7*dk*dv.
 *    prefill, chunkwise over chunks of C tokens (flash-linear-attention `chunk_gated_delta_rule`,
 *    the WY form of arXiv 2412.06464 section 3.3), per chunk: K K^T 2C^2dk, the unit-triangular
 *    inverse by forward substitution C(C-1)(C-2)/3 (C(C-1)(C-2)/6 multiply-adds),
 *    W = T K 2C^2dk, U = T V 2C^2dv, Q K^T 2C^2dk, V' = U - W S 2C*dk*dv,
 *    O = Q S + (Q K^T masked) V' 2C*dk*dv + 2C^2dv, S <- g*S + K^T V' dk*dv + 2C*dk*dv:
 *      6C^2dk + 4C^2dv + C(C-1)(C-2)/3 + 6C*dk*dv + dk*dv
 *  - `lightning`: decayed linear attention (MiniMax-01, arXiv 2501.08313, Lightning Attention-2
 *    arXiv 2401.04658): S <- lambda*S + k v^T, o = S^T q.
 *    decode: decay dk*dv + update 2*dk*dv + output 2*dk*dv = 5*dk*dv.
 *    prefill per chunk: intra (Q K^T masked) V 2C^2dk + 2C^2dv, inter Q S 2C*dk*dv, state update
 *    lambda*S + K^T V dk*dv + 2C*dk*dv: 2C^2dk + 2C^2dv + 4C*dk*dv + dk*dv.
 * A prompt of s tokens is ceil(s / C) chunks (the kernels compute whole chunk tiles). Vector
 * work of O(dk + dv) per head and token (gates, beta, L2-norm of q and k) is not counted.
 * Depthwise causal conv1d (conv_kernel_dim K > 0, gated_deltanet): 2K FLOPs per channel and
 * token over the q, k, v channels (2*Hk*dk + Hv*dv); its own kernel, reading the projected
 * q, k, v and writing them back, and keeping the last K-1 inputs as its state.
 *
 * State bytes (the `state_dtype`): Hv*dk*dv per sequence, plus the conv state
 * (K-1) x channels in the activations dtype. Prefill writes the final state; decode reads and
 * writes it once per step.
 *
 * Op kinds:
 *  - `linear_attention_prefill`: variant, batch, seq_len, heads, key_heads, key_head_dim,
 *    value_head_dim, conv_kernel_dim, chunk, act_dtype, state_dtype.
 *  - `linear_attention_decode`: variant, batch, heads, key_heads, key_head_dim, value_head_dim,
 *    conv_kernel_dim, act_dtype, state_dtype, optional queries (tokens per sequence, MTP
 *    verification: stepped through in order, the state read and written once; absent = 1).
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { queriesOf } from "./attention.ts"
import { dtype, num, str } from "./params.ts"
import type { OpCost, OpParams } from "./types.ts"

/** flash-linear-attention's chunk size for chunk_gated_delta_rule (BT = 64). */
export const LINEAR_ATTENTION_CHUNK = 64
/** Lightning attention's block size (HF MiniMaxConfig `block_size` default 256). */
export const LIGHTNING_BLOCK = 256

type Variant = "gated_deltanet" | "lightning"

const variantOf = (p: OpParams): Variant => {
  const v = str(p, "variant")
  if (v !== "gated_deltanet" && v !== "lightning") throw new Error(`op param variant: expected gated_deltanet or lightning, got ${v}`)
  return v
}

/** Recurrent-step FLOPs per value head and token (decode). */
const recurrentFlopsPerHead = (v: Variant, dk: number, dv: number): number => (v === "gated_deltanet" ? 7 : 5) * dk * dv

/** Chunkwise FLOPs per value head and chunk of C tokens (prefill). */
const chunkFlopsPerHead = (v: Variant, c: number, dk: number, dv: number): number =>
  v === "gated_deltanet"
    ? 6 * c * c * dk + 4 * c * c * dv + (c * (c - 1) * (c - 2)) / 3 + 6 * c * dk * dv + dk * dv
    : 2 * c * c * dk + 2 * c * c * dv + 4 * c * dk * dv + dk * dv

export interface LinearShape {
  readonly v: Variant
  readonly hv: number
  readonly hk: number
  readonly dk: number
  readonly dv: number
  readonly conv: number
  readonly act: number
  readonly state: number
}

const shapeOf = (p: OpParams): LinearShape => ({
  v: variantOf(p),
  hv: num(p, "heads"),
  hk: num(p, "key_heads"),
  dk: num(p, "key_head_dim"),
  dv: num(p, "value_head_dim"),
  conv: num(p, "conv_kernel_dim"),
  act: DTYPE_BYTES[dtype(p, "act_dtype")],
  state: DTYPE_BYTES[dtype(p, "state_dtype")]
})

/** Channels through the conv1d: q and k (key heads) and v (value heads). */
const convChannels = (s: LinearShape): number => 2 * s.hk * s.dk + s.hv * s.dv

/** Per-sequence state bytes: the recurrent matrices and the conv window. */
export const linearStateBytes = (s: LinearShape): number => s.hv * s.dk * s.dv * s.state + (s.conv > 0 ? (s.conv - 1) * convChannels(s) * s.act : 0)

/** Per-token bytes of the kernel's inputs (q, k, v, plus g and beta for the delta rule) and output. */
const tokenIo = (s: LinearShape) => ({
  input: (2 * s.hk * s.dk + s.hv * s.dv + (s.v === "gated_deltanet" ? 2 * s.hv : 0)) * s.act,
  output: s.hv * s.dv * s.act
})

/** conv1d: FLOPs, and its extra HBM traffic (reads the q, k, v channels and its weights, writes the channels). */
const convCost = (s: LinearShape, tokens: number) =>
  s.conv > 0
    ? { flops: 2 * s.conv * convChannels(s) * tokens, read: (tokens + s.conv) * convChannels(s) * s.act, written: tokens * convChannels(s) * s.act, kernels: 1 }
    : { flops: 0, read: 0, written: 0, kernels: 0 }

export const linearAttentionPrefill = (p: OpParams): OpCost => {
  const s = shapeOf(p)
  const b = num(p, "batch")
  const len = num(p, "seq_len")
  const c = num(p, "chunk")
  const tokens = b * len
  const chunks = b * Math.ceil(len / c)
  const conv = convCost(s, tokens)
  const io = tokenIo(s)
  return {
    flops: chunks * s.hv * chunkFlopsPerHead(s.v, c, s.dk, s.dv) + conv.flops,
    bytes_read: tokens * io.input + conv.read,
    bytes_written: tokens * io.output + b * linearStateBytes(s) + conv.written,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1 + conv.kernels,
    notes: `${s.v} chunkwise (C=${c}) over ceil(s/C) chunks per sequence${s.conv > 0 ? " + causal conv1d" : ""}; writes O and the fixed-size final state`
  }
}

export const linearAttentionDecode = (p: OpParams): OpCost => {
  const s = shapeOf(p)
  const b = num(p, "batch")
  const tokens = b * queriesOf(p)
  const conv = convCost(s, tokens)
  const io = tokenIo(s)
  const state = b * linearStateBytes(s)
  return {
    flops: tokens * s.hv * recurrentFlopsPerHead(s.v, s.dk, s.dv) + conv.flops,
    bytes_read: tokens * io.input + state + conv.read,
    bytes_written: tokens * io.output + state + conv.written,
    comm_bytes: 0,
    math_dtype: dtype(p, "act_dtype"),
    kernels: 1 + conv.kernels,
    notes: `${s.v} recurrent step: ${s.v === "gated_deltanet" ? 7 : 5}*dk*dv FLOPs per head; reads and writes the fixed-size state once`
  }
}

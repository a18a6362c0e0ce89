/**
 * Expert-parallel all-to-all (MoE dispatch and combine) as DeepEP runs it: bytes per token on
 * each link, the share of tokens that leave the node, and DeepEP's communication buffers.
 * Pure functions on numbers. Peer models: InferSim (alibaba/InferSim comm/comm.py) and shallowsim
 * (Yingzi2021/shallowsim) charge the same bytes per token over NVLink or the NIC.
 *
 * Placement: experts spread uniformly over `ep` GPUs of `gpus_per_node` GPUs each, so over
 * N = ep / gpus_per_node nodes; a token picks top_k distinct experts of E uniformly.
 *
 * Two kernel families (DeepEP README, github.com/deepseek-ai/DeepEP):
 *  - low_latency (decode): every (token, expert) copy is sent point to point, no
 *    de-duplication. Copies for experts on the sender's own node go over NVLink
 *    (Buffer(allow_nvlink_for_low_latency_mode=True), the default), the rest over the NIC:
 *      NIC bytes / token    = top_k * (ep - g) / ep * d_model * bytes      ((N-1)/N of the copies)
 *      NVLink bytes / token = top_k * (g - 1) / ep * d_model * bytes
 *    (the `ep_all_to_all` op formula of src/ops/comm.ts with peers ep - g and g - 1).
 *  - high_throughput (prefill, DeepEP "normal" kernels): a token crosses to each remote node
 *    that hosts at least one of its experts once (RDMA to the same-index GPU there), then is
 *    forwarded over NVLink to the GPUs of that node holding its experts:
 *      remote nodes / token = (N - 1) * (1 - C(E - E/N, k) / C(E, k))
 *      NIC bytes / token    = remote nodes / token * d_model * bytes
 *      NVLink copies / token = N * (g - 1) * (1 - C(E - E/ep, k) / C(E, k))
 *    (each of the g - 1 GPUs other than the arrival GPU of a node receives a copy when it holds
 *    at least one of the token's experts). The hypergeometric C(E - m, k) / C(E, k) is the
 *    chance that none of the k experts is among m given ones; AIC uses the same form for its
 *    AFD send probability (ai-dynamo/aiconfigurator aic-core/.../sdk/operations/afd_transfer.py). Group-limited routing (DeepSeek's topk_group)
 *    is not modelled: it can only lower the remote-node count.
 * Combine sends the same copies back (one per copy in low_latency, one per remote node in
 * high_throughput) in the combine dtype. Link time is never HBM time.
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import type { KernelMode, LinkDtype } from "../schema/deployment.ts"

/**
 * C(E - m, k) / C(E, k) = prod_{i=0}^{k-1} (E - m - i) / (E - i): the probability that none of
 * k distinct experts drawn from E is among m given experts. m may be fractional (E / N experts
 * per node when N does not divide E).
 */
export const missProbability = (experts: number, held: number, topK: number): number => {
  let p = 1
  for (let i = 0; i < topK; i++) {
    const num = experts - held - i
    if (num <= 0) return 0
    p *= num / (experts - i)
  }
  return p
}

/** Nodes spanned by an EP group: ceil(ep / gpus_per_node). */
export const epNodes = (ep: number, gpusPerNode: number): number => Math.ceil(ep / gpusPerNode)

/** GPUs of the EP group inside one node: min(gpus_per_node, ep). */
const epGpusPerNode = (ep: number, gpusPerNode: number): number => Math.min(gpusPerNode, ep)

/** Share of (token, expert) copies whose expert sits on another node: (ep - g) / ep = (N - 1) / N. */
export const remotePairShare = (ep: number, gpusPerNode: number): number => {
  const g = epGpusPerNode(ep, gpusPerNode)
  return (ep - g) / ep
}

/** Share of tokens with at least one expert on another node: 1 - C(E/N, k) / C(E, k). */
export const tokenLeavesNodeShare = (experts: number, topK: number, nodes: number): number =>
  nodes <= 1 ? 0 : 1 - missProbability(experts, experts - experts / nodes, topK)

/** Expected remote nodes a token is sent to once each (node de-duplication): (N-1)(1 - C(E - E/N, k)/C(E, k)). */
export const remoteNodesPerToken = (experts: number, topK: number, nodes: number): number =>
  nodes <= 1 ? 0 : (nodes - 1) * (1 - missProbability(experts, experts / nodes, topK))

/**
 * Expected distinct nodes (the sender's own included) holding at least one of a token's experts:
 * N (1 - C(E - E/N, k) / C(E, k)). DeepEP's internode test counts its "RDMA" bytes this way
 * (tests/test_internode.py: rdma_idx = topk_idx // (experts / nodes), de-duplicated per token,
 * own node kept), so its published bandwidth is logical: wire bytes are remoteNodesPerToken's.
 */
export const nodesPerToken = (experts: number, topK: number, nodes: number): number => nodes * (1 - missProbability(experts, experts / nodes, topK))

/** Expected distinct GPUs of `ep` holding at least one of a token's experts: ep (1 - C(E - E/ep, k)/C(E, k)). */
export const distinctGpusPerToken = (experts: number, topK: number, ep: number): number => ep * (1 - missProbability(experts, experts / ep, topK))

/** Bytes of one token's top_k copies: top_k * d_model * dtype bytes (what dispatch moves per token). */
export const dispatchBytesPerToken = (topK: number, dModel: number, dtype: LinkDtype): number => topK * dModel * DTYPE_BYTES[dtype]

export interface A2aShape {
  readonly experts: number
  readonly top_k: number
  readonly d_model: number
  readonly ep: number
  readonly gpus_per_node: number
}

export interface LinkBytes {
  readonly nvlink_bytes: number
  readonly nic_bytes: number
}

/** Bytes one GPU sends per token it owns, per link, for one dispatch (or combine) call. */
export const a2aBytesPerToken = (mode: KernelMode, s: A2aShape, dtype: LinkDtype): LinkBytes => {
  const b = s.d_model * DTYPE_BYTES[dtype]
  if (s.ep <= 1) return { nvlink_bytes: 0, nic_bytes: 0 }
  const g = epGpusPerNode(s.ep, s.gpus_per_node)
  if (mode === "low_latency") {
    return { nvlink_bytes: (s.top_k * (g - 1) * b) / s.ep, nic_bytes: (s.top_k * (s.ep - g) * b) / s.ep }
  }
  const nodes = epNodes(s.ep, s.gpus_per_node)
  const forwards = nodes * (g - 1) * (1 - missProbability(s.experts, s.experts / s.ep, s.top_k))
  return { nvlink_bytes: forwards * b, nic_bytes: remoteNodesPerToken(s.experts, s.top_k, nodes) * b }
}

/**
 * DeepEP low-latency buffer per GPU (csrc/config.hpp LowLatencyLayout, deepseek-ai/DeepEP @
 * 3861241a5cd49c70a22fc1a14dacb6cf54ae83e4), T = num_max_dispatch_tokens_per_rank, E = experts
 * (slots) in the EP group, h = hidden:
 *   dispatch message = 16 + max(2h, h + 4 * h/128)      (int4 header + BF16 or FP8 + scales)
 *   combine message  = 4 * h/128 + 2h
 *   send   = max(T * dispatch msg, E * T * combine msg)
 *   recv   = E * T * max(dispatch msg, combine msg)
 *   signal = align128(4 * E)
 *   total  = 2 * (send + recv + signal), rounded up to a multiple of 128 as get_low_latency_rdma_size_hint does.
 */
export const deepepLowLatencyBufferBytes = (maxTokensPerRank: number, hidden: number, experts: number): number => {
  const t = Math.ceil(maxTokensPerRank)
  const scales = Math.floor(hidden / 128)
  const dispatchMsg = 16 + Math.max(hidden * 2, hidden + scales * 4)
  const combineMsg = scales * 4 + hidden * 2
  const send = Math.max(t * dispatchMsg, experts * t * combineMsg)
  const recv = Math.max(experts * t * dispatchMsg, experts * t * combineMsg)
  const signal = Math.ceil((experts * 4) / 128) * 128
  const total = 2 * send + 2 * recv + 2 * signal
  return Math.floor((total + 128) / 128) * 128
}

/**
 * Token slots of DeepEP's normal-kernel chunked receive queues (deep_ep/buffer.py
 * Buffer.get_dispatch_config, 16 to 64 ranks: Config(num_sms, ., 288, ., 128)).
 */
const DEEPEP_NVL_RECV_TOKENS = 288
const DEEPEP_RDMA_RECV_TOKENS = 128
/** kNumMaxTopK and kNumMaxScales in csrc/config.hpp get_*_buffer_size_hint. */
const DEEPEP_MAX_TOPK = 128
const DEEPEP_MAX_SCALES = 128

/**
 * DeepEP normal-kernel buffers per GPU (csrc/config.hpp Config::get_nvl_buffer_size_hint and
 * get_rdma_buffer_size_hint, same commit), data terms only (the per-channel int counters and
 * the 8-byte source metadata are under 0.1%): per queued token the hidden bytes, 128 top-k
 * indices (8 B) and weights (4 B) and 128 scales (4 B); channels = comm SMs / 2.
 *   NVLink = channels * nvl_ranks * 288 * slot
 *   RDMA   = channels * rdma_ranks * 128 * (slot + 16) * 2      (only when ep spans nodes)
 */
export const deepepNormalBufferBytes = (hiddenBytes: number, ep: number, gpusPerNode: number, commSms: number): number => {
  const channels = Math.floor(commSms / 2)
  const slot = hiddenBytes + DEEPEP_MAX_TOPK * (8 + 4) + DEEPEP_MAX_SCALES * 4
  const nvlRanks = epGpusPerNode(ep, gpusPerNode)
  const nvl = channels * nvlRanks * DEEPEP_NVL_RECV_TOKENS * slot
  const rdmaRanks = epNodes(ep, gpusPerNode)
  const rdma = ep > gpusPerNode ? channels * rdmaRanks * DEEPEP_RDMA_RECV_TOKENS * (slot + 16) * 2 : 0
  return nvl + rdma
}

/**
 * Moving a request's KV cache from a prefill instance to a decode instance (prefill/decode
 * disaggregation): its bytes, the link it takes, and how long it takes. Pure.
 *
 *   bytes   prompt tokens x the KV bytes per token of the whole model (every layer's K and V,
 *           or MLA's latent, at the KV dtype), as the decode side must hold it.
 *   link    NVLink when the two instances share a scale-up domain (both pools fit in one node),
 *           else the NIC (RDMA, GPUDirect): the transports SGLang's Mooncake / NIXL backends and
 *           vLLM's NixlConnector use.
 *   lanes   the sender rank's GPUs send their shards in parallel, one link each: min(tp of the
 *           prefill rank, tp of the decode rank) lanes (a shard lands on one receiving GPU).
 *   time    latency + bytes / (lanes x link GB/s x the link's efficiency), in ms; the link
 *           constants are the hardware file's (nic_gbps / interconnect_gbps, their fitted
 *           efficiencies, link_latency_us).
 *   overlap with `layerwise`, layer i's KV is sent as soon as layer i is prefilled (vLLM's
 *           and SGLang's layer-by-layer transfer): the transfer can end no earlier than the
 *           prefill's end plus one layer's share, nor than its start plus the whole transfer.
 */

/** One direction of a transfer link. */
export interface TransferLink {
  readonly kind: "nic" | "nvlink"
  /** Per-lane bandwidth, GB/s, and the fraction of it a transfer attains. */
  readonly gbps: number
  readonly efficiency: number
  /** Per transfer, microseconds. */
  readonly latency_us: number
  /** Parallel lanes (GPUs sending their shards at once). */
  readonly lanes: number
}

/** Milliseconds to move `bytes` over `link` (latency included). */
export const transferMs = (bytes: number, link: TransferLink): number => link.latency_us / 1e3 + bytes / (link.lanes * link.gbps * link.efficiency * 1e6)

/**
 * When a transfer ends, given when it could start on its link (`start`), when the prefill that
 * produced its KV began and ended, the model's layer count and whether layers are sent as they
 * are prefilled. Without overlap it starts after the prefill (start >= prefill end).
 */
export const transferEndMs = (o: {
  readonly start: number
  readonly durationMs: number
  readonly prefillEnd: number
  readonly layers: number
  readonly layerwise: boolean
}): number => {
  if (!o.layerwise || o.layers <= 1) return o.start + o.durationMs
  // The last layer's share goes after the prefill ends; the rest while it runs.
  return Math.max(o.start + o.durationMs, o.prefillEnd + o.durationMs / o.layers)
}

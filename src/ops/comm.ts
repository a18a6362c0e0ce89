/**
 * Communication ops. They move bytes over a link, never through the FLOP or HBM counters
 * (flops = bytes_read = bytes_written = 0); `comm_bytes` is what one GPU sends.
 *
 * Collectives use the bandwidth-optimal ring volumes (Patarasuk & Yuan, "Bandwidth optimal
 * all-reduce algorithms", JPDC 2009; NCCL docs "Performance" busBw factors):
 *   all_reduce       2 * (n-1)/n * payload
 *   all_gather       (n-1)/n * payload    (payload = the gathered tensor)
 *   reduce_scatter   (n-1)/n * payload    (payload = the tensor before scattering)
 *   all_to_all       (n-1)/n * payload    (the share addressed to the other ranks)
 *   p2p              payload
 * One collective call is one message (it pays the link latency once).
 *
 * Expert-parallel dispatch/combine (DeepEP-style all-to-all, deepseek-ai/DeepEP; as InferSim
 * models it, alibaba/InferSim comm/comm.py):
 * a GPU sends each of its tokens' top_k (token, expert) copies of d_model elements; the copies
 * for experts on `peers` of the ep ranks leave the GPU:
 *   bytes = tokens * top_k * d_model * dtype_bytes * peers / ep
 * peers = ep-1 for the whole exchange; split over links as ep - gpus_per_node (other nodes,
 * NIC) and gpus_per_node - 1 (same node, NVLink) when the EP group spans nodes.
 *
 * Op kinds:
 *  - `collective`: pattern, payload_bytes, ranks (absent for p2p), link.
 *  - `ep_all_to_all`: tokens, top_k, d_model, dtype, ep, peers, link.
 */
import { DTYPE_BYTES } from "../schema/dtypes.ts"
import { dtype, num, str } from "./params.ts"
import type { Link, OpCost, OpParams } from "./types.ts"

const allReduceBytes = (payload: number, n: number): number => (2 * (n - 1) * payload) / n
const allGatherBytes = (payload: number, n: number): number => ((n - 1) * payload) / n
const reduceScatterBytes = allGatherBytes
const allToAllBytes = allGatherBytes

const link = (p: OpParams): Link => {
  const v = str(p, "link")
  if (v !== "interconnect" && v !== "nic") throw new Error(`op param link: expected interconnect or nic, got ${v}`)
  return v
}

const commCost = (bytes: number, l: Link, notes: string): OpCost => ({
  flops: 0,
  bytes_read: 0,
  bytes_written: 0,
  comm_bytes: bytes,
  link: l,
  messages: 1,
  kernels: 1,
  notes
})

export const collective = (p: OpParams): OpCost => {
  const pattern = str(p, "pattern")
  const payload = num(p, "payload_bytes")
  if (pattern === "p2p") return commCost(payload, link(p), "p2p: the payload once")
  const n = num(p, "ranks")
  switch (pattern) {
    case "all_reduce":
      return commCost(allReduceBytes(payload, n), link(p), "ring all-reduce: 2*(n-1)/n*payload sent per GPU")
    case "all_gather":
      return commCost(allGatherBytes(payload, n), link(p), "ring all-gather: (n-1)/n*payload sent per GPU")
    case "reduce_scatter":
      return commCost(reduceScatterBytes(payload, n), link(p), "ring reduce-scatter: (n-1)/n*payload sent per GPU")
    case "all_to_all":
      return commCost(allToAllBytes(payload, n), link(p), "all-to-all: (n-1)/n*payload sent per GPU")
    default:
      throw new Error(`op param pattern: unknown collective ${pattern}`)
  }
}

export const epAllToAll = (p: OpParams): OpCost => {
  const bytes = (num(p, "tokens") * num(p, "top_k") * num(p, "d_model") * DTYPE_BYTES[dtype(p, "dtype")] * num(p, "peers")) / num(p, "ep")
  return commCost(bytes, link(p), "EP all-to-all: tokens*top_k*d_model*bytes*peers/ep sent per GPU")
}

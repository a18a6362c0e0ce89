/**
 * All-to-all traffic (src/deploy/alltoall.ts): bytes per token, the share of tokens and copies
 * that leave the node, per-link bytes per kernel mode, and DeepEP's buffer sizes, by hand.
 */
import { describe, expect, it } from "vitest"
import {
  a2aBytesPerToken,
  deepepLowLatencyBufferBytes,
  deepepNormalBufferBytes,
  dispatchBytesPerToken,
  distinctGpusPerToken,
  missProbability,
  nodesPerToken,
  remoteNodesPerToken,
  remotePairShare,
  tokenLeavesNodeShare
} from "../../src/deploy/alltoall.ts"
import { evaluateOpCost } from "../../src/ops/registry.ts"

const DS = { experts: 256, top_k: 8, d_model: 7168, gpus_per_node: 8 }

describe("dispatch and combine bytes per token", () => {
  it("DeepSeek-V3: top-8 x 7168 hidden; FP8 dispatch 57,344 B, BF16 combine 114,688 B", () => {
    // 8 * 7168 * 1 = 57,344; 8 * 7168 * 2 = 114,688
    expect(dispatchBytesPerToken(8, 7168, "fp8")).toBe(57_344)
    expect(dispatchBytesPerToken(8, 7168, "bf16")).toBe(114_688)
  })
})

describe("share of traffic that leaves the node", () => {
  it("copies: (ep - g) / ep = (N - 1) / N", () => {
    // EP144 on 18 nodes of 8: 136 / 144 = 17/18; EP32 on 4 nodes: 24 / 32 = 3/4; EP8 on one node: 0
    expect(remotePairShare(144, 8)).toBeCloseTo(17 / 18, 15)
    expect(remotePairShare(32, 8)).toBe(0.75)
    expect(remotePairShare(8, 8)).toBe(0)
    expect(remotePairShare(4, 8)).toBe(0)
  })

  it("a toy case by hand: E = 8 experts, top-2, on 2 and on 4 nodes", () => {
    // C(E - m, k) / C(E, k): 2 nodes hold 4 experts each; none of a token's 2 experts on a given
    // node: C(4,2)/C(8,2) = 6/28 = 3/14.
    expect(missProbability(8, 4, 2)).toBeCloseTo(3 / 14, 15)
    // Remote nodes per token: (2 - 1)(1 - 3/14) = 11/14; tokens leaving: 1 - C(4,2)/C(8,2) = 11/14.
    expect(remoteNodesPerToken(8, 2, 2)).toBeCloseTo(11 / 14, 15)
    expect(tokenLeavesNodeShare(8, 2, 2)).toBeCloseTo(11 / 14, 15)
    // 4 nodes of 2 experts: miss = C(6,2)/C(8,2) = 15/28; remote nodes = 3 (1 - 15/28) = 39/28;
    // all of a token's experts on its own node: C(2,2)/C(8,2) = 1/28, so 27/28 leave.
    expect(remoteNodesPerToken(8, 2, 4)).toBeCloseTo(39 / 28, 15)
    expect(tokenLeavesNodeShare(8, 2, 4)).toBeCloseTo(27 / 28, 15)
    expect(remoteNodesPerToken(8, 2, 1)).toBe(0)
  })

  it("DeepSeek's prefill unit EP32 on 4 nodes: 2.7107 remote nodes per token, 99.999% of tokens leave", () => {
    // miss = prod_{i=0..7} (192 - i)/(256 - i) = 192/256 * 191/255 * 190/254 * 189/253 * 188/252
    //      * 187/251 * 186/250 * 185/249 = 0.0964464236; remote = 3 * (1 - 0.0964464236) = 2.7106607292
    expect(missProbability(256, 64, 8)).toBeCloseTo(0.0964464236, 9)
    expect(remoteNodesPerToken(256, 8, 4)).toBeCloseTo(2.7106607292, 9)
    // stays home only if all 8 experts are among the node's 64: C(64,8)/C(256,8) = 1.0804e-5
    expect(tokenLeavesNodeShare(256, 8, 4)).toBeCloseTo(1 - 1.08043877e-5, 10)
    // without node de-duplication a token would cross with 8 * 3/4 = 6 copies
    expect(remoteNodesPerToken(256, 8, 4)).toBeLessThan(8 * remotePairShare(32, 8))
  })

  it("DeepSeek's decode unit EP144 on 18 nodes: E/N = 14.22 experts per node (fractional)", () => {
    // 17 * (1 - prod (241.78 - i)/(256 - i)) = 6.3092394559 remote nodes per token
    expect(remoteNodesPerToken(256, 8, 18)).toBeCloseTo(6.3092394559, 9)
    expect(tokenLeavesNodeShare(256, 8, 18)).toBeGreaterThan(0.9999999999)
  })
})

describe("bytes per token on each link", () => {
  it("low latency (decode): every copy point to point; the op formula ep_all_to_all agrees", () => {
    const b = a2aBytesPerToken("low_latency", { ...DS, ep: 144 }, "fp8")
    // NIC: 8 * (144 - 8)/144 * 7168 = 54,158.22 B; NVLink: 8 * 7/144 * 7168 = 2,787.56 B
    expect(b.nic_bytes).toBeCloseTo((8 * 136 * 7168) / 144, 9)
    expect(b.nvlink_bytes).toBeCloseTo((8 * 7 * 7168) / 144, 9)
    expect(b.nic_bytes + b.nvlink_bytes).toBeCloseTo(57_344 * (143 / 144), 9)
    const op = (peers: number, link: string) =>
      evaluateOpCost({ kind: "ep_all_to_all", name: "x", category: "comm", params: { tokens: 1, top_k: 8, d_model: 7168, dtype: "fp8", ep: 144, peers, link } })
        .comm_bytes
    expect(b.nic_bytes).toBeCloseTo(op(136, "nic"), 9)
    expect(b.nvlink_bytes).toBeCloseTo(op(7, "interconnect"), 9)
  })

  it("high throughput (prefill): once per remote node on the NIC, forwarded over NVLink", () => {
    const b = a2aBytesPerToken("high_throughput", { ...DS, ep: 32 }, "fp8")
    // NIC: 2.7106607292 remote nodes * 7168 B = 19,430.02 B
    expect(b.nic_bytes).toBeCloseTo(2.7106607292 * 7168, 5)
    // NVLink: 4 nodes * 7 other GPUs * (1 - prod (248 - i)/(256 - i)) = 6.3584499277 copies
    expect(b.nvlink_bytes).toBeCloseTo(6.3584499277 * 7168, 5)
  })

  it("high throughput inside one node: a copy to each other GPU holding an expert (EP8)", () => {
    // 7 * (1 - C(224,8)/C(256,8)) = 7 * (1 - 0.3381684999) = 4.6328205003 copies
    const b = a2aBytesPerToken("high_throughput", { ...DS, ep: 8 }, "bf16")
    expect(b.nic_bytes).toBe(0)
    expect(b.nvlink_bytes).toBeCloseTo(4.6328205003 * 7168 * 2, 4)
    // the same as the distinct GPUs hit, less the sender's own share: 8 (1 - 0.33817) * 7/8
    expect(distinctGpusPerToken(256, 8, 8) * (7 / 8)).toBeCloseTo(4.6328205003, 9)
  })

  it("one GPU: nothing to send", () => {
    expect(a2aBytesPerToken("low_latency", { ...DS, ep: 1 }, "fp8")).toEqual({ nvlink_bytes: 0, nic_bytes: 0 })
  })
})

describe("DeepEP buffers", () => {
  it("low latency: 44 tokens per rank, hidden 7168, 288 expert slots = 738,019,712 B", () => {
    // dispatch msg = 16 + max(2*7168, 7168 + 56*4) = 14,352; combine msg = 56*4 + 2*7168 = 14,560
    // send = max(44 * 14,352, 288 * 44 * 14,560) = 184,504,320; recv = 288 * 44 * 14,560 = 184,504,320
    // signal = align128(288 * 4 = 1,152) = 1,152
    // total = 2 * 184,504,320 + 2 * 184,504,320 + 2 * 1,152 = 738,019,584 -> (+128) / 128 * 128 = 738,019,712
    expect(deepepLowLatencyBufferBytes(44, 7168, 288)).toBe(738_019_712)
  })

  it("normal kernels: EP32 on 4 nodes, 20 SMs, BF16 slots = 545,423,360 B", () => {
    // slot = 14,336 + 128 * 12 + 128 * 4 = 16,384; channels = 10
    // NVLink = 10 * 8 * 288 * 16,384 = 377,487,360; RDMA = 10 * 4 * 128 * 16,400 * 2 = 167,936,000
    expect(deepepNormalBufferBytes(14_336, 32, 8, 20)).toBe(545_423_360)
    // inside one node there is no RDMA buffer
    expect(deepepNormalBufferBytes(14_336, 8, 8, 20)).toBe(377_487_360)
  })
})

describe("nodesPerToken (DeepEP's logical RDMA count, own node included)", () => {
  it("counts distinct nodes holding a token's experts", () => {
    // 4 experts on 2 nodes (2 each), top-1: always exactly one node.
    expect(nodesPerToken(4, 1, 2)).toBeCloseTo(1, 12)
    // top-2: of the 6 expert pairs, 2 sit on one node and 4 span both: (2 x 1 + 4 x 2) / 6 = 5/3.
    expect(nodesPerToken(4, 2, 2)).toBeCloseTo(5 / 3, 12)
    // Own node included: one more than the remote count whenever the own node is hit.
    expect(nodesPerToken(4, 2, 2) - remoteNodesPerToken(4, 2, 2)).toBeCloseTo(5 / 6, 12)
  })
})

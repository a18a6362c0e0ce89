/**
 * DeepEP normal (high-throughput) kernels: dispatch and combine "bottleneck bandwidth" per GPU
 * on the limiting link, by EP size (deepep_normal.csv, current V1 table, H800).
 *
 * EP8 (one node): an `ep_all_to_all` op with the test's setting (4,096 tokens per GPU, hidden
 * 7,168, top-8, FP8 dispatch, BF16 combine) over NVLink to the 7 other GPUs; predicted bandwidth
 * = the op's link bytes / its predicted time (link fraction and per-message latency).
 *
 * Beyond one node: the serving model's own call (src/deploy/largeEp.ts a2aCall, high-throughput
 * kernels): each token crosses once to every remote node holding one of its experts (NIC), then
 * is forwarded over NVLink to the GPUs there that hold its experts; the two links run together,
 *     time = max(NVLink ms, NIC ms) + the per-call latency (the deployment default, 50 us).
 * DeepEP's test prints "RDMA" GB/s as (token, node) pairs with the sender's own node counted
 * (tests/test_internode.py: rdma_idx de-duplicated per token, own node kept; nodesPerToken),
 * so predicted GB/s = those logical bytes / the predicted time. Group-limited routing (the test's
 * min(nodes, 4) groups) is not modelled: it matters for EP64 only, where both the logical and the
 * wire node counts fall and their ratio (what a NIC-bound prediction reads) barely moves.
 */
import { evaluateOpCost } from "../../ops/registry.ts"
import { DEFAULT_A2A_LATENCY_US } from "../../deploy/deployment.ts"
import { epNodes, nodesPerToken } from "../../deploy/alltoall.ts"
import { a2aCall } from "../../deploy/largeEp.ts"
import { analyticEstimator } from "../../timing/estimator.ts"
import { DTYPE_BYTES } from "../../schema/dtypes.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { numberField, type CsvRecord, type CsvTable } from "../../reference/csv.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"

export const DEEPEP_FILE = "deepep_normal.csv"

/** DeepEP's V1 tests ran on H800 nodes of 8 GPUs, one CX7 NIC each (deepep_normal.csv header; EP8 is "Intranode"). */
const GPUS_PER_NODE = 8
/** Routed experts in DeepEP's internode test: (256 // ranks) * ranks = 256 for 16, 32 and 64 ranks (tests/test_internode.py). */
const EXPERTS = 256

/** Predicted GB/s of one dispatch or combine on the bottleneck link. */
const deepEpBandwidth = (
  r: { tokens: number; hidden: number; top_k: number; ep: number; dtype: "fp8" | "bf16"; nvlink: boolean },
  timing: ReturnType<typeof timingHardware>
): number => {
  if (!r.nvlink) {
    const d = { ep: r.ep, gpus_per_node: GPUS_PER_NODE, a2a_latency_us: DEFAULT_A2A_LATENCY_US }
    const call = a2aCall(
      "high_throughput",
      { n_routed_experts: EXPERTS, num_experts_per_tok: r.top_k, d_model: r.hidden },
      d,
      r.dtype,
      r.tokens,
      timing,
      analyticEstimator
    )
    const logical = r.tokens * nodesPerToken(EXPERTS, r.top_k, epNodes(r.ep, GPUS_PER_NODE)) * r.hidden * DTYPE_BYTES[r.dtype]
    return logical / (call.time_ms * 1e-3) / 1e9
  }
  const cost = evaluateOpCost({
    kind: "ep_all_to_all",
    name: "a2a",
    category: "comm",
    params: {
      tokens: r.tokens,
      top_k: r.top_k,
      d_model: r.hidden,
      dtype: r.dtype,
      ep: r.ep,
      peers: r.nvlink ? r.ep - 1 : r.ep - GPUS_PER_NODE,
      link: r.nvlink ? "interconnect" : "nic"
    }
  })
  return cost.comm_bytes / (timeOp(cost, timing).dominant_latency_ms * 1e-3) / 1e9
}

const skipReason = (r: CsvRecord): string | undefined => {
  const v = r.values
  if (v.version === "V2") return "V2 table: logical bandwidth that includes local-rank traffic (DeepEP README), not a link rate"
  if (v.status !== "current_v1") return "superseded V1 value"
  if (!v.arch.includes("SM90")) return "not Hopper"
  return undefined
}

export const deepEpNormal = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const rows: Array<ValidationRow> = []
  const skipped: Array<string> = []
  for (const r of table.rows) {
    const why = skipReason(r)
    if (why !== undefined) {
      skipped.push(why, why)
      continue
    }
    const name = hardwareFileFor(r.values.arch)
    const hw = name === undefined ? undefined : hardware.get(name)
    if (name === undefined || hw === undefined) {
      skipped.push(`no hardware file for "${r.values.arch}"`, `no hardware file for "${r.values.arch}"`)
      continue
    }
    const timing = timingHardware(hw, mode)
    const tokens = numberField(r, "tokens_per_batch") ?? 4096
    const hidden = numberField(r, "hidden") ?? 7168
    const topK = numberField(r, "topk_experts") ?? 8
    for (const phase of ["dispatch", "combine"] as const) {
      const ep = numberField(r, `${phase}_ep`) ?? 0
      const measured = numberField(r, `${phase}_bottleneck_bw_gbps`) ?? 0
      const nvlink = r.values[`${phase}_bottleneck_link`] === "NVLink"
      const dtype = r.values[`${phase}_dtype`] === "FP8" ? "fp8" : "bf16"
      rows.push(
        row({
          case: `${phase} ${r.values.topology} (${dtype}, ${nvlink ? "NVLink" : "RDMA"})`,
          hardware: name,
          unit: "GB/s",
          predicted: deepEpBandwidth({ tokens, hidden, top_k: topK, ep, dtype, nvlink }, timing),
          measured,
          source: `${DEEPEP_FILE}:${r.line}`,
          note: `${tokens} tokens, hidden ${hidden}, top-${topK}; ${r.values.commit}`
        })
      )
    }
  }
  return dataset(
    {
      id: "deepep-normal",
      title: "DeepEP normal kernels: dispatch / combine bottleneck bandwidth by EP size (H800)",
      file: DEEPEP_FILE,
      method:
        "Each row (dispatch and combine separately) at the test's setting. EP8: an `ep_all_to_all` op over NVLink to 7 " +
        "peers, predicted GB/s = its link bytes / its time. Beyond a node: the large-EP model's dispatch / combine call " +
        "(NIC to each remote node holding an expert, NVLink forwarding there, max of the two links + 50 us per call), and " +
        "predicted GB/s = DeepEP's logical bytes ((token, node) pairs, the sender's own node included, as its test counts " +
        "them) / that time; hence internode figures above the 50 GB/s wire rate.",
      rows
    },
    skipped
  )
}

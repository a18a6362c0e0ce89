/**
 * DeepEP normal (high-throughput) kernels: dispatch and combine "bottleneck bandwidth" per GPU
 * on the limiting link, by EP size (deepep_normal.csv, current V1 table, H800).
 *
 * Each row is an `ep_all_to_all` op with the test's setting (4,096 tokens per GPU, hidden 7,168,
 * top-8, FP8 dispatch, BF16 combine) on the row's bottleneck link: NVLink with the 7 other GPUs
 * of the node for EP8, the NIC with the ep - 8 GPUs of other nodes beyond one node. Predicted
 * bandwidth = the op's link bytes / its predicted time (link fraction and per-message latency);
 * for messages of this size it is the achievable link rate of the hardware file.
 */
import { evaluateOpCost } from "../../ops/registry.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { numberField, type CsvRecord, type CsvTable } from "../csv.ts"
import { hardwareFileFor, type HardwareSet } from "../hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"

export const DEEPEP_FILE = "deepep_normal.csv"

/** DeepEP's V1 tests ran on H800 nodes of 8 GPUs, one CX7 NIC each (deepep_normal.csv header; EP8 is "Intranode"). */
const GPUS_PER_NODE = 8

/** Predicted GB/s of one dispatch or combine on the bottleneck link. */
export const deepEpBandwidth = (
  r: { tokens: number; hidden: number; top_k: number; ep: number; dtype: "fp8" | "bf16"; nvlink: boolean },
  timing: ReturnType<typeof timingHardware>
): number => {
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
      rows.push(row({
        case: `${phase} ${r.values.topology} (${dtype}, ${nvlink ? "NVLink" : "RDMA"})`,
        hardware: name,
        unit: "GB/s",
        predicted: deepEpBandwidth({ tokens, hidden, top_k: topK, ep, dtype, nvlink }, timing),
        measured,
        source: `${DEEPEP_FILE}:${r.line}`,
        note: `${tokens} tokens, hidden ${hidden}, top-${topK}; ${r.values.commit}`
      }))
    }
  }
  return dataset({
    id: "deepep-normal",
    title: "DeepEP normal kernels: dispatch / combine bottleneck bandwidth by EP size (H800)",
    file: DEEPEP_FILE,
    method:
      "Each row (dispatch and combine separately) is an `ep_all_to_all` op with the test's setting on the row's " +
      "bottleneck link (NVLink to 7 peers for EP8; the NIC to ep - 8 peers beyond a node); predicted bandwidth is the " +
      "op's link bytes over its predicted time. DeepEP counts (token, node) pairs including the local node's, so " +
      "internode figures can exceed the 50 GB/s wire rate.",
    rows
  }, skipped)
}

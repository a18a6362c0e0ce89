/**
 * NCCL all-reduce bus bandwidth on one 8x H200 node (nccl_allreduce_busbw.csv, table
 * h200_nvls, 8 GiB payload, NVLink SHARP off): the ring algorithm over 4 to 8 GPUs.
 *
 * Each row is a `collective` all_reduce op (ring volume 2 (n - 1) / n x payload per GPU) on
 * NVLink. NCCL's bus bandwidth is that same volume over the time, so predicted busbw = the op's
 * link bytes / its predicted time.
 */
import { evaluateOpCost } from "../../ops/registry.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { numberField, type CsvTable } from "../../reference/csv.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"

export const NCCL_FILE = "nccl_allreduce_busbw.csv"

const BYTES: Record<string, number> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 }

const payloadBytes = (s: string): number | undefined => {
  const m = /^(\d+)(KiB|MiB|GiB)$/.exec(s)
  return m ? Number(m[1]) * BYTES[m[2]] : undefined
}

const skipReason = (table: string): string | undefined => {
  if (table === "h200_nvls") return undefined
  if (table.startsWith("b200")) {
    return "B200: B200.yaml has no timing constants (no link latency for small payloads); multi-node rows use hierarchical / NVLS algorithms the ring op does not model"
  }
  if (table === "h200_nvbandwidth_pairwise") return "copy-engine memcpy, not a collective (sets the H100 / H200 NVLink fraction)"
  return "NVLink SHARP (NVLS) in-switch reduction: not modelled"
}

export const ncclAllReduce = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const rows: Array<ValidationRow> = []
  const skipped: Array<string> = []
  for (const r of table.rows) {
    const why = skipReason(r.values.table)
    if (why !== undefined) {
      skipped.push(why)
      continue
    }
    const name = hardwareFileFor(r.values.hardware)
    const hw = name === undefined ? undefined : hardware.get(name)
    const n = numberField(r, "num_gpus")
    const payload = payloadBytes(r.values.payload)
    const measured = numberField(r, "busbw_nvls_off_gbps")
    if (name === undefined || hw === undefined || n === undefined || payload === undefined || measured === undefined) {
      skipped.push("hardware, GPU count, payload or NVLS-off bandwidth missing")
      continue
    }
    const cost = evaluateOpCost({
      kind: "collective",
      name: "all_reduce",
      category: "comm",
      params: { pattern: "all_reduce", payload_bytes: payload, ranks: n, link: "interconnect" }
    })
    const seconds = timeOp(cost, timingHardware(hw, mode)).dominant_latency_ms * 1e-3
    rows.push(
      row({
        case: `ring all-reduce ${r.values.payload} over ${n} GPUs`,
        hardware: name,
        unit: "GB/s",
        predicted: cost.comm_bytes / seconds / 1e9,
        measured,
        source: `${NCCL_FILE}:${r.line}`,
        note: "busbw with NVLS off"
      })
    )
  }
  return dataset(
    {
      id: "nccl-allreduce",
      title: "NCCL ring all-reduce bus bandwidth, one 8x H200 node, NVLink SHARP off",
      file: NCCL_FILE,
      method:
        "Each row is a `collective` all_reduce op (ring: 2 (n - 1) / n x payload per GPU) on NVLink; predicted bus " +
        "bandwidth = link bytes / predicted time, against NCCL's busbw with NVLS disabled.",
      rows
    },
    skipped
  )
}

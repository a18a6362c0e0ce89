/**
 * FlashAttention-3 forward kernels (FA3 paper, arXiv 2407.08608, and community runs), from
 * attention_kernels_measured.csv.
 *
 * Each modelled row is a `gqa_attention_prefill` op with q_heads = kv_heads = nheads (MHA, as
 * in the benchmarks), the row's batch, seqlen and head_dim, BF16 (FP16 and BF16 share a tensor
 * rate) or FP8. The op models causal attention only, so non-causal rows are left out, as are
 * backward passes and ablation variants. Compared quantity: kernel time; where a row gives only
 * TFLOPS, the time its FLOP convention implies (4 * seqlen^2 * head_dim * nheads * batch, halved
 * for causal). Where nheads is not given (flash-attention issue #1310) it is recovered from the
 * row's own TFLOPS x time under the same convention.
 */
import { evaluateOpCost } from "../../ops/registry.ts"
import type { OpSpec } from "../../ops/types.ts"
import type { Dtype } from "../../schema/dtypes.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { numberField, type CsvTable } from "../../reference/csv.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"
import { ascii } from "../text.ts"

export const ATTENTION_FILE = "attention_kernels_measured.csv"

/** Names of the released FlashAttention-3 forward kernel in the file. */
const FA3_KERNELS = new Set(["FlashAttention-3", "flash_v3", "Flash3", "Fav3"])

/** The benchmarks' FLOP convention (FA3 paper section 4.1). */
const fa3Flops = (batch: number, seqlen: number, heads: number, headDim: number, causal: boolean): number =>
  (4 * seqlen * seqlen * headDim * heads * batch) / (causal ? 2 : 1)

const dtypeOf = (s: string): Dtype | undefined => {
  const u = s.toUpperCase()
  if (u.startsWith("FP8")) return "fp8"
  if (u.includes("BF16")) return "bf16"
  if (u.includes("FP16")) return "fp16"
  return undefined
}

/** One modelled FlashAttention-3 row: its op, hardware file and measured kernel time. */
export interface Fa3Measurement {
  readonly spec: OpSpec
  readonly hardware: string
  readonly measured_us: number
  readonly label: string
  readonly source: string
  readonly note: string
}

/** The rows llmsim models (causal forward passes of the released kernel on a known GPU), and why the others are not. */
export const fa3Measurements = (
  table: CsvTable,
  hardware: HardwareSet
): { readonly rows: ReadonlyArray<Fa3Measurement>; readonly skipped: ReadonlyArray<string> } => {
  const rows: Array<Fa3Measurement> = []
  const skipped: Array<string> = []
  for (const r of table.rows) {
    const v = r.values
    if (!FA3_KERNELS.has(v.kernel_impl)) {
      skipped.push("ablation variant, not the released FlashAttention-3 kernel")
      continue
    }
    if (v.direction !== "fwd") {
      skipped.push("backward pass: not modelled (llmsim models inference)")
      continue
    }
    if (v.causal !== "True") {
      skipped.push(v.causal === "False" ? "non-causal: the prefill attention op is causal only" : "causal or not is not stated")
      continue
    }
    const name = hardwareFileFor(v.hardware)
    if (name === undefined || hardware.get(name) === undefined) {
      skipped.push(`no hardware file for "${ascii(v.hardware)}"`)
      continue
    }
    const dt = dtypeOf(v.dtype)
    const batch = numberField(r, "batch")
    const seqlen = numberField(r, "seqlen")
    const headDim = numberField(r, "headdim")
    const tflops = numberField(r, "tflops")
    const timeMs = numberField(r, "time_ms")
    if (dt === undefined || batch === undefined || seqlen === undefined || headDim === undefined) {
      skipped.push("dtype or shape not stated")
      continue
    }
    const perHead = fa3Flops(batch, seqlen, 1, headDim, true)
    const heads = numberField(r, "nheads") ?? (tflops !== undefined && timeMs !== undefined ? Math.round((tflops * 1e12 * timeMs * 1e-3) / perHead) : undefined)
    if (heads === undefined || heads <= 0) {
      skipped.push("nheads not stated and not recoverable")
      continue
    }
    const measuredUs =
      timeMs !== undefined ? timeMs * 1e3 : tflops !== undefined ? (fa3Flops(batch, seqlen, heads, headDim, true) / (tflops * 1e12)) * 1e6 : undefined
    if (measuredUs === undefined) {
      skipped.push("neither time nor TFLOPS given")
      continue
    }
    rows.push({
      spec: {
        kind: "gqa_attention_prefill",
        name: "attention",
        category: "attention_core",
        params: { batch, seq_len: seqlen, q_heads: heads, kv_heads: heads, head_dim: headDim, window: 0, act_dtype: dt, kv_dtype: dt }
      },
      hardware: name,
      measured_us: measuredUs,
      label: `${dt} causal b=${batch} S=${seqlen} h=${heads} d=${headDim}`,
      source: `${ATTENTION_FILE}:${r.line}`,
      note: ascii(`${v.source.split(" (")[0]}${timeMs === undefined ? ", from TFLOPS" : ""}${v.nheads === "" ? ", nheads from TFLOPS x time" : ""}`).slice(
        0,
        90
      )
    })
  }
  return { rows, skipped }
}

export const attentionKernels = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const { rows: measured, skipped } = fa3Measurements(table, hardware)
  const rows: Array<ValidationRow> = measured.map((m) =>
    row({
      case: m.label,
      hardware: m.hardware,
      unit: "us",
      predicted: timeOp(evaluateOpCost(m.spec), timingHardware(hardware.get(m.hardware)!, mode), m.spec).dominant_latency_ms * 1e3,
      measured: m.measured_us,
      source: m.source,
      note: m.note
    })
  )
  return dataset(
    {
      id: "attention-fa3",
      title: "FlashAttention-3 forward, causal (FA3 paper on H100 SXM5, community runs on H20)",
      file: ATTENTION_FILE,
      method:
        "Each row is a `gqa_attention_prefill` op (causal, q_heads = kv_heads = nheads) in the row's dtype; predicted " +
        "kernel time against the row's time, or the time its TFLOPS imply under the FA3 FLOP convention " +
        "(4 * S^2 * d * h * batch / 2 for causal). Non-causal, backward and ablation rows are not modelled.",
      rows
    },
    skipped
  )
}

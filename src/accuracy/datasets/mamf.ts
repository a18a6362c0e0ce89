/**
 * Maximum achievable matmul TFLOPS (stas00 ml-engineering MAMF table): torch.matmul at the best
 * shape a brute-force search found, per accelerator and dtype. A different kernel library
 * (cuBLAS / hipBLASLt) than DeepGEMM, so an out-of-sample check of the H100 / H200 compute constants;
 * for NV-A100, MI300X and B200 these rows are the only GEMM data and their compute fraction was
 * fitted on them (in sample).
 *
 * Each row is a `linear` op of the row's best shape (M x N x K: tokens M, in K, out N) in BF16,
 * or with FP8 weights and inputs (BF16 output); compared on TFLOPS = 2 M N K / predicted time.
 */
import { evaluateOpCost } from "../../ops/registry.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { numberField, type CsvTable } from "../../reference/csv.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"
import { ascii } from "../text.ts"

export const MAMF_FILE = "mamf_matmul_measured.csv"

export const mamf = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const rows: Array<ValidationRow> = []
  const skipped: Array<string> = []
  for (const r of table.rows) {
    const v = r.values
    const name = hardwareFileFor(v.accelerator)
    const hw = name === undefined ? undefined : hardware.get(name)
    if (name === undefined || hw === undefined) {
      skipped.push("no hardware file for the accelerator")
      continue
    }
    const shape = v.best_shape_MxNxK.split("x").map(Number)
    const measured = numberField(r, "mamf_tflops")
    if (shape.length !== 3 || shape.some((x) => !Number.isFinite(x)) || measured === undefined) {
      skipped.push("shape or TFLOPS not given")
      continue
    }
    const [m, n, k] = shape
    const fp8 = v.dtype.startsWith("fp8")
    const cost = evaluateOpCost({
      kind: "linear",
      name: "matmul",
      category: "other",
      params: { tokens: m, in_features: k, out_features: n, weight_dtype: fp8 ? "fp8" : "bf16", act_dtype: "bf16" }
    })
    const ms = timeOp(cost, timingHardware(hw, mode)).dominant_latency_ms
    rows.push(
      row({
        case: `${fp8 ? "fp8" : "bf16"} ${m}x${n}x${k}`,
        hardware: name,
        unit: "TFLOPS",
        predicted: (2 * m * n * k) / (ms * 1e-3) / 1e12,
        measured,
        source: `${MAMF_FILE}:${r.line}`,
        note: ascii(`${v.accelerator}, torch ${v.torch_version}`).slice(0, 90)
      })
    )
  }
  return dataset(
    {
      id: "mamf",
      title: "Maximum achievable matmul TFLOPS at the best shape (torch.matmul, several accelerators)",
      file: MAMF_FILE,
      method:
        "Each row is a `linear` op of the row's best shape (BF16, or FP8 weights and inputs with a BF16 output); " +
        "predicted TFLOPS = 2 M N K / predicted time, against the measured maximum. Accelerators without a hardware " +
        "file are not modelled. In sample for NV-A100, MI300X and B200 (their compute fraction was fitted on these rows: " +
        "`llmsim calibrate <hardware> --data mamf_matmul_measured.csv --where accelerator=... --fit compute`); out of sample " +
        "for H100-SXM and H200-SXM.",
      rows
    },
    skipped
  )
}

/**
 * DeepGEMM datasets: the dense and grouped-contiguous FP8 tables of the DeepGEMM README on H800
 * (the last published version of each), and the community per-shape timings from DeepGEMM pull
 * requests and issues on H800, H100, H20 and H200. Every row is a GEMM timed through llmsim's op
 * formulas and timing model (../gemm.ts); the compared quantity is kernel time.
 */
import { timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { leaveOneOut } from "../calibrate.ts"
import type { CsvTable } from "../../reference/csv.ts"
import { gemmLabel, gemmMeasurements, gemmOpCost, predictGemmUs, type GemmMeasurement } from "../gemm.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"
import { ascii, pct } from "../text.ts"

export const DENSE_FILE = "deepgemm_dense_h800.csv"
export const GROUPED_FILE = "deepgemm_grouped_contiguous_h800.csv"
export const COMMUNITY_FILE = "deepgemm_community_measurements.csv"
export const MASKED_FILE = "deepgemm_grouped_masked_h800.csv"

/** README tables keep every published version; only the last one's rows are compared. */
export const LATEST_PUBLISHED: ReadonlyArray<readonly [string, string]> = [["is_latest_published", "yes"]]

const METHOD =
  "Each row is a GEMM: a `linear` op (tokens = M, in_features = K, out_features = N) or, for grouped rows, " +
  "the same GEMM with `num_groups` weight sets; FP8 inputs at 1 B and a BF16 output at 2 B (DeepGEMM's own byte " +
  "count), BF16 throughout for dense_bf16 rows. Predicted kernel time is the op's timed latency on the hardware " +
  "file; measured time is 2 * groups * M * N * K / TFLOPS (the README publishes TFLOPS, not time) or the row's " +
  "time_us where no TFLOPS is given."

const predictRows = (
  file: string,
  rows: ReadonlyArray<GemmMeasurement>,
  hardware: HardwareSet,
  mode: EfficiencyMode,
  note: (g: GemmMeasurement) => string,
  skipped: Array<string>
): Array<ValidationRow> => {
  const out: Array<ValidationRow> = []
  for (const g of rows) {
    const name = hardwareFileFor(g.hardware)
    const hw = name === undefined ? undefined : hardware.get(name)
    if (name === undefined || hw === undefined) {
      skipped.push(`no hardware file for "${ascii(g.hardware)}"`)
      continue
    }
    out.push(
      row({
        case: gemmLabel(g),
        hardware: name,
        unit: "us",
        predicted: predictGemmUs(gemmOpCost(g), timingHardware(hw, mode)),
        measured: g.measured_us,
        source: `${file}:${g.line}`,
        note: note(g)
      })
    )
  }
  return out
}

const readmeTable = (id: string, title: string, file: string, table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const latest = gemmMeasurements(table, LATEST_PUBLISHED)
  const superseded = table.rows.filter((r) => r.values.is_latest_published !== "yes").length
  const skipped: Array<string> = [
    ...Array.from({ length: superseded }, () => "superseded README version (is_latest_published = no)"),
    ...latest.skipped.map((s) => s.reason)
  ]
  const rows = predictRows(file, latest.rows, hardware, mode, (g) => `${g.kind}, from TFLOPS`, skipped)
  return dataset({ id, title, file, method: METHOD, rows }, skipped)
}

/**
 * The latest dense table, with a leave-one-out estimate: these rows are the ones the shipped
 * H800 constants were fitted on (configs/hardware/H800-SXM.yaml), so their errors are in-sample.
 */
export const deepgemmDense = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const d = readmeTable("deepgemm-dense-h800", "DeepGEMM dense FP8 GEMM, H800 (last published README table)", DENSE_FILE, table, hardware, mode)
  const hw = hardware.get("H800-SXM")
  if (mode === "none" || hw === undefined) return d
  const rows = gemmMeasurements(table, LATEST_PUBLISHED).rows
  const loo = leaveOneOut(hw, rows, ["compute", "memory", "kernel_latency_us", "tile"])
  return {
    ...d,
    notes: [
      `In sample: the shipped H800-SXM constants were fitted on these ${rows.length} rows (llmsim calibrate, one set for all shapes). ` +
        `Leave-one-out (refit compute, memory, kernel latency and tile on the other ${rows.length - 1} rows, predict the held-out one): ` +
        `median ${pct(loo.median_ape)}, p90 ${pct(loo.p90_ape)}, max ${pct(loo.max_ape)}.`
    ]
  }
}

export const deepgemmGrouped = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport =>
  readmeTable("deepgemm-grouped-h800", "DeepGEMM grouped-contiguous FP8 GEMM, H800 (last published README table)", GROUPED_FILE, table, hardware, mode)

/**
 * The masked (decode) layout's README table: held out, no constant is fitted on it. Its note says
 * why no term is taken from it: the table measures DeepGEMM as of February-April 2025, and the
 * later masked measurements (H20, July 2025, in the community dataset) do not show its gap.
 */
export const deepgemmMasked = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => ({
  ...readmeTable("deepgemm-masked-h800", "DeepGEMM grouped-masked FP8 GEMM (decode MoE), H800 (README table; held out)", MASKED_FILE, table, hardware, mode),
  notes: [
    "Every row is 7 to 16 us slower than predicted (median 7.1 us): a fixed cost per call of about 7 us would fit five of the six. " +
      "The table measures DeepGEMM from a6d97a1 to 2e7e580 (February-April 2025; removed at 37aa127, 'Use swizzling instead of padding'). " +
      "The July 2025 masked rows on H20 (deepgemm_community_measurements.csv, DeepGEMM PR #116) are within -11% to +21% without such a " +
      "cost, and adding 7 us would make two of them worse, so no term is taken from this table."
  ]
})

export const deepgemmCommunity = (table: CsvTable, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const all = gemmMeasurements(table)
  const skipped = all.skipped.map((s) => s.reason)
  const rows = predictRows(
    COMMUNITY_FILE,
    all.rows,
    hardware,
    mode,
    (g) => ascii(`${g.kind}, ${g.variant}${g.measured_from === "time_us" ? ", from time_us" : ""}`).slice(0, 90),
    skipped
  )
  return dataset(
    {
      id: "deepgemm-community",
      title: "DeepGEMM per-shape community measurements (H800, H100, H20, H200)",
      file: COMMUNITY_FILE,
      method:
        METHOD +
        " grouped_masked rows use the expected M per group. kgrouped_wgrad rows (training weight gradients, K = the " +
        "groups' average) are DeepGEMM's FP32-accumulating wgrad kernel instead: FP8 A and B plus their 1x128 FP32 scales read, " +
        "the FP32 D read and written (8 B per output element; the test's printed GB/s counts 2), one kernel per group, and one " +
        "FMUL per accumulator per 128-K block beyond the inference kernel's promotion, on the CUDA cores at 67 TFLOPS FP32 " +
        "(H100/H200 datasheets), not overlapped with the tensor cores.",
      rows
    },
    skipped
  )
}

/**
 * The kernel measurements of data/reference as ML training rows: every row the kernel datasets
 * of `llmsim validate` model (DeepGEMM dense, grouped contiguous and masked, and community GEMMs, FlashMLA decoding,
 * FlashAttention-3 prefill), as the feature row of its op (src/ml/features.ts) on its hardware
 * file plus the measured time. The same rows, the same ops and the same hardware files as the
 * analytic validation, so the two errors are comparable row for row.
 *
 * System-level, communication and best-shape datasets (DeepSeek production, DeepEP, NCCL, MAMF)
 * are not kernel timings of one fused op and stay analytic. Features use the hardware files'
 * efficiency constants (`--efficiency hardware`), as the simulator does by default.
 */
import { evaluateOpCost } from "../ops/registry.ts"
import type { OpCost, OpSpec } from "../ops/types.ts"
import { timingHardware } from "../timing/roofline.ts"
import { NO_PLACE, opFeatureRow } from "../ml/features.ts"
import type { TrainingRow } from "../ml/model.ts"
import { parseCsv } from "../reference/csv.ts"
import { fa3Measurements, ATTENTION_FILE } from "./datasets/attention.ts"
import { COMMUNITY_FILE, DENSE_FILE, GROUPED_FILE, LATEST_PUBLISHED, MASKED_FILE } from "./datasets/deepgemm.ts"
import { flashMlaMeasurements, FLASHMLA_FILE, mlaDecodeSpec } from "./datasets/flashmla.ts"
import { gemmMeasurements, gemmOp, gemmOpCost, gemmLabel } from "./gemm.ts"
import { hardwareFileFor, type HardwareSet } from "../reference/hardware.ts"

export interface ReferenceCase {
  /** The validate dataset id the row belongs to. */
  readonly dataset: string
  readonly label: string
  /** `file:line` in the reference folder. */
  readonly source: string
  readonly row: TrainingRow
}

/** The kernel datasets a learned estimator is trained and cross-validated on, in validate's order. */
export const ML_DATASETS = ["deepgemm-dense-h800", "deepgemm-grouped-h800", "deepgemm-masked-h800", "deepgemm-community", "flashmla", "attention-fa3"] as const

/** Every modelled kernel measurement of the reference files as a training row. */
export const referenceCases = (files: Readonly<Record<string, string>>, hardware: HardwareSet): Array<ReferenceCase> => {
  const out: Array<ReferenceCase> = []
  const add = (dataset: string, label: string, source: string, hwName: string, op: OpSpec, cost: OpCost, measured_us: number) => {
    const hw = hardware.get(hwName)
    if (hw === undefined) return
    out.push({ dataset, label, source, row: { features: opFeatureRow(NO_PLACE, op, cost, hwName, timingHardware(hw, "hardware")), measured_us } })
  }
  const gemmFile = (dataset: string, file: string, where: ReadonlyArray<readonly [string, string]>) => {
    for (const g of gemmMeasurements(parseCsv(files[file]), where).rows) {
      const name = hardwareFileFor(g.hardware)
      if (name !== undefined) add(dataset, gemmLabel(g), `${file}:${g.line}`, name, gemmOp(g), gemmOpCost(g), g.measured_us)
    }
  }
  gemmFile("deepgemm-dense-h800", DENSE_FILE, LATEST_PUBLISHED)
  gemmFile("deepgemm-grouped-h800", GROUPED_FILE, LATEST_PUBLISHED)
  gemmFile("deepgemm-masked-h800", MASKED_FILE, [])
  gemmFile("deepgemm-community", COMMUNITY_FILE, [])
  for (const m of flashMlaMeasurements(files[FLASHMLA_FILE], hardware).rows) {
    const spec = mlaDecodeSpec(m.case)
    add("flashmla", m.label, m.source, m.hardware, spec, evaluateOpCost(spec), m.measured_us)
  }
  for (const m of fa3Measurements(parseCsv(files[ATTENTION_FILE]), hardware).rows) {
    add("attention-fa3", m.label, m.source, m.hardware, m.spec, evaluateOpCost(m.spec), m.measured_us)
  }
  return out
}

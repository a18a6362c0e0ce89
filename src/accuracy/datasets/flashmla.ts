/**
 * FlashMLA (deepseek-ai/FlashMLA) dense MLA decoding: the README's H800 figures (memory-bound
 * GB/s, compute-bound TFLOPS) and the community runs of its test on H20 and H100.
 *
 * Each case is an `mla_attention_decode` op (absorbed MLA over the latent cache: d_k = 576 =
 * kv_lora_rank 512 + rope 64, d_v = 512, BF16). s_q query tokens per sequence (MTP) attend the
 * same cache as h_q * s_q query heads would: identical FLOPs and bytes, so they are modelled as
 * heads = h_q * s_q. README figures are rates, compared as rates: predicted GB/s and TFLOPS are
 * FlashMLA's own FLOP and byte counts (flashmla.yaml deep_dive_docs) divided by the predicted
 * time. Community rows are compared on kernel time.
 */
import { parse } from "yaml"
import { evaluateOpCost } from "../../ops/registry.ts"
import type { OpSpec } from "../../ops/types.ts"
import { timeOp, timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import { hardwareFileFor, type HardwareSet } from "../../reference/hardware.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"
import { ascii } from "../text.ts"

export const FLASHMLA_FILE = "flashmla.yaml"

/** FlashMLA's head dims (flashmla.yaml community runs: "d=576, dv=512"): kv_lora_rank 512 + rope 64, and the latent. */
const D_K = 576
const D_V = 512

export interface MlaDecodeCase {
  readonly b: number
  readonly s_q: number
  readonly s_k: number
  readonly h_q: number
}

/** The op of one FlashMLA call: s_q query tokens as h_q * s_q heads. */
export const mlaDecodeSpec = (c: MlaDecodeCase): OpSpec => ({
  kind: "mla_attention_decode",
  name: "flash_mla",
  category: "attention_core",
  params: { batch: c.b, kv_len: c.s_k, heads: c.h_q * c.s_q, kv_lora_rank: D_V, qk_rope_head_dim: D_K - D_V, act_dtype: "bf16", kv_dtype: "bf16" }
})

/** Predicted kernel time of one FlashMLA call, microseconds. */
const mlaDecodeUs = (c: MlaDecodeCase, timing: ReturnType<typeof timingHardware>): number =>
  timeOp(evaluateOpCost(mlaDecodeSpec(c)), timing, mlaDecodeSpec(c)).dominant_latency_ms * 1e3

/** FlashMLA's FLOPs: 2 h_q s_q s_k (d_k + d_v) per sequence. */
const flashMlaFlops = (c: MlaDecodeCase): number => c.b * 2 * c.h_q * c.s_q * c.s_k * (D_K + D_V)
/** FlashMLA's bytes: sizeof(bf16) (h_q s_q d_k + s_k d_k + h_q s_q d_v) per sequence. */
const flashMlaBytes = (c: MlaDecodeCase): number => c.b * 2 * (c.h_q * c.s_q * D_K + c.s_k * D_K + c.h_q * c.s_q * D_V)

/**
 * Configurations assumed for the README's "up to" figures (the README gives no shape):
 * memory-bound: 16 heads, one query token (h_q * s_q = 16, far below the deep dive's
 * compute-bound threshold h_q * s_q >= 128); compute-bound: DeepSeek's decoding shape, 128
 * heads (no TP, deep dive) and 2 query tokens (MTP). Both with 128 sequences (the batch of
 * FlashMLA's test and of every community row) and a long 16,384-token cache, as "up to"
 * figures are the best of a sweep and a long cache amortises the fixed cost.
 */
const README_MEMORY_CASE: MlaDecodeCase = { b: 128, s_q: 1, s_k: 16384, h_q: 16 }
const README_COMPUTE_CASE: MlaDecodeCase = { b: 128, s_q: 2, s_k: 16384, h_q: 128 }

const caseLabel = (c: MlaDecodeCase): string => `b=${c.b} s_q=${c.s_q} s_k=${c.s_k} h_q=${c.h_q}`

interface Statement {
  readonly version?: string
  readonly commit?: string
  readonly hardware?: string
  readonly memory_bound_gbps?: number
  readonly compute_bound_tflops?: number
  readonly statements?: ReadonlyArray<unknown>
}

/** 1-based line of the first occurrence of `needle` at or after `from` (for file:line sources). */
const lineOf = (text: string, needle: string, from = 0): number => {
  const i = text.indexOf(needle, from)
  return i < 0 ? 1 : text.slice(0, i).split("\n").length
}

/** One modelled FlashMLA figure: the case, its hardware file, the measured time and, for a README rate, the rate. */
export interface MlaMeasurement {
  readonly case: MlaDecodeCase
  readonly hardware: string
  readonly label: string
  /** Kernel time; for a README rate, the time that rate implies under FlashMLA's own FLOP or byte count. */
  readonly measured_us: number
  readonly rate?: { readonly unit: "GB/s" | "TFLOPS"; readonly measured: number }
  readonly source: string
  readonly note: string
}

/** The README's latest dense statement and the community runs on GPUs with a hardware file, and why the rest are left out. */
export const flashMlaMeasurements = (
  text: string,
  hardware: HardwareSet
): { readonly rows: ReadonlyArray<MlaMeasurement>; readonly skipped: ReadonlyArray<string> } => {
  const doc = parse(text) as {
    readme_statements?: ReadonlyArray<Statement>
    community_measurements?: ReadonlyArray<{ source: string; hardware: string; rows: ReadonlyArray<ReadonlyArray<number | boolean>> }>
  }
  const rows: Array<MlaMeasurement> = []
  const skipped: Array<string> = []
  const statements = doc.readme_statements ?? []
  const dense = statements.filter((s) => s.memory_bound_gbps !== undefined || s.compute_bound_tflops !== undefined)
  const latest = dense[dense.length - 1]
  const known = (label: string): string | undefined => {
    const name = hardwareFileFor(label)
    return name === undefined || hardware.get(name) === undefined ? undefined : name
  }
  for (const s of statements) {
    if (s.statements !== undefined) {
      for (let i = 0; i < s.statements.length; i++) skipped.push("sparse (DSA) decoding, sparse prefill or B200 kernels: not modelled")
      continue
    }
    if (s !== latest) {
      skipped.push("superseded README statement")
      continue
    }
    const name = known(s.hardware ?? "")
    if (name === undefined) {
      skipped.push(`no hardware file for "${ascii(s.hardware ?? "")}"`)
      continue
    }
    const line = lineOf(text, `commit: ${s.commit}`)
    // FlashMLA's README "up to" figures: achieved bandwidth on a memory-bound case, achieved
    // TFLOPS on a compute-bound one (both cases assumed, see README_*_CASE).
    const readme = (regime: string, c: MlaDecodeCase, unit: "GB/s" | "TFLOPS", measured: number, measured_us: number) =>
      rows.push({
        case: c,
        hardware: name,
        label: `README ${regime}, ${caseLabel(c)} (assumed)`,
        measured_us,
        rate: { unit, measured },
        source: `${FLASHMLA_FILE}:${line}`,
        note: `"up to" figure, version ${ascii(s.version ?? "")}`
      })
    if (s.memory_bound_gbps !== undefined) {
      readme("memory-bound", README_MEMORY_CASE, "GB/s", s.memory_bound_gbps, (flashMlaBytes(README_MEMORY_CASE) / (s.memory_bound_gbps * 1e9)) * 1e6)
    }
    if (s.compute_bound_tflops !== undefined) {
      readme(
        "compute-bound",
        README_COMPUTE_CASE,
        "TFLOPS",
        s.compute_bound_tflops,
        (flashMlaFlops(README_COMPUTE_CASE) / (s.compute_bound_tflops * 1e12)) * 1e6
      )
    }
  }
  let from = 0
  for (const group of doc.community_measurements ?? []) {
    from = text.indexOf(`source: ${group.source}`, from)
    const name = known(group.hardware)
    if (name === undefined) {
      for (let i = 0; i < group.rows.length; i++) skipped.push(`no hardware file for "${ascii(group.hardware)}"`)
      continue
    }
    const formFactor = /not stated/i.test(group.hardware) ? "; SXM assumed (GB/s above PCIe HBM)" : ""
    for (const r of group.rows) {
      const [b, s_q, s_k, h_q, varlen, time_ms] = r as [number, number, number, number, boolean, number]
      const c = { b, s_q, s_k, h_q }
      const needle = `[${r.map((v) => String(v)).join(", ")}]`
      rows.push({
        case: c,
        hardware: name,
        label: `${caseLabel(c)}${varlen ? " varlen" : ""}`,
        measured_us: time_ms * 1e3,
        source: `${FLASHMLA_FILE}:${lineOf(text, needle, Math.max(0, from))}`,
        note: `test_flash_mla.py run${varlen ? ", variable lengths (mean s_k modelled)" : ""}${formFactor}`
      })
    }
  }
  return { rows, skipped }
}

export const flashMla = (text: string, hardware: HardwareSet, mode: EfficiencyMode): DatasetReport => {
  const { rows: measured, skipped } = flashMlaMeasurements(text, hardware)
  const rows: Array<ValidationRow> = measured.map((m) => {
    const us = mlaDecodeUs(m.case, timingHardware(hardware.get(m.hardware)!, mode))
    // README rates are compared as rates: FlashMLA's byte or FLOP count over the predicted time.
    const predicted =
      m.rate === undefined ? us : m.rate.unit === "GB/s" ? flashMlaBytes(m.case) / (us * 1e-6) / 1e9 : flashMlaFlops(m.case) / (us * 1e-6) / 1e12
    return row({
      case: m.label,
      hardware: m.hardware,
      unit: m.rate?.unit ?? "us",
      predicted,
      measured: m.rate?.measured ?? m.measured_us,
      source: m.source,
      note: m.note
    })
  })
  const notes = [
    "H20 measured times are flat for h_q * s_q = 16 to 64 query rows (601 to 614 us) and double at 80 (1,168 us): FlashMLA's 64-row query tiles, charged by the timing model (src/timing/attention.ts), make decoding compute-bound on H20's 148 BF16 TFLOPS.",
    "In sample: attention_compute and attention_memory of H800-SXM, H100-SXM and H20 were fitted on these rows and the FA3 rows (`llmsim calibrate <hardware> --attention --data data/reference`); out-of-sample (leave-one-out) errors are in each hardware file."
  ]
  return dataset(
    {
      id: "flashmla",
      title: "FlashMLA dense MLA decoding (H800 README figures, H20 and H100 community runs)",
      file: FLASHMLA_FILE,
      method:
        "Each case is an `mla_attention_decode` op (d_k 576, d_v 512, BF16 cache); s_q query tokens are modelled as " +
        "h_q * s_q heads (same FLOPs and bytes). README rates are compared as rates (FlashMLA's FLOP and byte formulas " +
        "over the predicted time) on assumed shapes: memory-bound b=128 s_q=1 h_q=16 s_k=16384, compute-bound b=128 " +
        "s_q=2 h_q=128 s_k=16384 (the README gives none). Community runs are compared on kernel time.",
      rows,
      notes
    },
    skipped
  )
}

/**
 * `llmsim validate`: predict every reference measurement llmsim can model and compare.
 *
 * Pure core (buildReport: file texts and hardware in, report out) and an Effect shell
 * (loadValidationInputs: finds the reference folder, reads the files, decodes the hardware files
 * and the DeepSeek-V3 scenario through the project's loaders).
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"
import { resolvePath, type ProjectPaths } from "../config/paths.ts"
import { Evaluator, Project } from "../app/services.ts"
import { ConfigError } from "../config/errors.ts"
import { displayPath, loadHardwareFile, loadScenario, type LoadedScenario } from "../config/load.ts"
import { SERVING_FILE, servingCases } from "./datasets/serving.ts"
import { caseScenario, servingValidation, simulateCase, type ServingRun, type ServingValidation } from "./serving.ts"
import type { ProjectShape } from "../config/project.ts"
import { decodeYamlText } from "../config/yamlFile.ts"
import { HardwareSpec } from "../schema/hardware.ts"
import type { EfficiencyMode } from "../timing/roofline.ts"
import { parseCsv } from "../reference/csv.ts"
import { attentionKernels, ATTENTION_FILE } from "./datasets/attention.ts"
import { deepEpNormal, DEEPEP_FILE } from "./datasets/deepep.ts"
import { deepEpLowLatency, DEEPEP_LL_FILE } from "./datasets/deepepLowLatency.ts"
import {
  COMMUNITY_FILE,
  deepgemmCommunity,
  deepgemmDense,
  deepgemmGrouped,
  deepgemmMasked,
  DENSE_FILE,
  GROUPED_FILE,
  LATEST_PUBLISHED,
  MASKED_FILE
} from "./datasets/deepgemm.ts"
import { FITTABLE, leaveOneOut } from "./calibrate.ts"
import { gemmMeasurements } from "./gemm.ts"
import type { ErrorSummary } from "../reference/stats.ts"
import { deepseekProduction, OVERVIEW_FILE, type DeepSeekInputs } from "./datasets/deepseek.ts"
import { deepseekProfile, PROFILE_FILE, profileFigures, profileOverrides } from "./datasets/deepseekProfile.ts"
import { largeEpSystem } from "./largeEpAdapter.ts"
import { flashMla, FLASHMLA_FILE } from "./datasets/flashmla.ts"
import { mamf, MAMF_FILE } from "./datasets/mamf.ts"
import { ncclAllReduce, NCCL_FILE } from "./datasets/nccl.ts"
import { modelOf, type Model } from "../kernel/model.ts"
import { ReferenceDataError } from "./errors.ts"
import { poolValidation } from "./disaggregated.ts"
import type { HardwareSet } from "../reference/hardware.ts"
import type { DatasetReport } from "./report.ts"
import { mlValidation, type MlValidation } from "./mlValidation.ts"

const REFERENCE_FILES = [
  DENSE_FILE,
  GROUPED_FILE,
  MASKED_FILE,
  COMMUNITY_FILE,
  FLASHMLA_FILE,
  ATTENTION_FILE,
  DEEPEP_FILE,
  DEEPEP_LL_FILE,
  MAMF_FILE,
  NCCL_FILE,
  OVERVIEW_FILE,
  PROFILE_FILE
] as const

/** The scenario whose model the core roll-up of the system-level checks runs (relative to the project root). */
const DEEPSEEK_SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
/** DeepSeek's decode and prefill units for the large-EP deployment model (src/deploy). */
const DEEPSEEK_DECODE_UNIT = "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"
const DEEPSEEK_PREFILL_UNIT = "configs/scenarios/deepseek_v3_h800_prefill_ep32.yaml"

interface AcceptanceCheck {
  readonly name: string
  readonly requirement: string
  readonly value: string
  readonly pass: boolean
}

/** A check with the dataset (and hardware) whose rows it judges, to tell in-sample checks from held-out ones. */
type Check = AcceptanceCheck & { readonly id: string; readonly dataset?: string; readonly hardware?: string }

interface HardwareConstants {
  readonly hardware: string
  readonly efficiency: Readonly<Record<string, number | string>>
}

export interface ValidationReport {
  readonly efficiency: EfficiencyMode
  readonly datasets: ReadonlyArray<DatasetReport>
  /** Gated: `llmsim validate` exits 1 when one fails. */
  readonly acceptance: ReadonlyArray<AcceptanceCheck>
  /** Issue 15's targets not met yet: reported with their value, not part of the exit status. */
  readonly targets: ReadonlyArray<AcceptanceCheck>
  /** Checks on rows the constants were fitted on (in sample): reported, never gated (issue 27). */
  readonly in_sample: ReadonlyArray<AcceptanceCheck>
  readonly hardware: ReadonlyArray<HardwareConstants>
  /** With `--estimator ml`: the ML estimator's cross-validated error beside the analytic one. */
  readonly ml?: MlValidation
  /** With `--serving`: the serving dataset (src/accuracy/serving.ts). */
  readonly serving?: ServingValidation
}

interface DeepSeekScenarios {
  readonly model: Model
  readonly hardwareName: string
  readonly scenario: string
  /** DeepSeek's units with `deployment:` blocks, when the project ships them. */
  readonly units?: { readonly decode: LoadedScenario; readonly prefill: LoadedScenario }
}

export interface ValidationInputs {
  readonly files: Readonly<Record<string, string>>
  readonly hardware: HardwareSet
  readonly deepseek: DeepSeekScenarios
}

/** Acceptance bounds of issue 7 (checked by the test suite and by the command's exit status). */
const DENSE_MEDIAN_BOUND = 10
const DENSE_P90_BOUND = 25
const DECODE_BOUND = 20
/** Issue 15: DeepSeek-V3 profiled decode and prefill throughput each within 10%. */
const PROFILE_BOUND = 10
/** Issue 15's kernel bounds (median APE, %). */
const FLASHMLA_BOUND = 12
const FA3_BOUND = 15
const COMMUNITY_BOUND = 15
const DEEPEP_BOUND = 10
/** Issue 15: leave-one-out error of the H800 GEMM fit on DeepGEMM's dense table. */
const DENSE_LOO_MEDIAN_BOUND = 5
const DENSE_LOO_P90_BOUND = 12

/** Issue 15's checks; each is gated once it holds (GATED) and reported as a target until then. */
const issue15Checks = (datasets: ReadonlyArray<DatasetReport>, denseLoo?: ErrorSummary): Array<Check> => {
  const out: Array<Check> = []
  if (denseLoo !== undefined) {
    out.push({
      id: "dense-loo",
      name: "DeepGEMM dense FP8 on H800, leave-one-out of the H800 GEMM fit",
      requirement: `median <= ${DENSE_LOO_MEDIAN_BOUND}%, p90 <= ${DENSE_LOO_P90_BOUND}% (${denseLoo.rows} rows)`,
      value: `median ${denseLoo.median_ape.toFixed(1)}%, p90 ${denseLoo.p90_ape.toFixed(1)}%`,
      pass: denseLoo.median_ape <= DENSE_LOO_MEDIAN_BOUND && denseLoo.p90_ape <= DENSE_LOO_P90_BOUND
    })
  }
  const median = (id: string, checkId: string, name: string, bound: number, sample = "") => {
    const d = datasets.find((x) => x.id === id)
    if (d === undefined || d.summary.rows === 0) return
    out.push({
      id: checkId,
      dataset: id,
      name,
      requirement: `median <= ${bound}% (${d.summary.rows} rows${sample})`,
      value: `median ${d.summary.median_ape.toFixed(1)}%`,
      pass: d.summary.median_ape <= bound
    })
  }
  // In sample: the hardware files' attention constants were fitted on these rows (calibrate --attention).
  median("flashmla", "flashmla-median", "FlashMLA decoding", FLASHMLA_BOUND, "; in sample")
  median("attention-fa3", "fa3-median", "FlashAttention-3 prefill", FA3_BOUND, "; in sample")
  median("deepep-normal", "deepep-median", "DeepEP normal dispatch / combine bandwidth", DEEPEP_BOUND)
  // Held out: the masked (decode MoE) layout's README rows; nothing is fitted on them (issue 27: 14-28% fast).
  median("deepgemm-masked-h800", "masked-median", "DeepGEMM masked grouped GEMMs (decode MoE) on H800", COMMUNITY_BOUND, "; held out")
  // Held out: nothing is fitted on these rows. A target (not gated) until the NVLink path of the
  // low-latency kernels has its own term: the EP8 rows are 22-37% fast (issue 27).
  const ll = datasets.find((x) => x.id === "deepep-low-latency")
  if (ll !== undefined && ll.summary.rows > 0)
    out.push({
      id: "deepep-ll",
      dataset: "deepep-low-latency",
      name: "DeepEP low-latency dispatch / combine time",
      requirement: `median <= ${DEEPEP_BOUND}%, no row over ${2 * DEEPEP_BOUND}% (${ll.summary.rows} rows; held out)`,
      value: `median ${ll.summary.median_ape.toFixed(1)}%, max ${ll.summary.max_ape.toFixed(1)}%`,
      pass: ll.summary.median_ape <= DEEPEP_BOUND && ll.summary.max_ape <= 2 * DEEPEP_BOUND
    })
  const community = datasets.find((x) => x.id === "deepgemm-community")
  for (const h of community?.by_hardware ?? []) {
    out.push({
      id: `community-${h.hardware}`,
      dataset: "deepgemm-community",
      hardware: h.hardware,
      name: `DeepGEMM community GEMMs on ${h.hardware}`,
      // H100's memory / latency and H20's GEMM constants were fitted on their community rows.
      requirement: `median <= ${COMMUNITY_BOUND}% (${h.summary.rows} rows${h.hardware === "H100-SXM" || h.hardware === "H20" ? "; in sample" : ""})`,
      value: `median ${h.summary.median_ape.toFixed(1)}%`,
      pass: h.summary.median_ape <= COMMUNITY_BOUND
    })
  }
  const profile = datasets.find((d) => d.id === "deepseek-profile")
  for (const [id, phase, what] of [
    ["profile-decode", "decode", "output"],
    ["profile-prefill", "prefill", "input"]
  ] as const) {
    const r = profile?.rows.find((x) => x.case.startsWith(phase))
    if (r === undefined) continue
    out.push({
      id,
      dataset: "deepseek-profile",
      name: `DeepSeek-V3 profiled ${phase}, ${what} tokens/s per GPU (profile-data settings)`,
      // In sample: H800's overlap_efficiency was fitted on these two rows (calibrate --overlap).
      requirement: `within ${PROFILE_BOUND}% of ${Math.round(r.measured)} (in sample)`,
      value: `${Math.round(r.predicted)} (${r.predicted >= r.measured ? "+" : "-"}${r.ape.toFixed(1)}%)`,
      pass: r.ape <= PROFILE_BOUND
    })
  }
  return out
}

/** Issue 15 checks gated in the exit status (they hold with the committed model and constants). */
const GATED: ReadonlySet<string> = new Set<string>([
  "flashmla-median",
  "fa3-median",
  "deepep-median",
  "community-H100-SXM",
  "community-H800-SXM",
  "community-H20",
  "profile-decode",
  "profile-prefill",
  "dense-loo"
])

/** Whether a check judges rows some constant of its hardware was fitted on (the dataset's in_sample list). */
const inSample = (c: Check, datasets: ReadonlyArray<DatasetReport>): boolean => {
  if (c.dataset === undefined) return false
  const fitted = datasets.find((d) => d.id === c.dataset)?.in_sample ?? []
  return c.hardware === undefined ? fitted.length > 0 : fitted.some((x) => x.hardware === c.hardware)
}

/** Every check: the two system-level ones and issue 15's, each labelled with the dataset it judges. */
const allChecks = (datasets: ReadonlyArray<DatasetReport>, denseLoo?: ErrorSummary): Array<Check> => {
  const dense = datasets.find((d) => d.id === "deepgemm-dense-h800")
  const decode = datasets.find((d) => d.id === "deepseek-production")?.rows.find((r) => r.case.startsWith("decode"))
  const out: Array<Check> = []
  if (dense) {
    out.push({
      id: "dense-table",
      dataset: dense.id,
      name: "DeepGEMM dense FP8 GEMMs on H800, latest published table",
      requirement: `median <= ${DENSE_MEDIAN_BOUND}%, p90 <= ${DENSE_P90_BOUND}% (${dense.summary.rows} rows)`,
      value: `median ${dense.summary.median_ape.toFixed(1)}%, p90 ${dense.summary.p90_ape.toFixed(1)}%`,
      pass: dense.summary.rows > 0 && dense.summary.median_ape <= DENSE_MEDIAN_BOUND && dense.summary.p90_ape <= DENSE_P90_BOUND
    })
  }
  if (decode) {
    out.push({
      id: "production-decode",
      dataset: "deepseek-production",
      name: "DeepSeek production decode, output tokens/s per node",
      requirement: `within ${DECODE_BOUND}% of ${Math.round(decode.measured)}`,
      value: `${Math.round(decode.predicted)} (${decode.ape.toFixed(1)}%)`,
      pass: decode.ape <= DECODE_BOUND
    })
  }
  return [...out, ...issue15Checks(datasets, denseLoo)]
}

const plain = ({ id: _id, dataset: _d, hardware: _h, ...c }: Check): AcceptanceCheck => c

/**
 * Gated (the exit status): held-out checks that hold with the committed model (GATED, and the two
 * system-level ones). In-sample checks are reported apart and never gated (issue 27); the rest are
 * targets.
 */
const acceptance = (datasets: ReadonlyArray<DatasetReport>, denseLoo?: ErrorSummary): Array<AcceptanceCheck> =>
  allChecks(datasets, denseLoo)
    .filter((c) => !inSample(c, datasets) && (c.id === "production-decode" || GATED.has(c.id)))
    .map(plain)

const inSampleChecks = (datasets: ReadonlyArray<DatasetReport>, denseLoo?: ErrorSummary): Array<AcceptanceCheck> =>
  allChecks(datasets, denseLoo)
    .filter((c) => inSample(c, datasets))
    .map(plain)

const targets = (datasets: ReadonlyArray<DatasetReport>, denseLoo?: ErrorSummary): Array<AcceptanceCheck> =>
  allChecks(datasets, denseLoo)
    .filter((c) => !inSample(c, datasets) && c.id !== "production-decode" && !GATED.has(c.id))
    .map(plain)

/**
 * The H800 GEMM fit's leave-one-out error on the rows it is fitted on: compute, memory and kernel
 * latency refitted without each row, the tile held at the file's (refitting it too, as
 * `calibrate --loo` does, costs 7x the time and gives the same figures on the shipped data).
 */
const denseLeaveOneOut = (table: ReturnType<typeof parseCsv>, hw: HardwareSet, mode: EfficiencyMode): ErrorSummary | undefined => {
  const h800 = hw.get("H800-SXM")
  if (mode === "none" || h800 === undefined) return undefined
  const rows = gemmMeasurements(table, LATEST_PUBLISHED).rows
  const e = h800.efficiency ?? {}
  // The tile is held fixed; sm_load_gbps is fitted where the file models it (0: off).
  const fit = FITTABLE.filter((f) => f !== "tile" && (f !== "sm_load_gbps" || (e.sm_load_gbps ?? 0) > 0))
  return rows.length > fit.length + 1 ? leaveOneOut(h800, rows, fit, [[e.tile_m ?? 0, e.tile_n ?? 0]]) : undefined
}

/**
 * The rows one calibration `dataset` entry names (configs/README.md "Calibration"): parts joined by
 * " + ", each `data/reference/<file>` followed by `:<lines>` (lines and ranges: those rows), `where
 * ...` (the file's rows of that hardware: all of them, the caller is per hardware), or another
 * qualifier (a section of a YAML file, not rows a dataset compares: none).
 */
const fittedRows = (entry: string): Array<{ readonly file: string; readonly lines?: ReadonlySet<number> }> =>
  entry.split(" + ").flatMap((part) => {
    const m = /^data\/reference\/([^\s:]+)(?::([\d,\s-]+))?(?:\s+(.*))?$/.exec(part.trim())
    if (m === null) return []
    const [, file, lines, qualifier] = m
    if (lines !== undefined) {
      const set = new Set<number>()
      for (const piece of lines.split(",")) {
        const [a, b] = piece.trim().split("-").map(Number)
        for (let x = a!; x <= (b ?? a!); x++) set.add(x)
      }
      return [{ file: file!, lines: set }]
    }
    return qualifier === undefined || qualifier.startsWith("where") ? [{ file: file! }] : []
  })

/**
 * A dataset with the constants fitted on its rows: for each hardware its rows use, the calibration
 * entries of that hardware file whose status is fitted and whose dataset names rows of this
 * dataset on that hardware (fittedRows). Borrowed constants were fitted on another GPU's rows: not these.
 */
const withSample = (d: DatasetReport, hw: HardwareSet): DatasetReport => {
  const names = [...new Set(d.rows.map((r) => r.hardware))].sort()
  const fitted = names.flatMap((name) => {
    const sources = d.rows.filter((r) => r.hardware === name).map((r) => r.source)
    const calibration = hw.get(name)?.calibration ?? {}
    const constants = Object.entries(calibration)
      .filter(
        ([, c]) =>
          c !== undefined &&
          c.status === "fitted" &&
          fittedRows(c.dataset).some((f) =>
            sources.some((src) => {
              const [file, line] = src.split(":")
              return file === f.file && (f.lines === undefined || f.lines.has(Number(line)))
            })
          )
      )
      .map(([k]) => k)
    return constants.length === 0 ? [] : [{ hardware: name, constants }]
  })
  return { ...d, in_sample: fitted }
}

export const buildReport = (inputs: ValidationInputs, mode: EfficiencyMode, estimator: "analytic" | "ml" = "analytic"): ValidationReport => {
  const csv = (name: string) => parseCsv(inputs.files[name])
  const hw = inputs.hardware
  const ds = inputs.deepseek
  const dsHardware = hw.get(ds.hardwareName)
  const datasets: Array<DatasetReport> = [
    deepgemmDense(csv(DENSE_FILE), hw, mode),
    deepgemmGrouped(csv(GROUPED_FILE), hw, mode),
    deepgemmMasked(csv(MASKED_FILE), hw, mode),
    deepgemmCommunity(csv(COMMUNITY_FILE), hw, mode),
    flashMla(inputs.files[FLASHMLA_FILE], hw, mode),
    attentionKernels(csv(ATTENTION_FILE), hw, mode),
    deepEpNormal(csv(DEEPEP_FILE), hw, mode),
    deepEpLowLatency(csv(DEEPEP_LL_FILE), hw, mode),
    mamf(csv(MAMF_FILE), hw, mode),
    ncclAllReduce(csv(NCCL_FILE), hw, mode),
    ...(dsHardware === undefined ? [] : [deepseekProduction(deepseekInputs(inputs.files[OVERVIEW_FILE], ds, dsHardware, mode))]),
    ...(ds.units === undefined ? [] : [profileDataset(inputs.files[PROFILE_FILE], ds, mode)])
  ]
  const used = [...new Set(datasets.flatMap((d) => d.rows.map((r) => r.hardware)))].sort()
  const denseLoo = denseLeaveOneOut(csv(DENSE_FILE), hw, mode)
  const labelled = mode === "none" ? datasets : datasets.map((d) => withSample(d, hw))
  return {
    efficiency: mode,
    datasets: labelled,
    acceptance: acceptance(labelled, denseLoo),
    targets: targets(labelled, denseLoo),
    in_sample: inSampleChecks(labelled, denseLoo),
    hardware: used.map((name) => ({ hardware: name, efficiency: mode === "none" ? {} : { ...(hw.get(name)?.efficiency ?? {}) } })),
    ...(estimator === "ml" ? { ml: mlValidation(inputs.files, hw) } : {})
  }
}

/** DeepSeek's profiled decode and prefill on the large-EP model of DeepSeek's unit scenarios at the profile's settings. */
const profileDataset = (text: string, ds: DeepSeekScenarios, mode: EfficiencyMode): DatasetReport => {
  const units = ds.units!
  const f = profileFigures(text)
  return deepseekProfile({
    text,
    hardwareName: ds.hardwareName,
    scenarios: { decode: DEEPSEEK_DECODE_UNIT, prefill: DEEPSEEK_PREFILL_UNIT },
    // comm_sms as the profile states them: 0 in decode (low-latency kernels, "all-to-all does not
    // occupy GPU SMs"), 24 in prefill (its figure: 108 SMs compute, 24 communicate).
    decode: largeEpSystem(units.decode, mode, profileOverrides(f.decode), f.decode.comm_sms),
    prefill: largeEpSystem(units.prefill, mode, profileOverrides(f.prefill), f.prefill.comm_sms)
  })
}

/** DeepSeek's units with `hardware` in place of their hardware file (a calibration's candidate constants). */
const onHardware = (ds: DeepSeekScenarios, hardware: HardwareSpec): DeepSeekScenarios =>
  ds.units === undefined ? ds : { ...ds, units: { decode: { ...ds.units.decode, hardware }, prefill: { ...ds.units.prefill, hardware } } }

/**
 * The system-level rows as `buildReport` computes them, with `hardware` as the DeepSeek
 * scenarios' hardware (`llmsim calibrate --overlap` tries candidate overlap_efficiency values):
 * the profile's decode and prefill (absent without DeepSeek's units), and the production averages
 * (skipped with `production: false`, the fit's inner loop).
 */
export const systemDatasetsOn = (
  inputs: ValidationInputs,
  hardware: HardwareSpec,
  which: { readonly production?: boolean } = {}
): { readonly profile?: DatasetReport; readonly production?: DatasetReport } => {
  const ds = onHardware(inputs.deepseek, hardware)
  return {
    ...(which.production === false ? {} : { production: deepseekProduction(deepseekInputs(inputs.files[OVERVIEW_FILE], ds, hardware, "hardware")) }),
    ...(ds.units === undefined ? {} : { profile: profileDataset(inputs.files[PROFILE_FILE], ds, "hardware") })
  }
}

/** The system checks' inputs: the large-EP deployment model on DeepSeek's units when it resolves. */
const deepseekInputs = (text: string, ds: DeepSeekScenarios, hardware: HardwareSpec, mode: EfficiencyMode): DeepSeekInputs => {
  const base = { text, hardware, hardwareName: ds.hardwareName, mode, core: { model: ds.model, scenario: ds.scenario } }
  if (ds.units === undefined) return { ...base, deploymentMissing: `${DEEPSEEK_DECODE_UNIT} or ${DEEPSEEK_PREFILL_UNIT} is not in the project` }
  const decode = largeEpSystem(ds.units.decode, mode)
  const prefill = largeEpSystem(ds.units.prefill, mode)
  if (typeof decode === "string") return { ...base, deploymentMissing: `${DEEPSEEK_DECODE_UNIT}: ${decode}` }
  if (typeof prefill === "string") return { ...base, deploymentMissing: `${DEEPSEEK_PREFILL_UNIT}: ${prefill}` }
  const label = "large-EP deployment model (src/deploy, as `llmsim large-ep evaluate`)"
  const runtime = ds.units.prefill.spec.runtime ?? {}
  return {
    ...base,
    deployment: {
      decode: { label, scenario: DEEPSEEK_DECODE_UNIT, summary: decode.summary, decode: decode.decode, prefill: decode.prefill },
      prefill: {
        label,
        scenario: DEEPSEEK_PREFILL_UNIT,
        summary: prefill.summary,
        decode: prefill.decode,
        prefill: prefill.prefill,
        shape: { prompts: runtime.batch_size ?? 1, tokens: runtime.seq_len ?? 4096, source: "the scenario's runtime; its comments give the reasoning" }
      }
    }
  }
}

/** The reference data shipped in the repository (data/reference/README.md names each file's source). */
const DEFAULT_REFERENCE = "data/reference"

/** `--reference DIR` (a flag: from the current directory), else `<project root>/data/reference`. */
export const referenceDir = (project: ProjectShape, flag: string | undefined): string =>
  flag === undefined ? path.resolve(project.root, DEFAULT_REFERENCE) : resolvePath("flag", flag, project)

/** A reference file's text (`dir/name`), or a ReferenceDataError naming it. */
export const readFile = (dir: string, name: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    return yield* fs
      .readFileString(path.join(dir, name))
      .pipe(Effect.mapError(() => new ReferenceDataError({ message: `reference file missing or unreadable: ${path.join(dir, name)}` })))
  })

/** Every hardware file in `<root>/configs/hardware`, by base name. */
const loadHardwareDir = (root: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = path.join(root, "configs", "hardware")
    const names = (yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed(() => [] as Array<string>))).filter((n) => n.endsWith(".yaml")).sort()
    const out = new Map<string, HardwareSpec>()
    for (const n of names) {
      const file = path.join(dir, n)
      const text = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
      const decoded = decodeYamlText(HardwareSpec, text, displayPath(root, file))
      if (decoded instanceof ConfigError) return yield* Effect.fail(decoded)
      out.set(n.replace(/\.yaml$/, ""), decoded)
    }
    return out as HardwareSet
  })

/** The DeepSeek-V3 model of the shipped scenario (layers, LM head, precision, hardware file), and DeepSeek's units. */
const loadDeepSeek = (paths: ProjectPaths) =>
  Effect.gen(function* () {
    const evaluator = yield* Evaluator
    const fs = yield* FileSystem.FileSystem
    const root = paths.root
    const loaded = yield* loadScenario(evaluator, paths, path.join(root, DEEPSEEK_SCENARIO))
    const present = (f: string) => fs.exists(path.join(root, f)).pipe(Effect.orElseSucceed(() => false))
    const units =
      (yield* present(DEEPSEEK_DECODE_UNIT)) && (yield* present(DEEPSEEK_PREFILL_UNIT))
        ? {
            decode: yield* loadScenario(evaluator, paths, path.join(root, DEEPSEEK_DECODE_UNIT)),
            prefill: yield* loadScenario(evaluator, paths, path.join(root, DEEPSEEK_PREFILL_UNIT))
          }
        : undefined
    const model = modelOf(loaded)
    const out: DeepSeekScenarios = {
      model,
      hardwareName: path.basename(loaded.hardwareFile).replace(/\.yaml$/, ""),
      scenario: DEEPSEEK_SCENARIO,
      ...(units === undefined ? {} : { units })
    }
    return out
  })

/** The reference files, the project's hardware files and its DeepSeek-V3 scenario (through the Evaluator service). */
export const loadValidationInputs = (referenceFolder: string) =>
  Effect.gen(function* () {
    const { root, paths } = yield* Project
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(referenceFolder).pipe(Effect.orElseSucceed(() => false))
    if (!exists) {
      return yield* Effect.fail(
        new ReferenceDataError({
          message: `reference folder not found: ${referenceFolder} (pass --reference DIR; the default is <project root>/data/reference)`
        })
      )
    }
    const files: Record<string, string> = {}
    for (const name of REFERENCE_FILES) files[name] = yield* readFile(referenceFolder, name)
    const hardware = yield* loadHardwareDir(root)
    const deepseek = yield* loadDeepSeek(paths)
    const inputs: ValidationInputs = { files, hardware, deepseek }
    return inputs
  })

/**
 * `validate --serving`: every row of the serving dataset simulated (src/accuracy/serving.ts), the
 * host time fitted on the Hopper rows, held out by model; the B200 rows held out. About two minutes: each row is a full max-load benchmark.
 */
export const servingCheck = (referenceFolder: string, onRow?: (done: number, total: number) => void) =>
  Effect.gen(function* () {
    const { root, paths } = yield* Project
    const evaluator = yield* Evaluator
    const text = yield* readFile(referenceFolder, SERVING_FILE)
    const cases = servingCases(text)
    const runs: Array<ServingRun> = []
    for (const c of cases) {
      const base = yield* loadScenario(evaluator, paths, path.join(root, c.scenario))
      const hw = yield* loadHardwareFile(evaluator, root, path.join(root, c.hardware_config))
      runs.push(simulateCase(caseScenario(base, hw, c), c))
      onRow?.(runs.length, cases.length)
    }
    return { ...servingValidation(runs), pools: yield* poolValidation(referenceFolder) }
  })

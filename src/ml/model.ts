/**
 * A learned latency correction: training, grouped cross-validation and the model file. Pure
 * (rows in, a model value or its JSON text out); reading and writing files is src/app's job.
 *
 * Target. Each head predicts r = ln(measured_us / baseline_us), the log of what the analytic
 * roofline misses, not the latency itself: the roofline already scales with the shape, so the
 * correction varies slowly across shapes and a tree fitted on some shapes transfers to others.
 * The baseline is the analytic time (which charges FlashMLA's whole query tiles, src/timing/attention.ts). A
 * prediction scales the op's analytic times by baseline * exp(r) / analytic.
 *
 * Regressor. A random forest of CART regression trees (mljs `ml-random-forest`, which trains
 * `ml-cart` trees): in process, no native code or install script, a seeded generator (identical
 * data and seed give the identical forest), and trees serialise to plain JSON, so the model file
 * is reproducible bit for bit. Trees cannot extrapolate; the envelope check (estimator.ts) keeps
 * them inside the ranges they were trained on.
 *
 * Noise floor. Predicted corrections are soft-thresholded at the training data's own
 * measurement scatter (noiseFloorOf, shrink), so where the roofline is already within noise (the
 * calibrated H800 and H100 GEMMs) the model leaves it alone instead of adding tree noise.
 *
 * Cross-validation. k-fold grouped by shape family (heads.ts familyOf): families sorted by key
 * are dealt to folds round-robin, every row of a family in one fold; each fold is predicted by a
 * forest trained on the other folds. The file records the error per head beside the analytic
 * error on the same rows.
 *
 * Models trained elsewhere (ONNX) reuse the file format as a sidecar without forests
 * (sidecarModel); decodeMetadata reads both, and each head gets its regressor from withPredictors.
 */
import { createRequire } from "node:module"
import type { RandomForestRegression as Forest } from "ml-random-forest"
import { ape, quantile, summarise, type ErrorSummary } from "../reference/stats.ts"
import { FEATURE_SCHEMA_VERSION, type FeatureRow } from "./features.ts"
import { familyOf, headById, headForKind, HEADS, modelInputs, rawFeatures, type Head } from "./heads.ts"

const MODEL_FORMAT = "llmsim-ml-model"
const MODEL_FORMAT_VERSION = 1
/** The regressor library (package.json pins it; test/ml checks this matches the installed one). */
export const LIBRARY = { name: "ml-random-forest", version: "2.1.0" } as const

export interface TrainingRow {
  readonly features: FeatureRow
  readonly measured_us: number
}

export interface Hyperparameters {
  readonly seed: number
  readonly trees: number
  /** ml-cart: a node with fewer samples is a leaf. */
  readonly min_samples_split: number
  readonly max_depth: number
  readonly folds: number
  /** Which quantile of the same-shape scatter is the noise floor (see noiseFloorOf). */
  readonly noise_floor_quantile: number
}

export const DEFAULT_HYPERPARAMETERS: Hyperparameters = { seed: 20260101, trees: 32, min_samples_split: 3, max_depth: 8, folds: 5, noise_floor_quantile: 0.75 }

/**
 * The measurement noise floor of training rows, ln units: the `q` quantile of |ln(measured) -
 * mean ln(measured) of its shape family| over the families measured more than once (the same
 * kernel call timed by two sources, two harness versions, varlen or not). 0 when no shape was
 * measured twice. On data/reference: 61 rows in 22 such families, q = 0.75 gives 0.055 (5.7%).
 */
export const noiseFloorOf = (rows: ReadonlyArray<TrainingRow>, q: number): number => {
  const families = new Map<string, Array<number>>()
  for (const r of rows) {
    const h = headForKind(r.features.kind)
    if (h === undefined || !(r.measured_us > 0)) continue
    const key = familyOf(h, r.features)
    families.set(key, [...(families.get(key) ?? []), Math.log(r.measured_us)])
  }
  const deviations: Array<number> = []
  for (const logs of families.values()) {
    if (logs.length < 2) continue
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length
    for (const l of logs) deviations.push(Math.abs(l - mean))
  }
  return deviations.length === 0 ? 0 : quantile(deviations, q)
}

/**
 * Soft threshold of a predicted ln correction at the noise floor: a correction smaller than the
 * scatter of repeated measurements is not distinguishable from noise, so the analytic time is
 * kept; a larger one is shrunk by the floor (lasso-style shrinkage toward the analytic model).
 */
export const shrink = (r: number, floor: number): number => Math.sign(r) * Math.max(0, Math.abs(r) - floor)

interface CrossValidation {
  readonly folds: number
  readonly families: number
  readonly ml: ErrorSummary
  readonly analytic: ErrorSummary
}

export interface HeadModel {
  readonly head: string
  readonly kinds: ReadonlyArray<string>
  readonly features: ReadonlyArray<string>
  /** Per feature, [min, max] of the training rows (raw values, before log2). */
  readonly envelope: Readonly<Record<string, readonly [number, number]>>
  readonly rows: number
  readonly hardware: ReadonlyArray<string>
  readonly cross_validation: CrossValidation | null
  /** The forest as ml-random-forest's toJSON() gives it. */
  readonly forest: unknown
}

export interface ModelFile {
  readonly format: typeof MODEL_FORMAT
  readonly format_version: number
  readonly feature_schema_version: number
  readonly target: string
  readonly library: { readonly name: string; readonly version: string }
  readonly hyperparameters: Hyperparameters
  /** noiseFloorOf the training rows: predicted corrections are soft-thresholded at it. */
  readonly noise_floor_ln: number
  readonly training_data: { readonly sha256: string; readonly rows: number; readonly description: string }
  readonly heads: ReadonlyArray<HeadModel>
}

const TARGET = "ln(measured_us / baseline_us) per op (baseline: the head's analytic time, src/ml/heads.ts); time = baseline * exp(prediction)"

/** Inputs and targets of the rows a head reads (rows lacking one of its features are left out). */
const headData = (h: Head, rows: ReadonlyArray<TrainingRow>) => {
  const out: Array<{ index: number; row: TrainingRow; raw: ReadonlyArray<number>; base: number; x: Array<number>; y: number; family: string }> = []
  for (const [index, row] of rows.entries()) {
    const base = h.baseline(row.features)
    if (!h.kinds.includes(row.features.kind) || h.skips?.(row.features) === true || !(row.measured_us > 0) || base === undefined || !(base > 0)) continue
    const raw = rawFeatures(h, row.features)
    if (typeof raw === "string") continue
    out.push({ index, row, raw, base, x: modelInputs(h, raw), y: Math.log(row.measured_us / base), family: familyOf(h, row.features) })
  }
  return out
}

/**
 * ml-random-forest (CommonJS, with ml-cart and ml-matrix) is required on first use: a static
 * import evaluated it on every llmsim start, though only `--estimator ml` and `ml train` use it.
 */
let forestClass: typeof Forest | undefined
const RandomForestRegression = (): typeof Forest =>
  (forestClass ??= (createRequire(import.meta.url)("ml-random-forest") as { RandomForestRegression: typeof Forest }).RandomForestRegression)

const fitForest = (x: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>, hp: Hyperparameters): Forest => {
  const forest = new (RandomForestRegression())({
    seed: hp.seed,
    nEstimators: hp.trees,
    maxFeatures: 1.0,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    treeOptions: { gainFunction: "regression", minNumSamples: hp.min_samples_split, maxDepth: hp.max_depth }
  } as never)
  forest.train(
    x.map((r) => [...r]),
    [...y]
  )
  return forest
}

/** Fold of each family: sorted keys dealt round-robin. */
export const foldsOf = (families: ReadonlyArray<string>, k: number): Map<string, number> => {
  const keys = [...new Set(families)].sort()
  return new Map(keys.map((f, i) => [f, i % k]))
}

/** Held-out predictions (ln correction) of every row, grouped k-fold; undefined with fewer than 2 families. */
const crossValidatedCorrections = (
  x: ReadonlyArray<ReadonlyArray<number>>,
  y: ReadonlyArray<number>,
  families: ReadonlyArray<string>,
  hp: Hyperparameters,
  noiseFloor: number
): { readonly folds: number; readonly predicted: ReadonlyArray<number> } | undefined => {
  const distinct = new Set(families).size
  if (distinct < 2) return undefined
  const k = Math.min(hp.folds, distinct)
  const fold = foldsOf(families, k)
  const predicted = new Array<number>(y.length).fill(0)
  for (let f = 0; f < k; f++) {
    const train = families
      .map((fam, i) => [fold.get(fam) !== f, i] as const)
      .filter(([t]) => t)
      .map(([, i]) => i)
    const test = families
      .map((fam, i) => [fold.get(fam) === f, i] as const)
      .filter(([t]) => t)
      .map(([, i]) => i)
    const forest = fitForest(
      train.map((i) => x[i]),
      train.map((i) => y[i]),
      hp
    )
    const p = forest.predict(test.map((i) => [...x[i]])).map((r) => shrink(r, noiseFloor))
    test.forEach((i, j) => {
      predicted[i] = p[j]
    })
  }
  return { folds: k, predicted }
}

/**
 * Held-out predicted time (us) of every row, each head cross-validated on its own rows (grouped
 * k-fold as trainHead does); undefined for a row no head reads or a head with one family.
 */
export const crossValidatedTimes = (rows: ReadonlyArray<TrainingRow>, hp: Hyperparameters = DEFAULT_HYPERPARAMETERS): Array<number | undefined> => {
  const out = new Array<number | undefined>(rows.length).fill(undefined)
  const floor = noiseFloorOf(rows, hp.noise_floor_quantile)
  for (const h of HEADS) {
    const data = headData(h, rows)
    const cv = crossValidatedCorrections(
      data.map((d) => d.x),
      data.map((d) => d.y),
      data.map((d) => d.family),
      hp,
      floor
    )
    if (cv === undefined) continue
    data.forEach((d, i) => {
      // A row two heads read is timed by the first (headForKind): its held-out time is that head's.
      if (out[d.index] === undefined) out[d.index] = d.base * Math.exp(cv.predicted[i])
    })
  }
  return out
}

const envelopeOf = (h: Head, raws: ReadonlyArray<ReadonlyArray<number>>): Record<string, readonly [number, number]> =>
  Object.fromEntries(
    h.features.map((f, i) => {
      const vs = raws.map((r) => r[i])
      return [f.name, [Math.min(...vs), Math.max(...vs)] as const]
    })
  )

/** The regressor's input names of a head, in order (`log2 gemm_m`, ..., `hw_sm_count`). */
export const inputNames = (h: Head): Array<string> => h.features.map((f) => (f.log2 ? `log2 ${f.name}` : f.name))

/** A head's design matrix: model inputs, target ln(measured / baseline), shape family, row index. */
export const headMatrix = (h: Head, rows: ReadonlyArray<TrainingRow>) => headData(h, rows).map((d) => ({ index: d.index, x: d.x, y: d.y, family: d.family }))

/** Everything of a head's model but the regressor and its error: inputs, envelope, rows, hardware. */
const headMeta = (h: Head, data: ReturnType<typeof headData>) => ({
  head: h.id,
  kinds: h.kinds,
  features: inputNames(h),
  envelope: envelopeOf(
    h,
    data.map((d) => d.raw)
  ),
  rows: data.length,
  hardware: [...new Set(data.map((d) => d.row.features.hardware))].sort()
})

const trainHead = (h: Head, rows: ReadonlyArray<TrainingRow>, hp: Hyperparameters, noiseFloor: number): HeadModel | undefined => {
  const data = headData(h, rows)
  if (data.length === 0) return undefined
  const x = data.map((d) => d.x)
  const y = data.map((d) => d.y)
  const cv = crossValidatedCorrections(
    x,
    y,
    data.map((d) => d.family),
    hp,
    noiseFloor
  )
  const forest = fitForest(x, y, hp)
  return {
    ...headMeta(h, data),
    cross_validation:
      cv === undefined
        ? null
        : {
            folds: cv.folds,
            families: new Set(data.map((d) => d.family)).size,
            ml: summarise(data.map((d, i) => ape(d.base * Math.exp(cv.predicted[i]), d.row.measured_us))),
            analytic: summarise(data.map((d) => ape(d.row.features.analytic_us as number, d.row.measured_us)))
          },
    forest: forest.toJSON()
  }
}

/**
 * The metadata sidecar of a model trained elsewhere for head `h` (exported to ONNX): the model
 * file's fields for that one head, without a forest; the exporter fills in `library` and, if it
 * computed it, `cross_validation` (docs/ml-estimator.md has the recipe).
 */
export const sidecarModel = (
  h: Head,
  rows: ReadonlyArray<TrainingRow>,
  data: { readonly sha256: string; readonly description: string },
  hp: Hyperparameters = DEFAULT_HYPERPARAMETERS
): ModelFile | undefined => {
  const d = headData(h, rows)
  if (d.length === 0) return undefined
  return {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    target: TARGET,
    library: { name: "unknown (set by the exporter)", version: "" },
    hyperparameters: hp,
    noise_floor_ln: noiseFloorOf(rows, hp.noise_floor_quantile),
    training_data: { sha256: data.sha256, rows: d.length, description: data.description },
    heads: [{ ...headMeta(h, d), cross_validation: null, forest: null }]
  }
}

/** Train every head that has rows. `sha256` and `description` name the training data. */
export const trainModel = (
  rows: ReadonlyArray<TrainingRow>,
  data: { readonly sha256: string; readonly description: string },
  hp: Hyperparameters = DEFAULT_HYPERPARAMETERS
): ModelFile => {
  const floor = noiseFloorOf(rows, hp.noise_floor_quantile)
  return {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    feature_schema_version: FEATURE_SCHEMA_VERSION,
    target: TARGET,
    library: LIBRARY,
    hyperparameters: hp,
    noise_floor_ln: floor,
    training_data: { sha256: data.sha256, rows: rows.length, description: data.description },
    heads: HEADS.flatMap((h) => {
      const m = trainHead(h, rows, hp, floor)
      return m === undefined ? [] : [m]
    })
  }
}

/**
 * The model file's text: fixed field order, the metadata indented for reading, each forest on
 * one line (indenting the trees would multiply the file's size), a final newline. Same model,
 * same bytes.
 */
export const modelText = (m: ModelFile): string => {
  const forests = m.heads.map((h) => JSON.stringify(h.forest))
  const text = JSON.stringify({ ...m, heads: m.heads.map((h, i) => ({ ...h, forest: `@forest${i}@` })) }, null, 2)
  return text.replace(/"@forest(\d+)@"/g, (_, i: string) => forests[Number(i)]) + "\n"
}

/** A head's regressor: model inputs (modelInputs rows) in, predicted ln corrections out. */
export type Predict = (inputs: ReadonlyArray<ReadonlyArray<number>>) => ReadonlyArray<number>

/** A head of a decoded model, ready to predict. */
interface LoadedHead {
  readonly head: Head
  readonly model: HeadModel
  readonly predict: Predict
}

export interface LoadedModel {
  readonly file: ModelFile
  readonly heads: ReadonlyArray<LoadedHead>
}

/** A model file's checked metadata: every head known, with an envelope for each of its features. */
export interface ModelMetadata {
  readonly file: ModelFile
  readonly heads: ReadonlyArray<{ readonly head: Head; readonly model: HeadModel }>
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Decode and check a model file's or an ONNX sidecar's metadata, or say what is wrong (one line). */
export const decodeMetadata = (text: string): ModelMetadata | string => {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return `not JSON (${e instanceof Error ? e.message : String(e)})`
  }
  if (!isRecord(doc) || doc.format !== MODEL_FORMAT) return `not an llmsim model file (expected "format": "${MODEL_FORMAT}")`
  if (doc.format_version !== MODEL_FORMAT_VERSION) return `format_version ${String(doc.format_version)}, this llmsim reads ${MODEL_FORMAT_VERSION}`
  if (doc.feature_schema_version !== FEATURE_SCHEMA_VERSION) {
    return `trained on feature schema ${String(doc.feature_schema_version)}, this llmsim computes schema ${FEATURE_SCHEMA_VERSION}: retrain it`
  }
  if (typeof doc.noise_floor_ln !== "number" || !(doc.noise_floor_ln >= 0)) return "noise_floor_ln is missing or negative"
  if (!Array.isArray(doc.heads)) return "heads is missing"
  const heads: Array<{ head: Head; model: HeadModel }> = []
  for (const [i, m] of doc.heads.entries()) {
    if (!isRecord(m) || typeof m.head !== "string") return `heads[${i}]: no head id`
    const head = headById(m.head)
    if (head === undefined) return `heads[${i}]: unknown head "${m.head}" (this llmsim has ${HEADS.map((h) => h.id).join(", ")})`
    const env = m.envelope
    const bad = head.features.find((f) => {
      const b = isRecord(env) ? env[f.name] : undefined
      return !Array.isArray(b) || b.length !== 2 || typeof b[0] !== "number" || typeof b[1] !== "number"
    })
    if (bad !== undefined) return `heads[${i}] (${m.head}): envelope has no [min, max] for feature ${bad.name}`
    heads.push({ head, model: m as unknown as HeadModel })
  }
  return { file: doc as unknown as ModelFile, heads }
}

/**
 * Attach a regressor to each head, checked once on a probe row (a regressor that loads but
 * cannot predict fails here, with the head named, not in the middle of a run).
 */
export const withPredictors = (meta: ModelMetadata, predictorOf: (model: HeadModel, head: Head) => Predict | string): LoadedModel | string => {
  const heads: Array<LoadedHead> = []
  for (const [i, { head, model }] of meta.heads.entries()) {
    let predict: Predict | string
    try {
      predict = predictorOf(model, head)
      if (typeof predict !== "string") {
        const probe = predict([head.features.map(() => 1)])
        if (probe.length !== 1 || !Number.isFinite(probe[0])) predict = "predicts no finite value for a probe row"
      }
    } catch (e) {
      predict = `does not load (${e instanceof Error ? e.message : String(e)})`
    }
    if (typeof predict === "string") return `heads[${i}] (${head.id}): ${predict}`
    heads.push({ head, model, predict })
  }
  return { file: meta.file, heads }
}

/** Decode an in-process model file (its heads carry ml-random-forest forests), or say what is wrong (one line). */
export const decodeModel = (text: string): LoadedModel | string => {
  const meta = decodeMetadata(text)
  if (typeof meta === "string") return meta
  const bare = meta.heads.findIndex((h) => !isRecord(h.model.forest))
  if (bare >= 0) return `heads[${bare}] (${meta.heads[bare].head.id}): no forest (an ONNX sidecar? pass the .onnx file to --model)`
  const lib = meta.file.library ?? { name: undefined, version: undefined }
  // The model's digest keys its op nodes; the library's prediction code is not in that digest,
  // so a model only runs on the library version it was trained with (LIBRARY follows package.json).
  if (lib.name !== LIBRARY.name || lib.version !== LIBRARY.version) {
    return `trained with ${String(lib.name)} ${String(lib.version)}, this llmsim predicts with ${LIBRARY.name} ${LIBRARY.version}: retrain it`
  }
  return withPredictors(meta, (model) => {
    const forest = RandomForestRegression().load(model.forest as never)
    return (x) => forest.predict(x.map((r) => [...r]))
  })
}

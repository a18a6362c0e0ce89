/**
 * `llmsim validate` and `llmsim calibrate`: the accuracy commands.
 *
 * validate: predicts every reference measurement llmsim can model (src/accuracy) and prints
 * predicted, measured and absolute percentage error per row, median and p90 per dataset, as a
 * table, JSON or the markdown committed as docs/validation.md. Exit status 1 when an acceptance
 * bound of the shipped timing model fails.
 *
 * calibrate: fits a hardware file's GEMM timing constants to a CSV of measured kernel timings
 * (least squares on log time) and prints the fitted `efficiency:` block with the error before
 * and after.
 */
import { Effect, FileSystem, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { firstExisting, pathCandidates, resolvePath } from "../config/paths.ts"
import { appLayer, Project } from "../app/services.ts"
import { ConfigError, UsageError } from "../config/errors.ts"
import { displayPath } from "../config/load.ts"
import { decodeYamlText } from "../config/yamlFile.ts"
import { calibrate, DEFAULT_TILES, efficiencyBlock, FITTABLE, leaveOneOut, type Fittable } from "../accuracy/calibrate.ts"
import { renderAttentionCalibration, renderCalibration, renderOverlapCalibration } from "../report/calibration.ts"
import { attentionRows, calibrateAttention } from "../accuracy/calibrateAttention.ts"
import { calibrateOverlap } from "../accuracy/calibrateOverlap.ts"
import { ATTENTION_FILE } from "../accuracy/datasets/attention.ts"
import { FLASHMLA_FILE } from "../accuracy/datasets/flashmla.ts"
import { parseCsv } from "../reference/csv.ts"
import { gemmMeasurements } from "../accuracy/gemm.ts"
import { renderJson, renderMarkdown, renderText } from "../report/accuracy.ts"
import { buildReport, loadValidationInputs, referenceDir, servingCheck } from "../accuracy/validate.ts"
import { renderServingMarkdown, renderServingText } from "../report/servingValidation.ts"
import { HardwareSpec } from "../schema/hardware.ts"
import { estimatorOf } from "../app/estimator.ts"
import { documented, parsedWith } from "./flags.ts"
import { emit } from "./output.ts"
import { MeasurementError } from "../app/mlErrors.ts"

const efficiencyFlag = Flag.Literals("efficiency", ["hardware", "none"]).pipe(
  Flag.withDescription("hardware: the hardware files' efficiency constants; none: peak-only roofline (speed of light)"),
  Flag.withDefault("hardware" as const)
)
const outFlag = Flag.String("out").pipe(Flag.withDescription("Write to FILE instead of stdout"), Flag.optional)

const toUsage = (e: { readonly message: string }) => new UsageError({ message: e.message })

/** Validate and calibrate read configs and never write the store. */
const withProject = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, appLayer({ cwd: process.cwd(), noCache: true }))

const validateCommand = Command.make(
  "validate",
  {
    reference: Flag.String("reference").pipe(Flag.withDescription("Reference data folder (default: <project root>/data/reference)"), Flag.optional),
    format: Flag.Literals("format", ["table", "json", "markdown"]).pipe(Flag.withDescription("Output format"), Flag.withDefault("table" as const)),
    out: outFlag,
    efficiency: efficiencyFlag,
    estimator: Flag.Literals("estimator", ["analytic", "ml"]).pipe(
      Flag.withDescription("ml: also the ML estimator's k-fold cross-validated error per kernel dataset (grouped by shape family), beside the analytic error"),
      Flag.withDefault("analytic" as const)
    ),
    model: Flag.String("model").pipe(
      Flag.withDescription("With --estimator ml: also check that this model file loads (the cross-validation retrains from the reference data)"),
      Flag.optional
    ),
    serving: Flag.Boolean("serving").pipe(
      Flag.withDescription(
        "Also the serving datasets: every TensorRT-LLM max-load row simulated by llmsim bench, host time fitted on Hopper and held out by model, B200 rows held out, and published disaggregated pools at saturation (about two minutes)"
      ),
      Flag.withDefault(false)
    )
  },
  Effect.fn(function* (a) {
    const project = yield* Project
    const dir = referenceDir(project, Option.getOrUndefined(a.reference))
    const inputs = yield* loadValidationInputs(dir).pipe(Effect.catchTag("ReferenceDataError", (e) => Effect.fail(toUsage(e))))
    const model = Option.getOrUndefined(a.model)
    // The cross-validation retrains from the reference data; a named model file is still checked.
    if (a.estimator === "ml" && a.efficiency === "none")
      return yield* Effect.fail(
        new UsageError({
          message: "--estimator ml corrects the analytic times with the hardware files' constants (what it was trained on); drop --efficiency none"
        })
      )
    if (model !== undefined) yield* estimatorOf({ estimator: a.estimator, model, efficiency: a.efficiency }, { cwd: process.cwd(), root: project.root })
    const report = buildReport(inputs, a.efficiency, a.estimator)
    const serving = a.serving ? yield* servingCheck(dir).pipe(Effect.catchTag("ReferenceDataError", (e) => Effect.fail(toUsage(e)))) : undefined
    const text =
      a.format === "json"
        ? renderJson(serving === undefined ? report : { ...report, serving })
        : a.format === "markdown"
          ? renderMarkdown(report) + (serving === undefined ? "" : `\n${renderServingMarkdown(serving)}`)
          : renderText(report) + (serving === undefined ? "" : `\n${renderServingText(serving)}`)
    yield* emit(text, Option.getOrUndefined(a.out))
    const failed = report.acceptance.filter((c) => !c.pass)
    if (a.efficiency === "hardware" && failed.length > 0) {
      return yield* Effect.fail(
        new UsageError({ message: `accuracy acceptance failed: ${failed.map((c) => `${c.name}: ${c.value} (required ${c.requirement})`).join("; ")}` })
      )
    }
  }, withProject)
).pipe(
  documented("Compare predictions with published kernel and system measurements (median / p90 error per dataset)", [
    ["llmsim validate", "Every dataset, as a table"],
    ["llmsim validate --format markdown --out docs/validation.md", "Regenerate the committed report"],
    ["llmsim validate --efficiency none", "How far the peak-only roofline is off"],
    ["llmsim validate --estimator ml", "The ML estimator's cross-validated error beside the analytic one"],
    ["llmsim validate --serving", "Also served throughput: TensorRT-LLM's max-load rows through llmsim bench"]
  ])
)

const parseWhere = (w: string): Result.Result<readonly [string, string], string> => {
  const i = w.indexOf("=")
  return i <= 0 ? Result.fail(`expected COLUMN=VALUE, got "${w}"`) : Result.succeed([w.slice(0, i), w.slice(i + 1)] as const)
}

const parseFit = (s: string): Result.Result<ReadonlyArray<Fittable>, string> => {
  const names = s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
  const bad = names.filter((n) => !(FITTABLE as ReadonlyArray<string>).includes(n))
  return names.length === 0 || bad.length > 0
    ? Result.fail(`expected a comma list of ${FITTABLE.join(", ")}, got "${s}"`)
    : Result.succeed(names as Array<Fittable>)
}

const parseTiles = (s: string): Result.Result<ReadonlyArray<readonly [number, number]>, string> => {
  const tiles: Array<readonly [number, number]> = []
  for (const t of s.split(",")) {
    const m = /^\s*(\d+)x(\d+)\s*$/.exec(t)
    if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) return Result.fail(`expected a comma list like 64x128,128x128, got "${s}"`)
    tiles.push([Number(m[1]), Number(m[2])])
  }
  return Result.succeed(tiles)
}

const readText = (file: string, what: string) =>
  Effect.gen(function* () {
    const fsys = yield* FileSystem.FileSystem
    return yield* fsys.readFileString(file).pipe(Effect.mapError(() => new UsageError({ message: `${what} not found or unreadable: ${file}` })))
  })

/** A file of the --data folder as the calibration: entry names it (`data/reference/flashmla.yaml`). */
const dataPath = (folder: string, file: string): string => `${folder.replace(/[\\/]+$/, "")}/${file}`

const calibrateCommand = Command.make(
  "calibrate",
  {
    hardware: Argument.String("hardware").pipe(Argument.withDescription("Hardware YAML whose constants to fit (configs/hardware/*.yaml)")),
    data: Flag.String("data").pipe(
      Flag.withDescription(
        "CSV of measured GEMM kernels with the reference files' columns: m (or m_per_group), n, k, optional num_groups, " +
          "tflops and/or time_us, optional kind (dense_fp8 | dense_bf16 | grouped_contiguous | grouped_masked | kgrouped_wgrad); # comment lines allowed"
      )
    ),
    where: Flag.String("where").pipe(
      Flag.withDescription("Keep rows whose COLUMN equals VALUE (COLUMN=VALUE, repeatable, all must hold)"),
      parsedWith("where", parseWhere),
      Flag.atLeast(0)
    ),
    fit: Flag.String("fit").pipe(
      Flag.withDescription(`Constants to fit, comma separated (default all: ${FITTABLE.join(",")})`),
      parsedWith("fit", parseFit),
      Flag.withDefault(FITTABLE)
    ),
    tiles: Flag.String("tiles").pipe(
      Flag.withDescription(`Candidate tiles when fitting the tile (default ${DEFAULT_TILES.map(([m, n]) => `${m}x${n}`).join(",")})`),
      parsedWith("tiles", parseTiles),
      Flag.withDefault(DEFAULT_TILES)
    ),
    attention: Flag.Boolean("attention").pipe(
      Flag.withDescription(
        "Fit attention_compute and attention_memory on the FlashMLA and FlashAttention-3 rows of this hardware; --data names the reference folder"
      ),
      Flag.withDefault(false)
    ),
    overlap: Flag.Boolean("overlap").pipe(
      Flag.withDescription(
        "Fit overlap_efficiency on DeepSeek-V3's profiled decode and prefill throughput (two-batch overlap); --data names the reference folder; the hardware must be the DeepSeek scenarios'"
      ),
      Flag.withDefault(false)
    ),
    loo: Flag.Boolean("loo").pipe(Flag.withDescription("Also report the leave-one-out error (refit without each row, predict it)"), Flag.withDefault(false)),
    format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDescription("Output format"), Flag.withDefault("table" as const)),
    out: outFlag
  },
  Effect.fn(function* (a) {
    const project = yield* Project
    const { root } = project
    // An argument; when it exists nowhere, the message names the project-root candidate.
    const candidates = pathCandidates("argument", a.hardware, project)
    const hwFile = (yield* firstExisting(candidates)) ?? candidates[candidates.length - 1]!
    const hwText = yield* readText(hwFile, "hardware file")
    const hw = decodeYamlText(HardwareSpec, hwText, displayPath(root, hwFile))
    if (hw instanceof ConfigError) return yield* Effect.fail(hw)
    const dataFile = resolvePath("flag", a.data, project)
    const name = path.basename(hwFile).replace(/\.ya?ml$/, "")
    if (a.attention && a.overlap) return yield* Effect.fail(new UsageError({ message: "--attention and --overlap fit different constants: pass one" }))
    if (a.overlap) {
      const inputs = yield* loadValidationInputs(dataFile).pipe(Effect.catchTag("ReferenceDataError", (e) => Effect.fail(toUsage(e))))
      if (inputs.deepseek.hardwareName !== name) {
        return yield* Effect.fail(
          new UsageError({ message: `--overlap: the serving rows ran on ${inputs.deepseek.hardwareName} (the DeepSeek scenarios' hardware), not ${name}` })
        )
      }
      const r = calibrateOverlap(inputs, hw, a.loo)
      if (typeof r === "string") return yield* Effect.fail(new UsageError({ message: `--overlap: ${r}` }))
      const text =
        a.format === "json"
          ? JSON.stringify({ hardware: displayPath(root, hwFile), data: a.data, ...r }, null, 2) + "\n"
          : renderOverlapCalibration(
              r,
              `calibrate ${displayPath(root, hwFile)} --overlap: DeepSeek-V3 profiled serving on ${name} (deepseek_profile_serving.yaml); fit overlap_efficiency by least squares on log throughput`,
              dataPath(a.data, "deepseek_profile_serving.yaml")
            )
      return yield* emit(text, Option.getOrUndefined(a.out))
    }
    if (a.attention) {
      const files: Record<string, string> = {}
      for (const f of [FLASHMLA_FILE, ATTENTION_FILE]) files[f] = yield* readText(path.join(dataFile, f), "--data folder file")
      const rows = attentionRows(files, new Map([[name, hw]]), name)
      if (rows.length < 2)
        return yield* Effect.fail(
          new UsageError({
            message: `--data ${a.data}: ${rows.length} FlashMLA / FlashAttention-3 rows ran on ${name}; at least 2 are needed to fit 2 constants`
          })
        )
      const r = calibrateAttention(hw, rows, a.loo)
      const text =
        a.format === "json"
          ? JSON.stringify({ hardware: displayPath(root, hwFile), data: a.data, ...r }, null, 2) + "\n"
          : renderAttentionCalibration(
              r,
              `calibrate ${displayPath(root, hwFile)} --attention: ${rows.length} rows of ${FLASHMLA_FILE} and ${ATTENTION_FILE} on ${name}; fit attention_compute, attention_memory by least squares on log time`,
              // The files whose rows ran on this hardware (each row's source is file:line).
              `${[...new Set(rows.map((x) => x.source.replace(/:.*$/, "")))].map((f) => dataPath(a.data, f)).join(" + ")} (rows on ${name})`
            )
      return yield* emit(text, Option.getOrUndefined(a.out))
    }
    const table = parseCsv(yield* readText(dataFile, "--data file"))
    const { where, fit, tiles } = a
    const { rows, skipped, invalid } = gemmMeasurements(table, where)
    if (invalid.length > 0) return yield* Effect.fail(new MeasurementError({ message: `${a.data}:${invalid[0]}` }))
    if (rows.length === 0) {
      return yield* Effect.fail(
        new UsageError({
          message: `--data ${a.data}: no usable GEMM rows${where.length > 0 ? " after --where" : ""} (columns m or m_per_group, n, k, and tflops or time_us)`
        })
      )
    }
    const continuous = fit.filter((f) => f !== "tile").length
    if (rows.length < continuous) {
      return yield* Effect.fail(new UsageError({ message: `--data ${a.data}: ${rows.length} rows cannot determine ${continuous} constants` }))
    }
    const result = calibrate(hw, rows, fit, tiles)
    const loo = a.loo && rows.length > continuous + 1 ? leaveOneOut(hw, rows, fit, tiles) : undefined
    const filter = where.length > 0 ? ` where ${where.map(([c, v]) => `${c}=${v}`).join(", ")}` : ""
    const provenance = `${rows.length} rows of ${path.basename(dataFile)}${filter}`
    const block = efficiencyBlock(hw, result, provenance)
    if (a.format === "json") {
      return yield* emit(
        JSON.stringify(
          {
            hardware: displayPath(root, hwFile),
            data: path.basename(dataFile),
            where,
            ...result,
            ...(loo === undefined ? {} : { leave_one_out: loo }),
            yaml: block
          },
          null,
          2
        ) + "\n",
        Option.getOrUndefined(a.out)
      )
    }
    const header = `calibrate ${displayPath(root, hwFile)}: ${provenance}; fit ${result.fit.join(", ")} by least squares on log time`
    yield* emit(
      renderCalibration(
        result,
        header,
        block,
        skipped.map((s) => `line ${s.line}: ${s.reason}`),
        loo,
        `${a.data}${filter}`
      ),
      Option.getOrUndefined(a.out)
    )
  }, withProject)
).pipe(
  documented("Fit a hardware file's GEMM timing constants to measured kernel timings and print the efficiency block", [
    [
      "llmsim calibrate configs/hardware/H800-SXM.yaml --data data/reference/deepgemm_dense_h800.csv --where is_latest_published=yes",
      "Refit the shipped H800 constants"
    ],
    [
      "llmsim calibrate configs/hardware/H100-SXM.yaml --data data/reference/deepgemm_community_measurements.csv --where hardware=H100 --fit memory,kernel_latency_us",
      "Fit only what memory-bound rows can identify"
    ],
    [
      "llmsim calibrate configs/hardware/H100-SXM.yaml --attention --data data/reference --loo",
      "Fit the attention-kernel constants on FlashMLA and FlashAttention-3 rows"
    ],
    [
      "llmsim calibrate configs/hardware/H800-SXM.yaml --overlap --data data/reference --loo",
      "Fit overlap_efficiency on DeepSeek-V3's profiled serving throughput"
    ]
  ])
)

export const accuracyCommands = [validateCommand, calibrateCommand] as const

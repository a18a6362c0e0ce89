/**
 * `llmsim export [scenario] --engine E --hf-model ID --out DIR`: the deployment `llmsim bench`
 * serves for the scenario and flags, as the named engine's launch files, a benchmark script with
 * the engine's own client, the predicted figures and a README (src/playbooks/export.ts). The
 * folder is new, or replaced file by file with --force; every file goes through the one writer.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { UsageError } from "../config/errors.ts"
import { EXPORT_ENGINES, runExport } from "../playbooks/export.ts"
import { ENGINES } from "../serve/engines.ts"
import { renderBenchJson } from "../report/bench.ts"
import { renderExportReadme } from "../report/export.ts"
import { engineFlags, engineOverridesOf, positiveInt, some, workloadFlags, workloadSpecOf } from "./benchFlags.ts"
import { documented, runtimeFlags, toRunOptions } from "./flags.ts"
import { writeFileAtomic } from "./output.ts"
import { scenarioArg } from "./run.ts"

const { engine: _engine, ...settingFlags } = engineFlags

const exportFlags = {
  engine: Flag.Literals("engine", EXPORT_ENGINES).pipe(Flag.withDescription("The engine whose launch files to write")),
  engineVersion: Flag.String("engine-version").pipe(
    Flag.withDescription("The engine version to write for (default and only: the one its defaults and argument lists were read from)"),
    Flag.optional
  ),
  hfModel: Flag.String("hf-model").pipe(
    Flag.withDescription("The checkpoint the engine loads: a Hugging Face id or a local path (llmsim plans the architecture, not the files)")
  ),
  out: Flag.String("out").pipe(Flag.withDescription("The folder to write (new, or replaced file by file with --force)")),
  force: Flag.Boolean("force").pipe(Flag.withDescription("Write into an existing folder, replacing the files export writes"), Flag.withDefault(false)),
  port: positiveInt("port", "The port clients talk to (default 8000; disaggregated servers count up from it)"),
  requestRate: Flag.Finite("request-rate").pipe(Flag.withDescription("The planned request rate, requests/s (default: all at once)"), Flag.optional),
  prefillInstances: positiveInt("prefill-instances", "Disaggregated: this many prefill instances (as llmsim bench)"),
  decodeInstances: positiveInt("decode-instances", "Disaggregated: this many decode instances (as llmsim bench)"),
  ...settingFlags,
  ...workloadFlags
}

export const exportCommand = Command.make(
  "export",
  {
    scenario: scenarioArg,
    ...exportFlags,
    estimator: runtimeFlags.estimator,
    model: runtimeFlags.model,
    efficiency: runtimeFlags.efficiency,
    cacheDir: runtimeFlags.cacheDir,
    cache: runtimeFlags.cache
  },
  Effect.fn(function* (a) {
    const run = toRunOptions(a.scenario, {
      batch: Option.none(),
      seq: Option.none(),
      phase: Option.none(),
      microBatch: Option.none(),
      tokensPerExpert: Option.none(),
      estimator: a.estimator,
      model: a.model,
      efficiency: a.efficiency,
      cacheDir: a.cacheDir,
      cache: a.cache
    })
    const version = ENGINES[a.engine]!.version
    if (Option.isSome(a.engineVersion) && a.engineVersion.value.replace(/^v/, "") !== version.replace(/^v/, ""))
      return yield* Effect.fail(
        new UsageError({
          message: `--engine-version ${a.engineVersion.value}: export has ${a.engine} ${version} only (its defaults and argument lists, data/engines: docs/export.md)`
        })
      )
    const dir = path.resolve(a.out)
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) return yield* Effect.fail(new UsageError({ message: `--out: ${a.out} exists and is not a folder` }))
      if (fs.readdirSync(dir).length > 0 && !a.force)
        return yield* Effect.fail(
          new UsageError({ message: `--out: ${a.out} exists and is not empty: export writes a new folder (--force replaces the files it writes)` })
        )
    }
    if (Option.isSome(a.requestRate) && !(a.requestRate.value > 0))
      return yield* Effect.fail(new UsageError({ message: `--request-rate must be > 0, got ${a.requestRate.value}` }))
    const exported = yield* runExport({
      run,
      engine: a.engine,
      model: a.hfModel,
      engineFlags: engineOverridesOf({ ...a, engine: Option.none() }),
      workload: workloadSpecOf(a, "random", a.requestRate),
      percentileMetrics: ["ttft", "tpot", "itl", "e2el"],
      metricPercentiles: [90, 99],
      ...some("goodput", a.goodput),
      ...some("mtpAcceptance", a.mtpAcceptance),
      ...some("prefillInstances", a.prefillInstances),
      ...some("decodeInstances", a.decodeInstances),
      ...some("port", a.port)
    })
    const scenario = exported.predicted.setup.scenario
    const w = exported.input.workload
    // The llmsim command that reproduces the prediction (and, with --compare, sets it beside a measurement).
    const reproduce = [
      "llmsim bench",
      scenario,
      `--engine ${a.engine}`,
      `--random-input-len ${w.input_len} --random-output-len ${w.output_len} --random-range-ratio ${w.range_ratio}`,
      `--num-prompts ${w.num_prompts} --request-rate ${w.request_rate === Number.POSITIVE_INFINITY ? "inf" : w.request_rate} --seed ${w.seed}`,
      ...(Option.isSome(a.prefillInstances) ? [`--prefill-instances ${a.prefillInstances.value}`] : []),
      ...(Option.isSome(a.decodeInstances) ? [`--decode-instances ${a.decodeInstances.value}`] : [])
    ].join(" ")
    const files = [
      ...exported.files,
      { path: "predicted.json", text: renderBenchJson(exported.predicted), executable: false },
      { path: "README.md", text: renderExportReadme(exported, scenario, reproduce), executable: false }
    ]
    for (const f of files) {
      const target = path.join(dir, f.path)
      yield* writeFileAtomic(target, f.text, "--out")
      if (f.executable) fs.chmodSync(target, 0o755)
    }
    process.stdout.write(`wrote ${files.length} files to ${a.out}: ${files.map((f) => f.path).join(", ")}\n`)
  })
).pipe(
  documented(
    "Write a deployment's launch files for an engine (SGLang, vLLM, TensorRT-LLM): servers, router, the engine's own benchmark client, the predicted figures",
    [
      [
        "llmsim export configs/scenarios/llama_3_1_70b_h100.yaml --engine vllm --hf-model meta-llama/Llama-3.1-70B-Instruct --out deploy/vllm",
        "vllm serve with the simulated settings and vllm bench serve"
      ],
      [
        "llmsim export configs/scenarios/llama_3_1_70b_h100.yaml --engine sglang --hf-model meta-llama/Llama-3.1-70B-Instruct --prefill-instances 1 --decode-instances 2 --out deploy/pd",
        "A 1P2D SGLang deployment with its router"
      ]
    ]
  )
)

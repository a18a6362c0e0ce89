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
import type { BenchOptions } from "../playbooks/bench.ts"
import { PLAN_MODES, type PlanMode, type PlannedDeployment, type PlanResult } from "../sweep/plan.ts"
import type { GoodputSlo } from "../serve/metrics.ts"
import { readGuarded, refusalText } from "../base/guardedRead.js"
import { ENGINES } from "../serve/engines.ts"
import { renderBenchJson } from "../report/bench.ts"
import { renderExportReadme } from "../report/export.ts"
import { engineFlags, engineOverridesOf, positiveInt, some, workloadFlags, workloadSpecOf } from "./benchFlags.ts"
import { documented, servingRunFlags, servingRunOptions } from "./flags.ts"
import { writeFileAtomic } from "./output.ts"
import { scenarioArg } from "./run.ts"

const { engine: _engine, ...settingFlags } = engineFlags

const exportFlags = {
  engine: Flag.Literals("engine", EXPORT_ENGINES).pipe(
    Flag.withDescription("The engine whose launch files to write (default: the plan's, with --plan)"),
    Flag.optional
  ),
  plan: Flag.String("plan").pipe(
    Flag.withDescription("Export a deployment of `llmsim plan --format json`'s answer: its scenario, layout, engine, workload, rate and SLOs"),
    Flag.optional
  ),
  mode: Flag.Literals("mode", PLAN_MODES).pipe(
    Flag.withDescription("With --plan: which mode's best deployment (default: the one with more goodput per GPU)"),
    Flag.optional
  ),
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

/** What `export --plan` takes from a plan's JSON. */
interface FromPlan {
  readonly scenario: string
  readonly engine: (typeof EXPORT_ENGINES)[number]
  readonly input_len: number
  readonly output_len: number
  /** Requests/s of one instance (aggregated: the plan's rate over its replicas). */
  readonly rate: number
  readonly slo: GoodputSlo
  readonly deployment: NonNullable<BenchOptions["deployment"]>
}

const readPlan = (file: string, mode: PlanMode | undefined) =>
  Effect.gen(function* () {
    const bad = (why: string) => Effect.fail(new UsageError({ message: `--plan: ${file}: ${why}` }))
    const r = readGuarded(file, 64 * 2 ** 20)
    if (!("bytes" in r)) return yield* bad(`cannot read it: ${"refused" in r ? refusalText(r.refused) : (r.error.code ?? r.error.message)}`)
    let doc: unknown
    try {
      doc = JSON.parse(r.bytes.toString("utf8"))
    } catch (e) {
      return yield* bad(`not JSON (${e instanceof Error ? e.message : String(e)})`)
    }
    const plan = (doc as { plan?: PlanResult } | null)?.plan
    if (plan === undefined || typeof plan !== "object" || plan.best === undefined || typeof plan.scenario !== "string")
      return yield* bad("not the JSON of llmsim plan --format json (no plan.best)")
    if (!(EXPORT_ENGINES as ReadonlyArray<string>).includes(plan.engine)) return yield* bad(`its engine ${plan.engine} is not one export writes`)
    // Without --mode: the answer, the most goodput per GPU (ties to the earlier, simpler mode); a plan written before wide EP has no wide_ep.
    const pick =
      mode === undefined
        ? PLAN_MODES.map((m) => plan.best[m] ?? null).reduce<PlannedDeployment | null>(
            (b, x) => (x !== null && (b === null || x.figures.goodput_per_gpu > b.figures.goodput_per_gpu) ? x : b),
            null
          )
        : plan.best[mode]
    if (pick === null || pick === undefined) return yield* bad(mode === undefined ? "its answer has no deployment" : `it has no ${mode} deployment`)
    if ("decode" in pick.pools && pick.pools.decode.afd !== undefined)
      return yield* bad(
        `its ${pick.mode} deployment (${pick.text}) has no launch files: none of vLLM ${ENGINES.vllm!.version}, SGLang ${ENGINES.sglang!.version} and TensorRT-LLM (the versions export writes for) has an attention-FFN disaggregation option; export another mode with --mode`
      )
    const server = "server" in pick.pools ? pick.pools.server : undefined
    const out: FromPlan = {
      scenario: plan.scenario,
      engine: plan.engine as FromPlan["engine"],
      input_len: plan.workload.input_len,
      output_len: plan.workload.output_len,
      rate: server === undefined ? pick.figures.rate_rps : pick.figures.rate_rps / server.instances,
      slo: plan.slo,
      deployment: pick.pools
    }
    return out
  })

export const exportCommand = Command.make(
  "export",
  {
    scenario: scenarioArg,
    ...exportFlags,
    ...servingRunFlags
  },
  Effect.fn(function* (a) {
    const run = servingRunOptions(a.scenario, a)
    const fromPlan = Option.isSome(a.plan) ? yield* readPlan(a.plan.value, Option.getOrUndefined(a.mode)) : undefined
    const engine = Option.getOrUndefined(a.engine) ?? fromPlan?.engine
    if (engine === undefined)
      return yield* Effect.fail(new UsageError({ message: "--engine: expected one of vllm, sglang, trtllm (or --plan FILE, whose engine it takes)" }))
    const version = ENGINES[engine]!.version
    if (Option.isSome(a.engineVersion) && a.engineVersion.value.replace(/^v/, "") !== version.replace(/^v/, ""))
      return yield* Effect.fail(
        new UsageError({
          message: `--engine-version ${a.engineVersion.value}: export has ${engine} ${version} only (its defaults and argument lists, data/engines: docs/export.md)`
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
    const flagWorkload = workloadSpecOf(a, "random", a.requestRate)
    const workload =
      fromPlan === undefined
        ? flagWorkload
        : {
            ...flagWorkload,
            input_len: fromPlan.input_len,
            output_len: fromPlan.output_len,
            ...(Option.isSome(a.requestRate) ? {} : { request_rate: fromPlan.rate })
          }
    const exported = yield* runExport({
      run: fromPlan === undefined ? run : { ...run, scenario: fromPlan.scenario },
      engine,
      model: a.hfModel,
      engineFlags: engineOverridesOf({ ...a, engine: Option.none() }),
      workload,
      percentileMetrics: ["ttft", "tpot", "itl", "e2el"],
      metricPercentiles: [90, 99],
      ...(fromPlan === undefined ? some("goodput", a.goodput) : { goodput: fromPlan.slo, deployment: fromPlan.deployment }),
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
      `--engine ${engine}`,
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

/**
 * `llmsim large-ep evaluate` and `llmsim afd simulate`: the serving playbooks. Each evaluates the
 * scenario's core per-layer result and adds a deployment model (src/deploy): the scenario's
 * `deployment` block, with these flags overriding it.
 */
import { Effect, Option, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { FileSystem } from "effect"
import { MeasurementError } from "../app/mlErrors.ts"
import { UsageError } from "../config/errors.ts"
import { resolvePath } from "../config/paths.ts"
import { parseExpertLoad } from "../deploy/expertLoad.ts"
import type { ImbalanceSource } from "../deploy/imbalance.ts"
import { parseInstances } from "../deploy/deployment.ts"
import { DEPLOYMENT_MODELS, deploymentModelFor } from "../deploy/registry.ts"
import { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "../report/playbooks.ts"
import { runAfd, runLargeEp, type BatchPolicy } from "../playbooks/run.ts"
import type { LoadImbalance } from "../schema/deployment.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import { documented, listFlag, parsedWith, positiveInteger, runtimeFlags, strategyFlag, toRunOptions } from "./flags.ts"
import { finishRun, layersFlag, outputFlags, scenarioArg } from "./run.ts"

const LINK_DTYPES = ["fp8", "bf16", "fp16", "fp32"] as const

const batchFlags = {
  tpotSloMs: Flag.Finite("tpot-slo-ms").pipe(
    Flag.withDescription("Pick the largest batch per GPU that fits in HBM and decodes within this TPOT (ms)"),
    Flag.filter(
      (n) => n > 0,
      (n) => `--tpot-slo-ms must be > 0, got ${n}`
    ),
    Flag.optional
  ),
  maxBatch: Flag.Boolean("max-batch").pipe(Flag.withDescription("Evaluate at the largest batch per GPU that fits in HBM"), Flag.withDefault(false))
}

const loadImbalanceFlag = Flag.String("load-imbalance").pipe(
  Flag.withDescription("Expected max/mean expert load: a number >= 1, or `sampling` (uniform routing's expected maximum)"),
  parsedWith("load-imbalance", (given: string): Result.Result<LoadImbalance, string> => {
    const text = given.trim()
    if (text === "sampling") return Result.succeed("sampling")
    const n = Number(text)
    return text !== "" && Number.isFinite(n) && n >= 1 ? Result.succeed(n) : Result.fail(`expected a number >= 1 or "sampling", got "${given}"`)
  }),
  Flag.optional
)

const expertLoadFlag = Flag.String("expert-load").pipe(
  Flag.withDescription(
    "Measured tokens per expert: a CSV of [step,] layer, expert, count (SGLang's expert distribution recorder; docs/playbooks.md). Each layer placed by EPLB on its totals, every step judged on that placement"
  ),
  Flag.optional
)

/**
 * The load imbalance the flags give: `--load-imbalance` (a factor or `sampling`), or a measured
 * load file read and checked here (src/deploy/expertLoad.ts); undefined when neither is given.
 */
const imbalanceFlags = (a: { readonly loadImbalance: Option.Option<LoadImbalance>; readonly expertLoad: Option.Option<string> }) =>
  Effect.gen(function* () {
    if (Option.isSome(a.loadImbalance) && Option.isSome(a.expertLoad))
      return yield* Effect.fail(new UsageError({ message: "--load-imbalance and --expert-load both set the load imbalance: give one" }))
    if (Option.isSome(a.loadImbalance)) return { load_imbalance: a.loadImbalance.value as ImbalanceSource }
    if (Option.isNone(a.expertLoad)) return {}
    const given = a.expertLoad.value
    const fs = yield* FileSystem.FileSystem
    // A flag's path is the shell's: relative to the working folder (src/config/paths.ts).
    const text = yield* fs
      .readFileString(resolvePath("flag", given, { cwd: process.cwd(), root: process.cwd() }))
      .pipe(Effect.mapError(() => new MeasurementError({ message: `expert load file not found or unreadable: ${given}` })))
    const steps = parseExpertLoad(text, given)
    if (typeof steps === "string") return yield* Effect.fail(new MeasurementError({ message: steps }))
    return { load_imbalance: { measured: { file: given, steps } } as ImbalanceSource }
  })

export const batchPolicy = (a: {
  tpotSloMs: Option.Option<number>
  maxBatch: boolean
  batch: Option.Option<number>
}): Effect.Effect<BatchPolicy, UsageError> => {
  const chosen = [Option.isSome(a.tpotSloMs) && "--tpot-slo-ms", a.maxBatch && "--max-batch", Option.isSome(a.batch) && "--batch"].filter(
    (x): x is string => typeof x === "string"
  )
  if (chosen.length > 1) return Effect.fail(new UsageError({ message: `${chosen.join(" and ")} both choose the batch: give one` }))
  if (Option.isSome(a.tpotSloMs)) return Effect.succeed({ kind: "tpot", tpot_slo_ms: a.tpotSloMs.value })
  return Effect.succeed(a.maxBatch ? { kind: "max" } : { kind: "runtime" })
}

/** `--tbo` / `--no-tbo`, or the same choice as `--strategy` (the names `run` takes too). */
const tboOf = (tbo: Option.Option<boolean>, strategy: Option.Option<StrategyName>): Effect.Effect<boolean | undefined, UsageError> => {
  if (Option.isNone(strategy)) return Effect.succeed(Option.getOrUndefined(tbo))
  const s = strategy.value
  const model = deploymentModelFor(s)
  if (model !== "large-ep") {
    return Effect.fail(
      new UsageError({
        message: `--strategy ${s}: large-ep evaluate composes with ${DEPLOYMENT_MODELS["large-ep"].strategies.join(" or ")} (${s} is ${model === "afd" ? "afd simulate's" : "the core roll-up's: llmsim run"})`
      })
    )
  }
  const want = s === "two-batch-overlap"
  if (Option.isSome(tbo) && tbo.value !== want)
    return Effect.fail(new UsageError({ message: `--strategy ${s} and --${tbo.value ? "" : "no-"}tbo disagree: give one` }))
  return Effect.succeed(want)
}

const largeEpEvaluate = Command.make(
  "evaluate",
  {
    scenario: scenarioArg,
    ...outputFlags,
    ...runtimeFlags,
    ...batchFlags,
    ep: listFlag("ep", positiveInteger, "positive integers separated by commas").pipe(
      Flag.withDescription("EP size(s), comma separated; two or more print one comparison table (e.g. 8,16,32,64,144,256)"),
      Flag.withDefault([])
    ),
    redundantExperts: Flag.Int("redundant-experts").pipe(
      Flag.withDescription("Redundant expert replicas over the EP group"),
      Flag.filter(
        (n) => n >= 0,
        (n) => `--redundant-experts must be >= 0, got ${n}`
      ),
      Flag.optional
    ),
    dispatchDtype: Flag.Literals("dispatch-dtype", LINK_DTYPES).pipe(Flag.withDescription("Dispatch format on the wire"), Flag.optional),
    combineDtype: Flag.Literals("combine-dtype", LINK_DTYPES).pipe(Flag.withDescription("Combine format on the wire"), Flag.optional),
    tbo: Flag.Boolean("tbo").pipe(Flag.withDescription("Two-batch overlap (--no-tbo turns it off)"), Flag.optional),
    strategy: strategyFlag,
    kernelMode: Flag.Literals("kernel-mode", ["high_throughput", "low_latency"]).pipe(
      Flag.withDescription("All-to-all kernels for every phase (default: high_throughput prefill, low_latency decode)"),
      Flag.optional
    ),
    loadImbalance: loadImbalanceFlag,
    expertLoad: expertLoadFlag,
    layers: layersFlag
  },
  Effect.fn(function* (a) {
    const policy = yield* batchPolicy(a)
    const imbalance = yield* imbalanceFlags(a)
    const tbo = yield* tboOf(a.tbo, a.strategy)
    const overrides = {
      ...(Option.isSome(a.redundantExperts) ? { redundant_experts: a.redundantExperts.value } : {}),
      ...(Option.isSome(a.dispatchDtype) ? { dispatch_dtype: a.dispatchDtype.value } : {}),
      ...(Option.isSome(a.combineDtype) ? { combine_dtype: a.combineDtype.value } : {}),
      ...(tbo === undefined ? {} : { two_batch_overlap: tbo }),
      ...(Option.isSome(a.kernelMode) ? { kernel_mode: a.kernelMode.value } : {}),
      ...imbalance
    }
    const out = yield* runLargeEp({ run: toRunOptions(a.scenario, a), eps: a.ep, overrides, batch: policy })
    const r = out.result
    yield* finishRun("large-ep", "ep_sweep" in r ? renderLargeEpSweep(r, a.format) : renderLargeEp(r, a.format, { layers: a.layers }), out.run, a, r)
  })
).pipe(
  documented("Large expert parallelism: DeepEP all-to-all over NVLink and NIC, two-batch overlap, memory per GPU, TTFT/TPOT and tokens/s per GPU and node", [
    ["llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml", "DeepSeek's EP144 decode unit"],
    ["llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml --ep 8,16,32,64,144,256", "Compare EP sizes"],
    ["llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml --tpot-slo-ms 50", "Largest batch within a TPOT target"]
  ])
)

const afdSimulate = Command.make(
  "simulate",
  {
    scenario: scenarioArg,
    ...outputFlags,
    ...runtimeFlags,
    ...batchFlags,
    instances: listFlag("instances", parseInstances, "<attention>A<ffn>F counts such as 2A2F or 3A2F").pipe(
      Flag.withDescription("Attention and FFN instance counts, e.g. 3A2F; several (2A2F,3A2F) print one comparison"),
      Flag.withDefault([])
    ),
    regime: Flag.Literals("regime", ["cyclic", "auto", "three_stage", "conservative", "serial"]).pipe(
      Flag.withDescription(
        "Pipeline regime (cyclic, the default: the micro-batch loop's cycle time, no switch; auto: AIC's three_stage when enough micro-batches are in flight, else conservative)"
      ),
      Flag.optional
    ),
    loadImbalance: loadImbalanceFlag,
    expertLoad: expertLoadFlag,
    layers: layersFlag
  },
  Effect.fn(function* (a) {
    const imbalance = yield* imbalanceFlags(a)
    const out = yield* runAfd({
      run: toRunOptions(a.scenario, a),
      instances: a.instances,
      ...(Option.isSome(a.regime) ? { regime: a.regime.value } : {}),
      ...imbalance,
      batch: yield* batchPolicy(a)
    })
    const r = out.result
    yield* finishRun("afd", "instance_sweep" in r ? renderAfdSweep(r, a.format) : renderAfd(r, a.format, { layers: a.layers }), out.run, a, r)
  })
).pipe(
  documented("Attention-FFN disaggregation: attention and FFN instances, A->F / F->A transfers, pipeline regime, memory per role, TPOT and tokens/s", [
    ["llmsim afd simulate configs/scenarios/deepseek_v3_h800_afd.yaml", "DeepSeek-V3 on H800 with attention-FFN disaggregation"],
    ["llmsim afd simulate configs/scenarios/deepseek_v3_h800_afd.yaml --instances 2A2F,3A2F,4A2F", "Compare instance ratios"]
  ])
)

export const playbookCommands = [
  Command.make("afd").pipe(Command.withDescription("Attention-FFN disaggregation playbook"), Command.withSubcommands([afdSimulate])),
  Command.make("large-ep").pipe(Command.withDescription("Large expert-parallelism playbook"), Command.withSubcommands([largeEpEvaluate]))
]

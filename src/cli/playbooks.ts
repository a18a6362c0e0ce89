/**
 * `llmsim large-ep evaluate` and `llmsim afd simulate`: the serving playbooks. Each evaluates the
 * scenario's core per-layer result and adds a deployment model (src/playbooks): the scenario's
 * `deployment` block, with these flags overriding it.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../config/errors.ts"
import { parseInstances } from "../playbooks/deployment.ts"
import { renderAfd, renderAfdSweep, renderLargeEp, renderLargeEpSweep } from "../playbooks/report.ts"
import { runAfd, runLargeEp, type BatchPolicy } from "../playbooks/run.ts"
import type { LoadImbalance } from "../schema/deployment.ts"
import { runtimeFlags, toRunOptions, type RuntimeFlagValues } from "./flags.ts"
import { emit } from "./output.ts"
import { afterRun, outputFlags, scenarioArg } from "./run.ts"

const LINK_DTYPES = ["fp8", "bf16", "fp16", "fp32"] as const

const batchFlags = {
  tpotSloMs: Flag.Finite("tpot-slo-ms").pipe(
    Flag.withDescription("Pick the largest batch per GPU that fits in HBM and decodes within this TPOT (ms)"),
    Flag.filter((n) => n > 0, (n) => `--tpot-slo-ms must be > 0, got ${n}`),
    Flag.optional
  ),
  maxBatch: Flag.Boolean("max-batch").pipe(Flag.withDescription("Evaluate at the largest batch per GPU that fits in HBM"), Flag.withDefault(false))
}

const loadImbalanceFlag = Flag.String("load-imbalance").pipe(
  Flag.withDescription("Expected max/mean expert load: a number >= 1, or `sampling` (uniform routing's expected maximum)"),
  Flag.optional
)

export const parseLoadImbalance = (v: Option.Option<string>): Effect.Effect<LoadImbalance | undefined, UsageError> => {
  if (Option.isNone(v)) return Effect.succeed(undefined)
  const text = v.value.trim()
  if (text === "sampling") return Effect.succeed("sampling")
  const n = Number(text)
  return text !== "" && Number.isFinite(n) && n >= 1
    ? Effect.succeed(n)
    : Effect.fail(new UsageError({ message: `--load-imbalance: expected a number >= 1 or "sampling", got "${v.value}"` }))
}

const parseList = <A>(flag: string, v: Option.Option<string>, item: (s: string) => A | undefined, expected: string): Effect.Effect<ReadonlyArray<A>, UsageError> => {
  if (Option.isNone(v)) return Effect.succeed([])
  const parts = v.value.split(",").map((s) => s.trim())
  const out: Array<A> = []
  for (const p of parts) {
    const x = item(p)
    if (x === undefined) return Effect.fail(new UsageError({ message: `${flag}: expected ${expected}, got "${p}" in "${v.value}"` }))
    out.push(x)
  }
  return Effect.succeed(out)
}

const positiveInt = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : undefined)

export const batchPolicy = (a: { tpotSloMs: Option.Option<number>; maxBatch: boolean; batch: Option.Option<number> }): Effect.Effect<BatchPolicy, UsageError> => {
  const chosen = [Option.isSome(a.tpotSloMs) && "--tpot-slo-ms", a.maxBatch && "--max-batch", Option.isSome(a.batch) && "--batch"].filter((x): x is string => typeof x === "string")
  if (chosen.length > 1) return Effect.fail(new UsageError({ message: `${chosen.join(" and ")} both choose the batch: give one` }))
  if (Option.isSome(a.tpotSloMs)) return Effect.succeed({ kind: "tpot", tpot_slo_ms: a.tpotSloMs.value })
  return Effect.succeed(a.maxBatch ? { kind: "max" } : { kind: "runtime" })
}

const largeEpEvaluate = Command.make(
  "evaluate",
  {
    scenario: scenarioArg,
    ...outputFlags,
    ...runtimeFlags,
    ...batchFlags,
    ep: Flag.String("ep").pipe(Flag.withDescription("EP size(s), comma separated; two or more print one comparison table (e.g. 8,16,32,64,144,256)"), Flag.optional),
    redundantExperts: Flag.Int("redundant-experts").pipe(
      Flag.withDescription("Redundant expert replicas over the EP group"),
      Flag.filter((n) => n >= 0, (n) => `--redundant-experts must be >= 0, got ${n}`),
      Flag.optional
    ),
    dispatchDtype: Flag.Literals("dispatch-dtype", LINK_DTYPES).pipe(Flag.withDescription("Dispatch format on the wire"), Flag.optional),
    combineDtype: Flag.Literals("combine-dtype", LINK_DTYPES).pipe(Flag.withDescription("Combine format on the wire"), Flag.optional),
    tbo: Flag.Boolean("tbo").pipe(Flag.withDescription("Two-batch overlap (--no-tbo turns it off)"), Flag.optional),
    kernelMode: Flag.Literals("kernel-mode", ["high_throughput", "low_latency"]).pipe(Flag.withDescription("All-to-all kernels for every phase (default: high_throughput prefill, low_latency decode)"), Flag.optional),
    loadImbalance: loadImbalanceFlag
  },
  Effect.fn(function*(a) {
    const eps = yield* parseList("--ep", a.ep, positiveInt, "positive integers separated by commas")
    const policy = yield* batchPolicy(a)
    const li = yield* parseLoadImbalance(a.loadImbalance)
    const overrides = {
      ...(Option.isSome(a.redundantExperts) ? { redundant_experts: a.redundantExperts.value } : {}),
      ...(Option.isSome(a.dispatchDtype) ? { dispatch_dtype: a.dispatchDtype.value } : {}),
      ...(Option.isSome(a.combineDtype) ? { combine_dtype: a.combineDtype.value } : {}),
      ...(Option.isSome(a.tbo) ? { two_batch_overlap: a.tbo.value } : {}),
      ...(Option.isSome(a.kernelMode) ? { kernel_mode: a.kernelMode.value } : {}),
      ...(li === undefined ? {} : { load_imbalance: li })
    }
    const out = yield* runLargeEp({ run: toRunOptions(a.scenario, a as RuntimeFlagValues), eps, overrides, batch: policy })
    const r = out.result
    const text = "ep_sweep" in r ? renderLargeEpSweep(r, a.format) : renderLargeEp(r, a.format)
    yield* emit(text, Option.getOrUndefined(a.out))
    yield* afterRun("large-ep", out.run, a)
  })
).pipe(
  Command.withDescription("Large expert parallelism: DeepEP all-to-all over NVLink and NIC, two-batch overlap, memory per GPU, TTFT/TPOT and tokens/s per GPU and node"),
  Command.withExamples([
    { command: "llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml", description: "DeepSeek's EP144 decode unit" },
    { command: "llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml --ep 8,16,32,64,144,256", description: "Compare EP sizes" },
    { command: "llmsim large-ep evaluate configs/scenarios/deepseek_v3_h800_decode_ep144.yaml --tpot-slo-ms 50", description: "Largest batch within a TPOT target" }
  ])
)

const afdSimulate = Command.make(
  "simulate",
  {
    scenario: scenarioArg,
    ...outputFlags,
    ...runtimeFlags,
    ...batchFlags,
    instances: Flag.String("instances").pipe(Flag.withDescription("Attention and FFN instance counts, e.g. 3A2F; several (2A2F,3A2F) print one comparison"), Flag.optional),
    regime: Flag.Literals("regime", ["auto", "three_stage", "conservative", "serial"]).pipe(Flag.withDescription("Pipeline regime (auto: three_stage when enough micro-batches are in flight)"), Flag.optional),
    loadImbalance: loadImbalanceFlag
  },
  Effect.fn(function*(a) {
    const instances = yield* parseList("--instances", a.instances, parseInstances, "<attention>A<ffn>F counts such as 2A2F or 3A2F")
    const policy = yield* batchPolicy(a)
    const li = yield* parseLoadImbalance(a.loadImbalance)
    const out = yield* runAfd({
      run: toRunOptions(a.scenario, a as RuntimeFlagValues),
      instances,
      ...(Option.isSome(a.regime) ? { regime: a.regime.value } : {}),
      ...(li === undefined ? {} : { load_imbalance: li }),
      batch: policy
    })
    const r = out.result
    const text = "instance_sweep" in r ? renderAfdSweep(r, a.format) : renderAfd(r, a.format)
    yield* emit(text, Option.getOrUndefined(a.out))
    yield* afterRun("afd", out.run, a)
  })
).pipe(
  Command.withDescription("Attention-FFN disaggregation: attention and FFN instances, A->F / F->A transfers, pipeline regime, memory per role, TPOT and tokens/s"),
  Command.withExamples([
    { command: "llmsim afd simulate configs/scenarios/deepseek_v3_h800_afd.yaml", description: "DeepSeek-V3 on H800 with attention-FFN disaggregation" },
    { command: "llmsim afd simulate configs/scenarios/deepseek_v3_h800_afd.yaml --instances 2A2F,3A2F,4A2F", description: "Compare instance ratios" }
  ])
)

export const playbookCommands = [
  Command.make("afd").pipe(
    Command.withDescription("Attention-FFN disaggregation playbook"),
    Command.withSubcommands([afdSimulate])
  ),
  Command.make("large-ep").pipe(
    Command.withDescription("Large expert-parallelism playbook"),
    Command.withSubcommands([largeEpEvaluate])
  )
]

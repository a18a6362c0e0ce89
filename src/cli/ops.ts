/**
 * `llmsim ops`: every fused op of every layer entry, with its shape parameters, FLOPs and bytes;
 * with `--estimator ml --model FILE` also each op's time and whether the model or the analytic
 * fallback gave it (and why), to see what a model covers before running with it.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../config/errors.ts"
import { modelOf } from "../kernel/model.ts"
import { modelPlans } from "../kernel/step.ts"
import { evaluateOpCost } from "../ops/registry.ts"
import type { OpSpec } from "../ops/types.ts"
import { renderTable } from "../report/table.ts"
import { phasesOf } from "../schema/runtime.ts"
import { withSession } from "../app/session.ts"
import { layerContext } from "../sim/simulate.ts"
import { runtimeFlags, toRunOptions } from "./flags.ts"
import { scenarioArg } from "./run.ts"
import { emit } from "./output.ts"
import { estimatorOf } from "../app/estimator.ts"
import { timeSpec } from "../kernel/opTiming.ts"
import { timingHardware } from "../timing/roofline.ts"

const shape = (spec: OpSpec) =>
  Object.entries(spec.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")

export const opsCommand = Command.make(
  "ops",
  {
    scenario: scenarioArg,
    layer: Flag.String("layer").pipe(Flag.withDescription("Only this layer entry (its type or name, e.g. moe_layer, or lm_head)"), Flag.optional),
    format: Flag.Literals("format", ["table", "json"]).pipe(Flag.withDefault("table" as const)),
    out: Flag.String("out").pipe(Flag.optional),
    ...runtimeFlags
  },
  Effect.fn(function* (a) {
    const options = toRunOptions(a.scenario, a)
    const text = yield* withSession(options, (s) =>
      Effect.gen(function* () {
        const groups: Array<{ phase: string; layer: string; ops: Array<Record<string, unknown>> }> = []
        const wanted = Option.getOrUndefined(a.layer)
        const model = modelOf(s.loaded)
        // Times only under a learned estimator: the analytic listing stays FLOPs and bytes.
        const learned = options.estimator === "analytic" ? undefined : yield* estimatorOf(options, { cwd: options.cwd, root: s.project.root })
        const timing = timingHardware(s.loaded.hardware, options.efficiency)
        const timed = (spec: OpSpec) => {
          if (learned === undefined) return {}
          const t = timeSpec(spec, timing, learned)
          return { time_us: t.dominant_latency_ms * 1e3, estimator: t.estimator ?? learned.id, estimator_note: t.estimator_note ?? "" }
        }
        for (const phase of phasesOf(s.runtime.phase)) {
          const ctx = yield* layerContext(s.loaded, model, s.runtime, phase)
          // The kernel's layer plans: one per entry (labelled `<index>.<label>`), then the LM head.
          const entries = modelPlans(model, ctx).map((plan, i): [string, ReadonlyArray<OpSpec>] => {
            const e = model.entries[i]
            return [e === undefined ? "lm_head" : `${e.index}.${e.label}`, plan.specs]
          })
          for (const [label, specs] of entries) {
            if (wanted !== undefined && !label.split(".").includes(wanted) && label !== wanted) continue
            groups.push({
              phase,
              layer: label,
              ops: specs.map((spec) => {
                const c = evaluateOpCost(spec)
                return {
                  op: spec.name,
                  kind: spec.kind,
                  category: spec.category,
                  params: spec.params,
                  flops: c.flops,
                  bytes_read: c.bytes_read,
                  bytes_written: c.bytes_written,
                  comm_bytes: c.comm_bytes,
                  link: c.link ?? null,
                  math_dtype: c.math_dtype ?? null,
                  notes: c.notes,
                  ...timed(spec)
                }
              })
            })
          }
        }
        if (groups.length === 0) return yield* Effect.fail(new UsageError({ message: `no layer entry matches --layer ${wanted}` }))
        if (a.format === "json") return JSON.stringify({ scenario: s.loaded.spec.name ?? null, runtime: s.runtime, layers: groups }, null, 2) + "\n"
        return (
          groups
            .map(
              (g) =>
                `== ${g.phase} / ${g.layer} ==\n` +
                renderTable(
                  [
                    { header: "op", align: "left" },
                    { header: "category", align: "left" },
                    { header: "GFLOP" },
                    { header: "read MB" },
                    { header: "write MB" },
                    { header: "link MB" },
                    ...(learned === undefined ? [] : [{ header: "time us" }, { header: "estimator", align: "left" as const }]),
                    { header: "shape", align: "left" }
                  ],
                  g.ops.map((o: any) => [
                    o.op,
                    o.category,
                    (o.flops / 1e9).toFixed(4),
                    (o.bytes_read / 1e6).toFixed(3),
                    (o.bytes_written / 1e6).toFixed(3),
                    (o.comm_bytes / 1e6).toFixed(3),
                    ...(learned === undefined ? [] : [o.time_us.toFixed(2), o.estimator_note === "" ? o.estimator : `${o.estimator}: ${o.estimator_note}`]),
                    shape({ params: o.params } as OpSpec)
                  ])
                )
            )
            .join("\n\n") + "\n"
        )
      })
    )
    yield* emit(text, Option.getOrUndefined(a.out))
  })
).pipe(Command.withDescription("Inspect every fused op: shapes, FLOPs and bytes"))

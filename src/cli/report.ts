/**
 * `llmsim report`: a run as one self-contained HTML page (roofline, per-layer time, memory
 * against HBM, serving summary) or one chart as SVG; the same as `llmsim run --format html|svg`.
 */
import { Command, Flag } from "effect/cli"
import { Effect, Option } from "effect"
import { isCoreStrategy } from "../deploy/registry.ts"
import { chartFlag, outputFlags, reportRun, scenarioArg } from "./run.ts"
import { documented, runtimeFlags, strategyFlag, toRunOptions } from "./flags.ts"
import { UsageError } from "../config/errors.ts"

const { format: _format, ...fileFlags } = outputFlags

export const reportCommand = Command.make(
  "report",
  {
    scenario: scenarioArg,
    ...fileFlags,
    format: Flag.Literals("format", ["html", "svg"]).pipe(
      Flag.withDescription("html: the report page; svg: one chart (--chart)"),
      Flag.withDefault("html" as const)
    ),
    chart: chartFlag,
    ...runtimeFlags,
    strategy: strategyFlag
  },
  Effect.fn(function* (a) {
    const strategy = Option.getOrUndefined(a.strategy)
    if (!isCoreStrategy(strategy)) {
      return yield* Effect.fail(new UsageError({ message: `--strategy ${strategy}: the report covers the core strategies (serial, overlapped)` }))
    }
    yield* reportRun(toRunOptions(a.scenario, a), strategy, a.format, a.chart, a)
  })
).pipe(
  documented("A run as one self-contained HTML page (offline, deterministic) or one chart as SVG", [
    ["llmsim report --out report.html", "The default scenario's report: open it in a browser"],
    ["llmsim report configs/scenarios/llama_3_1_70b_h100.yaml --phase decode --out decode.html", "One phase"],
    ["llmsim report --format svg --chart roofline --out roofline.svg", "The roofline chart alone"]
  ])
)

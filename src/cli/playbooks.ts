/**
 * `llmsim afd simulate` and `llmsim large-ep evaluate`. Until the deployment models land they
 * evaluate the scenario's core results (as `run` does) under their own names.
 */
import { Effect, Option } from "effect"
import { Command } from "effect/cli"
import { renderRun } from "../report/run.ts"
import { runSimulation } from "../sim/simulate.ts"
import { runtimeFlags, toRunOptions, type RuntimeFlagValues } from "./flags.ts"
import { afterRun, outputFlags, scenarioArg } from "./run.ts"
import { emit } from "./output.ts"

const coreCommand = (name: string, description: string) =>
  Command.make(name, { scenario: scenarioArg, ...outputFlags, ...runtimeFlags }, Effect.fn(function*(a) {
    const out = yield* runSimulation(toRunOptions(a.scenario, a as RuntimeFlagValues))
    yield* emit(renderRun(out.result, a.format), Option.getOrUndefined(a.out))
    yield* afterRun(name, out, a)
  })).pipe(Command.withDescription(description))

export const playbookCommands = [
  Command.make("afd").pipe(
    Command.withDescription("Attention-FFN disaggregation playbook"),
    Command.withSubcommands([coreCommand("simulate", "Simulate an attention-FFN disaggregated deployment")])
  ),
  Command.make("large-ep").pipe(
    Command.withDescription("Large expert-parallelism playbook"),
    Command.withSubcommands([coreCommand("evaluate", "Evaluate a large expert-parallel deployment")])
  )
]

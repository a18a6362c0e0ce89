/**
 * The command tree: every subcommand under `llmsim`, in the order `--help` lists them. The names
 * are exactly those of src/base/commands.js, the table the launcher reads to decide what a record
 * may replay (test/cli/commands.test.ts).
 */
import { Command } from "effect/cli"
import { accuracyCommands } from "./accuracy.ts"
import { cacheCommand } from "./cache.ts"
import { diffCommand } from "./diff.ts"
import { Verbose } from "./failure.ts"
import { featuresCommand } from "./features.ts"
import { importCommand } from "./importHf.ts"
import { initCommand } from "./init.ts"
import { listCommand } from "./list.ts"
import { mlCommand } from "./ml.ts"
import { opsCommand } from "./ops.ts"
import { playbookCommands } from "./playbooks.ts"
import { reportCommand } from "./report.ts"
import { runCommand } from "./run.ts"
import { schemaCommand } from "./schema.ts"
import { sweepCommand } from "./sweep.ts"
import { watchCommand } from "./watch.ts"

export const SUBCOMMANDS = [
  runCommand,
  reportCommand,
  opsCommand,
  sweepCommand,
  ...playbookCommands,
  watchCommand,
  diffCommand,
  ...accuracyCommands,
  featuresCommand,
  mlCommand,
  cacheCommand,
  schemaCommand,
  listCommand,
  initCommand,
  importCommand
] as const

export const COMMAND_TREE = Command.make("llmsim").pipe(
  Command.withDescription("Plan LLM serving: latency, throughput and memory of a model on hardware with a parallel layout"),
  Command.withSubcommands(SUBCOMMANDS),
  Command.withGlobalFlags([Verbose])
)

/**
 * The llmsim command line. Typed errors a user can fix (bad config, bad flag value) print one
 * line each, `file:line:col field: expected ...`, and exit 1; nothing is written.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { cacheCommand } from "./cache.ts"
import { opsCommand } from "./ops.ts"
import { runCommand } from "./run.ts"
import { playbookCommands } from "./playbooks.ts"
import { watchCommand } from "./watch.ts"
import { diffCommand } from "./diff.ts"
import { accuracyCommands } from "./accuracy.ts"
import { VERSION } from "../version.ts"

const root = Command.make("llmsim").pipe(
  Command.withDescription("Plan LLM serving: latency, throughput and memory of a model on hardware with a parallel layout"),
  Command.withSubcommands([runCommand, opsCommand, ...playbookCommands, watchCommand, diffCommand, ...accuracyCommands, cacheCommand])
)

const program = Command.run(root, { version: VERSION }).pipe(
  Effect.catchTags({
    ConfigError: (e) => Effect.sync(() => {
      process.stderr.write(`error: ${e.message}\n`)
      process.exitCode = 1
    }),
    UsageError: (e) => Effect.sync(() => {
      process.stderr.write(`error: ${e.message}\n`)
      process.exitCode = 1
    })
  }),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(program as Effect.Effect<void, unknown>)

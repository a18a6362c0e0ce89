/**
 * The command tree: every subcommand under `llmsim`, in the order `--help` lists them. The names
 * are exactly those of src/base/commands.js, the table the launcher reads to decide what a record
 * may replay (test/cli/commands.test.ts).
 *
 * Each subcommand's module loads on demand. Once the first word of the command line has selected
 * a subcommand, effect/cli reads only that subcommand's flags, arguments and help (the global
 * flags are the root's, declared here): `llmsim run ...` gets a tree of `run` alone and never
 * evaluates the other fourteen modules or what their handlers import (9 ms of an edit-and-run's
 * 130 ms, measured with a tree of `run` only). The root's own answers -- bare `llmsim`, `--help`,
 * `--version`, a word that is no subcommand -- and `--completions` and `--wizard`, which walk the
 * whole tree from wherever they appear, get every module (test/cli/commands.test.ts holds the
 * outputs equal).
 */
import { Command } from "effect/cli"
import { Verbose } from "./failure.ts"

/** Each module with the subcommands it defines, in `--help` order. */
const MODULES = [
  { names: ["run"], load: async () => [(await import("./run.ts")).runCommand] as const },
  { names: ["report"], load: async () => [(await import("./report.ts")).reportCommand] as const },
  { names: ["ops"], load: async () => [(await import("./ops.ts")).opsCommand] as const },
  { names: ["bench"], load: async () => [(await import("./bench.ts")).benchCommand] as const },
  { names: ["sweep"], load: async () => [(await import("./sweep.ts")).sweepCommand] as const },
  { names: ["plan"], load: async () => [(await import("./plan.ts")).planCommand] as const },
  { names: ["export"], load: async () => [(await import("./export.ts")).exportCommand] as const },
  { names: ["afd", "large-ep"], load: async () => (await import("./playbooks.ts")).playbookCommands },
  { names: ["watch"], load: async () => [(await import("./watch.ts")).watchCommand] as const },
  { names: ["worker"], load: async () => [(await import("./worker.ts")).workerCommand] as const },
  { names: ["diff"], load: async () => [(await import("./diff.ts")).diffCommand] as const },
  { names: ["validate", "calibrate"], load: async () => (await import("./accuracy.ts")).accuracyCommands },
  { names: ["features"], load: async () => [(await import("./features.ts")).featuresCommand] as const },
  { names: ["ml"], load: async () => [(await import("./ml.ts")).mlCommand] as const },
  { names: ["cache"], load: async () => [(await import("./cache.ts")).cacheCommand] as const },
  { names: ["schema"], load: async () => [(await import("./schema.ts")).schemaCommand] as const },
  { names: ["list"], load: async () => [(await import("./list.ts")).listCommand] as const },
  { names: ["init"], load: async () => [(await import("./init.ts")).initCommand] as const },
  { names: ["import"], load: async () => [(await import("./importHf.ts")).importCommand] as const }
] satisfies ReadonlyArray<{ readonly names: ReadonlyArray<string>; readonly load: () => Promise<ReadonlyArray<Command.Command.Any>> }>

/** Any subcommand of the tree. */
type Subcommand = Awaited<ReturnType<(typeof MODULES)[number]["load"]>>[number]

/** Flags that make effect/cli walk the whole tree wherever they stand. */
const wholeTree = (arg: string): boolean => arg === "--wizard" || arg.startsWith("--completions")

/** The subcommands the command line `args` can reach: its first word's module's, else all. */
export const subcommandsFor = async (args: ReadonlyArray<string>): Promise<ReadonlyArray<Subcommand>> => {
  const first = args[0]
  const named = first === undefined || args.some(wholeTree) ? [] : MODULES.filter((m) => (m.names as ReadonlyArray<string>).includes(first))
  return (await Promise.all((named.length > 0 ? named : MODULES).map((m) => m.load()))).flat()
}

/** The `llmsim` command over `subcommands`. */
export const commandTree = (subcommands: ReadonlyArray<Subcommand>) =>
  Command.make("llmsim").pipe(
    Command.withDescription("Plan LLM serving: latency, throughput and memory of a model on hardware with a parallel layout"),
    Command.withSubcommands(subcommands),
    Command.withGlobalFlags([Verbose])
  )

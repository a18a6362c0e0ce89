/**
 * The command tree (src/cli/commands.ts) registers exactly the subcommands of src/base/commands.js,
 * the table the launcher reads; a command line that names its subcommand first gets that module's
 * subcommands alone, and effect/cli answers it exactly as with the whole tree.
 */
import { Console, Effect, Exit } from "effect"
import { CliOutput, Command } from "effect/cli"
import { describe, expect, it } from "vitest"
import { COMMANDS } from "../../src/base/commands.js"
import { commandTree, subcommandsFor } from "../../src/cli/commands.ts"
import { presenter } from "../../src/cli/failure.ts"
import { runEffect } from "../helpers/inProcess.ts"

const names = (subcommands: ReadonlyArray<{ readonly name: string }>) => subcommands.map((c) => c.name)

/** What `llmsim args` prints (stdout, stderr) and whether it succeeded, with the commands of `tree` (no handler runs for these lines). */
const answer = async (tree: Awaited<ReturnType<typeof subcommandsFor>>, args: ReadonlyArray<string>) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const [write, writeErr] = [process.stdout.write, process.stderr.write]
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write
  try {
    // effect's Console (help, version) into out and err, as the CLI's console prints them.
    const console = new Proxy(
      {},
      {
        get:
          (_, k) =>
          (...a: Array<unknown>) =>
            void (k === "error" || k === "warn" ? err : out).push(`${a.join(" ")}\n`)
      }
    ) as Console.Console
    const run = Command.runWith(commandTree(tree), { version: "test" })(args).pipe(
      Effect.provide(CliOutput.layerPresenter(presenter)),
      Effect.provideService(Console.Console, console)
    )
    const exit = await runEffect(Effect.exit(run))
    return { stdout: out.join(""), stderr: err.join(""), ok: Exit.isSuccess(exit) }
  } finally {
    process.stdout.write = write
    process.stderr.write = writeErr
  }
}

describe("the command table", () => {
  it("names every registered subcommand once, and nothing else", async () => {
    expect(names(await subcommandsFor([])).sort()).toEqual(Object.keys(COMMANDS).sort())
  })

  it("a command line that starts with a subcommand gets its module's subcommands only", async () => {
    expect(names(await subcommandsFor(["run", "x.yaml"]))).toEqual(["run"])
    expect(names(await subcommandsFor(["large-ep", "evaluate"]))).toEqual(["afd", "large-ep"])
    expect(names(await subcommandsFor(["calibrate"]))).toEqual(["validate", "calibrate"])
    for (const name of Object.keys(COMMANDS)) expect(names(await subcommandsFor([name]))).toContain(name)
  })

  it("the root's own answers and the flags that walk the whole tree get every subcommand", async () => {
    const all = names(await subcommandsFor([]))
    for (const args of [
      ["--help"],
      ["--version"],
      ["rnu"],
      ["--verbose", "run"],
      ["run", "--completions", "bash"],
      ["run", "--completions=zsh"],
      ["run", "--wizard"]
    ]) {
      expect(names(await subcommandsFor(args))).toEqual(all)
    }
  })

  it("effect/cli answers a subcommand's help, version and parse errors the same from its module alone as from the whole tree", async () => {
    const whole = await subcommandsFor([])
    const lines = [
      ["run", "--help"],
      ["run", "-h"],
      ["run", "--version"],
      ["run", "--bogus"],
      ["run", "--format", "nope"],
      ["run", "--verbose", "--help"],
      ["run", "--log-level", "nope"],
      ["run", "a.yaml", "b.yaml"],
      ["sweep", "--points"],
      ["ml"],
      ["ml", "--help"],
      ["ml", "trian"],
      ["cache", "stats", "--nope"],
      ["large-ep", "--help"],
      ["afd", "simulate", "--help"],
      ["validate", "--help"],
      ["import", "hf", "--help"],
      ["diff", "--help"]
    ]
    for (const args of lines) {
      const alone = await answer(await subcommandsFor(args), args)
      expect(alone.stdout + alone.stderr, args.join(" ")).not.toBe("")
      expect(alone, args.join(" ")).toEqual(await answer(whole, args))
    }
  })
})

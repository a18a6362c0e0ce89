/**
 * src/cli/failure.ts in process: what each kind of failure prints on stderr and which exit
 * status it sets (the real CLI is checked once per behaviour in test/cli/failures.test.ts).
 */
import { Cause, Effect } from "effect"
import { CliError } from "effect/cli"
import { afterEach, describe, expect, it, vi } from "vitest"
import { ConfigError, UsageError } from "../../src/config/errors.ts"
import { EXIT_INTERNAL, handleFailure, usageHint } from "../../src/cli/failure.ts"

/** Run the handler on `cause`, returning what it wrote to stderr and the exit status it set. */
const handled = async (cause: Cause.Cause<unknown>) => {
  const writes: Array<string> = []
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => (writes.push(String(chunk)), true))
  const before = process.exitCode
  try {
    await Effect.runPromise(handleFailure(cause))
    return { stderr: writes.join(""), exitCode: process.exitCode }
  } finally {
    spy.mockRestore()
    process.exitCode = before
  }
}

afterEach(() => {
  delete process.env.LLMSIM_VERBOSE
})

describe("handleFailure", () => {
  it("a config error: its positioned lines, exit 1", async () => {
    const e = new ConfigError({ issues: [{ file: "a.yaml", line: 3, col: 5, path: "x.y", message: "Expected a number" }] })
    expect(await handled(Cause.fail(e))).toEqual({ stderr: "error: a.yaml:3:5 x.y: Expected a number\n", exitCode: 1 })
  })

  it("a usage error: one line, exit 1", async () => {
    expect(await handled(Cause.fail(new UsageError({ message: "--ep: expected 1..8" })))).toEqual({ stderr: "error: --ep: expected 1..8\n", exitCode: 1 })
  })

  it("a parse error already printed by the presenter: nothing more, exit 1; bare help: exit 0", async () => {
    const withErrors = new CliError.ShowHelp({
      commandPath: ["llmsim", "run"],
      errors: [new CliError.UnrecognizedOption({ option: "--x", suggestions: [], command: ["llmsim", "run"] })]
    })
    expect(await handled(Cause.fail(withErrors))).toEqual({ stderr: "", exitCode: 1 })
    expect(await handled(Cause.fail(new CliError.ShowHelp({ commandPath: ["llmsim"], errors: [] })))).toEqual({ stderr: "", exitCode: undefined })
  })

  it("a defect: one internal-error line with how to report it, exit 70, no trace", async () => {
    const r = await handled(Cause.die(new Error("x is undefined\n  more detail")))
    expect(r.exitCode).toBe(EXIT_INTERNAL)
    expect(r.stderr).toBe(
      "internal error: x is undefined; more detail (please report it on the llmsim issue tracker, with the command and its --verbose output)\n"
    )
  })

  it("an unexpected typed error is a defect too", async () => {
    const r = await handled(Cause.fail({ _tag: "SomethingElse", message: "odd" }))
    expect(r.exitCode).toBe(EXIT_INTERNAL)
    expect(r.stderr).toMatch(/^internal error: /)
  })

  it("LLMSIM_VERBOSE=1 adds the trace", async () => {
    process.env.LLMSIM_VERBOSE = "1"
    const r = await handled(Cause.die(new Error("boom")))
    expect(r.stderr).toMatch(/^internal error: boom .*\n[\s\S]*\s+at /)
  })
})

describe("usageHint", () => {
  it("names the usage and where the full flag list is", () => {
    expect(usageHint(["llmsim", "run"], "llmsim run [flags] [<scenario>]")).toBe("usage: llmsim run [flags] [<scenario>]; llmsim run --help for all flags")
  })
})

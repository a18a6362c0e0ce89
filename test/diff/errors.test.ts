/**
 * `llmsim diff` errors: each is one clear line and exit status 1. The messages come from the
 * command's entry point in process (test/helpers/inProcess.ts; the CLI prints `error: MESSAGE`);
 * the real CLI checks the exit status, the empty stdout and the single stderr line, and flag
 * validation.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { edit, makeProject, runCli } from "../helpers/cli.ts"
import { commandErrors, diffCommand, diffFailure, type DiffFlags } from "../helpers/inProcess.ts"
import { commitAll, makeRepo, SCENARIO } from "./repo.ts"

const expectError = (r: { status: number | null; stdout: string; stderr: string }, text: string) => {
  expect(r.status).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain(text)
  expect(r.stderr.trim().split("\n").length).toBe(1)
}

/** The error line `llmsim diff ARGS` prints, from the entry point in process. */
const errorLine = async (cwd: string, args: ReadonlyArray<string>, flags: DiffFlags = {}) => `error: ${(await diffFailure(cwd, args, flags)).message}\n`

/** As expectError, for an in-process failure: the one line that goes to stderr. */
const expectErrorLine = (line: string, text: string) => {
  expect(line).toContain(text)
  expect(line.trim().split("\n").length).toBe(1)
}

describe("llmsim diff errors", () => {
  let dir: string
  beforeAll(() => {
    dir = makeRepo()
    // Second commit: a new scenario whose second layer points at a template that is not there.
    const text = fs
      .readFileSync(path.join(dir, SCENARIO), "utf8")
      .replace("configs/models/deepseek-v3/moe_layer_config.yaml", "configs/models/deepseek-v3/moe_v2.yaml")
    fs.writeFileSync(path.join(dir, "configs/scenarios/broken.yaml"), text)
    commitAll(dir, "a broken scenario")
  })

  it("names an unknown revision (real CLI: exit 1, one stderr line)", async () => {
    expectError(runCli(["diff", "no-such-rev", "HEAD"], dir), "error: unknown revision: no-such-rev")
    expectErrorLine(await errorLine(dir, ["HEAD", "no-such-rev"]), "error: unknown revision: no-such-rev")
  })

  it("names a scenario missing at a revision", async () => {
    expectErrorLine(
      await errorLine(dir, ["HEAD~1", "HEAD", "configs/scenarios/broken.yaml"]),
      "error: scenario not found at HEAD~1: configs/scenarios/broken.yaml"
    )
  })

  it("points at the scenario field whose file is missing at the revision", async () => {
    // `config:` of the second layer entry is line 23, its value at column 13 (as in the shipped file).
    const r = await errorLine(dir, ["HEAD", "HEAD", "configs/scenarios/broken.yaml"])
    const line =
      fs
        .readFileSync(path.join(dir, "configs/scenarios/broken.yaml"), "utf8")
        .split("\n")
        .findIndex((l) => l.includes("moe_v2.yaml")) + 1
    const col = fs.readFileSync(path.join(dir, "configs/scenarios/broken.yaml"), "utf8").split("\n")[line - 1].indexOf("configs/") + 1
    expectErrorLine(
      r,
      `error: HEAD:configs/scenarios/broken.yaml:${line}:${col} layers.1.config: file not found: configs/models/deepseek-v3/moe_v2.yaml (looked in configs/scenarios/configs/models/deepseek-v3/moe_v2.yaml, configs/models/deepseek-v3/moe_v2.yaml)`
    )
  })

  it("qualifies a config error at a revision with the revision", async () => {
    const other = makeRepo()
    edit(path.join(other, SCENARIO), (t) => t.replace(/repeat: 58 /, "repeat: -58 "))
    commitAll(other, "bad repeat")
    const r = await errorLine(other, ["HEAD~1", "HEAD"])
    expect(r).toMatch(new RegExp(`^error: HEAD:${SCENARIO.replace(/\./g, "\\.")}:\\d+:\\d+ layers\\.1\\.repeat: `))
  })

  it("says when the folder is not a git repository", async () => {
    const plain = makeProject("llmsim-nogit-")
    const r = await errorLine(plain, ["HEAD", SCENARIO])
    expectErrorLine(r, "is not inside a git repository")
    expect(r).toContain("--a PATH --b PATH")
  })

  it("rejects half of --a/--b, a missing path, and a scenario where a revision goes", async () => {
    expectErrorLine(await errorLine(dir, [], { a: SCENARIO }), "error: --a and --b go together")
    expectErrorLine(await errorLine(dir, [], { a: SCENARIO, b: "nope.yaml" }), "error: --b nope.yaml: no such file or folder")
    expectErrorLine(await errorLine(dir, [SCENARIO]), `error: the first argument is a git revision, got the scenario path ${SCENARIO}`)
    expectErrorLine(await errorLine(dir, []), "error: no revision given")
    // Flag validation: the command's parser (in process) rejects it, so the CLI exits 1.
    expect((await commandErrors(diffCommand, ["HEAD", "--fail-on-regression", "-1"])).length).toBe(1)
  })
})

/**
 * `llmsim diff` errors through the real CLI: each is one clear line and exit status 1.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { edit, makeProject, runCli } from "../helpers/cli.ts"
import { commitAll, makeRepo, SCENARIO } from "./repo.ts"

const expectError = (r: { status: number | null; stdout: string; stderr: string }, text: string) => {
  expect(r.status).toBe(1)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain(text)
  expect(r.stderr.trim().split("\n").length).toBe(1)
}

describe("llmsim diff errors", () => {
  let dir: string
  beforeAll(() => {
    dir = makeRepo()
    // Second commit: a new scenario whose second layer points at a template that is not there.
    const text = fs.readFileSync(path.join(dir, SCENARIO), "utf8")
      .replace("configs/models/deepseek-v3/moe_layer_config.yaml", "configs/models/deepseek-v3/moe_v2.yaml")
    fs.writeFileSync(path.join(dir, "configs/scenarios/broken.yaml"), text)
    commitAll(dir, "a broken scenario")
  })

  it("names an unknown revision", () => {
    expectError(runCli(["diff", "no-such-rev", "HEAD"], dir), "error: unknown revision: no-such-rev")
    expectError(runCli(["diff", "HEAD", "no-such-rev"], dir), "error: unknown revision: no-such-rev")
  })

  it("names a scenario missing at a revision", () => {
    expectError(runCli(["diff", "HEAD~1", "HEAD", "configs/scenarios/broken.yaml"], dir), "error: scenario not found at HEAD~1: configs/scenarios/broken.yaml")
  })

  it("points at the scenario field whose file is missing at the revision", () => {
    // `config:` of the second layer entry is line 23, its value at column 13 (as in the shipped file).
    const r = runCli(["diff", "HEAD", "HEAD", "configs/scenarios/broken.yaml"], dir)
    const line = fs.readFileSync(path.join(dir, "configs/scenarios/broken.yaml"), "utf8").split("\n").findIndex((l) => l.includes("moe_v2.yaml")) + 1
    const col = fs.readFileSync(path.join(dir, "configs/scenarios/broken.yaml"), "utf8").split("\n")[line - 1].indexOf("configs/") + 1
    expectError(r, `error: HEAD:configs/scenarios/broken.yaml:${line}:${col} layers.1.config: file not found: configs/models/deepseek-v3/moe_v2.yaml`)
  })

  it("qualifies a config error at a revision with the revision", () => {
    const other = makeRepo()
    edit(path.join(other, SCENARIO), (t) => t.replace(/repeat: 58 /, "repeat: -58 "))
    commitAll(other, "bad repeat")
    const r = runCli(["diff", "HEAD~1", "HEAD"], other)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^error: HEAD:${SCENARIO.replace(/\./g, "\\.")}:\\d+:\\d+ layers\\.1\\.repeat: `))
  })

  it("says when the folder is not a git repository", () => {
    const plain = makeProject("llmsim-nogit-")
    const r = runCli(["diff", "HEAD", SCENARIO], plain)
    expectError(r, "is not inside a git repository")
    expect(r.stderr).toContain("--a PATH --b PATH")
  })

  it("rejects half of --a/--b, a missing path, and a scenario where a revision goes", () => {
    expectError(runCli(["diff", "--a", SCENARIO], dir), "error: --a and --b go together")
    expectError(runCli(["diff", "--a", SCENARIO, "--b", "nope.yaml"], dir), "error: --b nope.yaml: no such file or folder")
    expectError(runCli(["diff", SCENARIO], dir), `error: the first argument is a git revision, got the scenario path ${SCENARIO}`)
    expectError(runCli(["diff"], dir), "error: no revision given")
    expect(runCli(["diff", "HEAD", "--fail-on-regression", "-1"], dir).status).toBe(1)
  })
})

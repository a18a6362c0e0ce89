/**
 * Generated invalid configs through the real CLI (one spawn each, so only a few): one per kind
 * of breakage (wrong type, negative, missing key, unknown key), drawn from the same arbitrary
 * as the in-process property (test/properties/model.test.ts). `llmsim run` must exit 1 with the
 * positioned error on stderr (exactly one `file:line:col` line, no stack trace) and nothing on
 * stdout.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { brokenArb, SCENARIO, writeProject, type Breakage, type BrokenProject } from "../helpers/arbitraries.ts"
import { runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

/** One generated broken project per kind, each in a different file, from a fixed seed (so the cases replay). */
const cases = (): Array<BrokenProject> => {
  const kinds: Array<Breakage> = ["wrong-type", "negative", "missing", "unknown-key"]
  const pool = fc.sample(brokenArb, { numRuns: 400, seed: 4242 })
  const used = new Set<string>()
  return kinds.map((k) => {
    const b = pool.find((x) => x.kind === k && !used.has(x.file)) ?? pool.find((x) => x.kind === k)!
    used.add(b.file)
    return b
  })
}

describe("llmsim run on a generated config with one broken field", () => {
  for (const b of cases()) {
    it(`${b.kind} ${b.file} ${b.path}: exit 1, one positioned line on stderr, no stack, empty stdout`, () => {
      const dir = tempDir("llmsim-prop-cli-")
      writeProject(dir, b.project)
      const r = runCli(["run", SCENARIO, "--no-cache", "--format", "json"], dir)
      expect(r.status, r.stderr).toBe(1)
      expect(r.stdout).toBe("")
      const lines = r.stderr.split("\n").filter((l) => l.trim() !== "")
      const esc = b.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      const positioned = lines.filter((l) => new RegExp(`${esc}:\\d+:\\d+ ${b.path.replace(/\./g, "\\.")}\\b`).test(l))
      expect(positioned, r.stderr).toHaveLength(1)
      const [, line, col] = positioned[0].match(/:(\d+):(\d+) /)!
      expect(Number(line)).toBeGreaterThanOrEqual(1)
      expect(Number(col)).toBeGreaterThanOrEqual(1)
      // Nothing else positioned, no stack frames, at most a hint line besides the error.
      expect(lines.filter((l) => /:\d+:\d+/.test(l))).toHaveLength(1)
      expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([])
      expect(lines.length).toBeLessThanOrEqual(2)
    })
  }
})

/**
 * `llmsim diff` output formats: the terminal table and the markdown for a pull request comment,
 * on a real git repository. The markdown with a failing gate goes through the real CLI (--out,
 * exit status, stderr); the rest renders the entry point's result in process.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { edit, runCli } from "../helpers/cli.ts"
import { diffInProcess } from "../helpers/inProcess.ts"
import { commitAll, makeRepo, MOE, scratch, SCENARIO } from "./repo.ts"

describe("llmsim diff formats", () => {
  let dir: string
  beforeAll(() => {
    dir = makeRepo()
    edit(path.join(dir, MOE), (t) => t.replace(/moe_intermediate_size: 2048/, "moe_intermediate_size: 3072"))
    commitAll(dir, "larger experts")
  })

  it("prints a terminal table: sides, config changes, totals, layers (identical consecutive layers as one row; --layers all: one each)", async () => {
    const d = await diffInProcess(dir, ["HEAD~1", "HEAD"], { runtime: { phase: "decode" } })
    const r = { stdout: d.text("table", "all") }
    const grouped = d.text("table")
    expect(grouped).toMatch(/^layer\s+type\s+count\s+A ms\s+B ms\s+delta ms\s+delta %\s+status$/m)
    expect(grouped).toMatch(/^L0-L2\s+ffn_layer\s+x3\s+\d+\.\d{4}\s+\d+\.\d{4}\s+0\.0000\s+0\.00%\s+unchanged$/m)
    expect(grouped).toMatch(/^L3-L60\s+moe_layer\s+x58\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\+\d+\.\d{4}\s+\+\d+\.\d{2}%\s+changed$/m)
    expect(grouped).toMatch(/^L61\s+lm_head\s+x1\s+/m)
    // 3 dense + 58 MoE + the LM head: 3 grouped rows instead of 62.
    expect(grouped.split("\n").length).toBe(r.stdout.split("\n").length - 59)
    const lines = r.stdout.split("\n")
    expect(lines[0]).toMatch(new RegExp(`^A  HEAD~1 \\([0-9a-f]{12}\\)  ${SCENARIO}  H800-SXM  batch_size=8 seq_len=4096 phase=decode$`))
    expect(lines[1]).toMatch(/^B  HEAD \([0-9a-f]{12}\)  /)
    expect(r.stdout).toContain("== config changes (1) ==")
    expect(r.stdout).toMatch(new RegExp(`${MOE.replace(/\./g, "\\.")}\\s+moe_config\\.moe_intermediate_size\\s+2048\\s+3072`))
    expect(r.stdout).toContain("== decode (per GPU) ==")
    expect(r.stdout).toContain("== decode layers: 58 changed, 4 unchanged ==")
    expect(r.stdout).toMatch(/^L0\.ffn_layer\s+\d+\.\d{4}\s+\d+\.\d{4}\s+0\.0000\s+0\.00%\s+unchanged$/m)
    expect(r.stdout).toMatch(/^L3\.moe_layer\s+\d+\.\d{4}\s+\d+\.\d{4}\s+\+\d+\.\d{4}\s+\+\d+\.\d{2}%\s+changed$/m)
    expect(r.stdout).not.toContain("regression gate")
    expect(/^[\x00-\x7f]*$/.test(r.stdout)).toBe(true)
  })

  it("writes markdown for a pull request comment, with the gate verdict", () => {
    const out = scratch()
    const file = path.join(out, "diff.md")
    const r = runCli(["diff", "HEAD~1", "HEAD", SCENARIO, "--format", "markdown", "--out", file, "--fail-on-regression", "1"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/^regression: /)
    const md = fs.readFileSync(file, "utf8")
    expect(md.startsWith(`### llmsim diff: \`${SCENARIO}\`\n`)).toBe(true)
    expect(md).toContain("| A | `HEAD~1` (`")
    expect(md).toContain("**Config changes (1)**")
    expect(md).toContain(`| \`${MOE}\` | \`moe_config.moe_intermediate_size\` | 2048 | 3072 |`)
    expect(md).toContain("**prefill** (per GPU)")
    expect(md).toContain("**decode** (per GPU)")
    expect(md).toContain("| metric | A | B | delta | delta % |\n|---|---:|---:|---:|---:|")
    expect(md).toContain("<details><summary>decode layers: 58 changed, 4 unchanged</summary>")
    expect(md).toMatch(/\| L61 \| lm_head \| x1 \| \d+\.\d{4} \| \d+\.\d{4} \| 0\.0000 \| 0\.00% \| unchanged \|/)
    expect(md).toContain("**Regression gate (limit 1%): FAILED**")
    expect(md).toMatch(/^- decode tpot_ms \d+\.\d{4} -> \d+\.\d{4} \(\+\d+\.\d{2}%, limit 1%\)$/m)
    expect(md).toMatch(/^- decode no longer fits in HBM: peak memory per GPU \d+\.\d{3} -> \d+\.\d{3} GB > HBM 80\.000 GB$/m)
    expect(md).toContain("| fits in HBM | yes | no | NO LONGER FITS | - |")
    expect(/^[\x00-\x7f]*$/.test(md)).toBe(true)
  })

  it("says the gate passed, and that B fits again", async () => {
    // Back from the larger experts (which do not fit on H800) to the shipped ones: faster, and fits.
    const r = await diffInProcess(dir, ["HEAD", "HEAD~1"], { failOnRegression: 50 })
    expect(r.diffs.some((d) => d.regression)).toBe(false) // exit 0
    const md = r.text("markdown")
    expect(md).toContain("**Regression gate (limit 50%): passed**")
    expect(md).toContain("| fits in HBM | no | yes | now fits | - |")
    expect(md).toContain("| HBM capacity GB | 80.000 | 80.000 | 0.000 | 0.00% |")
    expect(r.text("table")).toMatch(/^fits in HBM\s+no\s+yes\s+now fits\s+-$/m)
  })
})

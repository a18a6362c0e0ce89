/**
 * Docs that cannot drift: every command block of README.md and docs/*.md (`$ llmsim ...`) shows
 * what the tool prints now (tools/docs.ts; `npm run docs` rewrites them), the line count README
 * gives for the default screen is the screen's, and every file of the repository the docs name
 * (under src/, test/, tools/, bench/, docs/) exists.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { blockIsCurrent, blocksOf, documents, printed, runBlock } from "../tools/docs.ts"
import { REPO } from "./helpers/cli.ts"

describe("the docs show what the tool prints", () => {
  it("every command block is current (npm run docs rewrites a stale one)", () => {
    const blocks = documents().flatMap((f) => blocksOf(f))
    // README's progress example and docs/sweep.md's three planning questions, at least.
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    const stale = blocks.filter((b) => !blockIsCurrent(b, runBlock(b))).map((b) => `${path.relative(REPO, b.file)}:${b.line}: ${b.command[0]}`)
    expect(stale, "run npm run docs").toEqual([])
  })

  it("README's line count of the default run screen is the screen's", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8")
    const said = Number(/(\d+) lines for the default\s+scenario/.exec(readme)?.[1])
    expect(said).toBe(printed(["run"]).split("\n").length)
  })

  it("every file of the repository the docs name exists", () => {
    const missing: Array<string> = []
    for (const file of [...documents(), path.join(REPO, "ARCHITECTURE.md")]) {
      const text = fs.readFileSync(file, "utf8")
      for (const m of text.matchAll(/(?<![\w./-])((?:src|test|tools|bench|docs)\/[\w./-]+\.(?:ts|js|cjs|mjs|md))\b/g)) {
        if (!fs.existsSync(path.join(REPO, m[1]!))) missing.push(`${path.relative(REPO, file)}: ${m[1]}`)
      }
    }
    expect([...new Set(missing)]).toEqual([])
  })
})

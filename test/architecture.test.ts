/**
 * The floors (ARCHITECTURE.md "Floors"): dependency-cruiser finds no import against the rules of
 * .dependency-cruiser.cjs, and ARCHITECTURE.md shows the rules and folder graph as they are now
 * (`node tools/architecture.ts` rewrites them); each folder's index.ts lists exactly the names other
 * folders import from it (`node tools/surfaces.ts --write` rewrites them).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { floors, withBlock } from "../tools/architecture.ts"
import { surfaceProblems } from "../tools/surfaces.ts"
import { REPO } from "./helpers/cli.ts"

describe("the floors of src/", () => {
  it("hold: no import against the rules, and ARCHITECTURE.md shows the current graph", async () => {
    const f = await floors()
    expect(f.violations).toEqual([])
    const doc = fs.readFileSync(path.join(REPO, "ARCHITECTURE.md"), "utf8")
    expect(doc, "ARCHITECTURE.md is stale: run node tools/architecture.ts").toBe(withBlock(doc, f.block))
  })

  it("each folder's index.ts states its public surface: every name imported across folders, nothing else", () => {
    expect(surfaceProblems()).toEqual([])
  })
})

/**
 * The floors (ARCHITECTURE.md "Floors"): dependency-cruiser finds no import against the rules of
 * .dependency-cruiser.cjs, and ARCHITECTURE.md shows the rules and folder graph as they are now
 * (`node tools/architecture.ts` rewrites them).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { floors, withBlock } from "../tools/architecture.ts"
import { REPO } from "./helpers/cli.ts"

describe("the floors of src/", () => {
  it("hold: no import against the rules, and ARCHITECTURE.md shows the current graph", async () => {
    const f = await floors()
    expect(f.violations).toEqual([])
    const doc = fs.readFileSync(path.join(REPO, "ARCHITECTURE.md"), "utf8")
    expect(doc, "ARCHITECTURE.md is stale: run node tools/architecture.ts").toBe(withBlock(doc, f.block))
  })
})

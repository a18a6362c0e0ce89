/**
 * docs/caching.md documents every key input: the key-material fields, every registered node
 * kind and every toolchain component. A field, kind or component added to the code but not to
 * the tables (or left in the tables after removal) fails here.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { FileNode } from "../../src/config/load.ts"
import { keyMaterial } from "../../src/graph/node.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import { toolchainFingerprint } from "../../src/graph/toolchain.ts"
import "../../src/sim/plan.ts"
import { REPO } from "../helpers/cli.ts"

const DOC = fs.readFileSync(path.join(REPO, "docs", "caching.md"), "utf8")

/** First-column cells of the first table under the heading `heading`. */
const firstColumn = (heading: string): Array<string> => {
  const lines = DOC.split("\n")
  const at = lines.findIndex((l) => l.trim() === heading)
  expect(at, `heading "${heading}" in docs/caching.md`).toBeGreaterThanOrEqual(0)
  const rows: Array<string> = []
  let inTable = false
  for (const line of lines.slice(at + 1)) {
    if (line.startsWith("#")) break
    if (line.startsWith("|")) {
      inTable = true
      rows.push(line.split("|")[1].trim().replace(/`/g, ""))
    } else if (inTable) break
  }
  return rows.slice(2) // header and separator
}

describe("docs/caching.md key-input tables", () => {
  it("lists exactly the key-material fields", () => {
    const node = FileNode.make({ id: "file:x", name: "x", params: { schema: "hardware", text_sha256: "0" }, deps: [], input: { text: "", shown: "x" } })
    const fields = Object.keys(keyMaterial(node, [], toolchainFingerprint()))
    expect(firstColumn("## Key material").sort()).toEqual(fields.sort())
  })

  it("lists exactly the node kinds of the graph (src/app/nodeTypes.ts)", () => {
    expect(firstColumn("### Per node kind").sort()).toEqual(NODE_TYPES.map((t) => t.kind).sort())
  })

  it("lists exactly the toolchain fingerprint components", () => {
    expect(firstColumn("### Toolchain fingerprint").sort()).toEqual(Object.keys(toolchainFingerprint()).sort())
  })
})

/**
 * Golden digests per versioned unit of code: the guard that makes code versions in cache keys
 * sound. The units and their samples are the table in golden-units.ts; golden.json records, per
 * `unit@version`, the digest of the sample inputs and of the outputs.
 *
 *   outputs changed, same inputs, same version  ->  fails: bump the named constant
 *   version bumped (no record yet)               ->  fails until recorded with UPDATE_GOLDEN=1
 *   inputs changed (a shipped config edited)     ->  fails until re-recorded with UPDATE_GOLDEN=1
 *
 * UPDATE_GOLDEN=1 never overwrites a record whose inputs are unchanged: a changed output under
 * an unchanged version can only be fixed by bumping the version.
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/graph/golden.test.ts
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { OP_FORMULAS } from "../../src/ops/registry.ts"
import { DTYPES, GOLDEN_UNITS, sampleSpecs, shippedConfigs } from "./golden-units.ts"

const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname), "golden.json")
const RECORD = "UPDATE_GOLDEN=1 npx vitest run test/graph/golden.test.ts"

interface Recorded {
  readonly inputs: string
  readonly outputs: string
}

/** Round trip first: a cached value is what the guard must pin. */
const digestOf = (v: unknown) => digest(JSON.parse(JSON.stringify(v)))

describe("golden digests", () => {
  it("every unit's outputs match the digest recorded for its version", () => {
    const golden: Record<string, Recorded> = fs.existsSync(GOLDEN) ? JSON.parse(fs.readFileSync(GOLDEN, "utf8")) : {}
    const update = process.env.UPDATE_GOLDEN === "1"
    const next: Record<string, Recorded> = {}
    const problems: Array<string> = []
    const inputsChanged: Array<string> = []
    for (const u of GOLDEN_UNITS) {
      const id = `${u.unit}@${u.version}`
      const sample = u.sample()
      const now: Recorded = { inputs: digestOf(sample.inputs), outputs: digestOf(sample.outputs) }
      const was = golden[id]
      if (was !== undefined && was.inputs === now.inputs && was.outputs !== now.outputs) {
        problems.push(`${id}: outputs changed without a version bump: bump ${u.bump}`)
        next[id] = was
      } else if (was === undefined || was.inputs !== now.inputs) {
        if (!update && was === undefined) problems.push(`${id}: no recorded digest (new unit or bumped version): record with ${RECORD}`)
        else if (!update) inputsChanged.push(id)
        next[id] = now
      } else next[id] = was
    }
    // Samples are built from shipped configs and from upstream units' outputs (op costs feed the
    // timing samples): after an unbumped upstream change, downstream inputs change too.
    if (inputsChanged.length > 0) {
      problems.push(
        problems.length > 0
          ? `sample inputs also changed for ${inputsChanged.join(", ")} (built from the outputs reported above; re-recorded with them)`
          : `sample inputs changed for ${inputsChanged.join(", ")} (a shipped config or the sample set was edited): re-record with ${RECORD}`
      )
    }
    if (update) fs.writeFileSync(GOLDEN, JSON.stringify(next, Object.keys(next).sort().concat(["inputs", "outputs"]), 2) + "\n")
    expect(problems).toEqual([])
  })

  it("unit ids are unique", () => {
    const ids = GOLDEN_UNITS.map((u) => u.unit)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it("samples exercise every op formula with every dtype in each of its dtype parameters", () => {
    const seen = new Map<string, Map<string, Set<string>>>()
    for (const s of sampleSpecs()) {
      const byParam = seen.get(s.kind) ?? new Map<string, Set<string>>()
      seen.set(s.kind, byParam)
      for (const [k, v] of Object.entries(s.params)) {
        if (!k.endsWith("dtype")) continue
        const values = byParam.get(k) ?? new Set<string>()
        values.add(String(v))
        byParam.set(k, values)
      }
    }
    expect([...seen.keys()].sort()).toEqual(Object.keys(OP_FORMULAS).sort())
    const missing: Array<string> = []
    for (const [kind, byParam] of seen) {
      for (const [param, values] of byParam) {
        const absent = DTYPES.filter((d) => !values.has(d))
        if (absent.length > 0) missing.push(`${kind}.${param}: ${absent.join(", ")}`)
      }
    }
    expect(missing).toEqual([])
  })

  it("samples decode every shipped config file", () => {
    const files = shippedConfigs().map((c) => c.file)
    expect(files.filter((f) => f.startsWith("configs/hardware/")).length).toBeGreaterThanOrEqual(7)
    expect(files.filter((f) => f.startsWith("configs/scenarios/")).length).toBeGreaterThanOrEqual(10)
    expect(files.filter((f) => f.startsWith("configs/models/")).length).toBeGreaterThanOrEqual(9)
  })
})

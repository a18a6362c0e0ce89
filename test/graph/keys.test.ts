/**
 * Keys and the generic graph core, in process: the toolchain fingerprint reaches every key,
 * node types are looked up by kind, and `cache verify` recomputes through the registry and calls
 * entries of unknown kinds or other code versions stale.
 */
import { tempDir } from "../helpers/temp.ts"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { makeEvaluator } from "../../src/graph/evaluator.ts"
import { renderExplain } from "../../src/graph/explain.ts"
import { listEntryFiles } from "../../src/graph/maintenance.ts"
import { defineNodeType, KEY_FORMAT_VERSION, nodeTypesByKind, type KeyMaterial } from "../../src/graph/node.ts"
import { entryKind, noStore, Store, writeEntry } from "../../src/graph/store.ts"
import { CurrentToolchain, TOOLCHAIN_PACKAGES, toolchainFingerprint, type Toolchain } from "../../src/graph/toolchain.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import { runSimulation } from "../../src/app/session.ts"
import { VERSION } from "../../src/base/version.ts"
import { REPO } from "../helpers/cli.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"

const simulate = (toolchain: Toolchain, cacheDir?: string) =>
  Effect.runPromise(
    runSimulation({
      cwd: REPO,
      scenario: SCENARIO,
      runtime: {},
      estimator: "analytic",
      efficiency: "hardware",
      ...(cacheDir === undefined ? { noCache: true } : { cacheDir, noCache: false })
    }).pipe(Effect.provideService(CurrentToolchain, toolchain), Effect.provide(NodeServices.layer))
  )

const keysById = (trace: ReadonlyArray<{ id: string; key: string }>) => new Map(trace.map((t) => [t.id, t.key]))

describe("toolchain fingerprint", () => {
  it("names llmsim (package.json's version), node and every result-changing dependency", () => {
    const t = toolchainFingerprint()
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"))
    expect(t.llmsim).toBe(pkg.version)
    expect(VERSION).toBe(pkg.version)
    expect(t.node).toBe(process.versions.node)
    for (const name of TOOLCHAIN_PACKAGES) {
      expect(t[name]).toBe(JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8")).version)
    }
  })

  it("changing any one component changes every key and no output", async () => {
    const base = toolchainFingerprint()
    const ref = await simulate(base)
    const refKeys = keysById(ref.trace)
    expect(refKeys.size).toBeGreaterThan(20)
    for (const component of Object.keys(base) as Array<keyof Toolchain>) {
      const other = await simulate({ ...base, [component]: `${base[component]}-other` })
      const keys = keysById(other.trace)
      expect([...keys.keys()].sort()).toEqual([...refKeys.keys()].sort())
      const unchanged = [...keys].filter(([id, key]) => refKeys.get(id) === key).map(([id]) => id)
      expect(unchanged, `keys unchanged by ${component}`).toEqual([])
      expect(other.result).toEqual(ref.result)
    }
  })
})

describe("generic graph core", () => {
  it("indexes the domain's node types by kind", () => {
    const byKind = nodeTypesByKind(NODE_TYPES)
    expect([...byKind.keys()]).toEqual(["file", "op", "layer", "scenario", "capacity"])
    expect(byKind.get("op")?.readsInput).toBe(false)
    expect(byKind.get("file")?.readsInput).toBe(true)
    expect(byKind.get("no-such-kind")).toBeUndefined()
  })

  it("rejects a kind defined twice and attributes that would shadow trace fields", () => {
    const T = defineNodeType<{ n: number }, number>({ kind: "test-square", code: "sq-v1", compute: (p) => Effect.succeed(p.n * p.n) })
    const U = defineNodeType({ kind: "test-square", code: "x", compute: () => Effect.succeed(0) })
    expect(() => nodeTypesByKind([T, U])).toThrow(/defined twice/)
    expect(() => T.make({ id: "a", name: "a", params: { n: 1 }, deps: [], attributes: { key: "x" } })).toThrow(/shadow/)
  })

  it("evaluates any registered type; trace carries attributes flat; explain counts kinds in first-seen order", async () => {
    const Leaf = defineNodeType<{ n: number }, number>({ kind: "test-leaf", code: "leaf-v1", compute: (p) => Effect.succeed(p.n) })
    const Sum = defineNodeType<{}, number, never, number>({
      kind: "test-sum",
      code: "sum-v1",
      compute: (_p, xs) => Effect.succeed(xs.reduce((a, b) => a + b, 0))
    })
    const leaves = [1, 2, 3].map((n) => Leaf.make({ id: `leaf:${n}`, name: `n${n}`, params: { n }, deps: [], attributes: { colour: "red" } }))
    const root = Sum.make({ id: "sum", name: "sum", params: {}, deps: leaves })
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const ev = yield* makeEvaluator
        const r = yield* ev.evaluate(root)
        return { value: r.value, trace: ev.trace(), materials: ev.materials() }
      }).pipe(Effect.provideService(Store, noStore))
    )
    expect(out.value).toBe(6)
    expect(out.trace[0]).toEqual({ id: "leaf:1", kind: "test-leaf", name: "n1", colour: "red", key: out.trace[0].key, status: "computed" })
    expect(Object.keys(out.trace[0])).toEqual(["id", "kind", "name", "colour", "key", "status"])
    const material = out.materials.get("sum")!.material
    expect(Object.keys(material).sort()).toEqual(["code", "deps", "kind", "name", "params", "toolchain", "v"])
    expect(material.v).toBe(KEY_FORMAT_VERSION)
    const text = renderExplain(out.trace, out.materials, undefined)
    expect(text.split("\n").slice(0, 3)).toEqual(["4 computed, 0 replayed", "  test-leaf 3 computed, 0 replayed", "  test-sum 1 computed, 0 replayed"])
  })
})

describe("cache verify (generic)", () => {
  it("recomputes through the registry, and calls unknown kinds, old code and other toolchains stale", async () => {
    const dir = tempDir("llmsim-verify-")
    const toolchain = toolchainFingerprint()
    await simulate(toolchain, dir)
    const entries = listEntryFiles(dir).length
    const ok = await Effect.runPromise(verifyStore(dir, NODE_TYPES))
    expect(ok.problems).toEqual([])
    expect(ok.checked).toBe(entries)
    expect(ok.stale).toBe(0)
    // Every entry but the (unrecomputable) file entries is recomputed.
    const files = listEntryFiles(dir).filter((f) => entryKind(f.file) === "file").length
    expect(ok.recomputed).toBe(entries - files)

    const put = (material: KeyMaterial, output: unknown) => {
      const key = digest(material)
      writeEntry(dir, { key, kind: material.kind, id: `x:${material.kind}`, output, output_digest: digest(output), material })
    }
    const base = { v: KEY_FORMAT_VERSION, name: "x", params: {}, deps: [], toolchain }
    put({ ...base, kind: "retired-kind", code: "v1" }, 1)
    put({ ...base, kind: "layer", code: "compose-v0" }, 2)
    put({ ...base, kind: "scenario", code: "rollup-v1", v: KEY_FORMAT_VERSION - 1 }, 3)
    const after = await Effect.runPromise(verifyStore(dir, NODE_TYPES))
    expect(after.problems).toEqual([])
    expect(after.stale).toBe(3)
    expect(after.checked).toBe(entries + 3)

    // Under another toolchain every entry is stale: none is recomputed, none mismatches.
    const other = await Effect.runPromise(verifyStore(dir, NODE_TYPES).pipe(Effect.provideService(CurrentToolchain, { ...toolchain, yaml: "0.0.0" })))
    expect(other).toMatchObject({ recomputed: 0, stale: entries + 3, problems: [] })
  })
})

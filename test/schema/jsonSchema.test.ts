/**
 * The JSON Schema files of schema/ (src/schema/jsonSchema.ts): committed files equal a fresh
 * generation; every shipped config names its kind's file on its first line and validates with
 * a standard validator (ajv, draft-07, the draft the files declare); on a corpus of broken and valid configs the
 * generated schema and the Effect decoder give the same verdict, both ways.
 */
import fc from "fast-check"
import { Ajv } from "ajv"
import * as fs from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { decodeParsed, parseYaml } from "../../src/config/yamlFile.ts"
import { CONFIG_KINDS, jsonSchemaFiles } from "../../src/schema/jsonSchema.ts"
import { shippedConfigs } from "../graph/golden-units.ts"
import { REPO } from "../helpers/cli.ts"

const SCHEMA_DIR = path.join(REPO, "schema")
const CORPUS = path.join(REPO, "test", "fixtures", "config-corpus")

// strictNumbers: NaN and Infinity are not numbers (YAML `.nan`/`.inf` reach the validator as such).
const ajv = new Ajv({ strict: true, strictNumbers: true, allErrors: true })
const validators = new Map(CONFIG_KINDS.map((k) => [k.name, ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, k.file), "utf8")))]))
const kindOf = (name: string) => CONFIG_KINDS.find((k) => k.name === name)!

/** Both verdicts on one value: the decoder's and the JSON Schema's. */
const verdictsOf = (kind: string, value: unknown) => {
  const exit = Schema.decodeUnknownExit(kindOf(kind).schema as Schema.Decoder<unknown>)(value, { errors: "all", onExcessProperty: "error" })
  const validate = validators.get(kind)!
  const valid = validate(value)
  return { decoder: exit._tag === "Success" ? "ok" : String(exit.cause).split("\n")[0]!, jsonSchema: valid ? "ok" : ajv.errorsText(validate.errors) }
}

/** Both verdicts on one YAML text: the decoder's (with its positioned message) and the JSON Schema's. */
const verdicts = (kind: string, text: string, file: string) => {
  const parsed = parseYaml(text, file)
  if (parsed instanceof ConfigError) throw new Error(`${file}: not YAML: ${parsed.message}`)
  const decoded = decodeParsed(kindOf(kind).schema, parsed, file)
  return { ...verdictsOf(kind, parsed.value), decoder: decoded instanceof ConfigError ? decoded.message : "ok" }
}

describe("schema/ files", () => {
  it("equal a fresh generation (run `llmsim schema` after a schema change)", () => {
    const fresh = jsonSchemaFiles()
    expect(fs.readdirSync(SCHEMA_DIR).sort()).toEqual(fresh.map((f) => f.file).sort())
    for (const f of fresh) expect(fs.readFileSync(path.join(SCHEMA_DIR, f.file), "utf8"), f.file).toBe(f.text)
  })
})

/** Keywords whose meaning draft-07 and later drafts share (and that editors implement). */
const DRAFT_07_KEYWORDS = new Set([
  "$schema",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "$ref",
  "definitions",
  "propertyNames"
])

describe("schema/ files", () => {
  it("declare draft-07 and use only keywords draft-07 validators (yaml-language-server) implement", () => {
    const unknown = new Set<string>()
    const walk = (node: unknown, inProperties: boolean): void => {
      if (Array.isArray(node)) return node.forEach((n) => walk(n, false))
      if (node === null || typeof node !== "object") return
      for (const [k, v] of Object.entries(node)) {
        if (!inProperties && !DRAFT_07_KEYWORDS.has(k)) unknown.add(k)
        // Under properties / definitions the keys are field names; their values are schemas again.
        walk(v, !inProperties && (k === "properties" || k === "definitions"))
      }
    }
    for (const f of jsonSchemaFiles()) {
      const doc = JSON.parse(f.text)
      expect(doc.$schema, f.file).toBe("http://json-schema.org/draft-07/schema#")
      walk(doc, false)
    }
    expect([...unknown]).toEqual([])
  })
})

describe("shipped configs", () => {
  const configs = shippedConfigs()

  it("each names its kind's schema file on its first line, by a path that exists", () => {
    expect(configs.length).toBeGreaterThan(20)
    for (const c of configs) {
      const first = c.text.split("\n")[0]!
      const rel = path.relative(path.dirname(path.join(REPO, c.file)), path.join(SCHEMA_DIR, kindOf(c.schema).file))
      expect(first, c.file).toBe(`# yaml-language-server: $schema=${rel}`)
      expect(fs.existsSync(path.resolve(path.dirname(path.join(REPO, c.file)), rel))).toBe(true)
    }
  })

  it("each validates against the generated schema (ajv) and decodes", () => {
    for (const c of configs) expect(verdicts(c.schema, c.text, c.file), c.file).toEqual({ decoder: "ok", jsonSchema: "ok" })
  })
})

describe("corpus: the JSON Schema rejects what the decoder rejects, and accepts what it accepts", () => {
  const cases = CONFIG_KINDS.flatMap((k) =>
    fs
      .readdirSync(path.join(CORPUS, k.name))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => ({ kind: k.name, file: f }))
  )

  it("has valid and broken files of every kind", () => {
    for (const k of CONFIG_KINDS) {
      const mine = cases.filter((c) => c.kind === k.name)
      expect(
        mine.some((c) => c.file.startsWith("ok-")),
        k.name
      ).toBe(true)
      expect(mine.filter((c) => c.file.startsWith("bad-")).length, k.name).toBeGreaterThanOrEqual(4)
    }
    expect(cases.every((c) => /^(ok|bad)-/.test(c.file))).toBe(true)
  })

  it.each(cases)("$kind/$file", ({ kind, file }) => {
    const v = verdicts(kind, fs.readFileSync(path.join(CORPUS, kind, file), "utf8"), file)
    if (file.startsWith("ok-")) expect(v).toEqual({ decoder: "ok", jsonSchema: "ok" })
    else {
      expect(v.decoder, "decoder").not.toBe("ok")
      expect(v.jsonSchema, "JSON Schema").not.toBe("ok")
    }
  })
})

describe("random edits of valid configs: the same verdict both ways", () => {
  // Seeds: every shipped config and every ok- file of the corpus, as decoded values.
  const seeds = [
    ...shippedConfigs().map((c) => ({ kind: c.schema as string, value: (parseYaml(c.text, c.file) as { value: unknown }).value })),
    ...CONFIG_KINDS.flatMap((k) =>
      fs
        .readdirSync(path.join(CORPUS, k.name))
        .filter((f) => f.startsWith("ok-"))
        .map((f) => ({
          kind: k.name,
          value: (parseYaml(fs.readFileSync(path.join(CORPUS, k.name, f), "utf8"), f) as { value: unknown }).value
        }))
    )
  ]
  /** Every path to a value inside `v` (mappings and lists), the root included. */
  const pathsOf = (v: unknown, at: Array<string | number> = []): Array<Array<string | number>> =>
    v !== null && typeof v === "object"
      ? [at, ...(Array.isArray(v) ? v.map((x, i) => pathsOf(x, [...at, i])) : Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k]))).flat()]
      : [at]
  const edgeNumbers = [0, -0, 1, -1, 0.5, 1.5, 2, 7, 64, 1e15, 1e15 + 2, -1e15, 1e16, 5e-324, 2.2250738585072014e-308, 2 ** 53, Infinity, -Infinity, NaN]
  const words = ["GQA", "MLA", "MHA", "bf16", "fp8", "silu", "none", "sampling", "all_reduce", "nic", "decode", "ffn_layer", "moe_layer", "x.yaml", ""]
  const leaf = fc.oneof(
    fc.constantFrom(...edgeNumbers),
    fc.double(),
    fc.integer(),
    fc.constantFrom(...words),
    fc.boolean(),
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
    fc.array(fc.integer({ min: -2, max: 9 }), { maxLength: 3 })
  )
  const keys = fc.constantFrom("type", "d_model", "repeat", "tp", "config", "hidden_size", "extra", "batch", "hbm_gb", "attn_config")
  const edit = fc.record({ seed: fc.nat(), at: fc.nat(), op: fc.constantFrom("set", "delete", "add"), key: keys, value: leaf })

  it("the decoder and ajv agree on every edited config (fixed seed)", () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const seed = seeds[edits[0]!.seed % seeds.length]!
        const value = structuredClone(seed.value) as Record<string, unknown>
        let root: unknown = value
        for (const edit of edits) {
          // A copy per edit: fc.constant({}) hands out one shared object, and two edits putting it
          // inside itself made a cycle (a harness artefact, not a config anyone can write).
          const e = { ...edit, value: structuredClone(edit.value) }
          const paths = pathsOf(root)
          const p = paths[e.at % paths.length]!
          if (p.length === 0) {
            if (e.op === "set") root = e.value
            else if (root !== null && typeof root === "object" && !Array.isArray(root)) (root as Record<string, unknown>)[e.key] = e.value
            continue
          }
          const parent = p.slice(0, -1).reduce<any>((v, k) => v[k], root)
          const k = p[p.length - 1]!
          if (e.op === "set") parent[k] = e.value
          else if (e.op === "delete") Array.isArray(parent) ? parent.splice(k as number, 1) : delete parent[k]
          else if (
            !Array.isArray(parent) &&
            parent !== null &&
            typeof parent === "object" &&
            typeof parent[k] === "object" &&
            parent[k] !== null &&
            !Array.isArray(parent[k])
          )
            parent[k][e.key] = e.value
        }
        const v = verdictsOf(seed.kind, root)
        expect({
          kind: seed.kind,
          decoder: v.decoder === "ok",
          jsonSchema: v.jsonSchema === "ok",
          why: v.decoder === "ok" ? v.jsonSchema : v.decoder
        }).toMatchObject({ decoder: v.jsonSchema === "ok" })
      }),
      { numRuns: 2000, seed: 16 }
    )
  })
})

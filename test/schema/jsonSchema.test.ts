/**
 * The JSON Schema files of schema/ (src/schema/jsonSchema.ts): committed files equal a fresh
 * generation; every shipped config names its kind's file on its first line and validates with
 * a standard validator (ajv, draft 2020-12); on a corpus of broken and valid configs the
 * generated schema and the Effect decoder give the same verdict, both ways.
 */
import { Ajv2020 } from "ajv/dist/2020.js"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { decodeParsed, parseYaml } from "../../src/config/yamlFile.ts"
import { CONFIG_KINDS, jsonSchemaFiles } from "../../src/schema/jsonSchema.ts"
import { shippedConfigs } from "../graph/golden-units.ts"
import { REPO } from "../helpers/cli.ts"

const SCHEMA_DIR = path.join(REPO, "schema")
const CORPUS = path.join(REPO, "test", "fixtures", "config-corpus")

// strictNumbers: NaN and Infinity are not numbers (YAML `.nan`/`.inf` reach the validator as such).
const ajv = new Ajv2020({ strict: true, strictNumbers: true, allErrors: true })
const validators = new Map(CONFIG_KINDS.map((k) => [k.name, ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, k.file), "utf8")))]))
const kindOf = (name: string) => CONFIG_KINDS.find((k) => k.name === name)!

/** Both verdicts on one YAML text: the decoder's and the JSON Schema's. */
const verdicts = (kind: string, text: string, file: string) => {
  const parsed = parseYaml(text, file)
  if (parsed instanceof ConfigError) throw new Error(`${file}: not YAML: ${parsed.message}`)
  const decoded = decodeParsed(kindOf(kind).schema, parsed, file)
  const validate = validators.get(kind)!
  const valid = validate(parsed.value)
  return {
    decoder: decoded instanceof ConfigError ? decoded.message : "ok",
    jsonSchema: valid ? "ok" : ajv.errorsText(validate.errors)
  }
}

describe("schema/ files", () => {
  it("equal a fresh generation (run `llmsim schema` after a schema change)", () => {
    const fresh = jsonSchemaFiles()
    expect(fs.readdirSync(SCHEMA_DIR).sort()).toEqual(fresh.map((f) => f.file).sort())
    for (const f of fresh) expect(fs.readFileSync(path.join(SCHEMA_DIR, f.file), "utf8"), f.file).toBe(f.text)
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
    fs.readdirSync(path.join(CORPUS, k.name)).filter((f) => f.endsWith(".yaml")).sort().map((f) => ({ kind: k.name, file: f }))
  )

  it("has valid and broken files of every kind", () => {
    for (const k of CONFIG_KINDS) {
      const mine = cases.filter((c) => c.kind === k.name)
      expect(mine.some((c) => c.file.startsWith("ok-")), k.name).toBe(true)
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

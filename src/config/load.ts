/**
 * Loading a scenario and every file it references, through `file` nodes of the build graph.
 *
 * A file node's params are the SHA-256 of the file's text and the schema it decodes with (the
 * text itself is its unstored input); its output is the decoded value. Editing a comment recomputes the file node but yields the same
 * output digest, so nothing downstream changes (early cutoff).
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"
import { requireInsideProject, resolvePath } from "../app/paths.ts"
import { sha256 } from "../graph/canonical.ts"
import type { Evaluator } from "../graph/evaluator.ts"
import { defineNodeType, type GraphNode } from "../graph/node.ts"
import { HardwareSpec } from "../schema/hardware.ts"
import { templateSchemaFor, type LayerTemplate, type LayerType } from "../schema/layer.ts"
import { ScenarioSpec, type LayerEntry } from "../schema/scenario.ts"
import { ConfigError } from "./errors.ts"
import { decodeYamlText, locate, parseYaml } from "./yamlFile.ts"

/** Bump when a config schema or its defaults change meaning (invalidates file nodes). */
export const SCHEMA_VERSION = "schema-2"

export interface LoadedEntry {
  readonly index: number
  readonly entry: LayerEntry
  readonly template: LayerTemplate
  readonly file: string
}

export interface LoadedScenario {
  readonly root: string
  /** Absolute path of the scenario file. */
  readonly file: string
  readonly spec: ScenarioSpec
  readonly hardware: HardwareSpec
  readonly hardwareFile: string
  readonly entries: ReadonlyArray<LoadedEntry>
  /** The scenario file's text as read (for positioned errors found after decoding). */
  readonly text: string
}

export const displayPath = (root: string, file: string): string => {
  const rel = path.relative(root, file)
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel
}

type SchemaName = "scenario" | "hardware" | LayerType

const schemaFor = (name: SchemaName) =>
  name === "scenario" ? ScenarioSpec : name === "hardware" ? HardwareSpec : templateSchemaFor(name)

const ATTN_TYPES = ["MHA", "GQA", "MLA"]

/** Layer templates: report an unknown attention `type` as one clear issue. */
const precheck = (name: SchemaName, text: string, file: string): ConfigError | undefined => {
  if (name !== "ffn_layer" && name !== "moe_layer") return undefined
  const parsed = parseYaml(text, file)
  if (parsed instanceof ConfigError) return parsed
  const attn = (parsed.value as any)?.attn_config
  if (attn && typeof attn === "object" && !ATTN_TYPES.includes(attn.type)) {
    const pos = locate(parsed, ["attn_config", "type"])
    return new ConfigError({
      issues: [{ file, ...pos, path: "attn_config.type", message: `Expected "MHA" | "GQA" | "MLA", got ${JSON.stringify(attn.type)}` }]
    })
  }
  return undefined
}

export interface FileParams {
  readonly schema: SchemaName
  readonly text_sha256: string
}

/** One config file decoded with its schema. Its input is the file's text (not stored; the params
 *  carry its digest), so `cache verify` checks these entries' digests but cannot recompute them. */
export const FileNode = defineNodeType<FileParams, unknown, ConfigError, never, { readonly text: string; readonly shown: string }>({
  kind: "file",
  code: SCHEMA_VERSION,
  readsInput: true,
  compute: (p, _deps, { text, shown }) => {
    const pre = precheck(p.schema, text, shown)
    if (pre) return Effect.fail(pre)
    const decoded = decodeYamlText(schemaFor(p.schema), text, shown)
    return decoded instanceof ConfigError ? Effect.fail(decoded) : Effect.succeed(decoded)
  }
})

export const fileNode = (root: string, file: string, name: SchemaName, text: string): GraphNode<unknown, ConfigError> => {
  const shown = displayPath(root, file)
  return FileNode.make({
    id: `file:${shown}`,
    name: shown,
    params: { schema: name, text_sha256: sha256(text) },
    deps: [],
    input: { text, shown }
  })
}

const readText = (file: string, shown: string, from?: { file: string; line: number; col: number; path: string }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readFileString(file).pipe(
      Effect.mapError(() =>
        new ConfigError({
          issues: [from
            ? { ...from, message: `file not found: ${shown}` }
            : { file: shown, line: 1, col: 1, path: "", message: "file not found or unreadable" }]
        })
      )
    )
  })

/** Resolve a path written inside a scenario: relative to the project root (src/app/paths.ts). */
export const resolveConfigPath = (root: string, p: string): string => resolvePath("file", p, { root })

export const loadScenario = (evaluator: Evaluator, root: string, scenarioFile: string) =>
  Effect.gen(function*() {
    const shown = displayPath(root, scenarioFile)
    const text = yield* readText(scenarioFile, shown)
    const spec = (yield* evaluator.evaluate(fileNode(root, scenarioFile, "scenario", text))).value as ScenarioSpec
    // Positions of references inside the scenario, computed only when a referenced file fails.
    const refPos = (p: ReadonlyArray<PropertyKey>) => {
      const parsed = parseYaml(text, shown)
      const pos = parsed instanceof ConfigError ? { line: 1, col: 1 } : locate(parsed, p)
      return { file: shown, ...pos, path: p.join(".") }
    }
    const hardwareFile = resolveConfigPath(root, spec.hardware)
    yield* requireInsideProject(hardwareFile, spec.hardware, root, refPos(["hardware"]))
    const hwText = yield* readText(hardwareFile, displayPath(root, hardwareFile), refPos(["hardware"]))
    const hardware = (yield* evaluator.evaluate(fileNode(root, hardwareFile, "hardware", hwText))).value as HardwareSpec
    const entries = yield* Effect.forEach(spec.layers, (entry, index) =>
      Effect.gen(function*() {
        const file = resolveConfigPath(root, entry.config)
        yield* requireInsideProject(file, entry.config, root, refPos(["layers", index, "config"]))
        const t = yield* readText(file, displayPath(root, file), refPos(["layers", index, "config"]))
        const template = (yield* evaluator.evaluate(fileNode(root, file, entry.type, t))).value
        return { index, entry, template: { type: entry.type, config: template } as LayerTemplate, file }
      }))
    const loaded: LoadedScenario = { root, file: scenarioFile, spec, hardware, hardwareFile, entries, text }
    return loaded
  })

/** An error about a decoded scenario field, positioned in the scenario file. */
export const scenarioFieldError = (root: string, scenarioFile: string, text: string, p: ReadonlyArray<PropertyKey>, message: string) => {
  const shown = displayPath(root, scenarioFile)
  const parsed = parseYaml(text, shown)
  const pos = parsed instanceof ConfigError ? { line: 1, col: 1 } : locate(parsed, p)
  return new ConfigError({ issues: [{ file: shown, ...pos, path: p.join("."), message }] })
}

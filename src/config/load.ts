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
import { ScenarioSpec, type LayerEntry, type ScenarioFileSpec } from "../schema/scenario.ts"
import { ConfigError, formatIssue, type Issue } from "./errors.ts"
import { positionIssues, validateScenario } from "./validate.ts"
import { formatBytes, MAX_READ_BYTES, refusalOf } from "./safeRead.ts"
import { decodeYamlText, locate, parseYaml } from "./yamlFile.ts"

/** Bump when a config schema or its defaults change meaning (invalidates file nodes). */
export const SCHEMA_VERSION = "schema-4"

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
  /** Positioned findings that do not stop the run (a missing lm_head); print with warningLines. */
  readonly warnings: ReadonlyArray<Issue>
}

/** The scenario's warnings as stderr lines, one each: the CLI prints them once per load. */
export const warningLines = (loaded: Pick<LoadedScenario, "warnings">): Array<string> =>
  loaded.warnings.map((w) => `warning: ${formatIssue(w)}`)

export const displayPath = (root: string, file: string): string => {
  const rel = path.relative(root, file)
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel
}

type SchemaName = "scenario" | "hardware" | LayerType

const schemaFor = (name: SchemaName) =>
  name === "scenario" ? ScenarioSpec : name === "hardware" ? HardwareSpec : templateSchemaFor(name)

const ATTN_TYPES = ["MHA", "GQA", "MLA", "linear"]

/** Layer templates: report an unknown attention `type` as one clear issue. */
const precheck = (name: SchemaName, text: string, file: string): ConfigError | undefined => {
  if (name !== "ffn_layer" && name !== "moe_layer") return undefined
  const parsed = parseYaml(text, file)
  if (parsed instanceof ConfigError) return parsed
  const attn = (parsed.value as any)?.attn_config
  if (attn && typeof attn === "object" && !ATTN_TYPES.includes(attn.type)) {
    const pos = locate(parsed, ["attn_config", "type"])
    return new ConfigError({
      issues: [{ file, ...pos, path: "attn_config.type", message: `Expected "MHA" | "GQA" | "MLA" | "linear", got ${JSON.stringify(attn.type)}` }]
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

/**
 * A config file's text. The FileSystem the CLI provides reads only regular files of bounded
 * size (src/config/safeRead.ts); its refusals are named here, and the size limit is checked
 * again on the text, since `diff` serves revisions from git rather than from disk.
 */
const readText = (file: string, shown: string, from?: { file: string; line: number; col: number; path: string }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fail = (why: string) =>
      new ConfigError({
        issues: [from ? { ...from, message: `${shown}: ${why}` } : { file: shown, line: 1, col: 1, path: "", message: why }]
      })
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((e) => {
        const refused = refusalOf(e)
        if (refused !== undefined) return fail(`cannot read: ${refused}`)
        if ((e as { reason?: { _tag?: string } }).reason?._tag === "PermissionDenied") return fail("cannot read: permission denied")
        return from
          ? new ConfigError({ issues: [{ ...from, message: `file not found: ${shown}` }] })
          : fail("file not found or unreadable")
      })
    )
    const bytes = Buffer.byteLength(text)
    if (bytes > MAX_READ_BYTES) return yield* Effect.fail(fail(`cannot read: ${formatBytes(bytes)}, over the ${formatBytes(MAX_READ_BYTES)} limit for input files`))
    return text
  })

/**
 * Most decoder layers a scenario may expand to (`repeat` summed): 50x the deepest released model.
 * Results are per layer, so 10,000 layers already make a 280 MB JSON report; far more would
 * exceed what JSON.stringify can build (a crash at 130,000).
 */
export const MAX_LAYERS = 10_000

const layerCountError = (root: string, scenarioFile: string, text: string, spec: ScenarioSpec): ConfigError | undefined => {
  let total = 0
  for (const [i, entry] of spec.layers.entries()) {
    const repeat = entry.repeat ?? 1
    if (repeat > MAX_LAYERS) {
      return scenarioFieldError(root, scenarioFile, text, ["layers", i, "repeat"], `Expected at most ${MAX_LAYERS} (llmsim's layer limit), got ${repeat}`)
    }
    total += repeat
    if (total > MAX_LAYERS) {
      return scenarioFieldError(root, scenarioFile, text, ["layers"], `Expected at most ${MAX_LAYERS} layers in all (llmsim's layer limit), got ${spec.layers.reduce((n, e) => n + (e.repeat ?? 1), 0)}`)
    }
  }
  return undefined
}

/** Resolve a path written inside a scenario: relative to the project root (src/app/paths.ts). */
export const resolveConfigPath = (root: string, p: string): string => resolvePath("file", p, { root })

export const loadScenario = (evaluator: Evaluator, root: string, scenarioFile: string) =>
  Effect.gen(function*() {
    const shown = displayPath(root, scenarioFile)
    const text = yield* readText(scenarioFile, shown)
    const fileSpec = (yield* evaluator.evaluate(fileNode(root, scenarioFile, "scenario", text))).value as ScenarioFileSpec
    // `lm_head: none` is an explicit "no LM head": absent from here on.
    const { lm_head, ...rest } = fileSpec
    const spec: ScenarioSpec = lm_head === undefined || lm_head === "none" ? rest : { ...rest, lm_head }
    const tooMany = layerCountError(root, scenarioFile, text, spec)
    if (tooMany) return yield* Effect.fail(tooMany)
    const texts = new Map<string, string>([[scenarioFile, text]])
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
    texts.set(hardwareFile, hwText)
    const entries = yield* Effect.forEach(spec.layers, (entry, index) =>
      Effect.gen(function*() {
        const file = resolveConfigPath(root, entry.config)
        yield* requireInsideProject(file, entry.config, root, refPos(["layers", index, "config"]))
        const t = yield* readText(file, displayPath(root, file), refPos(["layers", index, "config"]))
        const template = (yield* evaluator.evaluate(fileNode(root, file, entry.type, t))).value
        texts.set(file, t)
        return { index, entry, template: { type: entry.type, config: template } as LayerTemplate, file }
      }))
    // Cross-field rules (src/config/validate.ts), positioned in whichever file holds the field.
    const checked = validateScenario({ scenarioFile, spec: fileSpec, hardwareFile, hardware, entries })
    const position = (issues: typeof checked.errors) => positionIssues(issues, (f) => texts.get(f), (f) => displayPath(root, f))
    if (checked.errors.length > 0) return yield* Effect.fail(new ConfigError({ issues: position(checked.errors) }))
    const loaded: LoadedScenario = { root, file: scenarioFile, spec, hardware, hardwareFile, entries, text, warnings: position(checked.warnings) }
    return loaded
  })

/** A hardware file on its own (a sweep's hardware axis), read and decoded as a scenario's. */
export const loadHardwareFile = (evaluator: Evaluator, root: string, file: string) =>
  Effect.gen(function*() {
    const text = yield* readText(file, displayPath(root, file))
    return (yield* evaluator.evaluate(fileNode(root, file, "hardware", text))).value as HardwareSpec
  })

/** An error about a decoded scenario field, positioned in the scenario file. */
export const scenarioFieldError = (root: string, scenarioFile: string, text: string, p: ReadonlyArray<PropertyKey>, message: string) => {
  const shown = displayPath(root, scenarioFile)
  const parsed = parseYaml(text, shown)
  const pos = parsed instanceof ConfigError ? { line: 1, col: 1 } : locate(parsed, p)
  return new ConfigError({ issues: [{ file: shown, ...pos, path: p.join("."), message }] })
}

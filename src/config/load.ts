/**
 * Loading a scenario and every file it references, through `file` nodes of the build graph.
 *
 * A file node's params are the SHA-256 of the file's text and the schema it decodes with (the
 * text itself is its unstored input); its output is the decoded value. Editing a comment recomputes the file node but yields the same
 * output digest, so nothing downstream changes (early cutoff).
 */
import { Effect, FileSystem } from "effect"
import * as path from "node:path"
import { firstExisting, insideProject, pathCandidates, requireInsideProject, resolvePath, type ProjectPaths } from "./paths.ts"
import { sha256 } from "../base/sha256.js"
import type { Evaluator } from "../graph/evaluator.ts"
import { defineNodeType, type GraphNode } from "../graph/node.ts"
import { HardwareSpec } from "../schema/hardware.ts"
import { templateSchemaFor, type LayerTemplate, type LayerType } from "../schema/layer.ts"
import { ScenarioSpec, type LayerEntry, type ScenarioFileSpec } from "../schema/scenario.ts"
import { ConfigError, formatIssue, type Issue } from "./errors.ts"
import { hardwareRules, positionIssues, validateScenario } from "./validate.ts"
import { formatBytes, MAX_READ_BYTES, refusalOf } from "./safeRead.ts"
import { decodeYamlText, locate, parseYaml, type ParsedYaml } from "./yamlFile.ts"

/** Bump when a config schema or its defaults change meaning (invalidates file nodes). */
export const SCHEMA_VERSION = "schema-6"

export interface LoadedEntry {
  readonly index: number
  readonly entry: LayerEntry
  readonly template: LayerTemplate
  /** The template's file: the scenario itself for an inline template. */
  readonly file: string
  /** An inline template's field path inside the scenario (`layers.<i>.config`); absent for a file. */
  readonly at?: ReadonlyArray<PropertyKey>
}

export interface LoadedScenario {
  readonly root: string
  /** Where paths written in it may point (the project's root and `allowPaths`). */
  readonly paths: ProjectPaths
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
export const warningLines = (loaded: Pick<LoadedScenario, "warnings">): Array<string> => loaded.warnings.map((w) => `warning: ${formatIssue(w)}`)

export const displayPath = (root: string, file: string): string => {
  const rel = path.relative(root, file)
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel
}

type SchemaName = "scenario" | "hardware" | LayerType

const schemaFor = (name: SchemaName) => (name === "scenario" ? ScenarioSpec : name === "hardware" ? HardwareSpec : templateSchemaFor(name))

const ATTN_TYPES = ["MHA", "GQA", "MLA", "linear"]

/** An unknown attention `type` as one clear issue (the union's own message names only one branch). */
const attnTypeIssue = (parsed: ParsedYaml, attn: unknown, at: ReadonlyArray<PropertyKey>, file: string): ConfigError | undefined => {
  if (!attn || typeof attn !== "object" || ATTN_TYPES.includes((attn as { type?: unknown }).type as string)) return undefined
  const p = [...at, "attn_config", "type"]
  return new ConfigError({
    issues: [
      {
        file,
        ...locate(parsed, p),
        path: p.join("."),
        message: `Expected ${ATTN_TYPES.map((t) => JSON.stringify(t)).join(" | ")}, got ${JSON.stringify((attn as { type?: unknown }).type)}`
      }
    ]
  })
}

/** Layer templates, in a file or inline in a scenario: report an unknown attention `type` as one clear issue. */
const precheck = (name: SchemaName, text: string, file: string): ConfigError | undefined => {
  if (name === "hardware" || name === "comm_layer") return undefined
  const parsed = parseYaml(text, file)
  if (parsed instanceof ConfigError) return name === "scenario" ? undefined : parsed
  if (name !== "scenario") return attnTypeIssue(parsed, (parsed.value as any)?.attn_config, [], file)
  const layers = (parsed.value as any)?.layers
  if (!Array.isArray(layers)) return undefined
  for (const [i, l] of layers.entries()) {
    const config = l?.config
    if (config && typeof config === "object") {
      const found = attnTypeIssue(parsed, config.attn_config, ["layers", i, "config"], file)
      if (found) return found
    }
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
    const decoded = decodeYamlText(schemaFor(p.schema), text, shown)
    // Only a failed decode can hold an unknown attention type: its clearer message replaces the union's.
    return decoded instanceof ConfigError ? Effect.fail(precheck(p.schema, text, shown) ?? decoded) : Effect.succeed(decoded)
  }
})

const fileNode = (root: string, file: string, name: SchemaName, text: string): GraphNode<unknown, ConfigError> => {
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
 * again on the text, since `diff` serves revisions from git rather than from disk. A path written
 * in a scenario may name several places (its folder, then the project root): the first that
 * exists is read, and "file not found" lists every place tried. Each is read rather than tested
 * for existence, so watch records the misses too and notices when one appears.
 */
const readText = (
  file: string | ReadonlyArray<string>,
  shown: (f: string) => string,
  at?: () => { file: string; line: number; col: number; path: string },
  /** Run when no candidate exists, before "file not found" (a refusal to report instead). */
  whenMissing?: Effect.Effect<void, ConfigError>
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const candidates = typeof file === "string" ? [file] : file
    const fail = (f: string, why: string) =>
      new ConfigError({
        issues: [at ? { ...at(), message: `${shown(f)}: ${why}` } : { file: shown(f), line: 1, col: 1, path: "", message: why }]
      })
    for (const f of candidates) {
      const text = yield* fs.readFileString(f).pipe(
        Effect.map((t): string | undefined => t),
        Effect.catch((e) => {
          const refused = refusalOf(e)
          if (refused !== undefined) return Effect.fail(fail(f, `cannot read: ${refused}`))
          if ((e as { reason?: { _tag?: string } }).reason?._tag === "PermissionDenied") return Effect.fail(fail(f, "cannot read: permission denied"))
          return Effect.succeed(undefined)
        })
      )
      if (text === undefined) continue
      const bytes = Buffer.byteLength(text)
      if (bytes > MAX_READ_BYTES)
        return yield* Effect.fail(fail(f, `cannot read: ${formatBytes(bytes)}, over the ${formatBytes(MAX_READ_BYTES)} limit for input files`))
      return { file: f, text }
    }
    if (whenMissing !== undefined) yield* whenMissing
    const last = candidates[candidates.length - 1]!
    const looked = candidates.length > 1 ? ` (looked in ${candidates.map(shown).join(", ")})` : ""
    return yield* Effect.fail(
      at ? new ConfigError({ issues: [{ ...at(), message: `file not found: ${shown(last)}${looked}` }] }) : fail(last, "file not found or unreadable")
    )
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
      return scenarioFieldError(
        root,
        scenarioFile,
        text,
        ["layers"],
        `Expected at most ${MAX_LAYERS} layers in all (llmsim's layer limit), got ${spec.layers.reduce((n, e) => n + (e.repeat ?? 1), 0)}`
      )
    }
  }
  return undefined
}

/**
 * The places a path written in a scenario may name, in the order tried: the scenario's folder,
 * then the project root (src/config/paths.ts); split into those inside the project root or
 * `allowPaths` and those outside (never read).
 */
const scenarioPathCandidates = (paths: ProjectPaths, scenarioFile: string, p: string) => {
  const all = pathCandidates("file", p, { root: paths.root, dir: path.dirname(scenarioFile) })
  const ok = (c: string) => insideProject(c, paths)
  return { inside: all.filter(ok), outside: all.filter((c) => !ok(c)) }
}

export const loadScenario = (evaluator: Evaluator, paths: ProjectPaths, scenarioFile: string) =>
  Effect.gen(function* () {
    const root = paths.root
    const shown = displayPath(root, scenarioFile)
    const show = (f: string) => displayPath(root, f)
    const { text } = yield* readText(scenarioFile, show)
    const fileSpec = (yield* evaluator.evaluate(fileNode(root, scenarioFile, "scenario", text))).value as ScenarioFileSpec
    // `lm_head: none` is an explicit "no LM head": absent from here on.
    const { lm_head, ...rest } = fileSpec
    const spec: ScenarioSpec = lm_head === undefined || lm_head === "none" ? rest : { ...rest, lm_head }
    const tooMany = layerCountError(root, scenarioFile, text, spec)
    if (tooMany) return yield* Effect.fail(tooMany)
    const texts = new Map<string, string>([[scenarioFile, text]])
    // Positions of references inside the scenario: thunks, run only when a referenced file fails
    // (an eager position re-parsed the scenario once per layer entry: quadratic in entries).
    let parsedOnce: ReturnType<typeof parseYaml> | undefined
    const refPos = (p: ReadonlyArray<PropertyKey>) => () => {
      parsedOnce ??= parseYaml(text, shown)
      const pos = parsedOnce instanceof ConfigError ? { line: 1, col: 1 } : locate(parsedOnce, p)
      return { file: shown, ...pos, path: p.join(".") }
    }
    // A path written in the scenario: read from the first place it exists, once per load (a
    // template named by many entries is read and hashed once).
    const readPaths = new Map<string, { readonly file: string; readonly text: string }>()
    const readRef = (given: string, at: ReadonlyArray<PropertyKey>) =>
      Effect.gen(function* () {
        const known = readPaths.get(given)
        if (known !== undefined) return known
        const { inside, outside } = scenarioPathCandidates(paths, scenarioFile, given)
        // Found nowhere inside: a place outside the project is the one to name.
        const refused = outside.length > 0 ? requireInsideProject(outside[0]!, given, paths, refPos(at)) : undefined
        if (inside.length === 0) yield* refused!
        const read = yield* readText(inside, show, refPos(at), refused)
        texts.set(read.file, read.text)
        readPaths.set(given, read)
        return read
      })
    const hw = yield* readRef(spec.hardware, ["hardware"])
    const hardwareFile = hw.file
    const hardware = (yield* evaluator.evaluate(fileNode(root, hardwareFile, "hardware", hw.text))).value as HardwareSpec
    const fileNodes = new Map<string, GraphNode<unknown, ConfigError>>()
    const entries = yield* Effect.forEach(spec.layers, (entry, index) =>
      Effect.gen(function* () {
        if (typeof entry.config !== "string") {
          // Inline: decoded with the scenario (its errors are already at the scenario's line:col).
          const loaded: LoadedEntry = {
            index,
            entry,
            template: { type: entry.type, config: entry.config } as LayerTemplate,
            file: scenarioFile,
            at: ["layers", index, "config"]
          }
          return loaded
        }
        const ref = yield* readRef(entry.config, ["layers", index, "config"])
        const nodeKey = `${entry.type}\0${ref.file}`
        const node = fileNodes.get(nodeKey) ?? fileNode(root, ref.file, entry.type, ref.text)
        fileNodes.set(nodeKey, node)
        const template = (yield* evaluator.evaluate(node)).value
        const loaded: LoadedEntry = { index, entry, template: { type: entry.type, config: template } as LayerTemplate, file: ref.file }
        return loaded
      })
    )
    // Cross-field rules (src/config/validate.ts), positioned in whichever file holds the field.
    const checked = validateScenario({ scenarioFile, spec: fileSpec, hardwareFile, hardware, entries })
    const position = (issues: typeof checked.errors) => positionIssues(issues, (f) => texts.get(f), show)
    if (checked.errors.length > 0) return yield* Effect.fail(new ConfigError({ issues: position(checked.errors) }))
    const loaded: LoadedScenario = { root, paths, file: scenarioFile, spec, hardware, hardwareFile, entries, text, warnings: position(checked.warnings) }
    return loaded
  })

/** A hardware file on its own (a sweep's hardware axis), read, decoded and checked as a scenario's. */
export const loadHardwareFile = (evaluator: Evaluator, root: string, file: string) =>
  Effect.gen(function* () {
    const show = (f: string) => displayPath(root, f)
    const { text } = yield* readText(file, show)
    const hardware = (yield* evaluator.evaluate(fileNode(root, file, "hardware", text))).value as HardwareSpec
    const errors = hardwareRules(hardware, (p, message) => ({ file, path: p, message }))
    if (errors.length > 0) return yield* Effect.fail(new ConfigError({ issues: positionIssues(errors, () => text, show) }))
    return hardware
  })

/** An error about a decoded scenario field, positioned in the scenario file. */
export const scenarioFieldError = (root: string, scenarioFile: string, text: string, p: ReadonlyArray<PropertyKey>, message: string) => {
  const shown = displayPath(root, scenarioFile)
  const parsed = parseYaml(text, shown)
  const pos = parsed instanceof ConfigError ? { line: 1, col: 1 } : locate(parsed, p)
  return new ConfigError({ issues: [{ file: shown, ...pos, path: p.join("."), message }] })
}

/**
 * A path written in a scenario block (the sweep block's hardware, a disaggregated pool's
 * hardware): the first place it exists inside the project (the scenario's folder, then the
 * project root), as every path in a scenario; a path that leaves the project is refused at the
 * block's field `at` (README "Paths").
 */
export const scenarioBlockPath = (loaded: LoadedScenario, given: string, at: ReadonlyArray<string | number>) =>
  Effect.gen(function* () {
    const { inside, outside } = scenarioPathCandidates(loaded.paths, loaded.file, given)
    const found = yield* firstExisting(inside)
    if (found !== undefined) return found
    if (outside.length > 0) {
      yield* requireInsideProject(outside[0]!, given, loaded.paths, () => {
        const issue = scenarioFieldError(loaded.root, loaded.file, loaded.text, at, "").issues[0]!
        return { file: issue.file, line: issue.line, col: issue.col, path: issue.path }
      })
    }
    return inside[inside.length - 1] ?? resolvePath("file", given, { root: loaded.root })
  })

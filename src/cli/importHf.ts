/**
 * `llmsim import hf <config.json | folder>`: a Hugging Face config.json to layer templates under
 * configs/models/<name>/ and a starter scenario configs/scenarios/<name>.yaml (the mapping is
 * pure, src/hf/import.ts). A config the importer cannot map exactly is refused with every
 * problem on its own `file:line:col key: ...` line and nothing written.
 */
import { Effect, FileSystem, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as path from "node:path"
import { ConfigError, UsageError, type Issue } from "../config/errors.ts"
import { importHf, type ImportProblem } from "../hf/import.ts"
import { writeFileAtomic, writeStdout } from "./output.ts"
import { findProjectRoot } from "../base/project.js"

/** Where a problem's key sits in the JSON text (its last path segment, after a text_config key). */
const positionOf = (text: string, key: string): { line: number; col: number } => {
  const parts = key.split(".")
  const scope = parts.length > 1 ? text.indexOf(`"${parts[0]}"`) : 0
  const at = key === "" ? -1 : text.indexOf(`"${parts[parts.length - 1]}"`, Math.max(0, scope))
  if (at < 0) return { line: 1, col: 1 }
  const before = text.slice(0, at).split("\n")
  return { line: before.length, col: before[before.length - 1].length + 1 }
}

const issuesOf = (file: string, text: string, problems: ReadonlyArray<ImportProblem>): Array<Issue> =>
  problems.map((p) => ({ file, ...positionOf(text, p.key), path: p.key, message: p.message }))

/** A JSON syntax error's line:col from V8's "position N" message. */
const jsonError = (file: string, text: string, e: unknown): ConfigError => {
  const message = e instanceof Error ? e.message : String(e)
  const pos = /position (\d+)/.exec(message)
  const offset = pos ? Number(pos[1]) : 0
  const before = text.slice(0, offset).split("\n")
  return new ConfigError({
    issues: [{ file, line: before.length, col: before[before.length - 1].length + 1, path: "", message: `not valid JSON: ${message}` }]
  })
}

/** The config's path for comments: project-relative, else its file name (no machine paths). */
const shownSource = (file: string): string => {
  const rel = path.relative(process.cwd(), path.resolve(file))
  return rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(file) : rel
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "")

const intFlag = (name: string, dflt: number, what: string) => Flag.Int(name).pipe(Flag.withDescription(what), Flag.withDefault(dflt))

const hfCommand = Command.make(
  "hf",
  {
    config: Argument.String("config").pipe(Argument.withDescription("A Hugging Face config.json, or a folder holding one")),
    name: Flag.String("name").pipe(Flag.withDescription("Model name (default: the folder or file name)"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Folder of the layer templates (default configs/models/<name>)"), Flag.optional),
    scenario: Flag.String("scenario").pipe(Flag.withDescription("Scenario file to write (default configs/scenarios/<name>.yaml)"), Flag.optional),
    hardware: Flag.String("hardware").pipe(Flag.withDescription("Hardware YAML the scenario names"), Flag.withDefault("configs/hardware/H100-SXM.yaml")),
    tp: intFlag("tp", 1, "Attention tensor-parallel size"),
    dp: intFlag("dp", 1, "Attention data-parallel size"),
    ep: intFlag("ep", 1, "Expert-parallel size"),
    batchSize: intFlag("batch-size", 8, "Sequences per attention DP group"),
    seqLen: intFlag("seq-len", 4096, "Prompt length (prefill) / KV length (decode)"),
    phase: Flag.Literals("phase", ["prefill", "decode", "both"]).pipe(Flag.withDefault("both" as const)),
    mtpAcceptance: Flag.Finite("mtp-acceptance").pipe(
      Flag.withDescription("Model the config's MTP layers as speculative decoding with this per-draft acceptance rate (DeepSeek-V3: 0.85-0.9)"),
      Flag.optional
    ),
    ignoreKeys: Flag.String("ignore-keys").pipe(Flag.withDescription("Comma list of config.json keys you know do not change the math"), Flag.optional)
  },
  Effect.fn(function* (a) {
    const fsys = yield* FileSystem.FileSystem
    for (const [flag, v] of [
      ["tp", a.tp],
      ["dp", a.dp],
      ["ep", a.ep],
      ["batch-size", a.batchSize],
      ["seq-len", a.seqLen]
    ] as const) {
      if (v < 1) return yield* new UsageError({ message: `--${flag}: expected a positive integer, got ${v}` })
    }
    if (Option.isSome(a.mtpAcceptance) && !(a.mtpAcceptance.value >= 0 && a.mtpAcceptance.value <= 1)) {
      return yield* new UsageError({ message: `--mtp-acceptance: expected a rate from 0 to 1, got ${a.mtpAcceptance.value}` })
    }
    const stat = yield* fsys
      .stat(a.config)
      .pipe(Effect.mapError(() => new UsageError({ message: `config not found: ${a.config} (a config.json, or a folder holding one)` })))
    const file = stat.type === "Directory" ? path.join(a.config, "config.json") : a.config
    const text = yield* fsys.readFileString(file).pipe(Effect.mapError(() => new UsageError({ message: `config not found or unreadable: ${file}` })))
    const json = yield* Effect.try({ try: () => JSON.parse(text) as unknown, catch: (e) => jsonError(file, text, e) })
    const stem =
      stat.type === "Directory"
        ? path.basename(path.resolve(a.config))
        : path.basename(file, ".json") === "config"
          ? path.basename(path.dirname(path.resolve(file)))
          : path.basename(file, ".json")
    const name = Option.getOrElse(a.name, () => slug(stem))
    if (name === "" || name.includes("/")) return yield* new UsageError({ message: `--name: expected a file-name-safe model name, got "${name}"` })
    const modelDir = Option.getOrElse(a.out, () => `configs/models/${name}`)
    const scenarioFile = Option.getOrElse(a.scenario, () => `configs/scenarios/${name}.yaml`)
    // Editors find the JSON Schema (schema/ at the project root) from each file's first line.
    const schemaDir = path.join(findProjectRoot(process.cwd()).root, "schema")
    const rel = (dir: string) => path.relative(path.resolve(dir), schemaDir).split(path.sep).join("/")
    const r = importHf(json, {
      schema_dir: { templates: rel(modelDir), scenario: rel(path.dirname(scenarioFile)) },
      name,
      model_dir: modelDir.replace(/\/+$/, ""),
      source: shownSource(file),
      hardware: a.hardware,
      tp: a.tp,
      dp: a.dp,
      ep: a.ep,
      batch_size: a.batchSize,
      seq_len: a.seqLen,
      phase: a.phase,
      ...Option.match(a.mtpAcceptance, { onNone: () => ({}), onSome: (r) => ({ mtp_acceptance: r }) }),
      ignore_keys: Option.match(a.ignoreKeys, {
        onNone: () => [],
        onSome: (s) =>
          s
            .split(",")
            .map((k) => k.trim())
            .filter((k) => k !== "")
      })
    })
    if (!r.ok) return yield* new ConfigError({ issues: issuesOf(file, text, r.problems) })
    for (const t of r.templates) {
      yield* fsys
        .makeDirectory(path.dirname(t.path), { recursive: true })
        .pipe(Effect.mapError(() => new UsageError({ message: `cannot create ${path.dirname(t.path)}` })))
      yield* writeFileAtomic(t.path, t.text)
    }
    yield* fsys
      .makeDirectory(path.dirname(scenarioFile), { recursive: true })
      .pipe(Effect.mapError(() => new UsageError({ message: `cannot create ${path.dirname(scenarioFile)}` })))
    yield* writeFileAtomic(scenarioFile, r.scenario)
    const b = (n: number) => `${(n / 1e9).toFixed(2)}B`
    yield* writeStdout(
      [
        `imported ${file} (${r.draft.family}): ${r.draft.layers.length} layers, total ${b(r.params.total)}, active ${b(r.params.active)} parameters`,
        ...r.templates.map((t) => `  wrote ${t.path}`),
        `  wrote ${scenarioFile}`,
        `next: npx llmsim run ${scenarioFile}`,
        ""
      ].join("\n")
    )
  })
).pipe(Command.withDescription("Import a Hugging Face config.json: layer templates and a starter scenario"))

export const importCommand = Command.make("import").pipe(Command.withDescription("Import a model from another format"), Command.withSubcommands([hfCommand]))

/**
 * `llmsim import hf <config.json | folder>`: a Hugging Face config.json (and the
 * hf_quant_config.json beside it, NVIDIA ModelOpt checkpoints) to layer templates under
 * configs/models/<name>/ and a starter scenario configs/scenarios/<name>.yaml (the mapping is
 * pure, src/hf/import.ts). A config the importer cannot map exactly is refused with every
 * problem on its own `file:line:col key: ...` line and nothing written. An existing file is
 * never replaced without `--force` (the shipped templates included): the import checks every
 * target first, then creates each file exclusively (src/base/atomicFile.js).
 */
import { Effect, FileSystem, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { writeAtomic, writeFailure } from "../base/atomicFile.js"
import { ConfigError, UsageError, type Issue } from "../config/errors.ts"
import { refusalOf } from "../config/safeRead.ts"
import { importHf, type ImportProblem } from "../hf/import.ts"
import { noteOutput } from "../launch/recording.ts"
import { writeFileAtomic, writeStdout } from "./output.ts"
import { findProjectRoot } from "../base/project.js"

/**
 * Where the key at a dotted path sits in JSON text: the position of the deepest key along the
 * path (keys may hold dots themselves: `quantized_layers.model.layers.0.mlp`), else 1:1.
 */
export const keyPosition = (text: string, key: string): { line: number; col: number } => {
  type Frame = { readonly kind: "{" | "["; readonly path: string; expectKey: boolean; current: string }
  const stack: Array<Frame> = []
  let best = { len: -1, at: -1 }
  for (let i = 0; i < text.length && key !== ""; i++) {
    const ch = text[i]
    const top = stack[stack.length - 1]
    if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1
      if (top?.kind === "{" && top.expectKey) {
        let name = ""
        try {
          name = String(JSON.parse(text.slice(i, j + 1)))
        } catch {
          name = text.slice(i + 1, j)
        }
        const p = top.path === "" ? name : `${top.path}.${name}`
        if ((key === p || key.startsWith(`${p}.`)) && p.length > best.len) best = { len: p.length, at: i }
        top.expectKey = false
        top.current = p
      }
      i = j
    } else if (ch === "{" || ch === "[") {
      stack.push({ kind: ch, path: top === undefined ? "" : top.kind === "{" ? top.current : top.path, expectKey: ch === "{", current: "" })
    } else if (ch === "}" || ch === "]") stack.pop()
    else if (ch === "," && top?.kind === "{") top.expectKey = true
  }
  if (best.at < 0) return { line: 1, col: 1 }
  const before = text.slice(0, best.at).split("\n")
  return { line: before.length, col: before[before.length - 1]!.length + 1 }
}

interface Source {
  readonly file: string
  readonly text: string
}

const issuesOf = (config: Source, quant: Source | undefined, problems: ReadonlyArray<ImportProblem>): Array<Issue> =>
  problems.map((p) => {
    const at = p.file === "hf_quant_config.json" && quant !== undefined ? quant : config
    return { file: at.file, ...keyPosition(at.text, p.key), path: p.key, message: p.message }
  })

/** A file's text through the bounded reader (src/config/safeRead.ts): a refusal (size limit, not a regular file) is named. */
const readText = (fsys: FileSystem.FileSystem, file: string) =>
  fsys.readFileString(file).pipe(
    Effect.mapError((e) => {
      const refused = refusalOf(e)
      return refused === undefined
        ? new UsageError({ message: `config not found or unreadable: ${file}` })
        : new ConfigError({ issues: [{ file, line: 1, col: 1, path: "", message: `cannot read: ${refused}` }] })
    })
  )

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

/** Whether anything is at `file` (a dangling symbolic link counts: writing would follow or replace it). */
const taken = (file: string): boolean => fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined

/**
 * Write files that do not exist yet: refused, writing nothing, when any of them exists; each is
 * linked into place exclusively, so a file that appears meanwhile is not replaced either (the
 * files this run wrote are then removed again).
 */
const writeNew = (outputs: ReadonlyArray<Source>) =>
  Effect.gen(function* () {
    const existing = outputs.filter((o) => taken(o.file)).map((o) => o.file)
    if (existing.length > 0)
      return yield* new UsageError({
        message: `import hf: ${existing[0]} exists${existing.length > 1 ? ` (and ${existing.length - 1} more of the files to write)` : ""}; nothing written (pass --force to replace)`
      })
    const written: Array<string> = []
    yield* Effect.try({
      try: () => {
        for (const o of outputs) {
          writeAtomic(o.file, o.text, { exclusive: true })
          written.push(o.file)
          noteOutput(path.resolve(o.file), o.text)
        }
      },
      catch: (e) => {
        for (const w of written) fs.rmSync(w, { force: true })
        const at = outputs[written.length]?.file ?? ""
        return new UsageError({
          message:
            (e as NodeJS.ErrnoException).code === "EEXIST"
              ? `import hf: ${at} exists; nothing written (pass --force to replace)`
              : `cannot write ${at}: ${writeFailure(e)}`
        })
      }
    })
  })

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
    ignoreKeys: Flag.String("ignore-keys").pipe(
      Flag.withDescription("Comma list of config.json (or hf_quant_config.json) keys you know do not change the math; dotted paths inside objects"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(Flag.withDescription("Replace files that exist already (the templates and the scenario)"), Flag.withDefault(false))
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
    const text = yield* readText(fsys, file)
    const json = yield* Effect.try({ try: () => JSON.parse(text) as unknown, catch: (e) => jsonError(file, text, e) })
    // A checkpoint folder's hf_quant_config.json (ModelOpt) says how its weights and KV cache are stored.
    const quantFile = stat.type === "Directory" || path.basename(file) === "config.json" ? path.join(path.dirname(file), "hf_quant_config.json") : undefined
    const quantText =
      quantFile !== undefined && (yield* fsys.exists(quantFile).pipe(Effect.orElseSucceed(() => false))) ? yield* readText(fsys, quantFile) : undefined
    const quant = quantFile !== undefined && quantText !== undefined ? { file: quantFile, text: quantText } : undefined
    const quantJson =
      quant === undefined ? undefined : yield* Effect.try({ try: () => JSON.parse(quant.text) as unknown, catch: (e) => jsonError(quant.file, quant.text, e) })
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
      ...(quantJson === undefined ? {} : { hf_quant_config: quantJson }),
      ignore_keys: Option.match(a.ignoreKeys, {
        onNone: () => [],
        onSome: (s) =>
          s
            .split(",")
            .map((k) => k.trim())
            .filter((k) => k !== "")
      })
    })
    if (!r.ok) return yield* new ConfigError({ issues: issuesOf({ file, text }, quant, r.problems) })
    const outputs = [...r.templates.map((t) => ({ file: t.path, text: t.text })), { file: scenarioFile, text: r.scenario }]
    if (a.force) for (const o of outputs) yield* writeFileAtomic(o.file, o.text)
    else yield* writeNew(outputs)
    const b = (n: number) => `${(n / 1e9).toFixed(2)}B`
    const p = r.precision
    yield* writeStdout(
      [
        `imported ${file} (${r.draft.family}): ${r.draft.layers.length} layers, total ${b(r.params.total)}, active ${b(r.params.active)} parameters`,
        `  precision: weights ${p.weights.value}${p.moe_experts ? `, moe_experts ${p.moe_experts.value}` : ""}, kv_cache ${p.kv_cache?.value ?? "bf16"}, lm_head ${p.lm_head.value}${quant === undefined ? "" : ` (${quant.file})`}`,
        ...r.templates.map((t) => `  wrote ${t.path}`),
        `  wrote ${scenarioFile}`,
        `next: npx llmsim run ${scenarioFile}`,
        ""
      ].join("\n")
    )
  })
).pipe(Command.withDescription("Import a Hugging Face config.json: layer templates and a starter scenario"))

export const importCommand = Command.make("import").pipe(Command.withDescription("Import a model from another format"), Command.withSubcommands([hfCommand]))

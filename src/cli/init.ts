/**
 * `llmsim init [dir]`: a new project in `dir` (default: the current directory) that runs as it
 * is, wherever llmsim is installed and wherever the folder moves: llmsim.config.ts (plain data:
 * defaultScenario, cache folder; no path into the installation), a .gitignore for the result store, a copy
 * of the shipped configs/ to edit, the JSON Schema files of schema/ (editor validation and
 * completion), and a starter scenario whose one layer template is written inline. Every file
 * carries its `$schema` line where one applies. Nothing is ever overwritten: when any target
 * exists, nothing is written and the error lists them.
 */
import { Effect, Option } from "effect"
import { Argument, Command } from "effect/cli"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { writeAtomic } from "../base/atomicFile.js"
import { PACKAGE_DIR } from "../base/project.js"
import { UsageError } from "../config/errors.ts"
import { jsonSchemaFiles } from "../schema/jsonSchema.ts"
import { writeStdout } from "./output.ts"

export const STARTER_SCENARIO = "configs/scenarios/starter.yaml"

/**
 * Whether the package name `llmsim` resolves from `dir` (llmsim installed into the project's
 * node_modules or a parent's, `npm link llmsim`): then the config can name its type.
 */
const resolvesLlmsim = (dir: string): boolean => {
  try {
    createRequire(path.join(dir, "llmsim.config.ts")).resolve("llmsim/package.json")
    return true
  } catch {
    return false
  }
}

/**
 * llmsim.config.ts: plain data, importing nothing at run time, so the project does not depend on
 * where llmsim was installed (a path into the installation broke when either moved). Where the
 * package name resolves, a type-only import (erased when the config loads) and `satisfies` give
 * editors completion and type errors; elsewhere a comment says how to get them.
 */
const configText = (dir: string): string => {
  const typed = resolvesLlmsim(dir)
  return [
    '// The llmsim project config (README "Project config"): plain data, read from the default export.',
    ...(typed
      ? [
          "// The type import below is erased when llmsim loads this file (nothing is imported at run time),",
          "// so the project runs wherever llmsim is installed and wherever this folder moves; it gives",
          "// editors completion and type errors.",
          'import type { ProjectConfig } from "llmsim"'
        ]
      : [
          "// It imports nothing, so the project runs wherever llmsim is installed and wherever this folder",
          "// moves. For completion in an editor, install llmsim here (npm install <path to llmsim>), add",
          '// `import type { ProjectConfig } from "llmsim"` and write `satisfies ProjectConfig` after the object.'
        ]),
    "",
    "export default {",
    `  defaultScenario: "${STARTER_SCENARIO}",`,
    '  runtime: { batch_size: 16, seq_len: 4096, phase: "both" },',
    '  cacheDir: "cache"',
    typed ? "} satisfies ProjectConfig" : "}",
    ""
  ].join("\n")
}

/** The starter: Llama-3.1-70B on one 8 x H100 node, its layer template inline (as configs/models/llama-3.1-70b/). */
const STARTER = `# yaml-language-server: $schema=../../schema/scenario.json
# Starter scenario (llmsim init): Llama-3.1-70B, BF16, one 8 x H100 SXM node, tensor parallel 8.
# Run it with \`llmsim run\` (it is the defaultScenario of llmsim.config.ts).
# Paths here resolve against this file's folder first, then the project root; \`llmsim list
# hardware\` and \`llmsim list models\` show what configs/ holds. A layer's \`config:\` is a
# template file (configs/models/...) or, as below, the template itself.
name: starter
hardware: configs/hardware/H100-SXM.yaml
layers:
  - type: ffn_layer
    repeat: 80                    # llama-3.1-70b.json num_hidden_layers
    config:
      attn_config:
        type: GQA
        d_model: 8192             # llama-3.1-70b.json hidden_size
        num_attention_heads: 64   # llama-3.1-70b.json num_attention_heads
        num_key_value_heads: 8    # llama-3.1-70b.json num_key_value_heads
        attention_bias: false     # llama-3.1-70b.json attention_bias
      ffn_config:
        d_model: 8192             # llama-3.1-70b.json hidden_size
        d_ff: 28672               # llama-3.1-70b.json intermediate_size
        hidden_act: silu          # llama-3.1-70b.json hidden_act
lm_head:
  vocab_size: 128256              # llama-3.1-70b.json vocab_size
  d_model: 8192
precision:
  weights: bf16
  activations: bf16
  kv_cache: bf16
parallelism:
  tp: 8
`

const shippedConfigFiles = (): Array<string> =>
  (fs.readdirSync(path.join(PACKAGE_DIR, "configs"), { recursive: true, withFileTypes: true }) as Array<fs.Dirent>)
    .filter((d) => d.isFile())
    .map((d) => path.relative(PACKAGE_DIR, path.join(d.parentPath, d.name)))
    .sort()

/** Every file `init` writes, relative to the new project's folder, with its text. */
export const initFiles = (dir: string): Array<{ readonly file: string; readonly text: string }> => [
  { file: "llmsim.config.ts", text: configText(path.resolve(dir)) },
  { file: ".gitignore", text: "# llmsim's result store (cacheDir in llmsim.config.ts)\ncache/\n" },
  { file: STARTER_SCENARIO, text: STARTER },
  ...jsonSchemaFiles().map((f) => ({ file: path.join("schema", f.file), text: f.text })),
  ...shippedConfigFiles().map((f) => ({ file: f, text: fs.readFileSync(path.join(PACKAGE_DIR, f), "utf8") }))
]

/** Write the project into `dir`; refuses (writing nothing) when any of its files exists. */
export const initProject = (dir: string) =>
  Effect.gen(function* () {
    const files = initFiles(dir)
    const existing = files.filter((f) => fs.existsSync(path.join(dir, f.file))).map((f) => f.file)
    if (existing.length > 0) {
      const shown = existing.length > 5 ? [...existing.slice(0, 5), `and ${existing.length - 5} more`] : existing
      return yield* Effect.fail(
        new UsageError({ message: `llmsim init: ${dir} already has ${shown.join(", ")}; nothing written (init never overwrites: choose an empty folder)` })
      )
    }
    yield* Effect.try({
      try: () => {
        for (const f of files) {
          // Exclusive: a file that appeared since the check is never overwritten.
          writeAtomic(path.join(dir, f.file), f.text, { exclusive: true })
        }
      },
      catch: (e) => new UsageError({ message: `llmsim init: cannot write in ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
    })
    return files.map((f) => f.file)
  })

export const initCommand = Command.make(
  "init",
  {
    dir: Argument.String("dir").pipe(
      Argument.withDescription("Folder for the new project (created if missing; default: the current directory)"),
      Argument.optional
    )
  },
  Effect.fn(function* (a) {
    const dir = Option.getOrElse(a.dir, () => ".")
    const written = yield* initProject(path.resolve(dir))
    const configs = written.filter((f) => f.startsWith("configs" + path.sep)).length
    yield* writeStdout(
      `created an llmsim project in ${dir}: llmsim.config.ts, .gitignore, ${STARTER_SCENARIO}, schema/ (${jsonSchemaFiles().length} files), configs/ (${configs} files)\n` +
        `next: ${dir === "." ? "" : `cd ${dir} && `}llmsim run\n`
    )
  })
).pipe(Command.withDescription("Create a project: llmsim.config.ts, a starter scenario, configs/, schema/ and a .gitignore for cache/"))

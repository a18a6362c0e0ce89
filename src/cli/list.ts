/**
 * `llmsim list hardware|models|scenarios`: what a project can use, one line each. It lists the
 * project's `configs/<kind>` folder (the project root's), else the configs shipped with llmsim.
 * A file that does not decode is listed with its first error instead of stopping the listing.
 */
import { Effect, FileSystem } from "effect"
import { Argument, Command } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { PACKAGE_DIR } from "../base/project.js"
import { ConfigError } from "../config/errors.ts"
import { displayPath } from "../config/load.ts"
import { findProjectRoot } from "../config/project.ts"
import { decodeParsed, decodeYamlText, parseYaml } from "../config/yamlFile.ts"
import { renderHardwareList, renderModelList, renderScenarioList, type Listed } from "../report/list.ts"
import { HardwareSpec } from "../schema/hardware.ts"
import { LayerType, templateSchemaFor, type LayerTemplate } from "../schema/layer.ts"
import { ScenarioSpec, type ScenarioFileSpec } from "../schema/scenario.ts"
import { writeStdout } from "./output.ts"

const LIST_KINDS = ["hardware", "models", "scenarios"] as const
export type ListKind = (typeof LIST_KINDS)[number]

/** The folder listed: `<root>/configs/<kind>` when the project has one, else the shipped one. */
const listFolder = (root: string, kind: ListKind): string => {
  const own = path.join(root, "configs", kind)
  return fs.existsSync(own) ? own : path.join(PACKAGE_DIR, "configs", kind)
}

const yamlIn = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : []

const firstError = (e: ConfigError): string => e.message.split("\n")[0]!

/** A config file's text, read through the FileSystem service (bounded, regular files only). */
const readConfig = (file: string, shown: string) =>
  Effect.gen(function* () {
    const fsys = yield* FileSystem.FileSystem
    return yield* fsys
      .readFileString(file)
      .pipe(Effect.mapError(() => new ConfigError({ issues: [{ file: shown, line: 1, col: 1, path: "", message: "cannot read" }] })))
  })

/** Decode `file` with `schema`. */
const decodeFile = <S extends Parameters<typeof decodeYamlText>[0]>(schema: S, file: string, shown: string) =>
  Effect.gen(function* () {
    const decoded = decodeYamlText(schema, yield* readConfig(file, shown), shown)
    return decoded instanceof ConfigError ? yield* Effect.fail(decoded) : (decoded as S["Type"])
  })

/** A layer template of the kind its top-level key names (ffn_config, moe_config, comm_config). */
const decodeTemplate = (file: string, shown: string) =>
  Effect.gen(function* () {
    const text = yield* readConfig(file, shown)
    const parsed = parseYaml(text, shown)
    if (parsed instanceof ConfigError) return yield* Effect.fail(parsed)
    const top = typeof parsed.value === "object" && parsed.value !== null ? Object.keys(parsed.value) : []
    const kinds = LayerType.literals.filter((t) => top.some((k) => k !== "attn_config" && Object.keys(templateSchemaFor(t).fields).includes(k)))
    if (kinds.length !== 1) {
      return yield* Effect.fail(
        new ConfigError({
          issues: [{ file: shown, line: 1, col: 1, path: "", message: "not a layer template (expected one of ffn_config, moe_config, comm_config)" }]
        })
      )
    }
    const type = kinds[0]!
    const decoded = decodeParsed(templateSchemaFor(type), parsed, shown)
    if (decoded instanceof ConfigError) return yield* Effect.fail(decoded)
    return { type, config: decoded } as LayerTemplate
  })

const listed = <A>(name: string, file: string, e: Effect.Effect<A, ConfigError, FileSystem.FileSystem>) =>
  e.pipe(
    Effect.map((ok): Listed<A> => ({ name, file, ok })),
    Effect.catchTag("ConfigError", (err) => Effect.succeed<Listed<A>>({ name, file, error: firstError(err) }))
  )

/** The listing of one kind for the project at `root`, as printed. */
export const listText = (root: string, kind: ListKind) =>
  Effect.gen(function* () {
    const dir = listFolder(root, kind)
    const shown = (f: string) => displayPath(root, f)
    const stem = (f: string) => f.replace(/\.ya?ml$/, "")
    if (kind === "hardware") {
      return renderHardwareList(
        yield* Effect.forEach(yamlIn(dir), (f) =>
          listed(stem(f), shown(path.join(dir, f)), decodeFile(HardwareSpec, path.join(dir, f), shown(path.join(dir, f))))
        )
      )
    }
    if (kind === "scenarios") {
      return renderScenarioList(
        yield* Effect.forEach(yamlIn(dir), (f) => {
          const file = path.join(dir, f)
          return listed(
            stem(f),
            shown(file),
            decodeFile(ScenarioSpec, file, shown(file)).pipe(Effect.map((spec: ScenarioFileSpec) => ({ spec, hardware: stem(path.basename(spec.hardware)) })))
          )
        })
      )
    }
    const models = fs.existsSync(dir)
      ? fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort()
      : []
    return renderModelList(
      yield* Effect.forEach(models, (m) => {
        const folder = path.join(dir, m)
        return listed(
          m,
          shown(folder),
          Effect.forEach(yamlIn(folder), (f) =>
            decodeTemplate(path.join(folder, f), shown(path.join(folder, f))).pipe(Effect.map((template) => ({ file: f, template })))
          )
        )
      })
    )
  })

export const listCommand = Command.make(
  "list",
  { kind: Argument.Literals("kind", LIST_KINDS).pipe(Argument.withDescription("hardware | models | scenarios")) },
  Effect.fn(function* (a) {
    const { root } = findProjectRoot(process.cwd())
    yield* writeStdout(yield* listText(root, a.kind))
  })
).pipe(Command.withDescription("List the project's (else the shipped) hardware, models or scenarios, one line each"))

/**
 * The typed project config (`llmsim.config.ts`) and how the project root is found.
 *
 * The project root is the nearest folder, from the current directory upwards, holding
 * `llmsim.config.ts`; without one it is the current directory. Paths written in the config or
 * in a scenario resolve against it (see src/app/paths.ts for the whole rule).
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { PositiveInt } from "../schema/common.ts"
import { Phase } from "../schema/runtime.ts"
import { ConfigError } from "./errors.ts"

export const ProjectConfig = Schema.Struct({
  /** Scenario `llmsim run` uses when none is given (relative to the project root). */
  defaultScenario: Schema.optionalKey(Schema.String),
  /** Runtime used when neither the CLI nor the scenario sets a value. */
  runtime: Schema.optionalKey(
    Schema.Struct({
      batch_size: Schema.optionalKey(PositiveInt),
      seq_len: Schema.optionalKey(PositiveInt),
      phase: Schema.optionalKey(Phase)
    })
  ),
  /** Result store folder (relative to the project root); `--cache-dir` overrides it. */
  cacheDir: Schema.optionalKey(Schema.String)
})
export type ProjectConfig = typeof ProjectConfig.Type

/** Identity with a type: gives editors completion and type errors in llmsim.config.ts. */
export const defineConfig = (config: ProjectConfig): ProjectConfig => config

export const CONFIG_FILE = "llmsim.config.ts"

export const findProjectRoot = (cwd: string): { root: string; configFile: string | undefined } => {
  let dir = path.resolve(cwd)
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE)
    if (fs.existsSync(candidate)) return { root: dir, configFile: candidate }
    const parent = path.dirname(dir)
    if (parent === dir) return { root: path.resolve(cwd), configFile: undefined }
    dir = parent
  }
}

export interface ProjectShape {
  /** Where the command was started: paths typed on the command line resolve against it. */
  readonly cwd: string
  readonly root: string
  readonly configFile: string | undefined
  readonly config: ProjectConfig
}

/** `at`: "default" when the module loaded but its default export is not a valid config. */
const configError = (file: string, at: "" | "default", message: string) =>
  new ConfigError({ issues: [{ file, line: 1, col: 1, path: at, message }] })

/**
 * Import and validate `llmsim.config.ts` (Node strips its types). `version` is appended to the
 * module URL: Node caches a module by URL for the life of the process, so watch mode passes a
 * digest of the text to see a saved file's new content.
 */
export const importProjectConfig = (configFile: string, version?: string): Effect.Effect<ProjectConfig, ConfigError> =>
  Effect.gen(function*() {
    const url = pathToFileURL(configFile).href + (version === undefined ? "" : `?v=${version}`)
    const mod = yield* Effect.tryPromise({
      try: () => import(url),
      catch: (e) => configError(configFile, "", `cannot load: ${String(e)}`)
    })
    return yield* Schema.decodeUnknownEffect(ProjectConfig)(mod.default ?? {}, { errors: "all", onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => configError(configFile, "default", `invalid project config: ${e.message}`))
    )
  })

/** The project around `cwd`: its root and its validated config (empty without a config file). */
export const loadProject = (cwd: string): Effect.Effect<ProjectShape, ConfigError> =>
  Effect.gen(function*() {
    const { root, configFile } = findProjectRoot(cwd)
    const config = configFile === undefined ? {} : yield* importProjectConfig(configFile)
    return { cwd: path.resolve(cwd), root, configFile, config }
  })

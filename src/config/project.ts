/**
 * The typed project config (`llmsim.config.ts`) and how the project root is found.
 *
 * The project root is the nearest folder, from the current directory upwards, holding
 * `llmsim.config.ts`; without one it is the current directory. Scenario paths inside YAML
 * resolve against it.
 */
import { Schema } from "effect"
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

export interface Project {
  readonly root: string
  readonly configFile: string | undefined
  readonly config: ProjectConfig
}

/** Load and validate `llmsim.config.ts` (imported as a module: Node strips its types). */
export const loadProject = async (cwd: string): Promise<Project | ConfigError> => {
  const { root, configFile } = findProjectRoot(cwd)
  if (configFile === undefined) return { root, configFile, config: {} }
  let raw: unknown
  try {
    const mod = await import(pathToFileURL(configFile).href)
    raw = mod.default ?? {}
  } catch (e) {
    return new ConfigError({ issues: [{ file: configFile, line: 1, col: 1, path: "", message: `cannot load: ${String(e)}` }] })
  }
  const exit = Schema.decodeUnknownExit(ProjectConfig)(raw, { errors: "all", onExcessProperty: "error" })
  if (exit._tag === "Failure") {
    return new ConfigError({
      issues: [{ file: configFile, line: 1, col: 1, path: "default", message: `invalid project config: ${String(exit.cause)}` }]
    })
  }
  return { root, configFile, config: exit.value }
}

/**
 * The typed project config (`llmsim.config.ts`) and how the project root is found.
 *
 * The project root is the nearest folder, from the current directory upwards, holding
 * `llmsim.config.ts`; without one it is the current directory. Paths written in the config or
 * in a scenario resolve against it (see src/config/paths.ts for the whole rule).
 *
 * `llmsim.config.ts` is user code. It is imported in a worker thread with a time limit
 * (src/config/configWorker.ts), so an endless loop or a never-settling top-level await in it
 * ends in a positioned error instead of hanging `run` or `watch`; its default export comes back
 * structured-cloned (a config is plain data). A worker per load also gives every load fresh
 * modules, which watch mode needs after a save. The CLI's first load is started by bin/llmsim.js
 * and may come from the store instead (src/launch/configCache.ts: same bytes, no worker).
 */
import { Effect, Schema, SchemaIssue } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { CONFIG_LOAD_TIMEOUT_MS, findProjectRoot, startConfigLoad, takePreloaded } from "./configWorker.ts"
import { insideProject, projectPaths, type ProjectPaths } from "./paths.ts"
import { PositiveInt } from "../schema/common.ts"
import { Phase } from "../schema/runtime.ts"
import { ConfigError, type Issue } from "./errors.ts"
import { allowedKeysAt, unknownKeyHint } from "./suggest.ts"
import type { ConfigCache } from "../launch/configCache.ts"
import { noteEntry, noteInput, taint } from "../launch/recording.ts"

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
  cacheDir: Schema.optionalKey(Schema.String),
  /**
   * A shared result store over the Bazel HTTP remote-cache protocol (docs/caching.md "Remote
   * cache"); `--remote-cache URL` and LLMSIM_REMOTE_CACHE override the URL.
   */
  remoteCache: Schema.optionalKey(
    Schema.Struct({
      url: Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/)),
      /** Read, never write (untrusted pull requests). */
      readOnly: Schema.optionalKey(Schema.Boolean)
    })
  ),
  /**
   * Folders outside the project root that paths in configs may name (relative to the project
   * root, or absolute). README "Paths".
   */
  allowPaths: Schema.optionalKey(Schema.Array(Schema.String))
})
export type ProjectConfig = typeof ProjectConfig.Type

/** Identity with a type (src/config/define.ts, which the config loader substitutes for this module). */
/** @public Configs written before define.ts existed import defineConfig from here. */
export { defineConfig } from "./define.ts"

export { CONFIG_FILE, findProjectRoot } from "./configWorker.ts"

export interface ProjectShape {
  /** Where the command was started: paths typed on the command line resolve against it. */
  readonly cwd: string
  readonly root: string
  readonly configFile: string | undefined
  readonly config: ProjectConfig
  /** Where paths written in its files may point: the root and `allowPaths` (README "Paths"). */
  readonly paths: ProjectPaths
}

/**
 * The default export of `configFile`, loaded in a worker or taken from the store
 * (src/config/configWorker.ts), and how to store it once it validated.
 */
const loadInWorker = (
  configFile: string,
  timeoutMs: number,
  fresh: boolean,
  cache: ConfigCache | undefined
): Effect.Effect<{ readonly value: unknown; readonly commit: (cacheDir: unknown) => void }, ConfigError> =>
  Effect.callback<{ readonly value: unknown; readonly commit: (cacheDir: unknown) => void }, ConfigError>((resume) => {
    const load = (fresh ? undefined : takePreloaded(configFile)) ?? startConfigLoad(configFile, timeoutMs, cache)
    void load.outcome.then((o) => {
      if (o.ok) {
        for (const [file, state] of o.inputs) noteInput(file, state)
        if (o.entry !== undefined) noteEntry(o.entry[0], o.entry[1])
        // What the config read besides its files is not in any record: never replay its commands.
        if (o.impure !== null) taint()
      }
      resume(
        o.ok
          ? Effect.succeed({ value: o.value, commit: load.commit })
          : Effect.fail(new ConfigError({ issues: [{ file: configFile, line: o.line, col: o.col, path: "", message: o.message }] }))
      )
    })
    // Interrupted (SIGINT, watch shutting down): stop the worker.
    return Effect.sync(load.cancel)
  })

/**
 * Load and validate `llmsim.config.ts` (Node strips its types) in a worker thread with a time
 * limit; every call sees the file as it is now. With `cache` (a store folder), a config whose
 * bytes and imports' bytes were loaded before comes from that store (src/launch/configCache.ts),
 * and a newly loaded one that validates is stored there.
 */
export const importProjectConfig = (
  configFile: string,
  timeoutMs = CONFIG_LOAD_TIMEOUT_MS,
  fresh = true,
  cache?: ConfigCache
): Effect.Effect<ProjectConfig, ConfigError> =>
  Effect.gen(function* () {
    const { value, commit } = yield* loadInWorker(configFile, timeoutMs, fresh, cache)
    const config = yield* Schema.decodeUnknownEffect(ProjectConfig)(value, { errors: "all", onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => invalidConfig(configFile, value, e.issue))
    )
    commit(config.cacheDir)
    return config
  })

/**
 * One issue per problem, at its key's line:col (found in the text) with the field path; an
 * unknown key gets "did you mean" (src/config/suggest.ts), as in YAML configs.
 */
const invalidConfig = (configFile: string, value: unknown, issue: SchemaIssue.Issue): ConfigError => {
  const keyOf = (p: unknown) => (typeof p === "object" && p !== null && "key" in p ? (p as { key: PropertyKey }).key : (p as PropertyKey))
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues.map((i): Issue => {
    const at = (i.path ?? []).map(keyOf)
    const key = at[at.length - 1]
    const plain = typeof key === "string" && /^[A-Za-z0-9_]{1,64}$/.test(key)
    const hint = i.message === "Expected no excess property" && plain ? unknownKeyHint(key, allowedKeysAt(ProjectConfig.ast, value, at.slice(0, -1))) : ""
    const pos = plain ? fieldPosition(configFile, key) : { line: 1, col: 1 }
    return { file: configFile, ...pos, path: at.length === 0 ? "default" : at.map(String).join("."), message: `invalid project config: ${i.message}${hint}` }
  })
  return new ConfigError({ issues })
}

/** line:col of the first `field:` (quoted or not) in the config's text, else 1:1. */
const fieldPosition = (configFile: string, field: string): { line: number; col: number } => {
  let text: string
  try {
    text = fs.readFileSync(configFile, "utf8")
  } catch {
    return { line: 1, col: 1 }
  }
  const m = new RegExp(`["']?\\b${field}\\b["']?\\s*:`).exec(text)
  if (m === null) return { line: 1, col: 1 }
  const before = text.slice(0, m.index).split("\n")
  return { line: before.length, col: before[before.length - 1]!.length + 1 }
}

/**
 * The project's paths (its root and `allowPaths`), once `defaultScenario` and `cacheDir`, paths
 * written in a file, are checked to lie inside them (README "Paths").
 */
const checkPaths = (root: string, configFile: string, config: ProjectConfig): Effect.Effect<ProjectPaths, ConfigError> => {
  const paths = projectPaths(root, config.allowPaths ?? [])
  for (const field of ["defaultScenario", "cacheDir"] as const) {
    const given = config[field]
    if (given === undefined) continue
    const abs = path.resolve(root, given)
    if (!insideProject(abs, paths)) {
      return Effect.fail(
        new ConfigError({
          issues: [
            {
              file: configFile,
              ...fieldPosition(configFile, field),
              path: field,
              message: `${given} is outside the project root ${root} (paths in configs stay inside the project; list a folder in allowPaths to allow it)`
            }
          ]
        })
      )
    }
  }
  return Effect.succeed(paths)
}

/** The project around `cwd`: its root and its validated config (empty without a config file). */
export const loadProject = (cwd: string): Effect.Effect<ProjectShape, ConfigError> =>
  Effect.gen(function* () {
    // Every path looked at is an input of a recorded command: a config added on the way up moves the root.
    const { root, configFile } = findProjectRoot(cwd, (file, present) => noteInput(file, present ? undefined : null))
    // The first load may use the one bin/llmsim.js started early.
    const config = configFile === undefined ? {} : yield* importProjectConfig(configFile, CONFIG_LOAD_TIMEOUT_MS, false)
    const paths = configFile === undefined ? projectPaths(root) : yield* checkPaths(root, configFile, config)
    return { cwd: path.resolve(cwd), root, configFile, config, paths }
  })

/** `loadProject`'s checks for a config loaded again (watch). */
export const checkProjectPaths = checkPaths

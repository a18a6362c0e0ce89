/**
 * Loading `llmsim.config.ts` again after it was saved.
 *
 * The file is imported in a fresh worker thread on every load (src/config/project.ts), so a
 * saved file's new content is always seen, nothing accumulates in this process's module cache,
 * and an endless loop saved into it becomes an error event after the load time limit instead of
 * hanging the watcher. The last loaded text's config is kept, so an evaluation that did not
 * change the file starts no worker (as before, only the file's own text is compared).
 */
import { Effect } from "effect"
import type { ConfigError } from "../config/errors.ts"
import { projectPaths } from "../config/paths.ts"
import { checkProjectPaths, importProjectConfig, type ProjectShape } from "../config/project.ts"
import type { Reads } from "./reads.ts"
import { currentDigest } from "./reads.ts"

let last: { readonly file: string; readonly digest: string; readonly config: ProjectShape["config"]; readonly paths: ProjectShape["paths"] } | undefined

/** The project config as it is on disk now; records the read in `reads`. */
export const reloadProject = (project: ProjectShape, configFile: string, reads: Reads): Effect.Effect<ProjectShape, ConfigError> =>
  Effect.gen(function* () {
    const digest = currentDigest(configFile)
    reads.set(configFile, digest)
    if (digest === null) return { ...project, configFile: undefined, config: {}, paths: projectPaths(project.root) }
    if (last !== undefined && last.file === configFile && last.digest === digest) return { ...project, configFile, config: last.config, paths: last.paths }
    const config = yield* importProjectConfig(configFile)
    const paths = yield* checkProjectPaths(project.root, configFile, config)
    last = { file: configFile, digest, config, paths }
    return { ...project, configFile, config, paths }
  })

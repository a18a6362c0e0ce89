/**
 * Loading `llmsim.config.ts` again after it was saved.
 *
 * Why not `loadProject`: Node caches an imported module by URL for the life of the process, so a
 * second `import()` of the same file returns the first version. Importing `<url>?v=<digest of
 * the text>` gives every distinct text its own module; identical texts reuse one, so the
 * module cache grows only with distinct saves of this one small file.
 */
import { Effect, Schema } from "effect"
import { pathToFileURL } from "node:url"
import { ConfigError } from "../config/errors.ts"
import { ProjectConfig, type Project } from "../config/project.ts"
import type { Reads } from "./reads.ts"
import { currentDigest } from "./reads.ts"

const failure = (file: string, message: string) =>
  new ConfigError({ issues: [{ file, line: 1, col: 1, path: "", message }] })

/** The project config as it is on disk now; records the read in `reads`. */
export const reloadProject = (root: string, configFile: string, reads: Reads): Effect.Effect<Project, ConfigError> =>
  Effect.gen(function*() {
    const digest = currentDigest(configFile)
    reads.set(configFile, digest)
    if (digest === null) return { root, configFile: undefined, config: {} }
    const mod = yield* Effect.tryPromise({
      try: () => import(`${pathToFileURL(configFile).href}?v=${digest.slice(0, 16)}`),
      catch: (e) => failure(configFile, `cannot load: ${String(e)}`)
    })
    const config = yield* Schema.decodeUnknownEffect(ProjectConfig)(mod.default ?? {}, { errors: "all", onExcessProperty: "error" }).pipe(
      Effect.mapError((e) => failure(configFile, `invalid project config: ${e.message}`))
    )
    return { root, configFile, config }
  })

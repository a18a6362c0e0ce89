/**
 * Loading `llmsim.config.ts` again after it was saved.
 *
 * Why not plain `loadProject`: Node caches an imported module by URL for the life of the
 * process, so a second `import()` of the same file returns the first version. Importing
 * `<url>?v=<digest of the text>` gives every distinct text its own module; identical texts
 * reuse one, so the module cache grows only with distinct saves of this one small file.
 */
import { Effect } from "effect"
import type { ConfigError } from "../config/errors.ts"
import { importProjectConfig, type ProjectShape } from "../config/project.ts"
import type { Reads } from "./reads.ts"
import { currentDigest } from "./reads.ts"

/** The project config as it is on disk now; records the read in `reads`. */
export const reloadProject = (project: ProjectShape, configFile: string, reads: Reads): Effect.Effect<ProjectShape, ConfigError> =>
  Effect.gen(function*() {
    const digest = currentDigest(configFile)
    reads.set(configFile, digest)
    if (digest === null) return { ...project, configFile: undefined, config: {} }
    const config = yield* importProjectConfig(configFile, digest.slice(0, 16))
    return { ...project, configFile, config }
  })

/**
 * `defineConfig` without dependencies: what `llmsim.config.ts` imports at run time.
 *
 * The config is loaded in a worker thread (src/config/project.ts); importing the schema module
 * there would load effect into the worker on every run (seconds on a busy machine). The type
 * import is erased by type stripping, so this module loads nothing.
 */
import type { ProjectConfig } from "./project.ts"

/** Identity with a type: gives editors completion and type errors in llmsim.config.ts. */
export const defineConfig = (config: ProjectConfig): ProjectConfig => config

/**
 * The CLI's entry: bin/llmsim.js calls `start` once its replay check missed, from the bundle
 * tools/build.js makes of this module (dist/llmsim.cjs, src/launch/codeCache.js loads it) or from
 * the sources. It starts loading llmsim.config.ts first, so a load that needs a worker runs while
 * the command line's modules (main.ts: effect and every command) load and evaluate.
 */
import { preloadProjectConfig } from "../config/configWorker.ts"

export const start = async (cwd: string, args: ReadonlyArray<string>): Promise<void> => {
  preloadProjectConfig(cwd, args)
  await import("./main.ts")
}

/**
 * The program's entry points, each with its TypeScript source and its bundle: one table read by
 * tools/build.js (what esbuild bundles), bin/llmsim.js (what it starts) and the sweep engine
 * (the module its worker threads run). A module runs from its bundle when dist/ was built
 * (tools/build.js), else from its source (LLMSIM_FROM_SOURCE=1, or no dist/).
 */
import { PACKAGE_DIR } from "./project.js"
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const path = process.getBuiltinModule("node:path")
const { pathToFileURL } = process.getBuiltinModule("node:url")

/** @typedef {{ readonly name: string, readonly source: string, readonly bundle: string }} Entry */

export const ENTRIES = /** @type {const} */ ({
  /** The CLI (src/cli/start.ts, then main.ts): one CommonJS script (src/launch/codeCache.js says why). */
  cli: { name: "llmsim", source: "src/cli/start.ts", bundle: "dist/llmsim.cjs" },
  /** Vega and Vega-Lite, required by the CLI on its first chart (src/report/chartLibraries.ts says why apart). */
  charts: { name: "chart-libraries", source: "src/report/chartLibraries.ts", bundle: "dist/chart-libraries.js" },
  /** A sweep worker thread. */
  sweepWorker: { name: "sweep-worker", source: "src/sweep/worker.ts", bundle: "dist/sweep-worker.js" },
  /** A `--cluster` run's client thread (src/graph/clusterThread.ts). */
  clusterClient: { name: "cluster-client", source: "src/graph/clusterThread.ts", bundle: "dist/cluster-client.js" },
  /** `llmsim worker`'s runner thread (src/app/runnerThread.ts). */
  runner: { name: "runner", source: "src/app/runnerThread.ts", bundle: "dist/runner.js" },
  /** A cluster runner's compute thread (src/app/runner.ts). */
  computeThread: { name: "compute-thread", source: "src/app/computeThread.ts", bundle: "dist/compute-thread.js" },
  /** The programmatic API (package.json `exports`). */
  api: { name: "index", source: "src/index.ts", bundle: "dist/index.js" }
})

/**
 * The file:// URL of an entry, from the bundle or from the sources.
 * @param {Entry} entry
 * @param {boolean} bundled
 * @returns {URL}
 */
export const entryUrl = (entry, bundled) => pathToFileURL(path.join(PACKAGE_DIR, bundled ? entry.bundle : entry.source))

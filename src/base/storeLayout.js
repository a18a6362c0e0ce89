/**
 * Where things live in the result store (docs/caching.md, "The store"): one layout folder, then
 * one folder per kind of file. Plain JavaScript: the launcher (src/launch/command.js) finds
 * command records with it before anything else loads; the graph, the sweep and `cache gc`
 * read the same names.
 *
 *   <cache>/v1/ac/<key[0..2]>/<key>.json          node entries (src/graph/store.ts)
 *   <cache>/v1/commands/<key[0..2]>/<key>.json    command records (src/launch/command.js)
 *   <cache>/v1/configs/<key[0..2]>/<key>.json     evaluated llmsim.config.ts (src/launch/configCache.ts)
 *   <cache>/v1/sweep/<family>/<digest>.jsonl      sweep point packs (src/sweep/pointCache.ts)
 *   <cache>/v1/runs/<scope digest>.json           the last run's node records (--explain)
 *   <cache>/v1/tmp/                               temp files before their rename
 *   <cache>/v1/remote.json                        the remote cache's counts (src/graph/remoteStats.ts)
 */
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const path = process.getBuiltinModule("node:path")

/** The store's layout version, the first folder under the cache; bump when any layout below changes. */
export const STORE_LAYOUT = "v1"

/** The folder of each kind of file, under the layout folder. */
const STORE_FOLDERS = /** @type {const} */ ({ entries: "ac", commands: "commands", configs: "configs", packs: "sweep", runs: "runs", tmp: "tmp" })

/**
 * A folder of the store at `cacheDir`.
 * @param {string} cacheDir
 * @param {keyof typeof STORE_FOLDERS} kind
 * @returns {string}
 */
export const storeFolder = (cacheDir, kind) => path.join(cacheDir, STORE_LAYOUT, STORE_FOLDERS[kind])

/**
 * A file named by a hex key, sharded by its first two digits (`ac`, `commands`, `configs`).
 * @param {string} cacheDir
 * @param {"entries" | "commands" | "configs"} kind
 * @param {string} key
 * @returns {string}
 */
export const shardedFile = (cacheDir, kind, key) => path.join(storeFolder(cacheDir, kind), key.slice(0, 2), `${key}.json`)

/**
 * What the remote cache did for this store, summed over runs (src/graph/remoteStats.ts; `cache stats`).
 * @param {string} cacheDir
 * @returns {string}
 */
export const remoteStatsFile = (cacheDir) => path.join(cacheDir, STORE_LAYOUT, "remote.json")

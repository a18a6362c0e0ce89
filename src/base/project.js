/**
 * Where things are: llmsim's own folder, the project root, and the result store's folder.
 * Plain JavaScript on Node built-ins: the launcher (bin/llmsim.js, src/launch/command.js)
 * needs all three before anything else loads, and the CLI uses the same functions, so each
 * rule has one definition.
 */
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const fs = process.getBuiltinModule("node:fs")
const path = process.getBuiltinModule("node:path")
const { fileURLToPath } = process.getBuiltinModule("node:url")

export const CONFIG_FILE = "llmsim.config.ts"

/** The store's folder when neither `--cache-dir` nor `cacheDir` in llmsim.config.ts names one: `<root>/cache`. */
const DEFAULT_CACHE_DIR = "cache"

/**
 * The project root: the nearest folder from `cwd` upwards holding llmsim.config.ts, else `cwd`.
 * `probe(file, present)` hears every path looked at (a config added between `cwd` and the root
 * moves the root, so its absence is an input of a command record).
 * @param {string} cwd
 * @param {(file: string, present: boolean) => void} [probe]
 * @returns {{ root: string, configFile: string | undefined }}
 */
export const findProjectRoot = (cwd, probe = () => {}) => {
  let dir = path.resolve(cwd)
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE)
    const present = fs.existsSync(candidate)
    probe(candidate, present)
    if (present) return { root: dir, configFile: candidate }
    const parent = path.dirname(dir)
    if (parent === dir) return { root: path.resolve(cwd), configFile: undefined }
    dir = parent
  }
}

/**
 * The result store's folder: `--cache-dir` (a flag value: from the current directory), else
 * `cacheDir` of llmsim.config.ts (written in a file: from the project root), else
 * `<root>/cache` (README "Paths").
 * @param {{ flag?: string | undefined, configured?: string | undefined, cwd: string, root: string }} o
 * @returns {string}
 */
export const cacheDirOf = ({ flag, configured, cwd, root }) =>
  flag !== undefined ? path.resolve(cwd, flag) : path.resolve(root, configured ?? DEFAULT_CACHE_DIR)

/**
 * llmsim's own folder: the nearest one above this file with llmsim's package.json (this file
 * runs from src/base/ and, bundled, from dist/).
 * @returns {string}
 */
const packageDir = () => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  let dir = here
  for (;;) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name === "llmsim") return dir
    } catch {
      // not here
    }
    const parent = path.dirname(dir)
    if (parent === dir) return path.resolve(here, "..", "..")
    dir = parent
  }
}
export const PACKAGE_DIR = packageDir()

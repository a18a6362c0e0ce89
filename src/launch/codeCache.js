/**
 * Loading the bundled CLI (dist/llmsim.cjs) with a V8 code cache made after a run.
 *
 * Why: V8 compiles a function to bytecode the first time it is called. Node's own compile cache
 * (module.enableCompileCache) keeps what V8 compiled while *loading* a file, i.e. each module's
 * top level, but not the functions a command then calls: an edit-and-run of the default scenario
 * compiled a few thousand of them on every run, about half of its JavaScript work. A
 * `vm.Script`'s cache made at the end of a run (`createCachedData`) holds the bytecode of every
 * function compiled so far; with it an edit-and-run took 184 ms instead of 236 ms (interleaved,
 * same loaded machine), though the script is the whole CLI. Hence one CommonJS script:
 * node:vm compiles scripts, not ES modules (without an experimental flag).
 *
 * The cache lives beside Node's compile cache (module.getCompileCacheDir(): per Node version and
 * V8 flags, so a `watch` child started with other flags keeps its own; none when that cache is
 * disabled), one file per bundle build: a header line naming the commands whose run made it,
 * then V8's data. A run of a command not yet named writes it anew when the process exits: V8's
 * data then holds the functions of the earlier commands (deserialised with their bytecode) and
 * of this one. Anything unexpected (no cache, unreadable, rejected by V8 because Node or the
 * flags changed, not writable) costs only speed: the script compiles as without a cache.
 *
 * With source maps on (--verbose), Node's own CommonJS loader runs the same file: only it maps
 * stack traces back to the sources.
 *
 * Plain JavaScript on Node built-ins, like the rest of the launcher.
 */
import { writeAtomic } from "../base/atomicFile.js"
import { COMMANDS } from "../base/commands.js"
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const fs = process.getBuiltinModule("node:fs")
const module = process.getBuiltinModule("node:module")
const path = process.getBuiltinModule("node:path")
const vm = process.getBuiltinModule("node:vm")

/** Bump when the header changes. */
const FORMAT = "llmsim code cache 1"

/** Node's CommonJS wrapper, on a line of its own (lineOffset -1 keeps the file's line numbers). */
const WRAPPER = "(function (exports, require, module, __filename, __dirname) {\n"

/**
 * The cache file of a bundle build, or undefined when Node's compile cache is off.
 * @param {string} id the build's id (dist/build.json)
 * @returns {string | undefined}
 */
export const codeCacheFile = (id) => {
  const dir = module.getCompileCacheDir?.()
  return dir === undefined ? undefined : path.join(dir, `llmsim-${id}.cache`)
}

/**
 * The commands a cache file was made by and V8's data, or undefined.
 * @param {string | undefined} file
 * @returns {{ uses: ReadonlyArray<string>, data: Buffer } | undefined}
 */
const readCache = (file) => {
  if (file === undefined) return undefined
  let bytes
  try {
    bytes = fs.readFileSync(file)
  } catch {
    return undefined
  }
  const eol = bytes.indexOf(10)
  const header = eol < 0 ? "" : bytes.subarray(0, eol).toString("latin1")
  if (!header.startsWith(`${FORMAT} `)) return undefined
  return { uses: header.slice(FORMAT.length + 1).split(","), data: bytes.subarray(eol + 1) }
}

/**
 * What a run does, as a cache's header names it: its subcommand, else "-" (--help, --version).
 * @param {ReadonlyArray<string>} args
 */
const useOf = (args) => {
  const sub = args.find((a) => !a.startsWith("-"))
  return sub !== undefined && Object.hasOwn(COMMANDS, sub) ? sub : "-"
}

/**
 * Run the CommonJS bundle `file` and return its exports, compiled with the code cache of build
 * `id` when there is one. When the cache was not made by a run of this command (`args`), a new
 * one is written as the process exits.
 * @param {string} file
 * @param {string} id
 * @param {ReadonlyArray<string>} args
 * @returns {unknown}
 */
export const loadBundle = (file, id, args) => {
  const use = useOf(args)
  const require = module.createRequire(file)
  if (process.sourceMapsEnabled) return require(file)
  const cacheFile = codeCacheFile(id)
  const cached = readCache(cacheFile)
  const script = new vm.Script(`${WRAPPER}${fs.readFileSync(file, "utf8")}\n})`, { filename: file, lineOffset: -1, cachedData: cached?.data })
  const uses = cached === undefined || script.cachedDataRejected === true ? [] : cached.uses
  if (cacheFile !== undefined && !uses.includes(use)) {
    // As the process exits, its work done and its output written (~40 ms, once per command and
    // build); also when a signal ended it: `watch` ends no other way.
    process.on("exit", () => {
      try {
        writeAtomic(cacheFile, Buffer.concat([Buffer.from(`${FORMAT} ${[...uses, use].join(",")}\n`, "latin1"), script.createCachedData()]))
      } catch {
        // A read-only or full disk: the next run compiles again.
      }
    })
  }
  const exports = {}
  const mod = { exports }
  script.runInThisContext()(exports, require, mod, file, path.dirname(file))
  return mod.exports
}

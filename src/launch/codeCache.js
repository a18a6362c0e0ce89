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
 * disabled), one file per bundle build and subcommand: each command's run loads the functions
 * that command used, no more (V8 deserialises a whole cache up front: one cache for every command
 * a test suite ran, 3.1 MB, started a run slower than `run`'s own, 2.1 MB). The first run of a
 * command writes its file as the process exits. Anything unexpected (no cache, unreadable,
 * rejected by V8 because Node or the flags changed, not writable) costs only speed: the script
 * compiles as without a cache, and the file is written again.
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

/** A cache file's first line; bump when the layout changes. */
const FORMAT = "llmsim code cache 2"

/** Node's CommonJS wrapper, on a line of its own (lineOffset -1 keeps the file's line numbers). */
const WRAPPER = "(function (exports, require, module, __filename, __dirname) {\n"

/**
 * The subcommand a cache is made for and used by: the command line's, else "-" (--help, --version).
 * @param {ReadonlyArray<string>} args
 */
const commandOf = (args) => {
  const sub = args.find((a) => !a.startsWith("-"))
  return sub !== undefined && Object.hasOwn(COMMANDS, sub) ? sub : "-"
}

/**
 * The cache file of a bundle build for the command line `args`, or undefined when Node's compile
 * cache is off.
 * @param {string} id the build's id (dist/build.json)
 * @param {ReadonlyArray<string>} args
 * @returns {string | undefined}
 */
const codeCacheFile = (id, args) => {
  const dir = module.getCompileCacheDir?.()
  return dir === undefined ? undefined : path.join(dir, `llmsim-${id}-${commandOf(args)}.cache`)
}

/**
 * V8's data in a cache file, after its header line, or undefined.
 * @param {string | undefined} file
 * @returns {Buffer | undefined}
 */
const readCache = (file) => {
  if (file === undefined) return undefined
  let bytes
  try {
    bytes = fs.readFileSync(file)
  } catch {
    return undefined
  }
  const header = Buffer.from(`${FORMAT}\n`, "latin1")
  return bytes.subarray(0, header.length).equals(header) ? bytes.subarray(header.length) : undefined
}

/**
 * Run the CommonJS bundle `file` and return its exports, compiled with the code cache of build
 * `id` for this command line's subcommand (`args`); without one (or with one V8 rejects), a new
 * one is written as the process exits.
 * @param {string} file
 * @param {string} id
 * @param {ReadonlyArray<string>} args
 * @returns {unknown}
 */
export const loadBundle = (file, id, args) => {
  const require = module.createRequire(file)
  if (process.sourceMapsEnabled) return require(file)
  const cacheFile = codeCacheFile(id, args)
  const cachedData = readCache(cacheFile)
  const script = new vm.Script(`${WRAPPER}${fs.readFileSync(file, "utf8")}\n})`, { filename: file, lineOffset: -1, cachedData })
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // As the process exits, its work done and its output written (12-17 ms on a quiet machine, once per command and
    // build); also when a signal ended it: `watch` ends no other way.
    process.on("exit", () => {
      try {
        writeAtomic(cacheFile, Buffer.concat([Buffer.from(`${FORMAT}\n`, "latin1"), script.createCachedData()]))
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

/**
 * Loading `llmsim.config.ts` in a worker thread, without effect (bin/llmsim.js imports this
 * module before the CLI to start the load early).
 *
 * The config is user code: in a worker with a time limit, an endless loop or a never-settling
 * top-level await ends in an error instead of hanging `run` or `watch`, and a worker per load
 * gives fresh modules (watch sees a saved file's new content). The default export comes back
 * structured-cloned (a config is plain data). Starting a worker costs tens of ms; bin starts the
 * first load while the CLI's own modules load, so a run does not wait for it.
 *
 * With a store, a load whose config and imported modules have the bytes of a stored load takes
 * that load's default export and starts no worker (src/launch/configCache.ts). A config must be
 * a function of the modules it imports: one that reads the environment, the clock or randomness,
 * or imports a Node built-in other than path and url, is loaded every run, and a command that
 * loads it is not recorded for replay; one that imports a package is loaded every run.
 */
import module from "node:module"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { MAX_INPUT_BYTES, readGuarded, refusalText } from "../base/guardedRead.js"
import { CONFIG_FILE, findProjectRoot, PACKAGE_DIR } from "../base/project.js"
import {
  bytesDigest,
  CONFIG_CACHE_FORMAT,
  configCacheFor,
  configKey,
  isPlainJson,
  readConfigEntry,
  writeConfigEntry,
  type ConfigCache
} from "../launch/configCache.ts"

/**
 * How long llmsim.config.ts may take to load: 5 s, or LLMSIM_CONFIG_TIMEOUT_MS (a config that
 * fetches or computes a lot at import; tests shorten it).
 */
export const CONFIG_LOAD_TIMEOUT_MS = ((ms: number) => (Number.isFinite(ms) && ms > 0 ? ms : 5_000))(Number(process.env.LLMSIM_CONFIG_TIMEOUT_MS))

export { CONFIG_FILE }

/**
 * The result of a load: the default export, or an error at a line and column of the file.
 * `inputs`: the config and every module file it imported, with the SHA-256 of their bytes;
 * `from`: the store or a worker; `impure`: what the config read besides those files (the
 * environment, say), if anything: such a load is neither stored nor replayed; `notStored`: why
 * the load is not stored, if it is not (impure, a package import, not plain JSON).
 */
type ConfigOutcome =
  | {
      readonly ok: true
      readonly value: unknown
      readonly inputs: ReadonlyArray<readonly [string, string]>
      readonly from: "store" | "worker"
      /** From the store: the entry's file and checksum line (a command record built from it names them). */
      readonly entry?: readonly [string, string]
      readonly impure: string | null
      readonly notStored: string | null
    }
  | { readonly ok: false; readonly line: number; readonly col: number; readonly message: string }

type WorkerReply =
  | {
      readonly ok: true
      readonly value: unknown
      readonly inputs: ReadonlyArray<readonly [string, string]>
      readonly impure: string | null
      readonly uncached: string | null
    }
  | { readonly ok: false; readonly message: string; readonly stack: string }

// The worker's program, an ES module from a data: URL (an eval'd string would be taken for
// TypeScript and load the type stripper, most of a worker's start-up). A value that cannot be
// cloned (a function in the config) is reported like a throw. Hooks: the config's own source
// comes stripped from this thread (where the stripper is loaded already), and a config that
// imports `defineConfig` (src/config/define.ts or project.ts) gets a JavaScript identity instead, so the
// worker loads neither effect nor TypeScript support (other .ts imports still work: the worker
// strips those itself).
// Every other file the config imports is hashed as it loads: a command record
// (src/launch/command.js) and the stored config (src/launch/configCache.ts) list it as an input.
// Purity: what the config can see besides those files makes the load `impure` (never stored,
// never replayed): a Node built-in other than path and url (fs, os, child_process ...), and,
// from user code, process.env, argv, cwd, the clock and Math.random (Node's own loader reads
// process.env too: an environment read counts when the config's code made it, a clock or cwd
// read when its code is anywhere on the stack, as path.resolve reads cwd). A package import (a
// bare or # specifier: its resolution reads package.json files no hook sees) is `uncached`:
// loaded every run, replayed as before.
const WORKER_SOURCE = `
import { parentPort, workerData } from "node:worker_threads"
import { registerHooks } from "node:module"
import { fileURLToPath } from "node:url"
// The one guarded read (src/base/guardedRead.js: regular files only, never a blocking open),
// imported before the hooks exist, so it is no input of the config.
import { probeState } from ${JSON.stringify(pathToFileURL(path.join(PACKAGE_DIR, "src", "base", "guardedRead.js")).href)}
const inputs = []
let impure = null
let uncached = typeof registerHooks === "function" ? null : "this Node has no module hooks"
const PURE = new Set(["node:path", "node:path/posix", "node:path/win32", "node:url"])
const LOCAL = /^(\\.{1,2}\\/|\\/|file:)/
const note = (url) => {
  const file = fileURLToPath(url)
  inputs.push([file, probeState(file) ?? "unreadable"])
}
registerHooks?.({
  resolve(specifier, context, next) {
    const r = next(specifier, context)
    // The installation's defineConfig: its file is still an input (moved or removed, the load would fail).
    if (workerData.heavy.includes(r.url)) { note(r.url); return { ...r, url: workerData.light } }
    if (r.url.startsWith("node:")) { if (!PURE.has(r.url)) impure ??= "it imports " + r.url }
    else if (!r.url.startsWith("file:")) uncached ??= "it imports " + r.url.slice(0, 40)
    else if (!LOCAL.test(specifier)) uncached ??= "it imports the package " + specifier
    return r
  },
  load(url, context, next) {
    if (url === workerData.url && workerData.js !== null) return { format: "module", source: workerData.js, shortCircuit: true }
    if (url.startsWith("file:")) note(url)
    return next(url, context)
  }
})
// The stack below this program's own frames: [0] is the code that made the read.
const callers = () => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 64
  const stack = String(new Error().stack)
  Error.stackTraceLimit = limit
  return stack.split("\\n").slice(1).filter((l) => !l.includes("data:text/javascript"))
}
const user = (line) => line.includes("file://") || !line.includes("node:")
const seen = (what) => { if (impure === null && callers().some(user)) impure = "it reads " + what }
const seenDirectly = (what) => { if (impure === null && user(callers()[0] ?? "")) impure = "it reads " + what }
const env = process.env
process.env = new Proxy(env, {
  get: (t, k) => { if (typeof k === "string") seenDirectly("process.env"); return Reflect.get(t, k) },
  has: (t, k) => { seenDirectly("process.env"); return Reflect.has(t, k) },
  ownKeys: (t) => { seenDirectly("process.env"); return Reflect.ownKeys(t) }
})
const watch = (object, name, what) => {
  const f = object[name]
  object[name] = new Proxy(f, { apply: (t, self, args) => { seen(what); return Reflect.apply(t, self, args) } })
}
watch(process, "cwd", "the working directory")
watch(process, "hrtime", "the clock")
watch(Math, "random", "randomness")
const argv = process.argv
Object.defineProperty(process, "argv", { get: () => { seen("process.argv"); return argv } })
const perf = Object.getOwnPropertyDescriptor(globalThis, "performance")
if (perf?.configurable) Object.defineProperty(globalThis, "performance", { configurable: true, enumerable: perf.enumerable, get: () => { seen("the clock"); return perf.get ? perf.get.call(globalThis) : perf.value } })
const RealDate = Date
globalThis.Date = new Proxy(RealDate, {
  construct: (t, args, target) => { if (args.length === 0) seen("the clock"); return Reflect.construct(t, args, target) },
  apply: (t, self, args) => { seen("the clock"); return Reflect.apply(t, self, args) },
  get: (t, k) => { if (k === "now") seen("the clock"); return Reflect.get(t, k) }
})
const fail = (e) => parentPort.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? String(e.stack) : "" })
import(workerData.url).then((m) => {
  try { parentPort.postMessage({ ok: true, value: m.default === undefined ? {} : m.default, inputs, impure, uncached }) } catch (e) { fail(e) }
}, fail)
`
const WORKER_URL = new URL("data:text/javascript," + encodeURIComponent(WORKER_SOURCE))

/**
 * The modules a config imports `defineConfig` from (src/config/define.ts, or project.ts in older
 * configs): their source files in the installation, also when this module runs from the bundle.
 * Both become LIGHT, so the worker strips no TypeScript but the config itself.
 */
const HEAVY = ["project.ts", "define.ts"].map((f) => pathToFileURL(path.join(PACKAGE_DIR, "src", "config", f)).href)

/** src/config/define.ts as JavaScript. */
const LIGHT = "data:text/javascript," + encodeURIComponent("export const defineConfig = (config) => config")

/**
 * The config's source with its types stripped here, or null to let the worker strip it.
 * `stripTypeScriptTypes` is experimental in Node 24 and warns on each call; that warning is
 * not for the user. Positions are kept (types become spaces), so errors still point right.
 */
const strippedSource = (bytes: Buffer | undefined): string | null => {
  const strip = (module as { stripTypeScriptTypes?: (code: string) => string }).stripTypeScriptTypes
  if (strip === undefined || bytes === undefined) return null
  const emitWarning = process.emitWarning
  try {
    process.emitWarning = () => {}
    return strip(bytes.toString("utf8"))
  } catch {
    // Unreadable or not valid TypeScript: the worker's own load reports it.
    return null
  } finally {
    process.emitWarning = emitWarning
  }
}

/** line:col of the innermost stack frame in `url`, else 1:1. */
const positionIn = (stack: string, url: string): { line: number; col: number } => {
  const at = stack.indexOf(url + ":")
  if (at < 0) return { line: 1, col: 1 }
  const m = /^:(\d+):(\d+)/.exec(stack.slice(at + url.length))
  return m === null ? { line: 1, col: 1 } : { line: Number(m[1]), col: Number(m[2]) }
}

export interface ConfigLoad {
  readonly outcome: Promise<ConfigOutcome>
  /** Stop the worker (the caller was interrupted); the outcome then never settles. */
  readonly cancel: () => void
  /**
   * The loaded config validated (`cacheDir`: its cacheDir field): store it for the next load of
   * the same bytes, when it was loaded by a worker, pure and plain JSON. A no-op otherwise.
   */
  readonly commit: (cacheDir: unknown) => void
}

/**
 * Start loading `configFile`: from the store `cache` when an entry for its bytes and its
 * imports' bytes is there (no worker), else in a new worker stopped after `timeoutMs`.
 */
export const startConfigLoad = (configFile: string, timeoutMs = CONFIG_LOAD_TIMEOUT_MS, cache?: ConfigCache): ConfigLoad => {
  const url = pathToFileURL(configFile).href
  // The guarded read: a FIFO or device named llmsim.config.ts is refused at once, never waited on.
  const read = readGuarded(configFile, MAX_INPUT_BYTES)
  if ("refused" in read) {
    return {
      outcome: Promise.resolve({ ok: false, line: 1, col: 1, message: `cannot read: ${refusalText(read.refused)}` }),
      cancel: () => {},
      commit: () => {}
    }
  }
  // An unreadable file: the worker's own load reports it.
  const bytes: Buffer | undefined = "bytes" in read ? read.bytes : undefined
  // The config's own bytes as this thread read them (the worker gets them stripped).
  const digest = bytes === undefined ? undefined : bytesDigest(bytes)
  const own: readonly [string, string] = [configFile, digest ?? "unreadable"]
  const key = cache === undefined || digest === undefined ? undefined : configKey(configFile, digest)
  const stored = key === undefined || cache === undefined ? undefined : readConfigEntry(cache, key)
  if (stored !== undefined) {
    // Every listed input was just checked against its bytes: they are the states a record notes.
    const hit: ConfigOutcome = {
      ok: true,
      value: stored.value,
      inputs: [own, ...stored.inputs],
      from: "store",
      entry: [stored.file, stored.checksum],
      impure: null,
      notStored: null
    }
    return { outcome: Promise.resolve(hit), cancel: () => {}, commit: () => {} }
  }
  let cancel = () => {}
  let loaded: { readonly value: unknown; readonly inputs: ReadonlyArray<readonly [string, string]> } | undefined
  const outcome = new Promise<ConfigOutcome>((resolve) => {
    // Unref'd: a load nobody waits for (a command that never reads the config) must not keep
    // the process alive; one that is awaited is kept alive by the runtime.
    // node:worker_threads loads here, not with this module: on a stored config (most runs) no
    // worker starts, and loading it took ~2 ms of every start.
    const { Worker } = process.getBuiltinModule("node:worker_threads")
    const worker = new Worker(WORKER_URL, {
      workerData: { url, js: strippedSource(bytes), heavy: HEAVY, light: LIGHT },
      stdin: false,
      execArgv: []
    })
    worker.unref()
    let done = false
    const finish = (o?: ConfigOutcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      void worker.terminate()
      if (o !== undefined) resolve(o)
    }
    cancel = () => finish()
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          line: 1,
          col: 1,
          message: `cannot load: did not finish within ${timeoutMs / 1000} s (an endless loop or a wait that never ends?)`
        }),
      timeoutMs
    )
    timer.unref()
    worker.once("message", (reply: WorkerReply) => {
      if (!reply.ok) return finish({ ok: false, ...positionIn(reply.stack, url), message: `cannot load: ${reply.message}` })
      const notStored = reply.impure ?? reply.uncached ?? (isPlainJson(reply.value) ? null : "its export is not plain JSON")
      if (notStored === null) loaded = { value: reply.value, inputs: reply.inputs }
      finish({ ok: true, value: reply.value, inputs: [own, ...reply.inputs], from: "worker", impure: reply.impure, notStored })
    })
    worker.once("error", (e) => finish({ ok: false, ...positionIn(String(e.stack ?? ""), url), message: `cannot load: ${e.message}` }))
    worker.once("exit", (code) =>
      finish({ ok: false, line: 1, col: 1, message: `cannot load: it ended the loading thread (exit ${code}) before exporting a config` })
    )
  })
  const commit = (cacheDir: unknown) => {
    // The key's bytes are the ones the worker evaluated (it got them stripped; when they could
    // not be stripped, it read the file itself and lists it among the inputs, checked on lookup).
    if (cache === undefined || key === undefined || loaded === undefined) return
    writeConfigEntry(cache, { v: CONFIG_CACHE_FORMAT, key, file: path.resolve(configFile), inputs: loaded.inputs, value: loaded.value }, cacheDir)
  }
  return { outcome, cancel: () => cancel(), commit }
}

/** The project-root search (one definition, shared with bin/llmsim.js's replay). */
export { findProjectRoot }

let early: { readonly configFile: string; readonly load: ConfigLoad } | undefined

/**
 * Start loading the project config around `cwd` now (bin/llmsim.js, before the CLI loads), from
 * the store the command's `args` use (none with `--no-cache`).
 */
export const preloadProjectConfig = (cwd: string, args: ReadonlyArray<string> = []): void => {
  const { root, configFile } = findProjectRoot(cwd)
  if (configFile !== undefined) early = { configFile, load: startConfigLoad(configFile, CONFIG_LOAD_TIMEOUT_MS, configCacheFor(args, cwd, root)) }
}

/** The early load of `configFile`, once (later loads, as watch's reloads, start their own). */
export const takePreloaded = (configFile: string): ConfigLoad | undefined => {
  if (early === undefined || early.configFile !== configFile) return undefined
  const load = early.load
  early = undefined
  return load
}

/**
 * Loading `llmsim.config.ts` in a worker thread, without effect (bin/llmsim.js imports this
 * module before the CLI to start the load early).
 *
 * The config is user code: in a worker with a time limit, an endless loop or a never-settling
 * top-level await ends in an error instead of hanging `run` or `watch`, and a worker per load
 * gives fresh modules (watch sees a saved file's new content). The default export comes back
 * structured-cloned (a config is plain data). Starting a worker costs tens of ms; bin starts the
 * first load while the CLI's own modules load, so a run does not wait for it.
 */
import * as fs from "node:fs"
import module from "node:module"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { CONFIG_FILE, findProjectRoot, PACKAGE_DIR } from "../base/project.js"
import { sha256 } from "../base/sha256.js"

/** How long `llmsim.config.ts` may take to load. */
/**
 * How long llmsim.config.ts may take to load: 5 s, or LLMSIM_CONFIG_TIMEOUT_MS (a config that
 * fetches or computes a lot at import; tests shorten it).
 */
export const CONFIG_LOAD_TIMEOUT_MS = ((ms: number) => (Number.isFinite(ms) && ms > 0 ? ms : 5_000))(Number(process.env.LLMSIM_CONFIG_TIMEOUT_MS))

export { CONFIG_FILE }

/** The result of a load: the default export, or an error at a line and column of the file. */
export type ConfigOutcome =
  | { readonly ok: true; readonly value: unknown; readonly inputs: ReadonlyArray<readonly [string, string]> }
  | { readonly ok: false; readonly line: number; readonly col: number; readonly message: string }

type WorkerReply =
  | { readonly ok: true; readonly value: unknown; readonly inputs: ReadonlyArray<readonly [string, string]> }
  | { readonly ok: false; readonly message: string; readonly stack: string }

// The worker's program, an ES module from a data: URL (an eval'd string would be taken for
// TypeScript and load the type stripper, most of a worker's start-up). A value that cannot be
// cloned (a function in the config) is reported like a throw. Hooks: the config's own source
// comes stripped from this thread (where the stripper is loaded already), and a config that
// imports `defineConfig` (src/config/define.ts or project.ts) gets a JavaScript identity instead, so the
// worker loads neither effect nor TypeScript support (other .ts imports still work: the worker
// strips those itself).
// Every other file the config imports is hashed as it loads: a command record
// (src/launch/command.js) lists it as an input.
const WORKER_SOURCE = `
import { parentPort, workerData } from "node:worker_threads"
import { registerHooks } from "node:module"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { createHash } from "node:crypto"
const inputs = []
registerHooks?.({
  resolve(specifier, context, next) {
    const r = next(specifier, context)
    return workerData.heavy.includes(r.url) ? { ...r, url: workerData.light } : r
  },
  load(url, context, next) {
    if (url === workerData.url && workerData.js !== null) return { format: "module", source: workerData.js, shortCircuit: true }
    if (url.startsWith("file:")) {
      const file = fileURLToPath(url)
      try { inputs.push([file, createHash("sha256").update(readFileSync(file)).digest("hex")]) } catch { inputs.push([file, "unreadable"]) }
    }
    return next(url, context)
  }
})
const fail = (e) => parentPort.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? String(e.stack) : "" })
import(workerData.url).then((m) => {
  try { parentPort.postMessage({ ok: true, value: m.default === undefined ? {} : m.default, inputs }) } catch (e) { fail(e) }
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
}

/** Start loading `configFile` in a new worker, stopped after `timeoutMs`. */
export const startConfigLoad = (configFile: string, timeoutMs = CONFIG_LOAD_TIMEOUT_MS): ConfigLoad => {
  const url = pathToFileURL(configFile).href
  let bytes: Buffer | undefined
  try {
    bytes = fs.readFileSync(configFile)
  } catch {
    // the worker's own load reports it
  }
  // The config's own bytes as this thread read them (the worker gets them stripped).
  const own: readonly [string, string] = [configFile, bytes === undefined ? "unreadable" : sha256(bytes)]
  let cancel = () => {}
  const outcome = new Promise<ConfigOutcome>((resolve) => {
    // Unref'd: a load nobody waits for (a command that never reads the config) must not keep
    // the process alive; one that is awaited is kept alive by the runtime.
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
      if (reply.ok) return finish({ ok: true, value: reply.value, inputs: [own, ...reply.inputs] })
      finish({ ok: false, ...positionIn(reply.stack, url), message: `cannot load: ${reply.message}` })
    })
    worker.once("error", (e) => finish({ ok: false, ...positionIn(String(e.stack ?? ""), url), message: `cannot load: ${e.message}` }))
    worker.once("exit", (code) =>
      finish({ ok: false, line: 1, col: 1, message: `cannot load: it ended the loading thread (exit ${code}) before exporting a config` })
    )
  })
  return { outcome, cancel: () => cancel() }
}

/** The project-root search (one definition, shared with bin/llmsim.js's replay). */
export { findProjectRoot }

let early: { readonly configFile: string; readonly load: ConfigLoad } | undefined

/** Start loading the project config around `cwd` now (bin/llmsim.js, before the CLI loads). */
export const preloadProjectConfig = (cwd: string): void => {
  const { configFile } = findProjectRoot(cwd)
  if (configFile !== undefined) early = { configFile, load: startConfigLoad(configFile) }
}

/** The early load of `configFile`, once (later loads, as watch's reloads, start their own). */
export const takePreloaded = (configFile: string): ConfigLoad | undefined => {
  if (early === undefined || early.configFile !== configFile) return undefined
  const load = early.load
  early = undefined
  return load
}

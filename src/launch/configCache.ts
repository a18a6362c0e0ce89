/**
 * The evaluated `llmsim.config.ts`, stored by content: a run whose config and imported modules
 * are byte-for-byte as last time takes the config's default export from the store instead of
 * type-stripping and importing it in a worker (src/config/configWorker.ts), a sixth of a run
 * whose other inputs changed.
 *
 * Two levels, as the command node (src/launch/command.js): the key hashes what is known before
 * loading (the entry format, Node, the config's path and the SHA-256 of its bytes); the entry
 * lists every module file the load imported, transitively, with the SHA-256 of its bytes, and
 * the default export as JSON. A lookup re-hashes each listed file; one difference is a miss.
 * Which loads are stored (pure, local imports only, plain JSON) is the worker's call
 * (src/config/configWorker.ts). docs/caching.md ("The project config") lists every input.
 *
 * No effect import: bin/llmsim.js looks the entry up before the CLI loads.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { writeAtomic } from "../base/atomicFile.js"
import { MAX_INPUT_BYTES, readGuarded, readTextGuarded } from "../base/guardedRead.js"
import { cacheDirOf } from "../base/project.js"
import { sha256 } from "../base/sha256.js"
import { shardedFile, STORE_LAYOUT, storeFolder } from "../base/storeLayout.js"
import { pathState, recordDirFor } from "./command.js"

/**
 * Bump when what a load returns for the same files changes: the entry's layout, the worker's
 * module hooks (the `defineConfig` stand-in, which imports are followed), or what counts as pure.
 */
export const CONFIG_CACHE_FORMAT = 2

/** Where this load's entry is looked up and written. */
export interface ConfigCache {
  /** The store folder: `--cache-dir` (from cwd), else `<root>/cache`. */
  readonly dir: string
  /** The project root: the config's `cacheDir` resolves against it. */
  readonly root: string
  /** Whether `--cache-dir` named `dir`, so the config's own `cacheDir` does not move the store. */
  readonly explicit: boolean
}

/**
 * The store a command with these arguments uses for the config entry: none with `--no-cache`;
 * else where the launcher looks for command records (`--cache-dir`, else `<root>/cache`), since
 * the config's own `cacheDir` is not known before the config is loaded.
 */
export const configCacheFor = (args: ReadonlyArray<string>, cwd: string, root: string): ConfigCache | undefined => {
  if (args.includes("--no-cache")) return undefined
  const dir = recordDirFor(args, cwd, root)
  if (dir === undefined) return undefined
  return { dir, root, explicit: args.some((a) => a === "--cache-dir" || a.startsWith("--cache-dir=")) }
}

/** The SHA-256 of a config file's bytes (the key's `sha256` input). */
export const bytesDigest = (bytes: Uint8Array): string => sha256(bytes)

/** What the entry's key hashes: everything known before the config loads (docs/caching.md lists it). */
export const configKeyMaterial = (configFile: string, digest: string) => ({
  v: CONFIG_CACHE_FORMAT,
  node: process.versions.node,
  file: path.resolve(configFile),
  sha256: digest
})

export const configKey = (configFile: string, digest: string): string => sha256(JSON.stringify(configKeyMaterial(configFile, digest)))

/** `<cache>/v1/configs/<key[0..2]>/<key>.json`, beside the command records. */
const configEntryPath = (cacheDir: string, key: string): string => shardedFile(cacheDir, "configs", key)

export interface ConfigEntry {
  readonly v: number
  readonly key: string
  /** The config's absolute path (in the key too): `cache verify` loads it again from there. */
  readonly file: string
  /** [absolute path, state] of every module file the load imported, the config itself aside. */
  readonly inputs: ReadonlyArray<readonly [string, string]>
  /** The config's default export, plain JSON. */
  readonly value: unknown
}

/** An entry's text: a checksum line (SHA-256 of the rest), then the entry as one JSON line. */
const configEntryText = (entry: ConfigEntry): string => {
  const rest = JSON.stringify({ v: entry.v, key: entry.key, file: entry.file, inputs: entry.inputs, value: entry.value })
  return `${sha256(rest)}\n${rest}`
}

const isInputs = (x: unknown): x is ConfigEntry["inputs"] =>
  Array.isArray(x) && x.every((i) => Array.isArray(i) && i.length === 2 && typeof i[0] === "string" && typeof i[1] === "string")

/** The entry in `text` when its checksum, format and key (if given) are right, else undefined. */
export const parseConfigEntry = (text: string, key?: string): ConfigEntry | undefined => {
  if (text.charCodeAt(64) !== 10 || sha256(text.slice(65)) !== text.slice(0, 64)) return undefined
  let e: unknown
  try {
    e = JSON.parse(text.slice(65))
  } catch {
    return undefined
  }
  if (typeof e !== "object" || e === null) return undefined
  const o = e as Record<string, unknown>
  const ok =
    o.v === CONFIG_CACHE_FORMAT &&
    typeof o.key === "string" &&
    (key === undefined || o.key === key) &&
    typeof o.file === "string" &&
    isInputs(o.inputs) &&
    "value" in o
  return ok ? { v: o.v as number, key: o.key as string, file: o.file as string, inputs: o.inputs as ConfigEntry["inputs"], value: o.value } : undefined
}

/** Largest stored config read (a config's export is a few KB). */
const MAX_CONFIG_ENTRY_BYTES = 16 * 1024 * 1024

/** A stored config as read: the entry, its file and its checksum line (a command record built from it names them). */
export interface StoredConfig extends ConfigEntry {
  readonly file: string
  readonly checksum: string
}

/**
 * The stored default export for `key` when every module it imported still has the bytes it had,
 * else undefined (absent, torn, another format, or an import changed: all misses, recomputed
 * and overwritten by the next successful load). Regular files only, through the guarded read.
 */
export const readConfigEntry = (cache: ConfigCache, key: string): StoredConfig | undefined => {
  const file = configEntryPath(cache.dir, key)
  const text = readTextGuarded(file, MAX_CONFIG_ENTRY_BYTES)
  if (text === undefined) return undefined
  const entry = parseConfigEntry(text, key)
  if (entry === undefined || entry.inputs.some(([p, state]) => pathState(p) !== state)) return undefined
  try {
    const now = new Date()
    fs.utimesSync(file, now, now) // last use, for `cache gc`
  } catch {
    // read-only store: fine
  }
  return { ...entry, file, checksum: text.slice(0, 64) }
}

/**
 * Why no load would use `entry` now (its config's bytes, this Node or an import differ from the
 * ones it was stored for), or undefined when a load of its config would take it from the store:
 * the entries `cache verify` loads again and compares.
 */
export const configEntryStaleness = (entry: ConfigEntry): string | undefined => {
  const read = readGuarded(entry.file, MAX_INPUT_BYTES)
  if (!("bytes" in read)) return "its config is gone or unreadable"
  if (configKey(entry.file, bytesDigest(read.bytes)) !== entry.key) return "its config's bytes or Node changed"
  if (entry.inputs.some(([p, state]) => pathState(p) !== state)) return "a module it imports changed"
  return undefined
}

/**
 * Whether `x` survives JSON unchanged: null, booleans, strings, finite numbers (not -0), arrays
 * and plain objects of those. Anything else (undefined, NaN, a Date, a Map) is loaded every run,
 * so the value the schema sees is always the one the config exported.
 */
export const isPlainJson = (x: unknown): boolean => {
  if (x === null || typeof x === "string" || typeof x === "boolean") return true
  if (typeof x === "number") return Number.isFinite(x) && !Object.is(x, -0)
  if (Array.isArray(x)) return Object.keys(x).length === x.length && x.every(isPlainJson)
  if (typeof x !== "object") return false
  const proto: unknown = Object.getPrototypeOf(x)
  if (proto !== Object.prototype && proto !== null) return false
  return Object.keys(x).every((k) => isPlainJson((x as Record<string, unknown>)[k]))
}

/**
 * Store a loaded config. Only into the store the command uses: with no `--cache-dir`, the
 * config's `cacheDir` must be `<root>/cache` (a project that moves its store elsewhere gets no
 * entries, as it gets no command records). Only into an existing store (`v1/`): a command that
 * stores nothing (`cache stats`, `list`) must not create one; when the store does not exist yet,
 * the entry is written as the process exits 0, if the command made it.
 */
export const writeConfigEntry = (cache: ConfigCache, entry: ConfigEntry, cacheDirField: unknown): void => {
  const store = cacheDirOf({ configured: typeof cacheDirField === "string" ? cacheDirField : undefined, cwd: cache.root, root: cache.root })
  if (!cache.explicit && store !== path.resolve(cache.dir)) return
  const layout = path.join(cache.dir, STORE_LAYOUT)
  const write = () => {
    if (!fs.existsSync(layout)) return
    try {
      writeAtomic(configEntryPath(cache.dir, entry.key), configEntryText(entry), { tmpDir: storeFolder(cache.dir, "tmp") })
    } catch {
      // read-only or full store: the next run loads the config again
    }
  }
  if (fs.existsSync(layout)) write()
  else {
    process.once("exit", (code) => {
      if (code === 0) write()
    })
  }
}

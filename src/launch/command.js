/**
 * The command node: a whole `llmsim` command as the root of the build graph, replayed from a
 * record on an exact key hit (Turborepo replays a cached task's logs and outputs the same way).
 *
 * Plain JavaScript on Node built-ins only: bin/llmsim.js runs this before anything else, on
 * whatever Node started it (the system Node may be older than the one llmsim needs), and a hit
 * must not load effect, the YAML parser or llmsim's TypeScript. The full CLI records through
 * the same functions (src/launch/recording.ts), so the key has one definition.
 *
 * Two levels, as a build system's action cache: the key hashes what is known before running
 * (code identity, Node, argv, cwd, the environment that matters, terminal kind); the record
 * lists every file the run read, with the SHA-256 of the bytes it saw (or that a path it probed
 * was absent), and what it printed and wrote. A replay re-hashes each listed file; one
 * difference, or anything unexpected, falls through to the full CLI. docs/caching.md lists the
 * key's inputs; test/launch/command.test.ts changes each one and expects a miss.
 */
import { writeAtomic } from "../base/atomicFile.js"
import { probeState, readHeadGuarded, readTextGuarded } from "../base/guardedRead.js"
import { REPLAYABLE } from "../base/commands.js"
import { cacheDirOf, findProjectRoot, PACKAGE_DIR } from "../base/project.js"
import { sha256, sha256Hasher } from "../base/sha256.js"
import { shardedFile, STORE_LAYOUT } from "../base/storeLayout.js"
// Built-ins without an ES-module facade (bin/llmsim.js says why).
const fs = process.getBuiltinModule("node:fs")
const path = process.getBuiltinModule("node:path")

/** @typedef {Readonly<Record<string, string | undefined>>} Env */
/**
 * The state of a path as a record keeps it (src/base/guardedRead.js probeState): the SHA-256 of
 * a file's bytes, "dir", "special" (a FIFO, device or socket), "large", "unreadable", or null
 * when absent.
 * @typedef {string | null} PathState
 */
/**
 * What the key hashes, kept in the record so `cache verify` can run the command again.
 * @typedef {object} RunMaterial
 * @property {number} v
 * @property {string} code
 * @property {string} node
 * @property {ReadonlyArray<string>} args
 * @property {string} cwd
 * @property {Readonly<Record<string, string | undefined>>} env
 * @property {readonly [boolean, boolean]} tty
 */
/**
 * @typedef {object} CommandRecord
 * @property {number} v
 * @property {string} key
 * @property {RunMaterial} run What the key is the SHA-256 of (commandKey).
 * @property {ReadonlyArray<readonly [string, PathState]>} inputs [absolute path, state] of every file read or probed.
 * @property {ReadonlyArray<readonly [string, string]>} entries [path under the store folder, checksum line] of every
 *   store entry the command read (node entries, the stored project config): the record was built from their bytes.
 * @property {string} stdout
 * @property {string} stderr
 * @property {ReadonlyArray<readonly [string, string]>} files [absolute path, text] of every output file written.
 */
/**
 * @typedef {object} KeyInputs
 * @property {string} code
 * @property {string} node
 * @property {ReadonlyArray<string>} args
 * @property {string} cwd
 * @property {Env} env
 * @property {boolean | undefined} stdoutTTY
 * @property {boolean | undefined} stderrTTY
 */

/** Bump when the key or the record's shape changes. */
export const COMMAND_FORMAT = 2

export { REPLAYABLE }
/** Flags that ask for the evaluation itself (traces, explanations, no store) or for the CLI's own screens. */
const NEVER = new Set(["--no-cache", "--explain", "--trace", "--help", "-h", "--version", "-v", "--wizard", "--completions", "--progress"])
/**
 * Environment variables that can change what a command prints: llmsim's own (the re-exec marker
 * aside), colour and terminal settings, locale and time zone.
 */
export const KEY_ENV = ["CI", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "LANG", "LC_ALL", "LC_NUMERIC", "TZ", "NODE_OPTIONS"]
/** @param {Env} env */
const envOf = (env) => {
  /** @type {Record<string, string | undefined>} */
  const out = {}
  for (const k of Object.keys(env).sort()) {
    if ((k.startsWith("LLMSIM_") && k !== "LLMSIM_REEXEC") || KEY_ENV.includes(k)) out[k] = env[k]
  }
  return out
}

/**
 * The command a record may replay: a known subcommand and none of the flags above.
 * @param {ReadonlyArray<string>} args
 */
export const replayable = (args) => {
  const sub = args.find((a) => !a.startsWith("-"))
  return sub !== undefined && REPLAYABLE.has(sub) && !args.some((a) => NEVER.has(a.split("=")[0]))
}

/**
 * The source tree's stamp: every file under src/ and bin/ (path, size, mtime), package.json and
 * the lockfile. A stat walk, not a content hash: an edit always moves mtime; a touch without an
 * edit only costs a rebuild or a miss.
 * @param {string} [dir]
 * @returns {string}
 */
export const sourceStamp = (dir = PACKAGE_DIR) => {
  const h = sha256Hasher()
  /** @param {string} d */
  const walk = (d) => {
    let names
    try {
      names = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of names) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else {
        try {
          const s = fs.statSync(p)
          h.update(`${path.relative(dir, p)}\0${s.size}\0${s.mtimeMs}\n`)
        } catch {
          // removed meanwhile: the stamp differs anyway
        }
      }
    }
  }
  walk(path.join(dir, "src"))
  walk(path.join(dir, "bin"))
  for (const f of ["package.json", "package-lock.json"]) {
    try {
      h.update(`${f}\0`).update(fs.readFileSync(path.join(dir, f)))
    } catch {
      h.update(`${f}\0absent\n`)
    }
  }
  return h.digest("hex")
}

/**
 * The bundle's id (dist/build.json, tools/build.js), or undefined: none, or LLMSIM_FROM_SOURCE set.
 * @param {string} [dir]
 * @param {Env} [env]
 * @returns {string | undefined}
 */
export const bundleId = (dir = PACKAGE_DIR, env = process.env) => {
  if (env.LLMSIM_FROM_SOURCE) return undefined
  try {
    const id = JSON.parse(fs.readFileSync(path.join(dir, "dist", "build.json"), "utf8")).id
    return typeof id === "string" ? id : undefined
  } catch {
    return undefined
  }
}

/**
 * What code a miss would run: the bundle bin/llmsim.js starts (its build id hashes every output
 * file and the lockfile), else the sources' stamp.
 * @param {string} [dir]
 * @param {Env} [env]
 */
export const codeIdentity = (dir = PACKAGE_DIR, env = process.env) => {
  const id = bundleId(dir, env)
  return id !== undefined ? `bundle:${id}` : `sources:${sourceStamp(dir)}`
}

/**
 * Everything known before the command runs, as the key hashes it. `node` is the version of the
 * Node that evaluates (the pinned one when bin/llmsim.js re-executes).
 * @param {KeyInputs} inputs
 * @returns {RunMaterial}
 */
export const runMaterial = ({ code, node, args, cwd, env, stdoutTTY, stderrTTY }) => ({
  v: COMMAND_FORMAT,
  code,
  node,
  args: [...args],
  cwd: path.resolve(cwd),
  env: envOf(env),
  tty: [Boolean(stdoutTTY), Boolean(stderrTTY)]
})

/**
 * The key of a run's material: its SHA-256 (a record keeps the material; `cache verify` checks
 * that the key is its digest before it runs the command again).
 * @param {RunMaterial} material
 * @returns {string}
 */
export const materialKey = (material) => sha256(JSON.stringify(material))

/**
 * The record's key: everything known before the command runs.
 * @param {KeyInputs} inputs
 * @returns {string}
 */
export const commandKey = (inputs) => materialKey(runMaterial(inputs))

/**
 * The value of `--flag V` or `--flag=V` in args, or undefined.
 * @param {ReadonlyArray<string>} args
 * @param {string} flag
 * @returns {string | undefined}
 */
const flagValue = (args, flag) => {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
  if (i < 0) return undefined
  const a = /** @type {string} */ (args[i])
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1]
}

/**
 * Where a command's record is looked up: the store by the CLI's own rule (cacheDirOf), without
 * llmsim.config.ts's `cacheDir` (evaluating the config is what a replay avoids; a run whose
 * store is elsewhere keeps no record: src/launch/recording.ts). Undefined for a `--cache-dir`
 * without a value.
 * @param {ReadonlyArray<string>} args
 * @param {string} cwd
 * @param {string} root
 * @returns {string | undefined}
 */
export const recordDirFor = (args, cwd, root) => {
  const named = args.some((a) => a === "--cache-dir" || a.startsWith("--cache-dir="))
  const given = named ? flagValue(args, "--cache-dir") : undefined
  return named && given === undefined ? undefined : cacheDirOf({ flag: given, cwd, root })
}

/**
 * `<cache>/v1/commands/<key[0..2]>/<key>.json`, sharded like the node entries.
 * @param {string} cacheDir
 * @param {string} key
 */
export const recordPath = (cacheDir, key) => shardedFile(cacheDir, "commands", key)

/**
 * A record's text: a checksum line (SHA-256 of the rest), a line with the key and the inputs,
 * then the outputs. A replay checks the inputs (a few hundred bytes) before it hashes and parses
 * the outputs (hundreds of KB for JSON results), so a miss costs little.
 * @param {CommandRecord} record
 * @returns {string}
 */
export const recordText = (record) => {
  const head = { v: record.v, key: record.key, run: record.run, inputs: record.inputs, entries: record.entries }
  const rest = `${JSON.stringify(head)}\n${JSON.stringify({ stdout: record.stdout, stderr: record.stderr, files: record.files })}`
  return `${sha256(rest)}\n${rest}`
}

/** An entry reference: a path under the store folder (`v1/ac/ab/abc....json`, no `..`) and a 64-hex checksum. */
const ENTRY_PATH = new RegExp(`^${STORE_LAYOUT}/(ac|configs)/[0-9a-f]{2}/[0-9a-f]{64}\\.json$`)
/** @param {unknown} e */
const isEntryRef = (e) =>
  Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && ENTRY_PATH.test(e[0]) && typeof e[1] === "string" && /^[0-9a-f]{64}$/.test(e[1])

/**
 * The checksum line of a store entry file (node entries: `<sha256> <kind>`; stored configs:
 * `<sha256>`): the SHA-256 of the rest of the file, which pins its bytes.
 * @param {string} text
 * @returns {string | undefined}
 */
const entryChecksum = (text) => (/^[0-9a-f]{64}[ \n]/.test(text) ? text.slice(0, 64) : undefined)

/**
 * Whether every store entry a record was built from still holds the bytes it had (its checksum
 * line): an entry removed (`cache verify --repair`, `gc`) or replaced by other bytes (a poisoned
 * entry recomputed) makes the record unusable. Reads 65 bytes per entry.
 * @param {string} cacheDir
 * @param {ReadonlyArray<readonly [string, string]>} entries
 * @returns {boolean}
 */
export const entriesCurrent = (cacheDir, entries) => entries.every(([rel, sum]) => entryChecksum(readHeadGuarded(path.join(cacheDir, rel), 65) ?? "") === sum)

/**
 * The key and inputs of a record's text (not yet checksummed), or undefined.
 * @param {string} text
 * @param {string | undefined} key
 * @returns {{ head: Pick<CommandRecord, "v" | "key" | "run" | "inputs" | "entries">, body: number } | undefined}
 */
const headOf = (text, key) => {
  const a = text.indexOf("\n")
  const b = a < 0 ? -1 : text.indexOf("\n", a + 1)
  if (a !== 64 || b < 0) return undefined
  try {
    const head = JSON.parse(text.slice(a + 1, b))
    const ok =
      head !== null &&
      typeof head === "object" &&
      head.v === COMMAND_FORMAT &&
      (key === undefined || head.key === key) &&
      head.run !== null &&
      typeof head.run === "object" &&
      Array.isArray(head.inputs) &&
      Array.isArray(head.entries) &&
      head.entries.every(isEntryRef)
    return ok ? { head, body: b + 1 } : undefined
  } catch {
    return undefined
  }
}

/**
 * The outputs once the checksum over everything after the first line matches, else undefined.
 * @param {string} text
 * @param {number} at
 * @returns {Pick<CommandRecord, "stdout" | "stderr" | "files"> | undefined}
 */
const outputsOf = (text, at) => {
  if (sha256(text.slice(65)) !== text.slice(0, 64)) return undefined
  try {
    const o = JSON.parse(text.slice(at))
    return o !== null && typeof o === "object" && typeof o.stdout === "string" && typeof o.stderr === "string" && Array.isArray(o.files) ? o : undefined
  } catch {
    return undefined
  }
}

/**
 * The whole record in `text`, or undefined when its checksum or shape is wrong.
 * @param {string} text
 * @param {string} [key]
 * @returns {CommandRecord | undefined}
 */
export const parseRecord = (text, key) => {
  const h = headOf(text, key)
  if (h === undefined) return undefined
  const o = outputsOf(text, h.body)
  return o === undefined ? undefined : { ...h.head, ...o }
}

/**
 * The state of a path as a record keeps it (PathState), through the one guarded read: a FIFO or
 * device is never opened, a file never read past the probe limit (src/base/guardedRead.js).
 * @param {string} file
 * @returns {PathState}
 */
export const pathState = (file) => probeState(file)

/** Largest record a replay reads: a JSON result of a scenario with thousands of layers is tens of MB. */
const MAX_RECORD_BYTES = 512 * 1024 * 1024

/**
 * Replay the record for this command if every input is as recorded: writes its files, prints
 * its stdout and stderr and returns true. False (nothing written) on any doubt.
 * @param {{ args: ReadonlyArray<string>, cwd: string, env: Env, node: string, stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream }} o
 * @returns {boolean}
 */
export const tryReplay = ({ args, cwd, env, node, stdout, stderr }) => {
  try {
    if (!replayable(args)) return false
    const { root } = findProjectRoot(cwd)
    const dir = recordDirFor(args, cwd, root)
    if (dir === undefined) return false
    const key = commandKey({ code: codeIdentity(PACKAGE_DIR, env), node, args, cwd, env, stdoutTTY: stdout.isTTY, stderrTTY: stderr.isTTY })
    const file = recordPath(dir, key)
    const text = readTextGuarded(file, MAX_RECORD_BYTES)
    if (text === undefined) return false
    const h = headOf(text, key)
    if (h === undefined) return false
    for (const [p, state] of h.head.inputs) if (pathState(p) !== state) return false
    // A record cannot outlive the store entries it was built from (docs/caching.md, "Trust").
    if (!entriesCurrent(dir, h.head.entries)) return false
    const record = outputsOf(text, h.body)
    if (record === undefined) return false
    // The only file a replayable command writes is its --out (the key holds argv): a record that
    // names any other path is not replayed, whatever its checksum says.
    const out = flagValue(args, "--out")
    if (record.files.some(([p]) => out === undefined || p !== path.resolve(cwd, out))) return false
    // The CLI's writer and rules: a target it would refuse (a FIFO, a directory) falls through to the CLI, which says why.
    for (const [p, content] of record.files) writeAtomic(p, content)
    try {
      const now = new Date()
      fs.utimesSync(file, now, now) // last use, for `cache gc`
    } catch {
      // read-only store: fine
    }
    if (record.stderr !== "") stderr.write(record.stderr)
    if (record.stdout !== "") stdout.write(record.stdout)
    return true
  } catch {
    return false
  }
}

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
import { createHash, randomBytes } from "node:crypto"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

/** Bump when the key or the record's shape changes. */
export const COMMAND_FORMAT = 1
export const CONFIG_FILE = "llmsim.config.ts"
/**
 * Records live in the store beside the node entries (`cache gc` / `verify` know them), under the
 * store layout folder (STORE_LAYOUT, src/graph/storeLayout.ts: a TypeScript file this module
 * cannot import; test/launch/command.test.ts checks the two agree).
 */
export const COMMANDS_FOLDER = path.join("v1", "commands")

/** Commands whose output is a function of the files they read (no clock, no network, no git). */
export const REPLAYABLE = new Set(["run", "report", "ops", "large-ep", "afd"])
/** Flags that ask for the evaluation itself (traces, explanations, no store) or for the CLI's own screens. */
const NEVER = new Set(["--no-cache", "--explain", "--trace", "--help", "-h", "--version", "-v", "--wizard", "--completions", "--progress"])
/**
 * Environment variables that can change what a command prints: llmsim's own (the re-exec marker
 * aside), colour and terminal settings, locale and time zone.
 */
export const KEY_ENV = ["CI", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "LANG", "LC_ALL", "LC_NUMERIC", "TZ", "NODE_OPTIONS"]
const envOf = (env) => {
  const out = {}
  for (const k of Object.keys(env).sort()) {
    if ((k.startsWith("LLMSIM_") && k !== "LLMSIM_REEXEC") || KEY_ENV.includes(k)) out[k] = env[k]
  }
  return out
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex")

/** The command a record may replay: a known subcommand and none of the flags above. */
export const replayable = (args) => {
  const sub = args.find((a) => !a.startsWith("-"))
  return sub !== undefined && REPLAYABLE.has(sub) && !args.some((a) => NEVER.has(a.split("=")[0]))
}

/**
 * The project root: the nearest folder from `cwd` upwards holding llmsim.config.ts, else `cwd`.
 * `probe(file, present)` hears every path looked at (a config added between `cwd` and the root
 * moves the root, so its absence is an input).
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

/** llmsim's own folder: the nearest one above this file with llmsim's package.json (this file runs from src/launch/ and, bundled, from dist/). */
const packageDir = () => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name === "llmsim") return dir
    } catch {
      // not here
    }
    const parent = path.dirname(dir)
    if (parent === dir) return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
    dir = parent
  }
}
export const PACKAGE_DIR = packageDir()

/**
 * The source tree's stamp: every file under src/ and bin/ (path, size, mtime), package.json and
 * the lockfile. A stat walk, not a content hash: an edit always moves mtime; a touch without an
 * edit only costs a rebuild or a miss.
 */
export const sourceStamp = (dir = PACKAGE_DIR) => {
  const h = createHash("sha256")
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

/** The bundle's id (dist/build.json, tools/build.js), or undefined: none, or LLMSIM_FROM_SOURCE set. */
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
 */
export const codeIdentity = (dir = PACKAGE_DIR, env = process.env) => {
  const id = bundleId(dir, env)
  return id !== undefined ? `bundle:${id}` : `sources:${sourceStamp(dir)}`
}

/**
 * The record's key: everything known before the command runs. `node` is the version of the
 * Node that evaluates (the pinned one when bin/llmsim.js re-executes).
 */
export const commandKey = ({ code, node, args, cwd, env, stdoutTTY, stderrTTY }) =>
  sha256(JSON.stringify({ v: COMMAND_FORMAT, code, node, args, cwd: path.resolve(cwd), env: envOf(env), tty: [Boolean(stdoutTTY), Boolean(stderrTTY)] }))

/** The value of `--flag V` or `--flag=V` in args, or undefined. */
const flagValue = (args, flag) => {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
  if (i < 0) return undefined
  return args[i].includes("=") ? args[i].slice(args[i].indexOf("=") + 1) : args[i + 1]
}

/** Where a command's record is looked up: `--cache-dir` (from cwd) or `<root>/cache`. */
export const recordDirFor = (args, cwd, root) => {
  if (!args.some((a) => a === "--cache-dir" || a.startsWith("--cache-dir="))) return path.join(root, "cache")
  const given = flagValue(args, "--cache-dir")
  return given === undefined ? undefined : path.resolve(cwd, given)
}

/** `<cache>/v1/commands/<key[0..2]>/<key>.json`, sharded like the node entries. */
export const recordPath = (cacheDir, key) => path.join(cacheDir, COMMANDS_FOLDER, key.slice(0, 2), `${key}.json`)

/**
 * A record's text: a checksum line (SHA-256 of the rest), a line with the key and the inputs,
 * then the outputs. A replay checks the inputs (a few hundred bytes) before it hashes and parses
 * the outputs (hundreds of KB for JSON results), so a miss costs little.
 */
export const recordText = (record) => {
  const rest = `${JSON.stringify({ v: record.v, key: record.key, inputs: record.inputs })}\n${JSON.stringify({ stdout: record.stdout, stderr: record.stderr, files: record.files })}`
  return `${sha256(rest)}\n${rest}`
}

/** The key and inputs of a record's text (not yet checksummed), or undefined. */
const headOf = (text, key) => {
  const a = text.indexOf("\n")
  const b = a < 0 ? -1 : text.indexOf("\n", a + 1)
  if (a !== 64 || b < 0) return undefined
  try {
    const head = JSON.parse(text.slice(a + 1, b))
    const ok = head !== null && typeof head === "object" && head.v === COMMAND_FORMAT && (key === undefined || head.key === key) && Array.isArray(head.inputs)
    return ok ? { head, body: b + 1 } : undefined
  } catch {
    return undefined
  }
}

/** The outputs once the checksum over everything after the first line matches, else undefined. */
const outputsOf = (text, at) => {
  if (sha256(text.slice(65)) !== text.slice(0, 64)) return undefined
  try {
    const o = JSON.parse(text.slice(at))
    return o !== null && typeof o === "object" && typeof o.stdout === "string" && typeof o.stderr === "string" && Array.isArray(o.files) ? o : undefined
  } catch {
    return undefined
  }
}

/** The whole record in `text`, or undefined when its checksum or shape is wrong. */
export const parseRecord = (text, key) => {
  const h = headOf(text, key)
  const o = h === undefined ? undefined : outputsOf(text, h.body)
  return o === undefined ? undefined : { ...h.head, ...o }
}

/** The state of a path as a record keeps it: the SHA-256 of a file's bytes, "dir", or null (absent). */
export const pathState = (file) => {
  try {
    return sha256(fs.readFileSync(file))
  } catch (e) {
    if (e && e.code === "EISDIR") return "dir"
    if (e && (e.code === "ENOENT" || e.code === "ENOTDIR")) return null
    return "unreadable"
  }
}

/** Write `text` to `file` through a temp file and a rename, keeping an existing file's mode. */
const writeAtomic = (file, text) => {
  const st = fs.lstatSync(file, { throwIfNoEntry: false })
  // Anything but a missing or regular file (a symlink, a device): the full CLI's rules apply.
  if (st !== undefined && !st.isFile()) return false
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`)
  try {
    fs.writeFileSync(tmp, text, { flag: "wx", ...(st === undefined ? {} : { mode: st.mode & 0o7777 }) })
    if (st !== undefined) fs.chmodSync(tmp, st.mode & 0o7777)
    fs.renameSync(tmp, file)
  } finally {
    fs.rmSync(tmp, { force: true })
  }
  return true
}

/**
 * Replay the record for this command if every input is as recorded: writes its files, prints
 * its stdout and stderr and returns true. False (nothing written) on any doubt.
 */
export const tryReplay = ({ args, cwd, env, node, stdout, stderr }) => {
  try {
    if (!replayable(args)) return false
    const { root } = findProjectRoot(cwd)
    const dir = recordDirFor(args, cwd, root)
    if (dir === undefined) return false
    const key = commandKey({ code: codeIdentity(PACKAGE_DIR, env), node, args, cwd, env, stdoutTTY: stdout.isTTY, stderrTTY: stderr.isTTY })
    const file = recordPath(dir, key)
    let text
    try {
      text = fs.readFileSync(file, "utf8")
    } catch {
      return false
    }
    const h = headOf(text, key)
    if (h === undefined) return false
    for (const [p, state] of h.head.inputs) if (pathState(p) !== state) return false
    const record = outputsOf(text, h.body)
    if (record === undefined) return false
    // The only file a replayable command writes is its --out (the key holds argv): a record that
    // names any other path is not replayed, whatever its checksum says.
    const out = flagValue(args, "--out")
    if (record.files.some(([p]) => out === undefined || p !== path.resolve(cwd, out))) return false
    for (const [p, content] of record.files) if (!writeAtomic(p, content)) return false
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

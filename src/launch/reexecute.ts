/**
 * `cache verify` for command records: run the recorded command again, without the store, and
 * compare what it prints and writes with the record, byte for byte. A record's checksum line
 * catches a torn record, not a forged one (edit its stdout, recompute the line): a writable
 * store is trusted to hold bytes, never to choose them (docs/caching.md, "Trust").
 *
 * Only a record a replay could use now is run again: its key the digest of the command it
 * keeps, the current code and Node, every input as recorded, every store entry it was built from
 * unchanged. Anything else is stale (no replay can reach it) and is not run. The command runs
 * with `--no-cache` (no node entry, stored config or record of the store can feed it), in the
 * recorded directory and environment, its `--out` redirected to a temp file.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readGuarded } from "../base/guardedRead.js"
import { PACKAGE_DIR } from "../base/project.js"
import { codeIdentity, type CommandRecord, entriesCurrent, KEY_ENV, materialKey, pathState, replayable } from "./command.js"

/** What re-running a record found. */
export type RecordCheck =
  /** No replay can use the record now (why); it is not run. */
  | { readonly stale: string }
  /** Run again, it printed and wrote exactly what the record holds. */
  | { readonly same: true }
  /** The record is not what its command gives (what differs). */
  | { readonly differs: string }

/** The value of `--out V` / `--out=V` in args, its index and form, or undefined. */
const outFlag = (args: ReadonlyArray<string>): { readonly at: number; readonly joined: boolean; readonly value: string } | undefined => {
  const at = args.findIndex((a) => a === "--out" || a.startsWith("--out="))
  if (at < 0) return undefined
  const a = args[at]!
  if (a.includes("=")) return { at, joined: true, value: a.slice(a.indexOf("=") + 1) }
  const value = args[at + 1]
  return value === undefined ? undefined : { at, joined: false, value }
}

/**
 * Whether `record` is one a replay from the store at `cacheDir` could use now; the reason when
 * it is not. Cheap: hashes the record's inputs and reads its entries' checksum lines.
 */
export const recordStaleness = (cacheDir: string, record: CommandRecord): string | undefined => {
  const run = record.run
  if (!replayable(run.args)) return "not a command a replay runs"
  if (run.node !== process.versions.node || run.code !== codeIdentity(PACKAGE_DIR, run.env)) return "other code or Node versions"
  for (const [p, state] of record.inputs) if (pathState(p) !== state) return "an input changed"
  if (!entriesCurrent(cacheDir, record.entries)) return "a store entry it was built from changed or is gone"
  const out = outFlag(run.args)
  if (record.files.some(([p]) => out === undefined || p !== path.resolve(run.cwd, out.value))) return "it names a file its command does not write"
  return undefined
}

/** Whether the record's key is the digest of the command it keeps (else it describes another command). */
export const recordSelfConsistent = (record: CommandRecord): boolean => {
  try {
    return materialKey(record.run) === record.key
  } catch {
    return false
  }
}

/** The environment the command ran in: this one without the variables the key covers, then the recorded ones. */
const envFor = (record: CommandRecord): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("LLMSIM_") && !KEY_ENV.includes(k)) env[k] = v
  for (const [k, v] of Object.entries(record.run.env)) if (v !== undefined) env[k] = v
  // Progress lines bypass the record (README "Signals"): they would differ from it.
  delete env.LLMSIM_DEBUG
  return env
}

const firstLine = (text: string): string => text.split("\n").find((l) => l.trim() !== "") ?? ""

/**
 * Run the recorded command again (see the module header) and compare. `signal` stops it
 * (`cache verify` interrupted); `timeoutMs` bounds one command.
 */
export const reexecuteRecord = (record: CommandRecord, signal: AbortSignal, timeoutMs = 300_000): Promise<RecordCheck> =>
  new Promise<RecordCheck>((resolve) => {
    const run = record.run
    const out = outFlag(run.args)
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-verify-"))
    const outFile = path.join(tmp, out === undefined ? "out" : path.basename(out.value))
    const args = [...run.args]
    if (out !== undefined) {
      if (out.joined) args[out.at] = `--out=${outFile}`
      else args[out.at + 1] = outFile
    }
    args.push("--no-cache")
    let settled = false
    const done = (r: RecordCheck) => {
      if (settled) return
      settled = true
      fs.rmSync(tmp, { recursive: true, force: true })
      resolve(r)
    }
    if (!fs.existsSync(run.cwd)) return done({ stale: "its working directory is gone" })
    const child = spawn(process.execPath, [path.join(PACKAGE_DIR, "bin", "llmsim.js"), ...args], {
      cwd: run.cwd,
      env: envFor(record),
      stdio: ["ignore", "pipe", "pipe"],
      signal,
      timeout: timeoutMs
    })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => stdout.push(b))
    child.stderr.on("data", (b: Buffer) => stderr.push(b))
    child.on("error", (e) => done({ differs: `cannot run it again: ${e.message}` }))
    child.on("close", (code, sig) => {
      const so = Buffer.concat(stdout).toString("utf8")
      const se = Buffer.concat(stderr).toString("utf8")
      if (code !== 0)
        return done({ differs: `run again, it ${sig === null ? `exits ${code}` : `was stopped by ${sig}`}${se === "" ? "" : `: ${firstLine(se)}`}` })
      if (so !== record.stdout) return done({ differs: "run again, it prints another stdout" })
      if (se !== record.stderr) return done({ differs: "run again, it prints another stderr" })
      for (const [, text] of record.files) {
        const got = readGuarded(outFile, Number.MAX_SAFE_INTEGER)
        if (!("bytes" in got) || got.bytes.toString("utf8") !== text) return done({ differs: "run again, it writes another --out file" })
      }
      done({ same: true })
    })
  })

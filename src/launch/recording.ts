/**
 * Recording a command for replay (src/launch/command.js): what the run read, printed and wrote.
 *
 * The CLI starts a recording for a replayable command (src/cli/main.ts). Readers note their
 * inputs here -- the config loader's guarded FileSystem, the project-root search, the
 * llmsim.config.ts worker -- and `--out` writes note their files. Anything the recording cannot
 * account for (a FileSystem call it does not know, a store elsewhere than the launcher looks)
 * taints it, and a tainted or failed run leaves no record: a replay is only ever of a run that
 * was fully seen. No effect import: the config worker's helpers use it.
 */
import * as path from "node:path"
import { writeAtomic } from "../base/atomicFile.js"
import { findProjectRoot } from "../base/project.js"
import { sha256 } from "../base/sha256.js"
import { storeFolder } from "../base/storeLayout.js"
import {
  COMMAND_FORMAT,
  codeIdentity,
  materialKey,
  pathState,
  recordDirFor,
  recordPath,
  recordText,
  replayable,
  runMaterial,
  type PathState,
  type RunMaterial
} from "./command.js"

interface Recording {
  readonly key: string
  readonly run: RunMaterial
  readonly dir: string
  readonly inputs: Map<string, PathState>
  /** Store entries read, by absolute path, with their checksum lines. */
  readonly entries: Map<string, string>
  readonly files: Map<string, string>
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  storeDir: string | undefined
  tainted: boolean
}

let active: Recording | undefined

/** A file the command read (`state`: the bytes' digest as read) or probed; the first sighting wins. */
export const noteInput = (file: string, state?: PathState): void => {
  if (active === undefined) return
  const abs = path.resolve(file)
  if (!active.inputs.has(abs)) active.inputs.set(abs, state === undefined ? pathState(abs) : state)
}

/** The bytes a reader got, digested as `pathState` digests the file. */
export const noteBytes = (file: string, bytes: Uint8Array): void => {
  if (active !== undefined) noteInput(file, sha256(bytes))
}

/**
 * A store entry the command read (a node entry replayed, the stored project config), with its
 * checksum line: the record is built from these bytes, so a replay needs them unchanged.
 */
export const noteEntry = (file: string, checksum: string): void => {
  if (active === undefined) return
  const abs = path.resolve(file)
  if (!active.entries.has(abs)) active.entries.set(abs, checksum)
}

/** An output file the command wrote, with its text. */
export const noteOutput = (file: string, text: string): void => {
  if (active !== undefined) active.files.set(path.resolve(file), text)
}

/** The store the command used: a record is kept only where the launcher will look. */
export const noteStoreDir = (dir: string | undefined): void => {
  if (active !== undefined && dir !== undefined) active.storeDir = path.resolve(dir)
}

/** Something the recording cannot replay happened: keep no record. */
export const taint = (): void => {
  if (active !== undefined) active.tainted = true
}

const tee = (stream: NodeJS.WriteStream, into: Array<string>) => {
  const write = stream.write.bind(stream) as (...a: Array<unknown>) => boolean
  stream.write = ((chunk: unknown, ...rest: Array<unknown>) => {
    into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"))
    return write(chunk, ...rest)
  }) as typeof stream.write
}

/** Start recording this process's command, if it is one a record may replay. */
export const startRecording = (args: ReadonlyArray<string>, cwd: string): void => {
  if (!replayable(args)) return
  const { root } = findProjectRoot(cwd)
  const dir = recordDirFor(args, cwd, root)
  if (dir === undefined) return
  const run = runMaterial({
    code: codeIdentity(),
    node: process.versions.node,
    args,
    cwd,
    env: process.env,
    stdoutTTY: process.stdout.isTTY,
    stderrTTY: process.stderr.isTTY
  })
  active = {
    key: materialKey(run),
    run,
    dir,
    inputs: new Map(),
    entries: new Map(),
    files: new Map(),
    stdout: [],
    stderr: [],
    storeDir: undefined,
    tainted: false
  }
  tee(process.stdout, active.stdout)
  tee(process.stderr, active.stderr)
  // The exit status is known only at the end: keep a record of successful runs only.
  process.on("exit", (code) => {
    if (code === 0) writeRecord()
  })
}

/** Write the record (best effort: a store that cannot be written only loses the replay). */
const writeRecord = (): void => {
  const r = active
  active = undefined
  if (r === undefined || r.tainted || r.storeDir !== path.resolve(r.dir)) return
  const file = recordPath(r.dir, r.key)
  const byPath = (a: readonly [string, unknown], b: readonly [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  const inputs = [...r.inputs].sort(byPath)
  // Entries by their path under the store folder (the launcher finds the store by the same rule).
  const storeRoot = path.resolve(r.dir)
  const entries: Array<readonly [string, string]> = []
  for (const [file, checksum] of r.entries) {
    const rel = path.relative(storeRoot, file).split(path.sep).join("/")
    if (rel.startsWith("..") || path.isAbsolute(rel)) return // read from another store: not replayable from this one
    entries.push([rel, checksum])
  }
  entries.sort(byPath)
  const text = recordText({
    v: COMMAND_FORMAT,
    key: r.key,
    run: r.run,
    inputs,
    entries,
    stdout: r.stdout.join(""),
    stderr: r.stderr.join(""),
    files: [...r.files]
  })
  try {
    // Through the store's tmp/ (gc removes strays there), then an atomic rename.
    writeAtomic(file, text, { tmpDir: storeFolder(r.dir, "tmp") })
  } catch {
    // read-only or full store: the next run evaluates again
  }
}

/**
 * Test helpers: a throwaway project folder holding a copy of the shipped configs, and the real
 * CLI spawned on it (the same entry point `npx llmsim` uses).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { tempDir } from "./temp.ts"

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const BIN = path.join(REPO, "bin", "llmsim.js")

/**
 * The Node that runs the CLI: this one when it strips types (>= 22.19), else the Node pinned in
 * devDependencies. bin/llmsim.js would re-exec the pinned Node itself; starting it directly saves
 * a process per spawn (the terminal test in test/watch/lifecycle.test.ts still starts the CLI
 * through this process's Node, so the re-exec path stays covered).
 */
const modern = (v: string) => {
  const [major, minor] = v.split(".").map(Number)
  return major > 22 || (major === 22 && minor >= 19)
}
const PINNED = path.join(REPO, "node_modules", "node", "bin", "node")
export const NODE = modern(process.versions.node) || !fs.existsSync(PINNED) ? process.execPath : PINNED
/** The first `node` on PATH outside node_modules, when it is older than 22.19 (so bin/llmsim.js re-executes), else undefined. */
export const systemNode: string | undefined = (() => {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "node")
    if (dir.includes("node_modules") || !fs.existsSync(candidate)) continue
    const v = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim()
    const [major, minor] = v.split(".").map(Number)
    return major! > 22 || (major === 22 && minor! >= 19) ? undefined : candidate
  }
  return undefined
})()
/** The reference data shipped in the repository (data/reference/README.md). */
export const REFERENCE = path.join(REPO, "data", "reference")

/** A temp folder with `configs/` copied from the repository (removed after the test file). */
export const makeProject = (prefix = "llmsim-test-"): string => {
  const dir = tempDir(prefix)
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  return dir
}

export interface CliResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Run the CLI to its end; `timeoutMs` bounds it (SIGKILL: a hang is a null status). */
export const runCli = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): CliResult => {
  const r = spawnSync(NODE, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: 512 * 1024 * 1024
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Start the CLI without waiting (watch mode). */
export const startCli = (args: ReadonlyArray<string>, cwd: string) =>
  spawn(NODE, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })

export const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, "utf8"))

export const edit = (file: string, f: (text: string) => string): void => {
  const text = fs.readFileSync(file, "utf8")
  const next = f(text)
  if (next === text) throw new Error(`edit did not change ${file}`)
  fs.writeFileSync(file, next)
}

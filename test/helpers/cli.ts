/**
 * Test helpers: a throwaway project folder holding a copy of the shipped configs, and the real
 * CLI spawned on it (the same entry point `npx llmsim` uses).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const BIN = path.join(REPO, "bin", "llmsim.js")
/** The reference data shipped in the repository (data/reference/README.md). */
export const REFERENCE = path.join(REPO, "data", "reference")

/** A temp folder with `configs/` copied from the repository. */
export const makeProject = (prefix = "llmsim-test-"): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  return dir
}

export interface CliResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

export const runCli = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}): CliResult => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    timeout: 120_000,
    maxBuffer: 512 * 1024 * 1024
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Start the CLI without waiting (watch mode). */
export const startCli = (args: ReadonlyArray<string>, cwd: string) =>
  spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })

export const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, "utf8"))

export const edit = (file: string, f: (text: string) => string): void => {
  const text = fs.readFileSync(file, "utf8")
  const next = f(text)
  if (next === text) throw new Error(`edit did not change ${file}`)
  fs.writeFileSync(file, next)
}

/**
 * A real git repository in a temp folder holding the shipped configs (test helper).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { makeProject } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

export const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
export const MOE = "configs/models/deepseek-v3/moe_layer_config.yaml"
export const DENSE = "configs/models/deepseek-v3/ffn_layer_config.yaml"

export const git = (dir: string, ...args: Array<string>): string =>
  execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } }).trim()

/**
 * A project folder with the shipped configs, a plain-object llmsim.config.ts naming the
 * default scenario (no import: the temp folder has no src/), and one commit.
 */
export const makeRepo = (prefix = "llmsim-diff-"): string => {
  const dir = makeProject(prefix)
  fs.writeFileSync(path.join(dir, "llmsim.config.ts"), `export default { defaultScenario: "${SCENARIO}" }\n`)
  fs.writeFileSync(path.join(dir, ".gitignore"), "cache/\n")
  git(dir, "init", "-q")
  git(dir, "config", "user.name", "llmsim test")
  git(dir, "config", "user.email", "test@example.com")
  git(dir, "config", "commit.gpgsign", "false")
  commitAll(dir, "shipped configs")
  return dir
}

export const commitAll = (dir: string, message: string): string => {
  git(dir, "add", "-A")
  git(dir, "commit", "-q", "-m", message)
  return git(dir, "rev-parse", "HEAD")
}

/** A temp folder outside the repository for traces and outputs. */
export const scratch = (): string => tempDir("llmsim-diff-out-")

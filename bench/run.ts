/**
 * `npm run bench`: speed figures measured side by side in one run, so machine noise cancels in
 * the ratios. Writes bench/results/latest.json and prints a summary.
 *
 * Build graph (issues: incremental build graph; 13, the command node; the config cache), in a
 * project folder as `llmsim init` makes one: an `llmsim.config.ts` (the repository's own, its
 * `defineConfig` import pointed at this installation) whose defaultScenario is the 61-layer
 * DeepSeek-V3 H800 scenario, and a plain `llmsim run` (what `npm start` runs):
 * - node_e0_ms: fresh `node -e 0` (the floor for any CLI on this Node)
 * - cached_run_ms: fresh process, the same `llmsim run` again: bin/llmsim.js replays the recorded
 *   command (src/launch/command.js)
 * - cold_run_ms: the same with --no-cache (everything computed, nothing replayed)
 * - edit_to_result_ms: after editing one field of the MoE template, the run that shows the result
 *   (a miss: the bundled CLI loads, unchanged nodes come from the store)
 * Ratios: cached / node -e 0 (acceptance <= 2), edit / node -e 0 (<= 5), cold / cached.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median } from "../src/reference/stats.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

const time = (args: ReadonlyArray<string>, cwd: string): number => {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { cwd, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`)
  return ms
}

export const benchBuildGraph = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  // The repository's llmsim.config.ts, importing defineConfig from this installation by a
  // relative path as `llmsim init` writes it (src/cli/init.ts).
  const define = path
    .relative(dir, path.join(REPO, "src", "config", "define.ts"))
    .split(path.sep)
    .join("/")
  const config = fs.readFileSync(path.join(REPO, "llmsim.config.ts"), "utf8").replace('"./src/config/define.ts"', JSON.stringify(define))
  if (!config.includes(define)) throw new Error("bench: llmsim.config.ts no longer imports ./src/config/define.ts")
  fs.writeFileSync(path.join(dir, "llmsim.config.ts"), config)
  // The default scenario and output (the run table), as `npm start` prints it.
  const run = [BIN, "run"]
  time(run, dir) // warm the store
  const nodeE0: Array<number> = []
  const cached: Array<number> = []
  const cold: Array<number> = []
  const edit: Array<number> = []
  const moe = path.join(dir, "configs/models/deepseek-v3/moe_layer_config.yaml")
  const original = fs.readFileSync(moe, "utf8")
  for (let i = 0; i < ROUNDS; i++) {
    nodeE0.push(time(["-e", "0"], dir))
    cached.push(time(run, dir))
    cold.push(time([...run, "--no-cache"], dir))
    // One-field edit: a different moe_intermediate_size each round so the result is always new.
    fs.writeFileSync(moe, original.replace(/moe_intermediate_size:\s*\d+/, `moe_intermediate_size: ${2048 + 128 * (i + 1)}`))
    edit.push(time(run, dir))
  }
  fs.writeFileSync(moe, original)
  fs.rmSync(dir, { recursive: true, force: true })
  const m = { node_e0_ms: median(nodeE0), cached_run_ms: median(cached), cold_run_ms: median(cold), edit_to_result_ms: median(edit) }
  return {
    ...m,
    cached_over_node_e0: m.cached_run_ms / m.node_e0_ms,
    edit_over_node_e0: m.edit_to_result_ms / m.node_e0_ms,
    cold_over_cached: m.cold_run_ms / m.cached_run_ms,
    edit_over_cached: m.edit_to_result_ms / m.cached_run_ms,
    rounds: ROUNDS
  }
}

/**
 * BENCH_ONLY=name[,name] runs only those benches (`build_graph`, or a bench/<name>.bench.ts) and
 * updates their keys in latest.json, keeping the others' last figures (each bench records its date).
 */
const main = async () => {
  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim())
  const wanted = (name: string) => only === undefined || only.includes(name)
  const file = path.join(REPO, "bench", "results", "latest.json")
  const previous: Record<string, unknown> = only !== undefined && fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {}
  const results: Record<string, unknown> = { ...previous, date: new Date().toISOString(), node: process.version, cpus: os.cpus().length }
  const stamp = (r: object) => ({ ...r, measured: new Date().toISOString() })
  if (wanted("build_graph")) results.build_graph = stamp(benchBuildGraph())
  for (const extra of fs
    .readdirSync(path.join(REPO, "bench"))
    .filter((f) => f.endsWith(".bench.ts"))
    .sort()) {
    const name = extra.replace(/\.bench\.ts$/, "")
    if (!wanted(name)) continue
    const mod = await import(path.join(REPO, "bench", extra))
    results[name] = stamp(await mod.run())
  }
  fs.mkdirSync(path.join(REPO, "bench", "results"), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n")
  process.stdout.write(JSON.stringify(results, null, 2) + "\n")
}

if (import.meta.url === `file://${process.argv[1]}`) await main()

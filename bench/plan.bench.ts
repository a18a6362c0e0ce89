/**
 * `llmsim plan` (issue 26), each a fresh CLI process as a user runs it: DeepSeek-V3 (the default
 * scenario, H800 layout DEP16, budget 32 GPUs) and Llama-3.1-70B (TP8, budget 16 GPUs), each over
 * four hardware files (H100, H200, H800, B200), aggregated and disaggregated; then the same
 * command again, replayed from its record (acceptance: under 60 s each on 2 cores, a rerun under 2 s);
 * then with `--format json`, which no record holds: its rate searches replay as `capacity` nodes
 * of the store (src/sim/capacityNode.ts).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const HARDWARE = ["H100-SXM", "H200-SXM", "H800-SXM", "B200"].map((h) => `configs/hardware/${h}.yaml`).join(",")

const timed = (args: ReadonlyArray<string>, cwd: string): { ms: number; stdout: string } => {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", maxBuffer: 1 << 26 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`llmsim ${args.join(" ")} failed: ${r.stderr}`)
  return { ms, stdout: r.stdout }
}

export const run = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-plan-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  const out: Record<string, { first_ms: number; rerun_ms: number; other_format_ms: number; first_over_other_format: number; answer: string }> = {}
  for (const [name, scenario, gpus] of [
    ["deepseek_v3", "configs/scenarios/deepseek_v3_h800.yaml", "32"],
    ["llama_3_1_70b", "configs/scenarios/llama_3_1_70b_h100.yaml", "16"]
  ] as const) {
    const args = ["plan", scenario, "--hardware", HARDWARE, "--gpus", gpus]
    const first = timed(args, dir)
    const again = timed(args, dir)
    if (again.stdout !== first.stdout) throw new Error(`plan ${name}: the rerun printed something else`)
    const json = timed([...args, "--format", "json"], dir)
    out[name] = {
      first_ms: Math.round(first.ms),
      rerun_ms: Math.round(again.ms),
      other_format_ms: Math.round(json.ms),
      first_over_other_format: first.ms / json.ms,
      answer: /^answer: (.*)$/m.exec(first.stdout)?.[1] ?? "none"
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return out
}

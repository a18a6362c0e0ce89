/**
 * `llmsim bench` (issue 25), each a fresh CLI process with --no-cache and its peak RSS
 * (bench/rss-probe.mjs, in the re-executed child too), as a user runs it:
 * - dsv3_dep8_10k: 10,000 requests of 1000/1000 at max load on DeepSeek-V3 (FP8, H200, attention
 *   DP8 + EP8, TensorRT-LLM's engine model); simulation_ms = the run less the same command with
 *   one request (start-up, loading, the step grid's first points) (acceptance: < 2 s)
 * - trace_100k / trace_1m: a JSON Lines trace of 100,000 and 1,000,000 requests (Poisson arrivals
 *   at 400 req/s, prompts 64-1024 and outputs 16-128 tokens, cycling a fixed pattern) replayed on
 *   Llama-3.1-8B (TP1, H100, vLLM); peak RSS of each, and their ratio (acceptance: flat, 1M under
 *   300 MB)
 * Times are medians of BENCH_SERVE_ROUNDS (default 3) runs (the traces run once).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median } from "../src/reference/stats.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")
const PROBE = path.join(REPO, "bench", "rss-probe.mjs")
const ROUNDS = Number(process.env.BENCH_SERVE_ROUNDS ?? 3)

const measure = (args: ReadonlyArray<string>, cwd: string): { ms: number; rss_mb: number; stdout: string } => {
  const rssFile = path.join(cwd, `.rss-${process.pid}`)
  const t0 = process.hrtime.bigint()
  // NODE_OPTIONS, not argv: bench re-executes in a child Node with its heap flags
  // (bin/llmsim.js), and the probe must run in both to report the child's peak.
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${PROBE}` }
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`llmsim ${args.join(" ")} failed: ${r.stderr}`)
  const rss_mb = Math.round(Number(fs.readFileSync(rssFile, "utf8")) / 1024)
  fs.rmSync(rssFile)
  return { ms, rss_mb, stdout: r.stdout }
}

const DSV3_DEP8 = `name: deepseek-v3-h200-dep8
hardware: configs/hardware/H200-SXM.yaml
layers:
  - {type: ffn_layer, config: configs/models/deepseek-v3/ffn_layer_config.yaml, repeat: 3}
  - {type: moe_layer, config: configs/models/deepseek-v3/moe_layer_config.yaml, repeat: 58}
lm_head: {vocab_size: 129280, d_model: 7168}
precision: {weights: fp8, activations: bf16, kv_cache: fp8, lm_head: bf16}
parallelism: {tp: 1, dp: 8, ep: 8}
`

/** `n` trace lines: Poisson gaps at 400 req/s from a fixed LCG, lengths cycling a fixed pattern. */
const writeTrace = (file: string, n: number): void => {
  const fd = fs.openSync(file, "w")
  let seed = 12345
  let t = 0
  let chunk = ""
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    t += (-Math.log(1 - seed / 2147483648) / 400) * 1000
    chunk += `{"timestamp": ${Math.round(t)}, "input_length": ${64 + ((i * 97) % 961)}, "output_length": ${16 + ((i * 31) % 113)}}\n`
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk)
      chunk = ""
    }
  }
  fs.writeSync(fd, chunk)
  fs.closeSync(fd)
}

export const run = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-serve-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  fs.writeFileSync(path.join(dir, "dep8.yaml"), DSV3_DEP8)
  const dep8 = ["bench", "dep8.yaml", "--engine", "trtllm", "--random-input-len", "1000", "--random-output-len", "1000", "--no-cache"]
  const full: Array<number> = []
  const one: Array<number> = []
  let rss = 0
  for (let i = 0; i < ROUNDS; i++) {
    one.push(measure([...dep8, "--num-prompts", "1"], dir).ms)
    const m = measure([...dep8, "--num-prompts", "10000"], dir)
    full.push(m.ms)
    rss = Math.max(rss, m.rss_mb)
  }
  const traces: Record<string, { requests: number; ms: number; rss_mb: number }> = {}
  for (const n of [100_000, 1_000_000]) {
    const file = path.join(dir, `trace-${n}.jsonl`)
    writeTrace(file, n)
    const m = measure(["bench", "configs/scenarios/llama_3_1_8b_h100.yaml", "--dataset-name", "trace", "--dataset-path", file, "--no-cache"], dir)
    if (!m.stdout.includes(`Successful requests:                     ${n}`)) throw new Error(`trace of ${n}: not every request completed`)
    traces[n === 100_000 ? "trace_100k" : "trace_1m"] = { requests: n, ms: Math.round(m.ms), rss_mb: m.rss_mb }
    fs.rmSync(file)
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return {
    dsv3_dep8_10k: {
      requests: 10_000,
      run_ms: Math.round(median(full)),
      one_request_ms: Math.round(median(one)),
      simulation_ms: Math.round(median(full) - median(one)),
      rss_mb: rss,
      rounds: ROUNDS
    },
    ...traces,
    trace_rss_1m_over_100k: traces.trace_1m.rss_mb / traces.trace_100k.rss_mb
  }
}

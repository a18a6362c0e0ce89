/**
 * `llmsim sweep --bench` through the real CLI, checked against `llmsim bench`: the rate a layout
 * is answered with, replayed by bench at the same seed and the probe's request count, meets the
 * SLO at the percentile and gives the row's figures; without SLOs each layout is its max-load
 * run. Flags of the other mode are refused, each with one line.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { listEntryFiles } from "../../src/graph/maintenance.ts"
import { entryKind, entryText } from "../../src/graph/store.ts"
import { makeProject, runCli } from "../helpers/cli.ts"

const LLAMA = "configs/scenarios/llama_3_1_8b_h100.yaml"
const WORK = ["--random-input-len", "256", "--random-output-len", "32", "--num-prompts", "300", "--seed", "2"]

interface Row {
  readonly tp: number
  readonly gpus: number
  readonly capacity_rps: number
  readonly max_rate_rps: number | "inf"
  readonly output_tokens_per_s_per_gpu: number
  readonly tpot_ms: number
  readonly probe_requests: number
}

describe("llmsim sweep --bench (CLI)", () => {
  it("answers each layout with a rate that bench confirms meets the SLO", () => {
    const dir = makeProject()
    // bench has no layout flags: the tp 2 layout as a scenario file saying so.
    const text = fs.readFileSync(path.join(dir, LLAMA), "utf8")
    fs.writeFileSync(path.join(dir, "configs/scenarios/llama_tp2.yaml"), text.replace(/^  tp: 1 /m, "  tp: 2 "))
    const r = runCli(["sweep", LLAMA, "--bench", "--tp", "1,2", ...WORK, "--goodput", "tpot:20", "--format", "json"], dir)
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout).sweep_bench as { rows: ReadonlyArray<Row>; best: { goodput_per_gpu: number } }
    expect(out.rows.map((x) => x.tp)).toEqual([1, 2])
    for (const row of out.rows) {
      expect(typeof row.max_rate_rps).toBe("number")
      const rate = row.max_rate_rps as number
      expect(rate).toBeLessThan(row.capacity_rps)
      // The probe at that rate covered the max-load probe's simulated time (src/sweep/bench.ts).
      const n = Math.max(200, Math.min(row.probe_requests, Math.ceil((row.probe_requests * rate) / row.capacity_rps)))
      const b = runCli(
        [
          "bench",
          row.tp === 1 ? LLAMA : "configs/scenarios/llama_tp2.yaml",
          ...WORK.slice(0, 4),
          "--seed",
          "2",
          "--num-prompts",
          String(n),
          "--request-rate",
          String(rate),
          "--metric-percentiles",
          "99",
          "--format",
          "json"
        ],
        dir
      )
      expect(b.status, b.stderr).toBe(0)
      const m = JSON.parse(b.stdout)
      expect(m.p99_tpot_ms).toBeLessThanOrEqual(20)
      expect(m.p99_tpot_ms).toBeCloseTo(row.tpot_ms, 9)
      expect(m.output_throughput / row.gpus).toBeCloseTo(row.output_tokens_per_s_per_gpu, 6)
    }
  })

  it("without SLOs answers every layout with its max-load run", () => {
    const dir = makeProject()
    const r = runCli(["sweep", LLAMA, "--bench", ...WORK, "--format", "json"], dir)
    expect(r.status, r.stderr).toBe(0)
    const row = JSON.parse(r.stdout).sweep_bench.rows[0] as Row
    expect(row.max_rate_rps).toBe("inf")
    const b = runCli(["bench", LLAMA, ...WORK, "--format", "json"], dir)
    expect(JSON.parse(b.stdout).output_throughput / row.gpus).toBeCloseTo(row.output_tokens_per_s_per_gpu, 6)
    // The layout's search is a `capacity` node of the store (src/sim/capacityNode.ts): a rerun replays it, same bytes.
    const again = runCli(["sweep", LLAMA, "--bench", ...WORK, "--format", "json"], dir)
    expect(again.stdout).toBe(r.stdout)
    // Proof it was replayed, and the store's trust rule: a forged search is served until cache verify recomputes it.
    const cache = path.join(dir, "cache")
    const file = listEntryFiles(cache)
      .map((f) => f.file)
      .find((f) => entryKind(f) === "capacity")!
    const text = fs.readFileSync(file, "utf8")
    const entry = JSON.parse(text.slice(text.indexOf("\n") + 1))
    // Poisoned as docs/caching.md "Trust" has it: output edited, its digest and the checksum line recomputed.
    entry.output.best.output_tokens_per_s *= 2
    entry.output_digest = digest(entry.output)
    fs.writeFileSync(file, entryText(entry))
    const forged = runCli(["sweep", LLAMA, "--bench", ...WORK, "--format", "json"], dir)
    expect((JSON.parse(forged.stdout).sweep_bench.rows[0] as Row).output_tokens_per_s_per_gpu).toBeCloseTo(2 * row.output_tokens_per_s_per_gpu, 6)
    // (--repair and the recomputation after it are the same for every node kind: test/graph/cache-trust.test.ts.)
    const verify = runCli(["cache", "verify", "--sample", "0"], dir)
    expect(verify.status).toBe(1)
    expect(verify.stdout + verify.stderr).toMatch(/capacity/)
  })

  it("--shard k/n searches one slice of the layouts and says which", () => {
    const r = runCli(["sweep", LLAMA, "--bench", "--tp", "1,2", ...WORK, "--shard", "2/2"], makeProject())
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain("shard 2/2: layouts 1..1 of 2")
    expect(r.stdout).toMatch(/goodput, requests\/s per GPU: [0-9.]+ at tp=2 \(2 GPUs/)
  })

  it("refuses the other mode's flags with one line", () => {
    const dir = makeProject()
    for (const [args, message] of [
      [["--bench", "--batch", "1,2"], /^error: --batch: sweep --bench varies hardware, weights, kv-cache, moe-experts, tp, dp, ep/],
      [["--engine", "vllm"], /^error: --engine: only with --bench$/m],
      [["--bench", "--max-tpot-ms", "30"], /^error: --max-tpot-ms \(use --goodput tpot:MS\): not with --bench$/m],
      [["--bench", "--objective", "tokens_per_s_per_user"], /^error: --objective tokens_per_s_per_user: with --bench one of /]
    ] as const) {
      const r = runCli(["sweep", LLAMA, ...args], dir)
      expect(r.status, args.join(" ")).not.toBe(0)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  })
})

/**
 * `llmsim export` through the real CLI: a new folder with the launch script, the benchmark script,
 * the prediction and a README stating it; the same command again with --force writes the same
 * bytes; an existing folder is refused without --force and left as it was.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

const LLAMA = "configs/scenarios/llama_3_1_8b_h100.yaml"
const ARGS = [
  "export",
  LLAMA,
  "--hf-model",
  "meta-llama/Llama-3.1-8B-Instruct",
  "--num-prompts",
  "50",
  "--random-input-len",
  "256",
  "--random-output-len",
  "32"
]

const read = (dir: string): Record<string, string> =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])
  )

describe("llmsim export (CLI)", () => {
  it("writes the deployment's files, the same bytes again with --force, and states the prediction", () => {
    const dir = makeProject()
    const a = runCli([...ARGS, "--engine", "sglang", "--prefill-instances", "1", "--decode-instances", "2", "--out", "deploy"], dir)
    expect(a.status, a.stderr).toBe(0)
    const first = read(path.join(dir, "deploy"))
    expect(Object.keys(first)).toEqual(["README.md", "bench.sh", "launch.sh", "predicted.json"])
    expect(fs.statSync(path.join(dir, "deploy", "launch.sh")).mode & 0o111).not.toBe(0)
    // Three servers (1P + 2D) on their own ports behind the router on 8000.
    expect(first["launch.sh"]!.match(/--disaggregation-mode (prefill|decode)/g)).toEqual([
      "--disaggregation-mode prefill",
      "--disaggregation-mode decode",
      "--disaggregation-mode decode"
    ])
    expect(first["launch.sh"]).toMatch(
      /--prefill http:\/\/127\.0\.0\.1:8001 \\\n {2}--decode http:\/\/127\.0\.0\.1:8002 \\\n {2}--decode http:\/\/127\.0\.0\.1:8003 \\\n {2}--port 8000/
    )
    // The README's figures are predicted.json's.
    const predicted = JSON.parse(first["predicted.json"]!)
    expect(first["README.md"]).toContain(`- output throughput: ${predicted.output_throughput.toFixed(2)} tok/s`)
    expect(first["README.md"]).toContain(`- TPOT mean / P99: ${predicted.mean_tpot_ms.toFixed(2)} / ${predicted.p99_tpot_ms.toFixed(2)} ms`)
    // The memory settings written are the simulator's.
    const decode = predicted.llmsim.setup.disaggregated.decode.engine
    expect(first["launch.sh"]).toContain(`--mem-fraction-static ${decode.memory_fraction}`)
    expect(first["launch.sh"]).toContain(`--max-running-requests ${decode.max_running}`)

    const refused = runCli([...ARGS, "--engine", "sglang", "--out", "deploy"], dir)
    expect(refused.status).not.toBe(0)
    expect(refused.stderr).toMatch(/^error: --out: deploy exists and is not empty: export writes a new folder \(--force replaces the files it writes\)\n$/)
    expect(read(path.join(dir, "deploy"))).toEqual(first)

    const again = runCli([...ARGS, "--engine", "sglang", "--prefill-instances", "1", "--decode-instances", "2", "--out", "deploy", "--force"], dir)
    expect(again.status, again.stderr).toBe(0)
    expect(read(path.join(dir, "deploy"))).toEqual(first)
  })

  it("an engine version it has no argument list for is one line, before anything runs", () => {
    const dir = makeProject()
    const r = runCli([...ARGS, "--engine", "sglang", "--engine-version", "0.4.3", "--out", "x"], dir)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toBe("error: --engine-version 0.4.3: export has sglang v0.5.6 only (its defaults and argument lists, data/engines: docs/export.md)\n")
    expect(fs.existsSync(path.join(dir, "x"))).toBe(false)
  })

  it("TensorRT-LLM: trtllm-serve with its extra options file and trtllm-bench", () => {
    const dir = makeProject()
    const r = runCli([...ARGS, "--engine", "trtllm", "--out", "t"], dir)
    expect(r.status, r.stderr).toBe(0)
    const files = read(path.join(dir, "t"))
    expect(Object.keys(files)).toEqual(["README.md", "bench.sh", "launch.sh", "predicted.json", "server.yml"])
    const engine = JSON.parse(files["predicted.json"]!).llmsim.setup.engine
    expect(files["server.yml"]).toContain(`  free_gpu_memory_fraction: ${engine.memory_fraction}`)
    expect(files["launch.sh"]).toContain(`--max_batch_size ${engine.max_running}`)
    expect(files["bench.sh"]).toContain("trtllm-bench --model meta-llama/Llama-3.1-8B-Instruct throughput")
  })
})

describe("llmsim export --plan", () => {
  it("writes the plan's deployment: its layout, replicas or pools, its rate and SLOs", () => {
    const dir = makeProject()
    const plan = runCli(
      [
        "plan",
        LLAMA,
        "--gpus",
        "4",
        "--random-input-len",
        "256",
        "--random-output-len",
        "32",
        "--num-prompts",
        "300",
        "--format",
        "json",
        "--out",
        "plan.json"
      ],
      dir
    )
    expect(plan.status, plan.stderr).toBe(0)
    const p = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")).plan
    for (const mode of ["aggregated", "disaggregated"] as const) {
      const best = p.best[mode]
      const r = runCli(["export", "--plan", "plan.json", "--mode", mode, "--hf-model", "m", "--out", mode], dir)
      expect(r.status, r.stderr).toBe(0)
      const launch = fs.readFileSync(path.join(dir, mode, "launch.sh"), "utf8")
      const predicted = JSON.parse(fs.readFileSync(path.join(dir, mode, "predicted.json"), "utf8"))
      if (mode === "aggregated") {
        const s = best.pools.server
        expect(launch.match(/^CUDA_VISIBLE_DEVICES=\S+ vllm serve/gm)).toHaveLength(s.instances)
        expect(launch).toContain(`--tensor-parallel-size ${s.parallelism.tp}`)
        // One replica's share of the plan's rate.
        expect(predicted.request_rate).toBeCloseTo(best.figures.rate_rps / s.instances, 9)
      } else {
        expect(launch.match(/--kv-transfer-config/g)).toHaveLength(best.pools.prefill.instances + best.pools.decode.instances)
        expect(predicted.request_rate).toBeCloseTo(best.figures.rate_rps, 9)
        expect(predicted.llmsim.setup.disaggregated.prefill.instances).toBe(best.pools.prefill.instances)
      }
      expect(predicted.llmsim.workload.goodput).toEqual(p.slo)
    }
    fs.writeFileSync(path.join(dir, "notes.txt"), "not a plan\n")
    const bad = runCli(["export", "--plan", "notes.txt", "--hf-model", "m", "--out", "z"], dir)
    expect(bad.stderr).toMatch(/^error: --plan: notes\.txt: not JSON/)
    expect(fs.existsSync(path.join(dir, "z"))).toBe(false)
  })
})

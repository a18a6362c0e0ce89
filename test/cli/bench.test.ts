/**
 * `llmsim bench` through the real CLI: the JSON carries vLLM's result keys, `--requests` streams
 * one line per request, `--compare` lines a measured `vllm bench serve --save-result` file up with
 * the prediction field by field (the measured numbers here are made up by hand, so each error is
 * known), and a rerun with the same inputs prints the same bytes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const SMALL = ["--num-prompts", "20", "--random-input-len", "128", "--random-output-len", "16", "--request-rate", "50", "--seed", "3"]

describe("llmsim bench (CLI)", () => {
  it("writes vLLM's result keys, streams each request, and compares with a measured result", () => {
    const dir = makeProject()
    const json = runCli(["bench", LLAMA, ...SMALL, "--format", "json", "--requests", "reqs.jsonl", "--out", "predicted.json"], dir)
    expect(json.status, json.stderr).toBe(0)
    const p = JSON.parse(fs.readFileSync(path.join(dir, "predicted.json"), "utf8"))
    for (const k of ["duration", "completed", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput"])
      expect(typeof p[k], k).toBe("number")
    for (const m of ["ttft", "tpot", "itl", "e2el"])
      for (const s of ["mean", "median", "std", "p90", "p99"]) expect(typeof p[`${s}_${m}_ms`], `${s}_${m}_ms`).toBe("number")
    expect(p.completed).toBe(20)
    expect(p.total_input_tokens).toBe(20 * 128)
    expect(p.total_output_tokens).toBe(20 * 16)
    expect(p.llmsim.setup.engine.engine).toBe("vllm")
    const lines = fs.readFileSync(path.join(dir, "reqs.jsonl"), "utf8").trimEnd().split("\n")
    expect(lines).toHaveLength(20)
    expect(JSON.parse(lines[0]).itls_ms).toHaveLength(15)

    // A measured file with output_throughput exactly twice the prediction and TTFT equal: -50% and 0%.
    const measured = { completed: 20, output_throughput: p.output_throughput * 2, mean_ttft_ms: p.mean_ttft_ms, mean_queue_ms: 3 }
    fs.writeFileSync(path.join(dir, "measured.json"), JSON.stringify(measured))
    const cmp = runCli(["bench", LLAMA, ...SMALL, "--compare", "measured.json"], dir)
    expect(cmp.status, cmp.stderr).toBe(0)
    expect(cmp.stdout).toMatch(/^output_throughput +\S+ +\S+ +-50\.0%$/m)
    expect(cmp.stdout).toMatch(/^mean_ttft_ms +\S+ +\S+ +\+0\.0%$/m)
    expect(cmp.stdout).toMatch(/^completed +20\.0 +20\.0 +\+0\.0%$/m)
    expect(cmp.stdout).toMatch(/^measured only: mean_queue_ms$/m)
    // The same inputs, the same bytes (the first run's record may replay it: same answer either way).
    const again = runCli(["bench", LLAMA, ...SMALL, "--compare", "measured.json"], dir)
    expect(again.stdout).toBe(cmp.stdout)
  })
})

describe("llmsim bench --compare after the measured file changed", () => {
  it("compares with the new file, never a replay of the old answer", () => {
    const dir = makeProject()
    fs.writeFileSync(path.join(dir, "m.json"), JSON.stringify({ completed: 10 }))
    const a = runCli(["bench", LLAMA, ...SMALL, "--compare", "m.json"], dir)
    expect(a.stdout).toMatch(/^completed +20\.0 +10\.0 +\+100\.0%$/m)
    fs.writeFileSync(path.join(dir, "m.json"), JSON.stringify({ completed: 40 }))
    const b = runCli(["bench", LLAMA, ...SMALL, "--compare", "m.json"], dir)
    expect(b.stdout).toMatch(/^completed +20\.0 +40\.0 +-50\.0%$/m)
  })
})

describe("llmsim bench --format html", () => {
  it("draws the latency CDFs with each SLO and the share of requests within it, and the run over time", () => {
    const dir = makeProject()
    const r = runCli(["bench", LLAMA, ...SMALL, "--goodput", "ttft:30 tpot:40", "--format", "html", "--out", "b.html", "--requests", "reqs.jsonl"], dir)
    expect(r.status, r.stderr).toBe(0)
    const page = fs.readFileSync(path.join(dir, "b.html"), "utf8")
    for (const id of ["cdf-ttft", "cdf-tpot", "cdf-e2el", "throughput", "queue", "kv-cache"]) expect(page).toContain(`data-chart="${id}"`)
    // The share within the TTFT SLO, counted here from the streamed requests.
    const ttfts = fs
      .readFileSync(path.join(dir, "reqs.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).ttft_ms as number)
    const inside = ttfts.filter((t) => t <= 30).length
    // An SLO inside the distribution (median TTFT here is about 28 ms), so the share is neither 0 nor all.
    expect(inside).toBeGreaterThan(0)
    expect(inside).toBeLessThan(ttfts.length)
    const within = ((100 * inside) / ttfts.length).toFixed(1)
    expect(page).toContain(`TTFT CDF, SLO 30 ms (red): ${within}% of requests within it`)
    expect(page).toContain("E2E latency CDF</text>")
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/)
  })
})

describe("llmsim bench disaggregated (CLI)", () => {
  it("serves a heterogeneous xPyD block (prefill on H100, decode on H20) and prints both pools and the link", () => {
    const dir = makeProject()
    const text = fs.readFileSync(path.join(dir, LLAMA), "utf8")
    const block = [
      "disaggregation:",
      "  prefill: {instances: 1}",
      "  decode: {instances: 2, hardware: configs/hardware/H20.yaml, engine: {max_running: 64}}",
      "  transfer: {layerwise: true}",
      ""
    ].join("\n")
    fs.writeFileSync(path.join(dir, "configs/scenarios/pd.yaml"), `${text}\n${block}`)
    const r = runCli(["bench", "configs/scenarios/pd.yaml", ...SMALL, "--format", "json"], dir)
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    const d = out.llmsim.setup.disaggregated
    expect(d.prefill.hardware).toBe("H100-SXM")
    expect(d.decode.hardware).toBe("H20")
    expect(d.decode.instances).toBe(2)
    expect(d.decode.engine.max_running).toBe(64)
    // Three 8-GPU instances span nodes: the NIC, the slower end's rate, TP8 to TP8: 8 lanes.
    expect(d.transfer.link.kind).toBe("nic")
    expect(d.transfer.link.lanes).toBe(8)
    expect(d.transfer.layerwise).toBe(true)
    expect(out.completed).toBe(20)
    expect(out.llmsim.simulated.transfer.transfers).toBe(20)
    const table = runCli(["bench", "configs/scenarios/pd.yaml", ...SMALL], dir)
    expect(table.stdout).toMatch(/^decode +2 x \(tp 8 x dp 1, ep 1\) on H20: 16 GPUs/m)
    expect(table.stdout).toMatch(/^20 KV transfers/m)
  })

  it("a NIC transfer on hardware without a NIC is one positioned line", () => {
    const dir = makeProject()
    const text = fs.readFileSync(path.join(dir, LLAMA), "utf8").replace("configs/hardware/H100-SXM.yaml", "configs/hardware/NV-A100.yaml")
    fs.writeFileSync(path.join(dir, "configs/scenarios/pd.yaml"), `${text}\ndisaggregation:\n  transfer: {link: nic}\n`)
    const r = runCli(["bench", "configs/scenarios/pd.yaml", ...SMALL], dir)
    expect(r.status).not.toBe(0)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: configs\/scenarios\/pd\.yaml:\d+:\d+ disaggregation\.transfer\.link: A100-80GB has no nic_gbps/)
  })
})

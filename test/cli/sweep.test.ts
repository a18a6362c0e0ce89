/** `llmsim sweep` and `sweep merge` as a user runs them (two processes each; the rest is in test/sweep). */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeProject, runCli, startCli } from "../helpers/cli.ts"
import { commandErrors, runCommand, runOptions, sweepInProcess } from "../helpers/inProcess.ts"
import { sweepCommand } from "../../src/cli/sweep.ts"

let dir: string
beforeAll(() => {
  dir = makeProject("llmsim-sweep-cli-")
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("llmsim sweep (CLI)", () => {
  it("answers with the frontier and the best point, streams every point, and shards merge back", async () => {
    const args = ["sweep", "configs/scenarios/llama_3_1_70b_h100.yaml", "--batch", "1..64:x2", "--seq", "1024,4096", "--phase", "decode", "--max-tpot-ms", "30"]
    const r = runCli([...args, "--points", "all.csv"], dir)
    const frontier = (text: string) => text.slice(text.indexOf("Pareto frontier"))
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toBe("")
    expect(r.stdout).toMatch(/^sweep configs\/scenarios\/llama_3_1_70b_h100\.yaml: 14 points \(core model, decode\)\n/)
    expect(r.stdout).toMatch(
      /Pareto frontier \(decode-step tokens\/s per GPU against tokens\/s per user; served throughput under a request stream: llmsim bench\)/
    )
    expect(r.stdout).toMatch(/tokens\/s per GPU: [\d.]+ at seq=\d+ batch=\d+ \(8 GPUs/)
    expect(fs.readFileSync(path.join(dir, "all.csv"), "utf8").trimEnd().split("\n")).toHaveLength(15)
    // The shards in process (test/sweep covers them); the merge as a user runs it.
    for (const k of [1, 2]) {
      await sweepInProcess({
        run: runOptions(dir, "configs/scenarios/llama_3_1_70b_h100.yaml", { runtime: { phase: "decode" } }),
        axes: { batch: "1..64:x2", seq: "1024,4096" },
        constraints: { tpot_ms_max: 30 },
        shard: { k, n: 2 },
        points_file: path.join(dir, `s${k}.jsonl`),
        workers: 1
      })
    }
    const m = runCli(["sweep", "merge", "s1.jsonl", "s2.jsonl"], dir)
    expect(m.status, m.stderr).toBe(0)
    expect(m.stdout).toMatch(/merged from 2 shard files/)
    expect(frontier(m.stdout)).toBe(frontier(r.stdout))

    // A shard edited by hand: one line on stderr naming file, line, field, stored and recomputed
    // values (the recomputed one is the unsharded sweep's, from all.csv), exit 1, nothing on stdout.
    const csv = fs.readFileSync(path.join(dir, "all.csv"), "utf8").trimEnd().split("\n")
    const column = csv[0].split(",").indexOf("tokens_per_s_per_gpu")
    const lines = fs.readFileSync(path.join(dir, "s1.jsonl"), "utf8").trimEnd().split("\n")
    lines[3] = lines[3].replace(/"tokens_per_s_per_gpu":[^,]+/, '"tokens_per_s_per_gpu":99999')
    fs.writeFileSync(path.join(dir, "s1-edited.jsonl"), `${lines.join("\n")}\n`)
    const edited = runCli(["sweep", "merge", "s1-edited.jsonl", "s2.jsonl"], dir)
    expect(edited.status).toBe(1)
    expect(edited.stdout).toBe("")
    expect(edited.stderr).toBe(
      `error: sweep merge: s1-edited.jsonl:4:${lines[3].indexOf('"tokens_per_s_per_gpu"') + 1} tokens_per_s_per_gpu: stored 99999, recomputed ${csv[3].split(",")[column]} (point 2: the row was edited, or written by other code)\n`
    )
    fs.writeFileSync(path.join(dir, "empty.jsonl"), "")
    const empty = runCli(["sweep", "merge", "empty.jsonl", "s2.jsonl"], dir)
    expect([empty.status, empty.stdout, empty.stderr]).toEqual([
      1,
      "",
      "error: sweep merge: empty.jsonl:1:1: empty file (expected the JSON Lines of sweep --points FILE.jsonl)\n"
    ])
  })

  it.each([
    ["SIGINT (Ctrl-C)", 130, "SIGINT"],
    ["SIGTERM", 143, "SIGTERM"],
    ["SIGHUP", 129, "SIGHUP"]
  ] as const)("%s mid-sweep exits %i and leaves neither the points file, a temp file beside it, nor a cache pack", async (_name, code, sig) => {
    const out = path.join(dir, `interrupted-${sig}`)
    fs.mkdirSync(out)
    const child = startCli(
      [
        "sweep",
        "configs/scenarios/deepseek_v3_h800.yaml",
        "--strategy",
        "two-batch-overlap",
        "--phase",
        "decode",
        "--ep",
        "8..256:+8",
        "--batch",
        "1..1024",
        "--seq",
        "1024..32768:+1024",
        "--points",
        `interrupted-${sig}/points.csv`,
        "--cache-dir",
        `interrupted-${sig}/cache`
      ],
      dir
    )
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    // Interrupt once rows are streaming (the temp file beside points.csv exists) and the cache
    // pack is being written (its temp file in the store's tmp/ exists).
    const deadline = Date.now() + 60_000
    const tmpFolder = path.join(out, "cache", "v1", "tmp")
    const streaming = () => fs.readdirSync(out).some((f) => f.startsWith(".points.csv.")) && fs.existsSync(tmpFolder) && fs.readdirSync(tmpFolder).length > 0
    while (!streaming() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    expect(streaming()).toBe(true)
    child.kill(sig)
    expect(await exited).toBe(code)
    expect(fs.readdirSync(out).filter((f) => f !== "cache")).toEqual([])
    const packs = fs.existsSync(path.join(out, "cache", "v1", "sweep")) ? fs.readdirSync(path.join(out, "cache", "v1", "sweep")) : []
    expect(packs).toEqual([])
    const tmp = path.join(out, "cache", "v1", "tmp")
    expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([])
  })

  it("run with a list points to sweep; a bad axis names the flag (parsed before anything runs)", async () => {
    expect(await commandErrors(runCommand, ["--batch", "1,2,4"])).toEqual([
      '--batch: takes one value, got "1,2,4"; to compare several, use llmsim sweep --batch 1,2,4'
    ])
    expect(await commandErrors(sweepCommand, ["--batch", "4..1"])).toEqual(["--batch: range 4..1 runs backwards (4 > 1)"])
    expect(await commandErrors(sweepCommand, ["--shard", "3/2"])).toEqual(['--shard: expected k/n with 1 <= k <= n, got "3/2"'])
    expect(await commandErrors(sweepCommand, ["--bench", "--cluster", "mysql://db/x"])).toEqual(['--cluster: expected a postgres:// URL, got "mysql://db/x"'])
    expect(await commandErrors(sweepCommand, ["--tp", "1,2", "--cluster", "postgres://llmsim@db/llmsim"])).toEqual(["--cluster: only with --bench"])
  })

  it("--require-calibrated: a hardware with datasheet-only constants is refused in one line, exit 1, nothing on stdout", () => {
    const r = runCli(
      [
        "sweep",
        "configs/scenarios/llama_3_1_70b_h100.yaml",
        "--hardware",
        "configs/hardware/H200-SXM.yaml,configs/hardware/B200.yaml",
        "--tp",
        "8",
        "--phase",
        "decode",
        "--require-calibrated"
      ],
      dir
    )
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      "error: --require-calibrated: configs/hardware/B200.yaml is partial: memory, kernel_latency_us, tile, sm_load_gbps, attention_memory, interconnect, nic, link_latency_us, overlap_efficiency datasheet only (fit them with llmsim calibrate, or state their source in the file's calibration: block)"
    ])
  })
})

/**
 * The ML workflow's commands: features --align names the row it cannot match (real CLI), ml
 * train writes a model and ops shows what it covers (command values in process), and a corrupt
 * model file is one warning on stderr and an analytic run (real CLI); a measured time of 1e308 us (which
 * trained a model predicting TPOTs of 1e112 ms) is one positioned line with exit 1 (real CLI). The numbers are checked in
 * test/ml/endToEnd.test.ts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, REPO, runCli } from "../helpers/cli.ts"
import { commandInProcess, mlCommand, opsCommand } from "../helpers/inProcess.ts"

const SCENARIO = "configs/scenarios/llama_3_1_70b_h100.yaml"

describe("llmsim features / ml train / ops / run --estimator ml", () => {
  it("aligns, trains, lists coverage, and falls back from a corrupt model with one warning", async () => {
    const dir = makeProject("llmsim-ml-cli-")
    // Decode GEMMs of Llama-3.1-70B at TP8 (8,192 hidden, 1,280 = (64 + 2 x 8) x 128 / 8 qkv outputs).
    fs.writeFileSync(
      path.join(dir, "measured.csv"),
      [
        "kind,hardware,tokens,in_features,out_features,measured_us",
        "linear,H100-SXM,8,8192,1280,40",
        "linear,H100-SXM,16,8192,1280,41",
        "linear,H100-SXM,32,8192,1280,43",
        "linear,H100-SXM,8,8192,999,1"
      ].join("\n")
    )
    const aligned = runCli(["features", SCENARIO, "--batch", "8,16,32", "--phase", "decode", "--align", "measured.csv", "--out", "aligned.csv"], dir)
    expect(aligned.status, aligned.stderr).toBe(0)
    expect(aligned.stderr).toBe("measured.csv:5: not aligned: no linear op on H100-SXM with tokens=8 in_features=8192 out_features=999\n")
    const model = path.join(dir, "models", "mine.json")
    const trained = await commandInProcess(mlCommand, ["train", "--data", path.join(dir, "aligned.csv"), "--out", model])
    expect(trained).toMatch(/^wrote .*mine\.json: 3 rows \(sha256 [0-9a-f]{12}\), ml-random-forest 2\.1\.0, seed 20260101\n {2}gemm: 3 rows on H100-SXM;/)
    const opsOut = path.join(dir, "ops.json")
    await commandInProcess(opsCommand, [
      path.join(REPO, SCENARIO),
      "--batch",
      "16",
      "--phase",
      "decode",
      "--estimator",
      "ml",
      "--model",
      model,
      "--format",
      "json",
      "--no-cache",
      "--out",
      opsOut
    ])
    const qkv = JSON.parse(fs.readFileSync(opsOut, "utf8")).layers[0].ops.find((o: any) => o.op === "qkv_proj")
    expect([qkv.estimator, qkv.time_us > 0]).toEqual(["ml", true])
    fs.writeFileSync(path.join(dir, "models", "bad.json"), '{"format": "llmsim-ml-model", "format_version": 1')
    // A corrupt model: the run answers on the analytic roofline, with one warning naming the file and why.
    const bad = runCli(["run", SCENARIO, "--estimator", "ml", "--model", "models/bad.json"], dir)
    expect(bad.status, bad.stderr).toBe(0)
    expect(bad.stderr).toMatch(/^warning: --estimator ml: .*models\/bad\.json: not JSON \([^\n]*\); timing with the analytic roofline instead\n$/)
    expect(bad.stdout).toMatch(/estimator analytic/)
    // An aligned row measured at 1e308 us: refused at its line and column, no model written.
    const lines = fs.readFileSync(path.join(dir, "aligned.csv"), "utf8").split("\n")
    const header = lines.findIndex((l) => l.startsWith("schema_version,"))
    const col = lines[header]!.split(",").indexOf("measured_us")
    const row = lines[header + 2]!.split(",")
    const at = row.slice(0, col).join(",").length + 2
    row[col] = "1e308"
    lines[header + 2] = row.join(",")
    fs.writeFileSync(path.join(dir, "absurd.csv"), lines.join("\n"))
    const absurd = runCli(["ml", "train", "--data", "absurd.csv", "--out", "models/absurd.json"], dir)
    expect([absurd.status, absurd.stdout]).toEqual([1, ""])
    expect(absurd.stderr).toBe(
      `error: absurd.csv:${header + 3}:${at} measured_us: Expected a kernel time between 1e-3 and 1e9 us (its physical range), got "1e308"\n`
    )
    expect(fs.existsSync(path.join(dir, "models", "absurd.json"))).toBe(false)
  })
})

/**
 * The ML workflow through the real CLI (smoke): features --align names the row it cannot match,
 * ml train writes a model, ops shows what the model covers, and a corrupt model file is one line
 * on stderr with exit 1. The numbers are checked in process (test/ml/endToEnd.test.ts).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeProject, runCli } from "../helpers/cli.ts"

const SCENARIO = "configs/scenarios/llama_3_1_70b_h100.yaml"

describe("llmsim features / ml train / --estimator ml (real CLI)", () => {
  it("aligns, trains, lists coverage, and rejects a corrupt model in one line", () => {
    const dir = makeProject("llmsim-ml-cli-")
    // Decode GEMMs of Llama-3.1-70B at TP8 (8,192 hidden, 1,280 = (64 + 2 x 8) x 128 / 8 qkv outputs).
    fs.writeFileSync(path.join(dir, "measured.csv"), [
      "kind,hardware,tokens,in_features,out_features,measured_us",
      "linear,H100-SXM,8,8192,1280,40",
      "linear,H100-SXM,16,8192,1280,41",
      "linear,H100-SXM,32,8192,1280,43",
      "linear,H100-SXM,8,8192,999,1"
    ].join("\n"))
    const aligned = runCli(["features", SCENARIO, "--batch", "8,16,32", "--phase", "decode", "--align", "measured.csv", "--out", "aligned.csv"], dir)
    expect(aligned.status, aligned.stderr).toBe(0)
    expect(aligned.stderr).toBe("measured.csv:5: not aligned: no linear op on H100-SXM with tokens=8 in_features=8192 out_features=999\n")
    const trained = runCli(["ml", "train", "--data", "aligned.csv", "--out", "models/mine.json"], dir)
    expect(trained.status, trained.stderr).toBe(0)
    expect(trained.stdout).toMatch(/^wrote models\/mine\.json: 3 rows \(sha256 [0-9a-f]{12}\), ml-random-forest 2\.1\.0, seed 20260101\n {2}gemm: 3 rows on H100-SXM;/)
    const ops = runCli(["ops", SCENARIO, "--batch", "16", "--phase", "decode", "--estimator", "ml", "--model", "models/mine.json", "--format", "json"], dir)
    expect(ops.status, ops.stderr).toBe(0)
    const qkv = JSON.parse(ops.stdout).layers[0].ops.find((o: any) => o.op === "qkv_proj")
    expect([qkv.estimator, qkv.time_us > 0]).toEqual(["ml", true])
    fs.writeFileSync(path.join(dir, "models", "bad.json"), "{\"format\": \"llmsim-ml-model\", \"format_version\": 1")
    const bad = runCli(["run", SCENARIO, "--estimator", "ml", "--model", "models/bad.json"], dir)
    expect([bad.status, bad.stdout]).toEqual([1, ""])
    expect(bad.stderr).toMatch(/^error: .*models\/bad\.json: not JSON \([^\n]*\)\n$/)
  })
})

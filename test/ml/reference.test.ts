/**
 * The shipped model: `npm run models` (llmsim ml train --reference --out models/reference.json)
 * rebuilds models/reference.json bit for bit from the reference data in the repository, and the
 * file loads as an ML estimator.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { appLayer } from "../../src/app/services.ts"
import { referenceRows } from "../../src/cli/features.ts"
import { REFERENCE_DESCRIPTION, trainOn } from "../../src/cli/ml.ts"
import { alignedCsv } from "../../src/ml/align.ts"
import { decodeModel, modelText } from "../../src/ml/model.ts"
import { sha256 } from "../../src/base/sha256.js"
import { makeProject, REFERENCE, REPO } from "../helpers/cli.ts"
import { runEffect, runInProcess, runOptions } from "../helpers/inProcess.ts"

const SHIPPED = path.join(REPO, "models", "reference.json")

describe("models/reference.json", () => {
  it("is what npm run models builds from data/reference, byte for byte", async () => {
    const rows = await runEffect(referenceRows(REFERENCE).pipe(Effect.provide(appLayer({ cwd: REPO, noCache: true }))))
    const shipped = fs.readFileSync(SHIPPED, "utf8")
    const file = JSON.parse(shipped)
    // First the cheap check that names the cause: the training data changed.
    expect(file.training_data.sha256, "data/reference or the features changed: run npm run models").toBe(sha256(alignedCsv(rows)))
    expect(modelText(trainOn(rows, REFERENCE_DESCRIPTION)) === shipped, "models/reference.json is stale: run npm run models").toBe(true)
  })

  it("loads, with heads for dense and grouped GEMMs, MLA decoding and GQA prefill", () => {
    const m = decodeModel(fs.readFileSync(SHIPPED, "utf8"))
    if (typeof m === "string") throw new Error(m)
    expect(m.heads.map((h) => h.model.head)).toEqual(["grouped_gemm", "gemm", "mla_attention_decode", "gqa_attention_prefill"])
    // Grouped rows: DeepGEMM's H800 contiguous and masked tables and the H20 masked runs of PR #116.
    expect(m.heads[0].model.hardware).toEqual(["H20", "H800-SXM"])
    expect(m.heads[1].model.hardware).toEqual(["H100-SXM", "H20", "H200-SXM", "H800-SXM"])
  })

  it("times the default scenario's decode MoE experts through the grouped head; prefill's fall back, saying why", async () => {
    const dir = makeProject("llmsim-ml-ref-")
    // llmsim.config.ts defaultScenario.
    const run = await runInProcess(runOptions(dir, "configs/scenarios/deepseek_v3_h800.yaml", { noCache: true, estimator: "ml", model: SHIPPED }))
    const experts = (phase: "prefill" | "decode") => run.out.result.phases[phase]!.layers.flatMap((l) => l.breakdown).filter((o) => o.kind === "moe_experts")
    // Decode: 8 sequences on each of 16 ranks, top-8 of 256 experts over EP16: 4 routed rows per
    // expert, one 64-row block, the masked layout the H800 and H20 masked rows cover.
    const decode = experts("decode")
    expect(decode.length).toBeGreaterThan(0)
    expect(decode.every((o) => o.estimator === "ml" && /^grouped_gemm head over 2 GEMMs: analytic x /.test(o.estimator_note ?? ""))).toBe(true)
    // Prefill: 32,768 tokens a rank, 16,384 rows an expert: 128 blocks of 128, beyond the 64 of the largest measured call.
    const prefill = experts("prefill")
    expect(prefill.every((o) => o.estimator === "analytic-fallback")).toBe(true)
    expect(prefill[0].estimator_note).toMatch(/^GEMM 1 of 2 \(grouped_gemm\): m_blocks_per_group = 128 is outside the training envelope \[1, 64\]$/)
  })
})

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
import { REFERENCE, REPO } from "../helpers/cli.ts"
import { runEffect } from "../helpers/inProcess.ts"

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

  it("loads, with heads for GEMMs, MLA decoding and GQA prefill on the four Hopper parts", () => {
    const m = decodeModel(fs.readFileSync(SHIPPED, "utf8"))
    if (typeof m === "string") throw new Error(m)
    expect(m.heads.map((h) => h.model.head)).toEqual(["gemm", "mla_attention_decode", "gqa_attention_prefill"])
    expect(m.heads[0].model.hardware).toEqual(["H100-SXM", "H20", "H200-SXM", "H800-SXM"])
  })
})

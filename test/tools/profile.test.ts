/**
 * tools/profile/profile_ops.py without a GPU: its measurement CSV (fake timer) aligns with every
 * op shape it enumerates from a real scenario's features. Its own unit tests (shape enumeration,
 * CSV writing, schema check, dry run) run with `python3 -m unittest` in tools/profile. Skipped
 * where python3 is not installed.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseCsv } from "../../src/reference/csv.ts"
import { collectFeatures } from "../../src/cli/features.ts"
import { alignMeasurements } from "../../src/ml/align.ts"
import { featuresCsv } from "../../src/ml/features.ts"
import { REPO } from "../helpers/cli.ts"
import { runEffect } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const TOOL = path.join(REPO, "tools", "profile")
const python = spawnSync("python3", ["--version"]).status === 0

describe.skipIf(!python)("tools/profile/profile_ops.py (CPU)", () => {
  it("writes a measurement CSV that aligns with the scenario's features, one row per distinct timed shape", async () => {
    const dir = tempDir("llmsim-profile-")
    const rows = await runEffect(
      collectFeatures({ cwd: REPO, scenario: "configs/scenarios/llama_3_1_70b_h100.yaml", batches: [4, 8], phase: "decode", efficiency: "hardware" })
    )
    fs.writeFileSync(path.join(dir, "features.csv"), featuresCsv(rows))
    const r = spawnSync("python3", [path.join(TOOL, "profile_ops.py"), "--features", "features.csv", "--out", "measured.csv", "--fake-timer", "analytic"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" }
    })
    expect(r.status, r.stderr).toBe(0)
    const joined = alignMeasurements(parseCsv(fs.readFileSync(path.join(dir, "measured.csv"), "utf8")), rows, "measured.csv")
    if (typeof joined === "string") throw new Error(joined)
    // Linear ops are the only timed kind in decode here (GQA decode is not a KERNELS kind): one row per distinct shape.
    const distinct = new Set(rows.filter((x) => x.level === "op" && x.kind === "linear").map((x) => x.shape))
    expect(joined.unmatched).toEqual([])
    expect(joined.aligned.length).toBe(distinct.size)
    expect(joined.aligned.every((a) => a.measured_us === Number((a.features.analytic_us as number).toFixed(4)))).toBe(true)
  })
})

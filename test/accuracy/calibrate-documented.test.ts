/**
 * Every fitted constant of a shipped hardware file regenerates from the calibrate command its
 * comment documents (issue 15: "the shipped hardware files regenerate from one documented
 * calibrate command each"): each `#   llmsim calibrate ...` line of configs/hardware/*.yaml is
 * run in process, and every constant it prints as fitted must equal the file's value, and be
 * labelled in the file's `calibration:` block as fitted on that data, with the rows and the
 * in-sample error the command prints (its own `calibration:` lines).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { REPO } from "../helpers/cli.ts"
import { calibrateCommand, commandInProcess } from "../helpers/inProcess.ts"
import { datasetFiles } from "../../src/timing/calibration.ts"

const DIR = path.join(REPO, "configs", "hardware")

/** The argv of a documented command line: words, double-quoted words kept whole. */
const argv = (line: string): Array<string> => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2])

const documented = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .flatMap((file) => {
    const text = fs.readFileSync(path.join(DIR, file), "utf8")
    return [...text.matchAll(/^\s*#\s+llmsim calibrate (.+)$/gm)].map((m) => ({ file, args: argv(m[1]).filter((a) => a !== "--loo") }))
  })

/** `name: value   # fitted...` lines of calibrate's output (the GEMM block, --attention, --overlap). */
const fittedLines = (out: string): Array<[string, string]> => [...out.matchAll(/^\s*(\w+): (\S+)\s+# fitted/gm)].map((m) => [m[1], m[2]])

describe("documented calibrate commands", () => {
  it("every hardware file with fitted constants documents its commands", () => {
    // H800 (GEMM, attention, overlap), H100 (GEMM, attention), H20 (GEMM, attention), A100, B200, MI300X.
    expect(documented.map((d) => d.file)).toEqual([
      "B200.yaml",
      "H100-SXM.yaml",
      "H100-SXM.yaml",
      "H20.yaml",
      "H20.yaml",
      "H800-SXM.yaml",
      "H800-SXM.yaml",
      "H800-SXM.yaml",
      "MI300X.yaml",
      "NV-A100.yaml"
    ])
  })

  for (const d of documented) {
    it(`${d.file}: llmsim calibrate ${d.args.join(" ")} prints the file's values`, async () => {
      const out = await commandInProcess(calibrateCommand, d.args)
      const spec = parse(fs.readFileSync(path.join(DIR, d.file), "utf8")) as {
        efficiency?: Record<string, unknown>
        overlap_efficiency: number
        calibration?: Record<string, { status: string; dataset?: string; rows?: number; error?: Record<string, number> }>
      }
      const fitted = fittedLines(out)
      expect(fitted.length, out).toBeGreaterThan(0)
      for (const [name, value] of fitted) {
        const shipped = name === "overlap_efficiency" ? spec.overlap_efficiency : spec.efficiency?.[name]
        expect(String(shipped), `${d.file} ${name}`).toBe(value)
      }
      // The calibration: lines the command prints, against the file's entries for the same constants.
      const printed = parse(out.slice(out.indexOf("\ncalibration:\n") + 1)).calibration as Record<
        string,
        { dataset: string; rows: number; error: Record<string, number> }
      >
      expect(Object.keys(printed).sort()).toEqual(fitted.map(([n]) => n).sort())
      for (const [name, p] of Object.entries(printed)) {
        const c = spec.calibration?.[name]
        expect(c?.status, `${d.file} calibration.${name}`).toBe("fitted")
        expect(c?.rows, `${d.file} calibration.${name}.rows`).toBe(p.rows)
        expect(c?.error?.median_pct, `${d.file} calibration.${name}.error.median_pct`).toBe(p.error.median_pct)
        expect(c?.error?.p90_pct, `${d.file} calibration.${name}.error.p90_pct`).toBe(p.error.p90_pct)
        expect(datasetFiles(c!.dataset!), `${d.file} calibration.${name}.dataset`).toEqual(expect.arrayContaining(datasetFiles(p.dataset)))
      }
    }, 60_000)
  }
})

/**
 * `sweep merge` trusts nothing in its shards it can check (issue 24): every line decoded with a
 * schema, the shards one sweep of one code, complete and disjoint, the sweep rebuilt from the
 * project and the header's inputs, derived fields recomputed and points re-evaluated. Every
 * expected value comes from the unsharded sweep, never from merge itself.
 *
 * The sweep: Llama-3.1-70B (80 layers, BF16) on a 141 GB GPU priced at 3.6 USD per GPU-hour,
 * batch 1..16 x seq 512, 1024, 2048 (48 points, three shards of 16), TPOT at most 40 ms.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { makeProject } from "../helpers/cli.ts"
import { mergeInProcess, runOptions, sweepInProcess } from "../helpers/inProcess.ts"
import { renderSweepJson, renderSweepTable } from "../../src/report/sweep.ts"
import { sampleOf } from "../../src/sweep/merge.ts"
import type { SweepOptions, SweepResult } from "../../src/sweep/run.ts"
import { makeSpace, neighbours } from "../../src/sweep/space.ts"

let dir: string
let whole: SweepResult
let shards: Array<string>
const HW = "configs/hardware/test-141.yaml"
const AXES = { batch: "1..16", seq: "512,1024,2048" }

const options = (over: Partial<SweepOptions> = {}, cwd = dir, scenario = "configs/scenarios/llama-141.yaml"): SweepOptions => ({
  run: runOptions(cwd, scenario, { efficiency: "none", noCache: true }),
  axes: AXES,
  constraints: { tpot_ms_max: 40 },
  workers: 1,
  ...over
})

beforeAll(async () => {
  dir = makeProject("llmsim-merge-")
  fs.writeFileSync(path.join(dir, "llmsim.config.ts"), "export default { runtime: { batch_size: 2 } }\n")
  const hw = (name: string, hbm: number, extra = "") =>
    fs.writeFileSync(
      path.join(dir, "configs/hardware", `${name}.yaml`),
      `name: ${name}\npeak_tflops: 1000000\nmemory_bandwidth_gbps: 4000\nhbm_gb: ${hbm}\ninterconnect_gbps: 900\nmax_concurrency: 1\noverlap_efficiency: 0\n${extra}`
    )
  hw("test-141", 141, "price_per_gpu_hour_usd: 3.6\n")
  hw("test-1000", 1000)
  fs.writeFileSync(
    path.join(dir, "configs/scenarios/llama-141.yaml"),
    `hardware: ../hardware/test-141.yaml
layers:
  - type: ffn_layer
    config: configs/models/llama-3.1-70b/ffn_layer_config.yaml
    repeat: 80
lm_head: none
runtime:
  seq_len: 1024
  phase: decode
`
  )
  whole = await sweepInProcess(options())
  shards = [1, 2, 3].map((k) => path.join(dir, `shard-${k}.jsonl`))
  for (const [i, f] of shards.entries()) await sweepInProcess(options({ shard: { k: i + 1, n: 3 }, points_file: f }))
})

const linesOf = (file: string) => fs.readFileSync(file, "utf8").trimEnd().split("\n")

/** A copy of shard k (1-based) with its lines changed by `f`; the three files with it in place of shard k. */
const variant = (name: string, k: number, f: (lines: Array<string>) => Array<string>): Array<string> => {
  const out = path.join(dir, name)
  fs.writeFileSync(out, `${f(linesOf(shards[k - 1])).join("\n")}\n`)
  return shards.map((s, i) => (i === k - 1 ? out : s))
}

/** Shard k and 1-based line of point `index` (16 points per shard, the header on line 1). */
const at = (index: number) => ({ k: Math.floor(index / 16) + 1, n: (index % 16) + 2 })

/** Point `index`'s row edited by `f`, in a copy of its shard named `name`. */
const editRow = (name: string, index: number, f: (row: Record<string, unknown>) => void) => {
  const { k, n } = at(index)
  let text = ""
  const files = variant(name, k, (lines) =>
    lines.map((l, i) => {
      if (i !== n - 1) return l
      const row = JSON.parse(l) as Record<string, unknown>
      f(row)
      text = JSON.stringify(row)
      return text
    })
  )
  return { files, n, col: (field: string) => text.indexOf(`"${field}"`) + 1 }
}

/** Shard k's header edited by `f`. */
type Json = Record<string, unknown>
const editHeader = (name: string, k: number, f: (h: Json) => void) =>
  variant(name, k, (lines) => {
    const h = JSON.parse(lines[0]) as { llmsim_sweep: Json }
    f(h.llmsim_sweep)
    return [JSON.stringify(h), ...lines.slice(1)]
  })

const mergeError = (files: ReadonlyArray<string>, o: { sample?: number; seed?: number } = {}) =>
  mergeInProcess(files, dir, o).then(
    () => "merged",
    (e: { message?: string }) => String(e.message)
  )

/** Python's json.dumps: ", " and ": " between items. */
const pyDumps = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(pyDumps).join(", ")}]`
    : v !== null && typeof v === "object"
      ? `{${Object.entries(v)
          .map(([k, x]) => `${JSON.stringify(k)}: ${pyDumps(x)}`)
          .join(", ")}}`
      : JSON.stringify(v)

/** The JSON answer without the counts of computed points and time (a merge computes none). */
const answerJson = (r: SweepResult) => {
  const o = JSON.parse(renderSweepJson(r))
  delete o.stats
  return JSON.stringify(o)
}
const frontierText = (r: SweepResult) => {
  const t = renderSweepTable(r)
  return t.slice(t.indexOf("Pareto frontier"))
}

describe("sweep merge: the answer is the unsharded sweep's", () => {
  it("shards as written, and re-serialized with spaces (Python's json.dumps), merge to the unsharded answer, byte for byte", async () => {
    const spaced = [1, 2, 3].map((k) => variant(`spaced-${k}.jsonl`, k, (lines) => lines.map((l) => pyDumps(JSON.parse(l))))[k - 1])
    for (const files of [shards, spaced]) {
      const merged = await mergeInProcess(files, dir)
      expect(merged.outcome.frontier).toEqual(whole.outcome.frontier)
      expect(merged.outcome.best).toEqual(whole.outcome.best)
      expect(merged.outcome.neighbours).toEqual(whole.outcome.neighbours)
      expect(merged.outcome.stats).toMatchObject({ points: 48, feasible: whole.outcome.stats.feasible, rejected: whole.outcome.stats.rejected })
      expect(answerJson(merged)).toBe(answerJson(whole))
      expect(frontierText(merged)).toBe(frontierText(whole))
      // 48 points: the default sample (1,024 or 1%) re-evaluates every one.
      expect(merged.checked).toMatchObject({ sampled: 48, seed: 1 })
    }
    expect(fs.readFileSync(path.join(dir, "spaced-2.jsonl"), "utf8")).toMatch(/^\{"llmsim_sweep": \{"version": 2, /)
  })

  it("rebuilds the sweep from the header's inputs: run from a subfolder with flag paths, strategy, --by, a price and a runtime override", async () => {
    const sub = path.join(dir, "sub")
    fs.mkdirSync(sub, { recursive: true })
    const o = (over: Partial<SweepOptions> = {}) =>
      options(
        {
          axes: { hardware: `../${HW},../configs/hardware/test-1000.yaml`, batch: "1..8:x2" },
          constraints: {},
          strategy: "serial",
          by: "batch",
          price_per_gpu_hour_usd: 2.5,
          ...over
        },
        sub,
        "../configs/scenarios/llama-141.yaml"
      )
    const one = await sweepInProcess({ ...o(), run: { ...o().run, runtime: { seq_len: 4096 } } })
    const files = [1, 2].map((k) => path.join(sub, `s${k}.jsonl`))
    for (const [i, f] of files.entries())
      await sweepInProcess({ ...o({ shard: { k: i + 1, n: 2 }, points_file: f }), run: { ...o().run, runtime: { seq_len: 4096 } } })
    expect(JSON.parse(linesOf(files[0])[0]).llmsim_sweep.inputs).toMatchObject({
      cwd: "sub",
      runtime: { seq_len: 4096 },
      by: "batch",
      price_per_gpu_hour_usd: 2.5
    })
    const merged = await mergeInProcess(["sub/s1.jsonl", "sub/s2.jsonl"], dir)
    expect(one.outcome.best_by.length).toBe(4)
    expect(merged.outcome.best_by).toEqual(one.outcome.best_by)
    expect(answerJson(merged)).toBe(answerJson(one))
  })
})

describe("sweep merge: an edited shard is caught, naming file, line, field, stored and recomputed values", () => {
  const bestIndex = () => whole.outcome.best.tokens_per_s_per_gpu!.index
  const bestTps = () => whole.outcome.best.tokens_per_s_per_gpu!.tokens_per_s_per_gpu!

  it("a number changed without its cost", async () => {
    const e = editRow("edited-1.jsonl", bestIndex(), (r) => void (r.tokens_per_s_per_gpu = 99999))
    expect(await mergeError(e.files)).toBe(
      `sweep merge: edited-1.jsonl:${e.n}:${e.col("tokens_per_s_per_gpu")} tokens_per_s_per_gpu: stored 99999, recomputed ${bestTps()} (point ${bestIndex()}: the row was edited, or written by other code)`
    )
  })

  it("a number changed with its cost: caught by the sample, and without one by re-evaluating the points the answer shows", async () => {
    const e = editRow("edited-2.jsonl", bestIndex(), (r) => {
      r.tokens_per_s_per_gpu = 99999
      r.cost_per_1m_output_tokens_usd = (3.6 / (99999 * 3600)) * 1e6
    })
    const expected = `sweep merge: edited-2.jsonl:${e.n}:${e.col("tokens_per_s_per_gpu")} tokens_per_s_per_gpu: stored 99999, recomputed ${bestTps()} (point ${bestIndex()}: the row was edited, or written by other code)`
    expect(await mergeError(e.files)).toBe(expected)
    expect(await mergeError(e.files, { sample: 0 })).toBe(expected)
  })

  it("a point the answer does not show is caught by the seeded random sample only", async () => {
    // An HBM-infeasible point that is no best point's neighbour: only the sample evaluates it.
    const space = makeSpace({ seq: [512, 1024, 2048], batch: Array.from({ length: 16 }, (_, i) => i + 1) })
    const shown = new Set(Object.values(whole.outcome.best).flatMap((b) => [b.index, ...neighbours(space, b.index).map((x) => x.index)]))
    const hidden = [...Array(48).keys()].find((i) => !shown.has(i) && i >= 32 && !whole.outcome.frontier.some((f) => f.index === i))!
    let weights = 0
    const e = editRow("edited-3.jsonl", hidden, (r) => {
      weights = r.weights_bytes as number
      r.weights_bytes = weights + 1
    })
    expect(await mergeError(e.files, { sample: 0 })).toBe("merged")
    expect(await mergeError(e.files)).toBe(
      `sweep merge: edited-3.jsonl:${e.n}:${e.col("weights_bytes")} weights_bytes: stored ${weights + 1}, recomputed ${weights} (point ${hidden}: the row was edited, or written by other code)`
    )
  })

  it("the sample is seeded: the same seed picks the same points, another seed others", () => {
    const a = sampleOf(1_000_000, 1024, "digest\n1")
    expect(a.size).toBe(1024)
    expect([...a].every((i) => Number.isInteger(i) && i >= 0 && i < 1_000_000)).toBe(true)
    expect([...sampleOf(1_000_000, 1024, "digest\n1")]).toEqual([...a])
    const b = sampleOf(1_000_000, 1024, "digest\n2")
    expect([...b].filter((i) => a.has(i)).length).toBeLessThan(20)
    expect(sampleOf(48, 1024, "x").size).toBe(48)
  })

  it("coordinates come from the index and price, cost and verdict are recomputed", async () => {
    const i = bestIndex()
    const batch = editRow("coord.jsonl", i, (r) => void (r.batch = 3))
    expect(await mergeError(batch.files)).toBe(
      `sweep merge: coord.jsonl:${batch.n}:${batch.col("batch")} batch: stored 3, recomputed ${whole.outcome.best.tokens_per_s_per_gpu!.batch} (point ${i}: the row was edited, or written by other code)`
    )
    const verdict = editRow("verdict.jsonl", i, (r) => {
      r.feasible = false
      r.rejected_by = "tpot: 99 ms > 40 ms"
    })
    expect(await mergeError(verdict.files)).toBe(
      `sweep merge: verdict.jsonl:${verdict.n}:${verdict.col("feasible")} feasible: stored false, recomputed true (point ${i}: the row was edited, or written by other code)`
    )
    const price = editRow("price.jsonl", i, (r) => void (r.price_per_gpu_hour_usd = 0.1))
    expect(await mergeError(price.files)).toBe(
      `sweep merge: price.jsonl:${price.n}:${price.col("price_per_gpu_hour_usd")} price_per_gpu_hour_usd: stored 0.1, recomputed 3.6 (point ${i}: the row was edited, or written by other code)`
    )
    const extra = editRow("extra.jsonl", i, (r) => void (r.tbo = "on"))
    expect(await mergeError(extra.files)).toMatch(
      new RegExp(`^sweep merge: extra\\.jsonl:${extra.n}:${extra.col("tbo")} tbo: "on": not a column of this sweep`)
    )
  })

  it("a value that is not what a sweep writes is refused by the schema at its field", async () => {
    const e = editRow("typed.jsonl", 3, (r) => void (r.tpot_ms = "fast"))
    expect(await mergeError(e.files)).toBe(`sweep merge: typed.jsonl:${e.n}:${e.col("tpot_ms")} tpot_ms: Expected number | null`)
    const missing = editRow("nokey.jsonl", 3, (r) => void delete r.feasible)
    expect(await mergeError(missing.files)).toBe(`sweep merge: nokey.jsonl:${missing.n}:1 feasible: Missing key`)
  })
})

describe("sweep merge: unreadable, incomplete or foreign shards are one positioned line", () => {
  it("an empty file, a truncated line, a truncated file, rows out of order, a CSV, a missing file", async () => {
    fs.writeFileSync(path.join(dir, "empty.jsonl"), "")
    expect(await mergeError(["empty.jsonl", shards[1], shards[2]])).toBe(
      "sweep merge: empty.jsonl:1:1: empty file (expected the JSON Lines of sweep --points FILE.jsonl)"
    )
    const cut = variant("cut.jsonl", 1, (lines) => [...lines.slice(0, 5), lines[5].slice(0, 100)])
    expect(await mergeError(cut)).toBe("sweep merge: cut.jsonl:6:101: not JSON (Expected double-quoted property name)")
    const short = variant("short.jsonl", 1, (lines) => lines.slice(0, 10))
    expect(await mergeError(short)).toBe("sweep merge: short.jsonl:11:1: the file ends after 9 of the shard's 16 rows (truncated?)")
    const swapped = variant("swapped.jsonl", 1, (lines) => [lines[0], lines[2], lines[1], ...lines.slice(3)])
    expect(await mergeError(swapped)).toBe(
      "sweep merge: swapped.jsonl:2:2 index: 1, expected 0 (one row per point, in index order: a row missing, repeated or moved?)"
    )
    await sweepInProcess(options({ shard: { k: 1, n: 3 }, points_file: path.join(dir, "shard-1.csv") }))
    expect(await mergeError(["shard-1.csv", shards[1], shards[2]])).toBe(
      "sweep merge: shard-1.csv:1:1: a CSV points file: merge reads JSON Lines (write shards with --points FILE.jsonl)"
    )
    expect(await mergeError(["gone.jsonl"])).toBe("sweep merge: gone.jsonl: file not found")
  })

  it("a missing shard and a shard given twice are named", async () => {
    expect(await mergeError(shards.slice(0, 2))).toBe("sweep merge: shard 3/3 is missing: points 32 to 47 of 48 are in none of the files (a shard is missing)")
    expect(await mergeError([shards[0], shards[0], shards[1], shards[2]])).toBe(
      "sweep merge: shard-1.jsonl: shard 1/3, as is shard-1.jsonl: its points overlap another file's (the same shard twice?)"
    )
    const other = path.join(dir, "half-2.jsonl")
    await sweepInProcess(options({ shard: { k: 2, n: 2 }, points_file: other }))
    expect(await mergeError([shards[0], other])).toMatch(
      /^sweep merge: half-2\.jsonl:1:\d+ llmsim_sweep\.shard: shard 2\/2, but shard-1\.jsonl is shard 1\/3: the shards of one run share n$/
    )
  })

  it("shards of two different sweeps: the error says what differs", async () => {
    const tighter = path.join(dir, "tighter-3.jsonl")
    await sweepInProcess(options({ constraints: { tpot_ms_max: 41 }, shard: { k: 3, n: 3 }, points_file: tighter }))
    expect(await mergeError([shards[0], shards[1], tighter])).toMatch(
      /^sweep merge: tighter-3\.jsonl:1:\d+ llmsim_sweep\.sweep_digest: a shard of another sweep than shard-1\.jsonl \(constraints \(\{"tpot_ms_max":41\} here, \{"tpot_ms_max":40\} there\)\)$/
    )
    const priced = path.join(dir, "priced-3.jsonl")
    await sweepInProcess(options({ price_per_gpu_hour_usd: 7.2, shard: { k: 3, n: 3 }, points_file: priced }))
    expect(await mergeError([shards[0], shards[1], priced])).toMatch(
      /a shard of another sweep than shard-1\.jsonl \(price of configs\/hardware\/test-141\.yaml \(7\.2 here, 3\.6 there\)\)$/
    )
  })

  it("a shard from another code version, and a shard header of an older version, are refused", async () => {
    const otherCode = (h: Json) => {
      h.code = { ...(h.code as Json), llmsim: "0.0.9", digest: "0".repeat(64) }
      h.sweep_digest = "1".repeat(64)
    }
    const one = editHeader("code-3.jsonl", 3, otherCode)
    expect(await mergeError(one)).toMatch(
      /^sweep merge: code-3\.jsonl:1:\d+ llmsim_sweep\.code: written by other code \(llmsim 0\.0\.9, Node [\d.]+, code 000000000000\) than shard-1\.jsonl \(llmsim 0\.1\.0, Node [\d.]+, code [0-9a-f]{12}\): shards of one sweep come from one llmsim$/
    )
    const all = [1, 2, 3].map((k) => editHeader(`code-all-${k}.jsonl`, k, otherCode)[k - 1])
    expect(await mergeError(all)).toMatch(
      /^sweep merge: code-all-1\.jsonl:1:\d+ llmsim_sweep\.code: written by other code \(llmsim 0\.0\.9, Node [\d.]+, code 000000000000\) than this llmsim \(llmsim 0\.1\.0, .*\): merge with the llmsim that ran the shards, or run them again with this one$/
    )
    const v1 = editHeader("v1-1.jsonl", 1, (h) => void (h.version = 1))
    expect(await mergeError(v1)).toBe(
      "sweep merge: v1-1.jsonl:1:18 llmsim_sweep.version: 1: a shard written by an older llmsim; this one merges version 2 only (run the shards again with it)"
    )
  })

  it("an edited header is compared with the sweep rebuilt from the project", async () => {
    const loose = editHeader("loose-1.jsonl", 1, (h) => void (h.constraints = { tpot_ms_max: 400 }))
    // The other shards still name the old constraints: the first edited header differs from the rebuilt sweep.
    expect(await mergeError(loose)).toMatch(
      /^sweep merge: loose-1\.jsonl:1:\d+ llmsim_sweep\.constraints: \{"tpot_ms_max":400\} in the shard, \{"tpot_ms_max":40\} rebuilt from the project \(the header was edited\?\)$/
    )
    // Paths in a header are paths written in a file: inside the project only.
    const outside = editHeader("outside-1.jsonl", 1, (h) => void (h.inputs = { ...(h.inputs as Json), axes: { ...AXES, hardware: "../elsewhere.yaml" } }))
    expect(await mergeError(outside)).toMatch(
      new RegExp(
        `^sweep merge: outside-1\\.jsonl:1:\\d+ llmsim_sweep\\.inputs\\.axes\\.hardware: ${path.resolve(dir, "../elsewhere.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is outside the project \\(`
      )
    )
    const up = editHeader("up-1.jsonl", 1, (h) => void (h.inputs = { ...(h.inputs as Json), cwd: "../.." }))
    expect(await mergeError(up)).toMatch(/^sweep merge: up-1\.jsonl:1:\d+ llmsim_sweep\.inputs\.cwd: \S+ is outside the project/)
    const moved = editHeader("moved-2.jsonl", 2, (h) => void (h.first_index = 15))
    expect(await mergeError(moved)).toMatch(
      /^sweep merge: moved-2\.jsonl:1:\d+ llmsim_sweep\.first_index: points 15 to 31, but shard 2\/3 of 48 points is 16 to 31/
    )
  })

  it("a project that changed since the shards ran: the error names the file and the price that differ", async () => {
    const file = path.join(dir, HW)
    const before = fs.readFileSync(file, "utf8")
    try {
      fs.writeFileSync(file, before.replace("price_per_gpu_hour_usd: 3.6", "price_per_gpu_hour_usd: 4"))
      expect(await mergeError(shards)).toMatch(
        /^sweep merge: shard-1\.jsonl:1:\d+ llmsim_sweep\.sweep_digest: this project rebuilds another sweep \(hardware configs\/hardware\/test-141\.yaml; price of configs\/hardware\/test-141\.yaml \(3\.6 in the shard, 4 now\)\): its files changed since the shards ran\?$/
      )
    } finally {
      fs.writeFileSync(file, before)
    }
    const config = path.join(dir, "llmsim.config.ts")
    try {
      fs.writeFileSync(config, "export default { runtime: { batch_size: 4 } }\n")
      expect(await mergeError(shards)).toMatch(
        /this project rebuilds another sweep \(the scenario configs\/scenarios\/llama-141\.yaml \(its model, layout or runtime\)\)/
      )
    } finally {
      fs.writeFileSync(config, "export default { runtime: { batch_size: 2 } }\n")
    }
    // The scenario is gone: merge cannot rebuild the sweep, and says so in one line.
    const scenario = path.join(dir, "configs/scenarios/llama-141.yaml")
    fs.renameSync(scenario, `${scenario}.moved`)
    try {
      expect(await mergeError(shards)).toBe(
        `sweep merge: shard-1.jsonl:1:${linesOf(shards[0])[0].indexOf('"scenario"') + 1} llmsim_sweep.scenario: cannot rebuild the shards' sweep in this project (${dir}): scenario file not found: ${scenario}`
      )
    } finally {
      fs.renameSync(`${scenario}.moved`, scenario)
    }
    expect(await mergeError(shards)).toBe("merged")
  })
})

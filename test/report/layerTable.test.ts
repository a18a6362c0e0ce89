/**
 * The one layer table (src/report/layerTable.ts): identical consecutive layers share a grouped
 * row with their count, by exactly the figures the table shows; `all` lists every layer; the
 * TOTAL row closes both. And the playbook screens use it: `large-ep evaluate` prints DeepSeek-V3's
 * 61 layers as 3 rows per phase by default, every layer with `--layers all`.
 */
import { describe, expect, it } from "vitest"
import { groupLayers, renderLayerTable } from "../../src/report/layerTable.ts"
import { renderLargeEp } from "../../src/report/playbooks.ts"
import { largeEpInProcess, runOptions } from "../helpers/inProcess.ts"
import { makeProject } from "../helpers/cli.ts"

const layer = (i: number, type: string, ms: number) => ({ layer_name: `L${i}.${type}`, layer_type: type, ms })
const LAYERS = [
  layer(0, "ffn_layer", 1),
  layer(1, "ffn_layer", 1),
  layer(2, "moe_layer", 2),
  layer(3, "moe_layer", 2),
  layer(4, "moe_layer", 2.5),
  layer(5, "lm_head", 0.5)
]
const figures = (l: { ms: number }) => [l.ms]

describe("groupLayers", () => {
  it("joins runs of equal figures and type, labelled by their first and last index", () => {
    expect(groupLayers(LAYERS, figures).map((g) => [g.label, g.count, g.first])).toEqual([
      ["L0-L1", 2, 0],
      ["L2-L3", 2, 2],
      ["L4", 1, 4],
      ["L5", 1, 5]
    ])
  })

  it("never joins layers of another type, even with equal figures", () => {
    const same = [layer(0, "ffn_layer", 1), layer(1, "moe_layer", 1)]
    expect(groupLayers(same, figures).map((g) => g.label)).toEqual(["L0", "L1"])
  })

  it("lists every layer by its name with `all`", () => {
    expect(groupLayers(LAYERS, figures, "all").map((g) => g.label)).toEqual(LAYERS.map((l) => l.layer_name))
  })
})

describe("renderLayerTable", () => {
  const columns = [{ header: "ms", format: (r: { layer: { ms: number } }) => r.layer.ms.toFixed(1) }]
  const total = { layer_name: "TOTAL", layer_type: "", ms: 9 }

  it("grouped: a count column, the TOTAL row without type or count", () => {
    expect(renderLayerTable(LAYERS, { figures, columns, total }, "grouped")).toBe(
      [
        "layer  type       count   ms",
        "-----  ---------  -----  ---",
        "L0-L1  ffn_layer     x2  1.0",
        "L2-L3  moe_layer     x2  2.0",
        "L4     moe_layer     x1  2.5",
        "L5     lm_head       x1  0.5",
        "TOTAL                    9.0"
      ].join("\n")
    )
  })

  it("all: one row per layer, no count column", () => {
    const text = renderLayerTable(LAYERS, { figures, columns, total }, "all")
    expect(text.split("\n")[0]).toMatch(/^layer\s+type\s+ms$/)
    expect(text.split("\n")).toHaveLength(2 + LAYERS.length + 1)
  })
})

describe("large-ep evaluate's layer tables", () => {
  it("show DeepSeek-V3's 61 layers as 3 rows by default and all 62 rows (with the LM head) with --layers all", async () => {
    const dir = makeProject()
    const r = await largeEpInProcess({
      run: runOptions(dir, "configs/scenarios/deepseek_v3_h800.yaml", { noCache: true, runtime: { phase: "decode" } }),
      eps: [],
      overrides: {},
      batch: { kind: "runtime" }
    })
    if ("ep_sweep" in r.result) throw new Error("expected one EP size")
    const grouped = renderLargeEp(r.result, "table")
    expect(grouped).toMatch(/^L0-L2\s+ffn_layer\s+x3\s/m)
    expect(grouped).toMatch(/^L3-L60\s+moe_layer\s+x58\s/m)
    expect(grouped).toMatch(/^L61\s+lm_head\s+x1\s/m)
    const all = renderLargeEp(r.result, "table", { layers: "all" })
    for (let i = 3; i <= 60; i++) expect(all).toMatch(new RegExp(`^L${i}\\.moe_layer\\s`, "m"))
    expect(all.split("\n").length - grouped.split("\n").length).toBe(62 - 3)
  })
})

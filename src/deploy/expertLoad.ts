/**
 * A measured expert-load file (`llmsim large-ep evaluate --expert-load FILE`, `afd simulate`):
 * tokens routed to each logical expert, per MoE layer and, optionally, per recorded step, as
 * SGLang's expert distribution recorder counts them (`--expert-distribution-recorder-mode stat`;
 * its dump holds `logical_count` of shape [steps, layers, logical experts]: sgl-project/sglang @
 * 02295fe5 python/sglang/srt/eplb/expert_distribution.py, _StatAccumulator.dump). Pure: CSV text
 * in, the steps x layers x experts table (src/deploy/imbalance.ts measuredImbalance) or the first
 * problem as `file:line:col column: Expected ...` out.
 *
 *   step,layer,expert,count     step optional (no step column: one step of totals)
 *   0,0,0,12                    integers >= 0 for step, layer, expert; count a number >= 0
 *
 * Layers and steps are the distinct values given, in order; experts run 0 to the largest given
 * (a pair not listed routed 0 tokens). A (step, layer, expert) given twice is an error, not a sum.
 */
import { parseCsv, fieldAt, type CsvRecord } from "../reference/csv.ts"
import type { ExpertLoadSteps } from "./imbalance.ts"

/** steps x layers x experts cells a file may describe (a DeepSeek-V3 recording of 3,000 steps is 45 million). */
const MAX_LOAD_CELLS = 50_000_000

const REQUIRED = ["layer", "expert", "count"] as const

const indexAt = (file: string, r: CsvRecord, column: string): number | string => {
  const text = r.values[column] ?? ""
  const n = Number(text)
  return text !== "" && Number.isInteger(n) && n >= 0 ? n : `${fieldAt(file, r, column)} ${column}: Expected an integer >= 0, got ${JSON.stringify(text)}`
}

export const parseExpertLoad = (text: string, file: string): ExpertLoadSteps | string => {
  const table = parseCsv(text)
  const missing = REQUIRED.find((c) => !table.columns.includes(c))
  if (missing !== undefined) return `${file}:1:1 ${missing}: Expected a column ${missing} (columns: [step,] layer, expert, count)`
  if (table.rows.length === 0) return `${file}:1:1: Expected at least one row of step, layer, expert, count`
  const hasStep = table.columns.includes("step")
  const cells = new Map<string, { readonly count: number; readonly line: number }>()
  const steps = new Set<number>()
  const layers = new Set<number>()
  let experts = 0
  let total = 0
  for (const r of table.rows) {
    const step = hasStep ? indexAt(file, r, "step") : 0
    const layer = indexAt(file, r, "layer")
    const expert = indexAt(file, r, "expert")
    for (const v of [step, layer, expert]) if (typeof v === "string") return v
    const countText = r.values.count ?? ""
    const count = Number(countText)
    if (countText === "" || !Number.isFinite(count) || count < 0)
      return `${fieldAt(file, r, "count")} count: Expected a number >= 0 (tokens routed), got ${JSON.stringify(countText)}`
    const key = `${step}/${layer}/${expert}`
    const first = cells.get(key)
    if (first !== undefined)
      return `${fieldAt(file, r, "expert")} expert: Expected one row per ${hasStep ? "step, " : ""}layer and expert, got a second for ${hasStep ? `step ${step}, ` : ""}layer ${layer}, expert ${expert} (first at line ${first.line})`
    cells.set(key, { count, line: r.line })
    steps.add(step as number)
    layers.add(layer as number)
    experts = Math.max(experts, (expert as number) + 1)
    total += count
  }
  if (total <= 0) return `${file}:1:1 count: Expected some tokens routed (every count is 0, which would read as perfect balance)`
  const stepList = [...steps].sort((a, b) => a - b)
  const layerList = [...layers].sort((a, b) => a - b)
  if (stepList.length * layerList.length * experts > MAX_LOAD_CELLS)
    return `${file}:1:1: Expected at most ${MAX_LOAD_CELLS} step x layer x expert cells, got ${stepList.length} x ${layerList.length} x ${experts} (record a shorter window)`
  return stepList.map((s) => layerList.map((l) => Array.from({ length: experts }, (_, e) => cells.get(`${s}/${l}/${e}`)?.count ?? 0)))
}

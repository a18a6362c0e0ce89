/**
 * `llmsim plan`: the layouts it tries, by hand from the rule in src/sweep/plan.ts, and through the
 * real CLI the answer's arithmetic: replicas x an instance's GPUs within the budget, an xPyD pair's
 * predicted rate = min(x Rp, y Rd) of its roles, every figure within the SLOs, the answer the mode
 * with more goodput per GPU; a target no deployment reaches is said, with the closest.
 */
import { describe, expect, it } from "vitest"
import { layoutCandidates } from "../../src/sweep/plan.ts"
import type { Model } from "../../src/kernel/model.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import * as fs from "node:fs"
import * as path from "node:path"
import { makeProject, runCli } from "../helpers/cli.ts"

const hw = { gpus_per_node: 8 } as HardwareSpec
const dense = { entries: [{ index: 0, label: "ffn", template: { type: "ffn_layer" }, repeat: 2 }] } as unknown as Model
const moe = { entries: [{ index: 0, label: "moe", template: { type: "moe_layer", config: { moe_config: {} } }, repeat: 2 }] } as unknown as Model

describe("layoutCandidates", () => {
  it("dense: TP 1, 2, 4, 8 within one node and the budget", () => {
    expect(layoutCandidates(dense, hw, 16)).toEqual([1, 2, 4, 8].map((tp) => ({ tp, dp: 1, ep: 1 })))
    expect(layoutCandidates(dense, hw, 4)).toEqual([1, 2, 4].map((tp) => ({ tp, dp: 1, ep: 1 })))
  })
  it("MoE: experts over the TP GPUs, and DP attention with EP over 2 .. budget GPUs", () => {
    expect(layoutCandidates(moe, hw, 16)).toEqual([
      ...[1, 2, 4, 8].map((tp) => ({ tp, dp: 1, ep: tp })),
      ...[2, 4, 8, 16].map((k) => ({ tp: 1, dp: k, ep: k }))
    ])
  })
})

interface Planned {
  readonly text: string
  readonly gpus: number
  readonly figures: { rate_rps: number; goodput_per_gpu: number; ttft_ms: number; tpot_ms: number }
  readonly roles?: { prefill_rps: number; decode_rps: number; predicted_rps: number }
}

const LLAMA = "configs/scenarios/llama_3_1_8b_h100.yaml"
const ARGS = [
  "--gpus",
  "4",
  "--random-input-len",
  "512",
  "--random-output-len",
  "64",
  "--goodput",
  "ttft:1000,tpot:30",
  "--num-prompts",
  "400",
  "--format",
  "json"
]

describe("llmsim plan (CLI)", () => {
  it("answers both modes within the budget and the SLOs, with the arithmetic it states", () => {
    const dir = makeProject()
    const r = runCli(["plan", LLAMA, ...ARGS], dir)
    expect(r.status, r.stderr).toBe(0)
    const plan = JSON.parse(r.stdout).plan as { best: { aggregated: Planned; disaggregated: Planned }; budget: number; percentile: number }
    expect(plan.budget).toBe(4)
    expect(plan.percentile).toBe(90)
    const a = plan.best.aggregated
    const d = plan.best.disaggregated
    for (const x of [a, d]) {
      expect(x.gpus).toBeLessThanOrEqual(4)
      expect(x.figures.ttft_ms).toBeLessThanOrEqual(1000)
      expect(x.figures.tpot_ms).toBeLessThanOrEqual(30)
    }
    // "R x TPn": R replicas of n GPUs.
    const [, replicas, tp] = /^(\d+) x TP(\d+) on H100-SXM$/.exec(a.text)!
    expect(Number(replicas) * Number(tp)).toBe(a.gpus)
    // "xP TPa + yD TPb": x a + y b GPUs; predicted min(x Rp, y Rd).
    const [, x, tpa, y, tpb] = /^(\d+)P TP(\d+) \+ (\d+)D TP(\d+) on H100-SXM$/.exec(d.text)!
    expect(Number(x) * Number(tpa) + Number(y) * Number(tpb)).toBe(d.gpus)
    expect(d.roles!.predicted_rps).toBeCloseTo(Math.min(Number(x) * d.roles!.prefill_rps, Number(y) * d.roles!.decode_rps), 9)
    // Every search is a `capacity` node of the store (src/sim/capacityNode.ts): the table and HTML runs below replay them.
    const stats = JSON.parse(runCli(["cache", "stats", "--json"], dir).stdout) as { by_kind: Record<string, { entries: number }> }
    expect(stats.by_kind.capacity!.entries).toBeGreaterThan(3)
    const table = runCli(["plan", LLAMA, ...ARGS.slice(0, -2)], dir)
    const winner = d.figures.goodput_per_gpu >= a.figures.goodput_per_gpu ? `disaggregated ${d.text}` : `aggregated ${a.text}`
    expect(table.stdout).toContain(`answer: ${winner}`)
    expect(table.stdout.split("\n").length).toBeLessThanOrEqual(41)
    // Each mode's frontier is drawn from the probes that met the SLOs, the best deployment's among them.
    const html = runCli(["plan", LLAMA, ...ARGS.slice(0, -2), "--format", "html"], dir)
    expect(html.status, html.stderr).toBe(0)
    for (const id of ["frontier-aggregated", "frontier-disaggregated"]) expect(html.stdout).toContain(`data-chart="${id}"`)
    const frontier = JSON.parse(r.stdout).plan.frontier as Record<string, Array<{ tokens_per_s_per_user: number; output_tokens_per_s_per_gpu: number }>>
    for (const pts of Object.values(frontier))
      for (let i = 1; i < pts.length; i++) expect(pts[i]!.output_tokens_per_s_per_gpu).toBeLessThan(pts[i - 1]!.output_tokens_per_s_per_gpu)
  })

  it("a target rate no deployment within the budget reaches is said, with the closest", () => {
    const dir = makeProject()
    const r = runCli(["plan", LLAMA, ...ARGS.slice(0, -2), "--request-rate", "100000"], dir)
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^no deployment meets the SLOs within the budget: the closest candidates are below$/m)
    expect(r.stdout).toMatch(/needs \d+ GPUs for the target, over the budget of 4/)
  })

  it("a budget smaller than one instance is one line naming why the largest layout tried does not fit", () => {
    const dir = makeProject()
    const r = runCli(["plan", "configs/scenarios/llama_3_1_70b_h100.yaml", "--gpus", "1"], dir)
    expect(r.status).not.toBe(0)
    // Llama-3.1-70B in BF16 on one 80 GB GPU: about 131 GiB of weights.
    expect(r.stderr).toMatch(
      /^error: plan: no layout of configs\/scenarios\/llama_3_1_70b_h100\.yaml can serve the workload within 1 GPU \(the largest tried, TP1 on H100-SXM: no memory is left for the KV cache: weights 131\.\d GiB per GPU of 80\.0 GiB .*\); raise --gpus\n$/
    )
  })

  it("an SLO no deployment meets is said, with how close each layout came", () => {
    const dir = makeProject()
    const r = runCli(
      ["plan", LLAMA, "--gpus", "2", "--random-input-len", "512", "--random-output-len", "64", "--num-prompts", "300", "--goodput", "tpot:2"],
      dir
    )
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^no deployment meets the SLOs within the budget/m)
    expect(r.stdout).toMatch(/^ {2}aggregated TP1 on H100-SXM: misses the SLOs at any rate: at [\d.]+ req\/s P90 TPOT [\d.]+ ms > 2 ms$/m)
  })

  it("a MoE model: wide EP and AFD beside the core modes, each pool as its text says, and export writes wide EP and refuses AFD", () => {
    const dir = makeProject()
    const args = ["configs/scenarios/qwen3_30b_a3b_h100.yaml", "--gpus", "24", "--random-input-len", "512", "--random-output-len", "64", "--num-prompts", "300"]
    const r = runCli(["plan", ...args, "--format", "json", "--out", "plan.json"], dir)
    expect(r.status, r.stderr).toBe(0)
    type Pool = {
      instances: number
      parallelism: { tp: number; dp: number; ep: number }
      wide_ep?: boolean
      two_batch_overlap?: boolean
      afd?: { attention_instances: number; ffn_instances: number }
    }
    const plan = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")).plan as {
      best: Record<string, (Planned & { pools: { prefill: Pool; decode: Pool } }) | null>
    }
    const wide = plan.best.wide_ep!
    const afd = plan.best.afd!
    // Wide EP: DP-attention layouts on both sides, flagged as such ("TBO" where two-batch overlap is on).
    const [, wx, wp, wpt, wy, wd, wdt] = /^(\d+)P DEP(\d+)( TBO)? \+ (\d+)D DEP(\d+)( TBO)? on H100-SXM$/.exec(wide.text)!
    expect(wide.gpus).toBe(Number(wx) * Number(wp) + Number(wy) * Number(wd))
    expect(wide.pools.prefill).toMatchObject({ wide_ep: true, two_batch_overlap: wpt !== undefined })
    expect(wide.pools.decode).toMatchObject({ wide_ep: true, two_batch_overlap: wdt !== undefined })
    // AFD: y units of a attention and f FFN instances of 8 GPUs (H100-SXM's gpus_per_node).
    const m = / \+ (\d+)D AFD (\d)A(\d)F on H100-SXM$/.exec(afd.text)!
    const [, ay, a, f] = m.map(Number)
    expect(afd.pools.decode.afd).toEqual({ attention_instances: a, ffn_instances: f })
    expect(afd.gpus - afd.pools.prefill.instances * afd.pools.prefill.parallelism.tp * afd.pools.prefill.parallelism.dp).toBe(ay! * (a! + f!) * 8)
    expect(afd.roles!.predicted_rps).toBeCloseTo(Math.min(afd.pools.prefill.instances * afd.roles!.prefill_rps, ay! * afd.roles!.decode_rps), 9)
    const sgl = runCli(["export", "--plan", "plan.json", "--mode", "wide_ep", "--engine", "sglang", "--hf-model", "m", "--out", "wide"], dir)
    expect(sgl.status, sgl.stderr).toBe(0)
    const launch = fs.readFileSync(path.join(dir, "wide", "launch.sh"), "utf8")
    // Prefill servers on DeepEP's normal kernels, decode servers on its low-latency ones, as priced.
    expect(launch).toMatch(/--disaggregation-mode prefill \\\n {2}--moe-a2a-backend deepep \\\n {2}--deepep-mode normal/)
    expect(launch).toMatch(/--disaggregation-mode decode \\\n {2}--moe-a2a-backend deepep \\\n {2}--deepep-mode low_latency/)
    const no = runCli(["export", "--plan", "plan.json", "--mode", "afd", "--engine", "sglang", "--hf-model", "m", "--out", "afd"], dir)
    expect(no.status).not.toBe(0)
    expect(no.stderr).toMatch(
      /^error: --plan: plan\.json: its afd deployment \(.*AFD \dA\dF.*\) has no launch files: .*attention-FFN disaggregation option; export another mode with --mode\n$/
    )
    expect(fs.existsSync(path.join(dir, "afd"))).toBe(false)
  })
})

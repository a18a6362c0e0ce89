/**
 * `llmsim diff` between git revisions, on a real git repository holding the shipped configs:
 * the acceptance scenario (a larger MoE expert), the regression gate, a revision against itself,
 * the working tree, and several scenarios at once. The command's entry point runs in process
 * (test/helpers/inProcess.ts: the same JSON the command prints); the gate's exit status and
 * stderr are checked on the real CLI.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { edit, runCli } from "../helpers/cli.ts"
import { diffFailure, diffInProcess, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { unfitLines } from "../../src/report/diff.ts"
import { commitAll, DENSE, git, makeRepo, MOE, SCENARIO } from "./repo.ts"

interface TraceNode {
  id: string
  kind: string
  layer_type?: string
  status: string
  side: string
  name: string
}

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"

/** `llmsim run --format json` on the working tree: an independent oracle for each side. */
const runJson = async (dir: string, noCache = false) => JSON.parse((await runInProcess(runOptions(dir, SCENARIO, { noCache }))).text("json"))

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

describe("llmsim diff between two commits (moe_intermediate_size 2048 -> 3072)", () => {
  let dir: string
  let runA: any
  let runB: any
  let diff: any
  let trace: { nodes: Array<TraceNode> }

  beforeAll(async () => {
    dir = makeRepo()
    // This run also fills the store with side A's nodes, so the diff's trace shows what B adds.
    runA = await runJson(dir)
    edit(path.join(dir, MOE), (t) => t.replace(/moe_intermediate_size: 2048/, "moe_intermediate_size: 3072"))
    commitAll(dir, "larger experts")
    runB = await runJson(dir, true)
    const r = await diffInProcess(dir, ["HEAD~1", "HEAD", SCENARIO])
    diff = r.json
    trace = r.trace
  })

  it("names both revisions and their commits", () => {
    expect(diff.a).toMatchObject({ rev: "HEAD~1", commit: git(dir, "rev-parse", "HEAD~1"), scenario: SCENARIO, hardware: "H800-SXM" })
    expect(diff.b).toMatchObject({ rev: "HEAD", commit: git(dir, "rev-parse", "HEAD"), scenario: SCENARIO })
    // The shipped scenario's runtime block: batch_size 8, seq_len 4096, phase both.
    expect(diff.a.runtime).toEqual({ batch_size: 8, seq_len: 4096, phase: "both" })
  })

  it("shows the single config change, from the decoded YAML", () => {
    expect(diff.config_changes).toEqual([{ file: MOE, path: "moe_config.moe_intermediate_size", a: 2048, b: 3072, change: "changed" }])
  })

  it("makes every MoE layer slower and leaves every dense layer and the LM head unchanged", () => {
    for (const phase of ["prefill", "decode"]) {
      const rows = diff.layers.filter((l: any) => l.phase === phase)
      // 3 dense + 58 MoE layers + the LM head, in layer order.
      expect(rows.map((l: any) => l.layer_name)).toEqual([
        ...[0, 1, 2].map((i) => `L${i}.ffn_layer`),
        ...Array.from({ length: 58 }, (_, i) => `L${i + 3}.moe_layer`),
        "L61.lm_head"
      ])
      const a = runA.phases[phase].layers
      const b = runB.phases[phase].layers
      rows.forEach((l: any, i: number) => {
        expect(l.a_ms).toBe(a[i].dominant_latency_ms)
        expect(l.b_ms).toBe(b[i].dominant_latency_ms)
        if (l.layer_type === "moe_layer") {
          expect(l.status).toBe("changed")
          expect(l.delta_ms).toBeGreaterThan(0)
          expect(l.delta_ms).toBe(l.b_ms - l.a_ms)
          expect(l.delta_pct).toBe((100 * (l.b_ms - l.a_ms)) / l.a_ms)
        } else {
          expect(l.status).toBe("unchanged")
          expect(l.delta_ms).toBe(0)
          expect(l.delta_pct).toBe(0)
        }
      })
    }
  })

  it("reports per-phase totals equal to llmsim run at each revision, with deltas", () => {
    for (const phase of ["prefill", "decode"] as const) {
      const p = diff.phases[phase]
      const ra = runA.phases[phase]
      const rb = runB.phases[phase]
      for (const k of ["total_latency_ms", "total_flops", "total_bytes", "total_comm_bytes", "peak_memory_bytes"]) {
        expect(p[k]).toEqual({ a: ra[k], b: rb[k], delta: rb[k] - ra[k], delta_pct: rb[k] === ra[k] ? 0 : (100 * (rb[k] - ra[k])) / ra[k] })
      }
      // The 58 identical MoE layers carry the whole latency change.
      const moe = diff.layers.filter((l: any) => l.phase === phase && l.status === "changed")
      expect(moe.length).toBe(58)
      expect(p.total_latency_ms.delta).toBeCloseTo(sum(moe.map((l: any) => l.delta_ms)), 9)
    }
    expect(diff.phases.prefill.ttft_ms.a).toBe(runA.serving.ttft_ms)
    expect(diff.phases.prefill.ttft_ms.b).toBe(runB.serving.ttft_ms)
    expect(diff.phases.prefill.tokens_per_s.b).toBe(runB.serving.prefill_throughput_tokens_per_s)
    expect(diff.phases.decode.tpot_ms).toMatchObject({ a: runA.serving.tpot_ms, b: runB.serving.tpot_ms })
    expect(diff.phases.decode.tokens_per_s).toMatchObject({ a: runA.serving.throughput_tokens_per_s, b: runB.serving.throughput_tokens_per_s })
    expect(diff.phases.prefill.tpot_ms).toBeUndefined()
    expect(diff.phases.decode.ttft_ms).toBeUndefined()
  })

  it("scales expert FLOPs by exactly 3072/2048", () => {
    // Every routed and shared expert FLOP (gate/up/down GEMMs, the activation) is linear in
    // the expert's intermediate size; router, attention and communication do not read it.
    for (const phase of ["prefill", "decode"] as const) {
      const moeA = runA.phases[phase].layers.find((l: any) => l.layer_type === "moe_layer")
      const expertFlops = sum(moeA.breakdown.filter((o: any) => o.category === "moe_experts" || o.category === "moe_shared").map((o: any) => o.flops))
      expect(expertFlops).toBeGreaterThan(0)
      const expected = 58 * expertFlops * (3072 / 2048 - 1)
      expect(diff.phases[phase].total_flops.delta / expected).toBeCloseTo(1, 12)
    }
  })

  it("adds exactly the larger experts' weights to decode peak memory", () => {
    // Per GPU and MoE layer: 256 / ep 16 = 16 routed experts plus 1 shared expert, each with
    // gate, up and down projections of d_model 7168 x intermediate, FP8 (1 byte) weights:
    // 1024 more intermediate columns each, over 58 MoE layers. The KV cache and the largest
    // decode activation (not an expert's) do not change.
    expect(diff.phases.decode.peak_memory_bytes.delta).toBe((16 + 1) * 3 * 7168 * 1024 * 1 * 58)
  })

  it("sets regression (limit 0 without the flag) since latency rose", () => {
    expect(diff.regression).toBe(true)
    expect(diff.limit_pct).toBe(0)
  })

  it("evaluates side B through the same store: only MoE work is new", () => {
    const b = trace.nodes.filter((n) => n.side === "b")
    expect(b.length).toBeGreaterThan(0)
    for (const n of trace.nodes) expect(n.id.startsWith(`${n.side}:`)).toBe(true)
    // Side A was in the store already (the run above): nothing of it is computed.
    expect(trace.nodes.filter((n) => n.side === "a" && n.status === "computed")).toEqual([])
    const computed = b.filter((n) => n.status === "computed")
    expect(computed.filter((n) => n.kind === "file").map((n) => n.name)).toEqual([MOE])
    const work = computed.filter((n) => n.kind === "op" || n.kind === "layer")
    expect(work.length).toBeGreaterThan(0)
    for (const n of work) expect(n.layer_type).toBe("moe_layer")
    // The dense layer and LM head of side B are replayed.
    for (const n of b.filter((x) => x.kind === "layer" && x.layer_type !== "moe_layer")) expect(n.status).toBe("replayed")
  })

  it("shows memory per GPU and fits in HBM per side: the larger experts no longer fit on H800", () => {
    // Side A: the shipped scenario, which fits (run's own verdict). Side B adds 21.7 GB of expert
    // weights per GPU (the test above), so decode needs A's peak + 21.7 GB: 62.25 + 21.71 = 83.96
    // GB > 80 GB; prefill, at 75.29 GB on A, needs at least as much more.
    const weights = (16 + 1) * 3 * 7168 * 1024 * 1 * 58
    expect(runA.serving.fits_in_hbm).toBe(true)
    expect(runA.serving.hbm_bytes_per_gpu).toBe(80e9)
    for (const phase of ["prefill", "decode"] as const) {
      const p = diff.phases[phase]
      expect(p.fits_in_hbm).toEqual({ a: true, b: false })
      expect(p.hbm_bytes_per_gpu).toEqual({ a: 80e9, b: 80e9, delta: 0, delta_pct: 0 })
      expect(p.peak_memory_bytes.a).toBe(runA.phases[phase].peak_memory_bytes)
      expect(p.peak_memory_bytes.b).toBeGreaterThanOrEqual(runA.phases[phase].peak_memory_bytes + weights)
      expect(p.peak_memory_bytes.b).toBeGreaterThan(80e9)
    }
    expect(diff.phases.decode.peak_memory_bytes.b).toBe(runA.phases.decode.peak_memory_bytes + weights)
  })

  it("--fail-on-regression 1 names each metric that worsened by more than 1%", async () => {
    const r = await diffInProcess(dir, ["HEAD~1", "HEAD", SCENARIO], { failOnRegression: 1 })
    const j = r.json
    expect(j.regression).toBe(true) // exit 1
    expect(j.limit_pct).toBe(1)
    const names = j.regressions.map((x: any) => `${x.phase} ${x.metric}`)
    expect(names).toContain("decode tpot_ms")
    expect(names).toContain("decode tokens_per_s")
    expect(names).toContain("decode total_latency_ms")
    // `--require-fit` (exit 2 when B does not fit) names each phase of B that does not fit.
    const decodeB = runA.phases.decode.peak_memory_bytes + (16 + 1) * 3 * 7168 * 1024 * 1 * 58
    const unfit = unfitLines(r.diffs).trimEnd().split("\n")
    expect(unfit[0]).toMatch(/^does not fit: \S+: prefill \d+\.\d{3} GB per GPU > 80\.000 GB HBM \(--require-fit\)$/)
    expect(unfit[1]).toBe(`does not fit: ${SCENARIO}: decode ${(decodeB / 1e9).toFixed(3)} GB per GPU > 80.000 GB HBM (--require-fit)`)
    expect(unfitLines((await diffInProcess(dir, ["HEAD", "HEAD~1", SCENARIO])).diffs)).toBe("")
  })

  it("fails the gate when B stops fitting in HBM, whatever the limit (real CLI: exit 1, stderr names the scenario)", () => {
    // +50% on the expert size is at most +50% on any phase (expert work is linear in it and is
    // not all of the work), so latency and TPOT rise, and tokens/s fall, by less than 50%: at a
    // 50% limit only the lost fit fails the gate.
    const r = runCli(["diff", "HEAD~1", "HEAD", SCENARIO, "--fail-on-regression", "50", "--format", "json"], dir)
    expect(r.status).toBe(1)
    const j = JSON.parse(r.stdout)
    expect(j.regression).toBe(true)
    expect(j.regressions.map((x: any) => `${x.phase} ${x.metric}`)).toEqual(["prefill fits_in_hbm", "decode fits_in_hbm"])
    const gb = (x: number) => (x / 1e9).toFixed(3)
    const decodeA = runA.phases.decode.peak_memory_bytes
    const decodeB = decodeA + (16 + 1) * 3 * 7168 * 1024 * 1 * 58
    const lines = r.stderr.trimEnd().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      new RegExp(`^regression: ${SCENARIO}: prefill no longer fits in HBM: peak memory per GPU \\d+\\.\\d{3} -> \\d+\\.\\d{3} GB > HBM 80\\.000 GB$`)
    )
    expect(lines[1]).toBe(`regression: ${SCENARIO}: decode no longer fits in HBM: peak memory per GPU ${gb(decodeA)} -> ${gb(decodeB)} GB > HBM 80.000 GB`)
  })

  it("does not gate an improvement: HEAD vs HEAD~1 passes at 0%", async () => {
    const r = await diffInProcess(dir, ["HEAD", "HEAD~1", SCENARIO], { failOnRegression: 0 })
    expect(r.diffs.some((d) => d.regression)).toBe(false) // exit 0
    const j = r.json
    expect(j.regression).toBe(false)
    expect(j.config_changes).toEqual([{ file: MOE, path: "moe_config.moe_intermediate_size", a: 3072, b: 2048, change: "changed" }])
    expect(j.phases.decode.tpot_ms.delta).toBe(-diff.phases.decode.tpot_ms.delta)
  })
})

describe("llmsim diff of a revision against itself", () => {
  it("reports no change and computes nothing new", async () => {
    const dir = makeRepo()
    const first = await diffInProcess(dir, ["HEAD", "HEAD"], { failOnRegression: 0 })
    expect(first.diffs.some((x) => x.regression)).toBe(false) // exit 0
    const d = first.json
    expect(d.a.scenario).toBe(SCENARIO) // defaultScenario of llmsim.config.ts
    expect(d.config_changes).toEqual([])
    expect(d.regression).toBe(false)
    expect(d.regressions).toEqual([])
    expect(d.layers.length).toBe(2 * 62)
    for (const l of d.layers) expect(l).toMatchObject({ delta_ms: 0, delta_pct: 0, status: "unchanged" })
    for (const p of Object.values(d.phases) as Array<Record<string, any>>) {
      const { fits_in_hbm, ...figures } = p
      expect(fits_in_hbm).toEqual({ a: true, b: true })
      for (const m of Object.values(figures)) expect(m).toMatchObject({ delta: 0, delta_pct: 0 })
    }
    // First run, empty store: side A computes, side B replays every node of it.
    const t1 = first.trace.nodes as Array<TraceNode>
    const a = t1.filter((n) => n.side === "a")
    const b = t1.filter((n) => n.side === "b")
    expect(a.some((n) => n.status === "computed")).toBe(true)
    expect(b.map((n) => n.id.slice(2)).sort()).toEqual(a.map((n) => n.id.slice(2)).sort())
    expect(b.filter((n) => n.status === "computed")).toEqual([])
    // A second identical diff replays everything.
    const second = await diffInProcess(dir, ["HEAD", "HEAD"])
    expect(second.trace.nodes.filter((n: TraceNode) => n.status === "computed")).toEqual([])
    expect(second.json.layers).toEqual(d.layers)
  })
})

describe("llmsim diff against the working tree", () => {
  let dir: string
  beforeAll(() => {
    dir = makeRepo()
    // Uncommitted: an FP8 KV cache halves the KV bytes every decode attention reads.
    edit(path.join(dir, SCENARIO), (t) => t.replace(/kv_cache: bf16/, "kv_cache: fp8"))
  })

  it("defaults revB to the working tree and the scenario to defaultScenario", async () => {
    const d = (await diffInProcess(dir, ["HEAD"], { runtime: { phase: "decode" } })).json
    expect(d.b).toMatchObject({ rev: "working tree", commit: null, scenario: SCENARIO })
    expect(d.config_changes).toEqual([{ file: SCENARIO, path: "precision.kv_cache", a: "bf16", b: "fp8", change: "changed" }])
    expect(Object.keys(d.phases)).toEqual(["decode"])
    expect(d.layers.length).toBe(62)
    // The LM head reads no KV cache. (MLA decode attention may stay compute-bound, so the
    // decoder layers' times are not asserted here.)
    expect(d.layers[61]).toMatchObject({ layer_name: "L61.lm_head", delta_ms: 0, status: "unchanged" })
    for (const l of d.layers) expect(l.status).toBe(l.delta_ms === 0 ? "unchanged" : "changed")
    // KV cache memory: 61 layers x (512 + 64) latent values x (2 - 1) bytes x 8 x 4096 tokens less (batch_size 8 per DP rank).
    expect(d.phases.decode.peak_memory_bytes.delta).toBe(-61 * 576 * 8 * 4096)
  })

  it("reads the second argument as a scenario when it ends in .yaml or names a file", async () => {
    const r = await diffInProcess(dir, ["HEAD", SCENARIO], { runtime: { phase: "decode" } })
    expect(r.json.b.rev).toBe("working tree")
    // An existing file without a .yaml suffix is a scenario too (here: untracked, so absent at HEAD).
    fs.copyFileSync(path.join(dir, SCENARIO), path.join(dir, "scenario-copy"))
    const c = await diffFailure(dir, ["HEAD", "scenario-copy"], { runtime: { phase: "decode" } })
    expect(c.message).toContain("scenario not found at HEAD: scenario-copy")
  })

  it("diffs several scenarios in one run, each through the same store", async () => {
    const r = await diffInProcess(dir, ["HEAD", SCENARIO, LLAMA], { runtime: { phase: "decode" } })
    const [ds, llama] = r.json
    expect(ds.config_changes.length).toBe(1)
    expect(llama.b.scenario).toBe(LLAMA)
    expect(llama.config_changes).toEqual([])
    for (const l of llama.layers) expect(l.status).toBe("unchanged")
    const ids = r.trace.nodes.map((n: TraceNode) => n.id)
    expect(ids.some((i: string) => i.startsWith("a:0:"))).toBe(true)
    expect(ids.some((i: string) => i.startsWith("b:1:"))).toBe(true)
  })

  it("leaves a dense-only edit out of the MoE layers", async () => {
    const other = makeRepo()
    edit(path.join(other, DENSE), (t) => t.replace(/d_ff: 18432/, "d_ff: 18944"))
    const d = (await diffInProcess(other, ["HEAD"], { runtime: { phase: "prefill" } })).json
    expect(d.config_changes).toEqual([{ file: DENSE, path: "ffn_config.d_ff", a: 18432, b: 18944, change: "changed" }])
    const changed = d.layers.filter((l: any) => l.status === "changed").map((l: any) => l.layer_name)
    expect(changed).toEqual(["L0.ffn_layer", "L1.ffn_layer", "L2.ffn_layer"])
  })
})

describe("llmsim diff in a project below the repository top", () => {
  it("reads each file at its path inside the repository, from any folder of the project", async () => {
    // The repository top holds `proj/`, the project (configs and llmsim.config.ts).
    const top = makeRepo()
    const proj = path.join(top, "proj")
    fs.mkdirSync(proj)
    for (const f of ["configs", "llmsim.config.ts"]) fs.renameSync(path.join(top, f), path.join(proj, f))
    commitAll(top, "move the project into proj/")
    edit(path.join(proj, MOE), (t) => t.replace(/n_shared_experts: 1/, "n_shared_experts: 2"))
    commitAll(top, "two shared experts")
    // From a folder inside the project: the scenario token resolves against the current
    // folder, then the project root.
    const cwd = path.join(proj, "configs", "scenarios")
    const d = (await diffInProcess(cwd, ["HEAD~1", "HEAD", "deepseek_v3_h800.yaml"], { runtime: { phase: "decode" } })).json
    expect(d.a.scenario).toBe(SCENARIO)
    expect(d.config_changes).toEqual([{ file: MOE, path: "moe_config.n_shared_experts", a: 1, b: 2, change: "changed" }])
    // Before the move, proj/ did not exist.
    const before = await diffFailure(proj, ["HEAD~2", "HEAD"])
    expect(`error: ${before.message}`).toContain(`error: scenario not found at HEAD~2: ${SCENARIO}`)
  })
})

/**
 * `llmsim large-ep evaluate` and `llmsim afd simulate` end to end, checked as a new user would:
 * the shipped DeepSeek scenarios, the JSON contract, the EP sweep, AFD instance counts, and
 * positioned errors. Times depend on the hardware file's efficiency constants, so the checks
 * here are identities and hand-worked byte counts, not fixed times. The commands' entry points
 * run in process (test/helpers/inProcess.ts) and print through the same renderers; flag parsing,
 * exit status and the error stream are checked on the real CLI.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parseInstances } from "../../src/deploy/deployment.ts"
import { edit, makeProject, runCli } from "../helpers/cli.ts"
import {
  afdFailure,
  afdInProcess,
  batchPolicy,
  commandErrors,
  failureOf,
  largeEpFailure,
  largeEpInProcess,
  playbookCommands,
  runOptions,
  type BatchPolicy,
  type RuntimeOverrides
} from "../helpers/inProcess.ts"
import { Option } from "effect"

const EP144 = "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"
const EP32 = "configs/scenarios/deepseek_v3_h800_prefill_ep32.yaml"
const AFD = "configs/scenarios/deepseek_v3_h800_afd.yaml"
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

interface Flags {
  readonly eps?: ReadonlyArray<number>
  readonly overrides?: Record<string, unknown>
  readonly batch?: BatchPolicy
  readonly runtime?: RuntimeOverrides
}
/** `llmsim large-ep evaluate SCENARIO` with the given flags, in process. */
const largeEpOptions = (dir: string, scenario: string, f: Flags = {}) => ({
  run: runOptions(dir, scenario, { runtime: f.runtime ?? {} }),
  eps: f.eps ?? [],
  overrides: f.overrides ?? {},
  batch: f.batch ?? { kind: "runtime" as const }
})
const largeEp = (dir: string, scenario: string, f: Flags = {}) => largeEpInProcess(largeEpOptions(dir, scenario, f))
/** `llmsim afd simulate SCENARIO [--instances a,b]`, in process. */
const afdOptions = (dir: string, scenario: string, instances: ReadonlyArray<string> = []) => ({
  run: runOptions(dir, scenario),
  instances: instances.map((i) => parseInstances(i)!),
  batch: { kind: "runtime" as const }
})
const afd = (dir: string, scenario: string, instances: ReadonlyArray<string> = []) => afdInProcess(afdOptions(dir, scenario, instances))

describe("llmsim large-ep evaluate", () => {
  const dir = makeProject()

  it("an EP value the batch policy cannot serve is a rejected row with its reason, not an error for the comparison", async () => {
    const r = await largeEp(dir, EP144, { eps: [8, 144], batch: { kind: "max" } })
    const rows = r.json.ep_sweep
    expect(rows[0]).toMatchObject({ ep: 8, rejected: "--max-batch: the deployment does not fit in HBM even at batch 1" })
    expect(rows[0].serving).toMatchObject({ batch_size: 1, fits_in_hbm: false })
    expect(rows[1].rejected).toBeUndefined()
    expect(rows[1].serving.batch_size).toBe(rows[1].serving.max_batch_per_gpu)
    expect(r.text("table")).toMatch(/^EP8 rejected, shown at batch 1: --max-batch: the deployment does not fit in HBM even at batch 1$/m)
  })

  it("DeepSeek's EP144 decode unit fits in HBM and reports TPOT and tokens/s per GPU (JSON contract)", async () => {
    const j = (await largeEp(dir, EP144)).json
    // the core result is kept, under the deployment's layout
    expect(j.parallelism).toEqual({ tp: 1, dp: 144, ep: 144 })
    expect(j.phases.decode.layers).toHaveLength(62)
    expect(j.core_serving).toHaveProperty("tpot_ms")
    expect(j.deployment).toMatchObject({
      nodes: 18,
      gpus: 144,
      ep: 144,
      redundant_experts: 32,
      dispatch_dtype: "fp8",
      combine_dtype: "bf16",
      two_batch_overlap: true
    })
    const s = j.serving
    for (const k of [
      "ttft_ms",
      "tpot_ms",
      "throughput_tokens_per_s_per_gpu",
      "memory_per_gpu_bytes",
      "memory_parts_bytes",
      "hbm_bytes_per_gpu",
      "fits_in_hbm",
      "max_batch_per_gpu",
      "bottleneck"
    ])
      expect(s).toHaveProperty(k)
    expect(s.fits_in_hbm).toBe(true)
    expect(s.ttft_ms).toBeNull()
    expect(s.tpot_ms).toBeGreaterThan(0)
    // 88 sequences per GPU (tp 1) per TPOT; a node is 8 GPUs
    expect(s.throughput_tokens_per_s_per_gpu).toBeCloseTo((88 * 1000) / s.tpot_ms, 6)
    expect(s.throughput_tokens_per_s_per_node).toBeCloseTo(8 * s.throughput_tokens_per_s_per_gpu, 6)
    expect(s.tokens_per_s_per_request).toBeCloseTo(1000 / s.tpot_ms, 9)
    // memory parts: 2 expert slots x 44,040,192 B x 58; 88 x 350,587,008 B of KV
    expect(s.memory_parts_bytes.routed_expert_weights_bytes).toBe(5_108_662_272)
    expect(s.memory_parts_bytes.kv_cache_bytes).toBe(30_851_656_704)
    expect(sum(s.memory_parts_bytes)).toBe(s.memory_per_gpu_bytes)
    expect(s.memory_per_gpu_bytes).toBeLessThanOrEqual(s.hbm_bytes_per_gpu)
    expect(s.max_batch_per_gpu).toBeGreaterThanOrEqual(88)
    // per layer: attention, FFN and communication times and the binding term
    expect(s.layers).toHaveLength(62)
    for (const l of s.layers) for (const k of ["attention_ms", "ffn_ms", "comm_ms", "layer_ms", "bound"]) expect(l).toHaveProperty(k)
    const moe = s.layers[10]
    expect(moe.layer_name).toBe("L10.moe_layer")
    expect(["attention", "ffn", "comm"]).toContain(moe.bound)
    expect(moe.comm_ms).toBeCloseTo(moe.dispatch_ms + moe.combine_ms + moe.tp_comm_ms, 9)
    // sampling imbalance >= 1 scales the hottest GPU's bytes: 88 x 8 x 7168 x 17/18 x 3 x factor on the NIC
    expect(moe.nic_bytes).toBeCloseTo(((88 * 8 * 7168 * 136 * 3) / 144) * moe.load_imbalance, 3)
    expect(s.tpot_ms).toBeCloseTo(
      s.layers.reduce((a: number, l: any) => a + l.layer_ms, 0),
      9
    )
  })

  it("prints a readable table by default (real CLI)", () => {
    const r = runCli(["large-ep", "evaluate", EP144], dir)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    for (const s of [
      "deployment  18 node(s) x 8 GPUs: 144 GPUs",
      "EP144, 32 redundant experts",
      "== decode step per GPU: low_latency all-to-all",
      "attention ms",
      "ffn ms",
      "comm ms",
      "exposed comm ms",
      "NIC MB",
      "== memory per GPU (decode): fits",
      "routed expert weights",
      "KV cache",
      "communication buffers",
      "== serving ==",
      "TPOT ms",
      "decode step tokens/s per GPU",
      "decode step tokens/s per node",
      "fits in HBM"
    ]) {
      expect(r.stdout).toContain(s)
    }
  })

  it("--ep 8,16,32,64,144,256 prints one comparison; expert bytes per GPU fall as EP grows", async () => {
    const t = await largeEp(dir, EP144, { eps: [8, 16, 32, 64, 144, 256] })
    for (const s of ["EP8 ", "EP16 ", "EP32 ", "EP64 ", "EP144 ", "EP256 ", "TPOT ms", "step tok/s/GPU", "expert GB/GPU", "max batch/GPU"])
      expect(t.text("table")).toContain(s)
    const j = t.json
    const rows = j.ep_sweep
    expect(rows.map((x: any) => x.ep)).toEqual([8, 16, 32, 64, 144, 256])
    expect(rows.map((x: any) => x.experts_per_gpu)).toEqual([36, 18, 9, 5, 2, 2])
    const experts = rows.map((x: any) => x.serving.memory_parts_bytes.routed_expert_weights_bytes)
    for (let i = 1; i < experts.length; i++) expect(experts[i]).toBeLessThanOrEqual(experts[i - 1])
    // EP8: 36 experts x 44,040,192 x 58 = 91.96 GB alone exceeds 80 GB
    expect(rows[0].serving.fits_in_hbm).toBe(false)
    expect(rows[0].serving.max_batch_per_gpu).toBe(0)
    expect(rows[4].serving.fits_in_hbm).toBe(true)
    for (const x of rows) expect(x.serving.tpot_ms).toBeGreaterThan(0)
  })

  it("--tpot-slo-ms picks the largest batch that meets the target", async () => {
    const loose = (await largeEp(dir, EP144, { batch: { kind: "tpot", tpot_slo_ms: 1000 } })).json
    // a loose target is capped by HBM
    expect(loose.serving.batch_size).toBe(loose.serving.max_batch_per_gpu)
    const target = loose.serving.tpot_ms * 0.8
    const j = (await largeEp(dir, EP144, { batch: { kind: "tpot", tpot_slo_ms: target } })).json
    expect(j.runtime.batch_policy).toBe(`tpot_slo_ms ${target}`)
    expect(j.serving.tpot_ms).toBeLessThanOrEqual(target)
    expect(j.serving.batch_size).toBeLessThan(loose.serving.batch_size)
    const max = (await largeEp(dir, EP144, { batch: { kind: "max" } })).json
    expect(max.serving.batch_size).toBe(max.serving.max_batch_per_gpu)
  })

  it("DeepSeek's EP32 prefill unit reports TTFT and prefill tokens/s with 9 experts per GPU", async () => {
    const s = (await largeEp(dir, EP32)).json.serving
    expect(s.ttft_ms).toBeGreaterThan(0)
    expect(s.tpot_ms).toBeNull()
    expect(s.throughput_kind).toBe("prefill_input")
    // 2 prompts x 4096 tokens per GPU per TTFT
    expect(s.throughput_tokens_per_s_per_gpu).toBeCloseTo((2 * 4096 * 1000) / s.ttft_ms, 6)
    // 288 / 32 = 9 slots x 44,040,192 B x 58 = 22,988,980,224 B
    expect(s.memory_parts_bytes.routed_expert_weights_bytes).toBe(22_988_980_224)
    expect(s.phases.prefill.kernel_mode).toBe("high_throughput")
    expect(s.fits_in_hbm).toBe(true)
  })

  it("flags override the deployment block", async () => {
    // --no-tbo --micro-batch 1 --combine-dtype fp8 --load-imbalance 1.2
    const j = (await largeEp(dir, EP144, { overrides: { two_batch_overlap: false, combine_dtype: "fp8", load_imbalance: 1.2 }, runtime: { micro_batch: 1 } }))
      .json
    expect(j.deployment).toMatchObject({ two_batch_overlap: false, micro_batches: 1, combine_dtype: "fp8", load_imbalance: 1.2 })
    expect(j.serving.layers[10].load_imbalance).toBe(1.2)
  })
})

describe("llmsim afd simulate", () => {
  const dir = makeProject()

  it("reports the pipeline regime, A and F times and the transfers per layer", async () => {
    const r = await afd(dir, AFD)
    const j = r.json
    expect(j.phases.decode.layers).toHaveLength(62)
    expect(j.deployment).toMatchObject({ attention: { instances: 3, gpus: 24 }, ffn: { instances: 2, gpus: 16 }, micro_batches: 3 })
    const s = j.serving
    expect(s.instances).toBe("3A2F")
    expect(["three_stage", "conservative", "serial"]).toContain(s.pipeline_regime)
    for (const k of [
      "ttft_ms",
      "tpot_ms",
      "throughput_tokens_per_s_per_gpu",
      "memory_per_gpu_bytes",
      "memory_parts_bytes",
      "hbm_bytes_per_gpu",
      "fits_in_hbm",
      "max_batch_per_gpu",
      "bottleneck"
    ])
      expect(s).toHaveProperty(k)
    const moe = s.layers[3]
    for (const k of [
      "attention_ms",
      "ffn_ms",
      "a2f_ms",
      "f2a_ms",
      "comm_ms",
      "bound",
      "regime",
      "cycle_ms",
      "a2f_bytes_per_attention_gpu",
      "a2f_bytes_per_ffn_gpu"
    ])
      expect(moe).toHaveProperty(k)
    // 3A2F: an FFN GPU receives 24/16 = 1.5 x an attention GPU's sends (x the sampling imbalance)
    expect(moe.a2f_bytes_per_ffn_gpu).toBeCloseTo(1.5 * moe.a2f_bytes_per_attention_gpu * moe.load_imbalance, 3)
    expect(s.throughput_tokens_per_s_per_gpu).toBeCloseTo((96 * 24 * 1000) / s.tpot_ms / 40, 6)
    expect(s.memory_by_role.attention_gpu.routed_expert_weights_bytes).toBe(0)
    expect(s.memory_by_role.ffn_gpu.routed_expert_weights_bytes).toBe(40_869_298_176)
    const t = r.text("table")
    for (const x of [
      "pipeline regime",
      "A ms/mb",
      "A->F ms/mb",
      "F ms/mb",
      "F->A ms/mb",
      "A->F MB/A-GPU",
      "memory per attention GPU",
      "memory per FFN GPU",
      "3A2F (24 attention + 16 FFN GPUs)"
    ])
      expect(t).toContain(x)
  })

  it("--instances 2A2F,3A2F compares AFD shapes (real CLI)", async () => {
    const t = runCli(["afd", "simulate", AFD, "--instances", "2A2F,3A2F"], dir)
    expect(t.stderr).toBe("")
    expect(t.status).toBe(0)
    expect(t.stdout).toMatch(/^2A2F\s+16\s+16/m)
    expect(t.stdout).toMatch(/^3A2F\s+24\s+16/m)
    const one = (await afd(dir, AFD, ["2A2F"])).json
    expect(one.serving.instances).toBe("2A2F")
    expect(one.serving.gpus).toBe(32)
  })
})

describe("bad input", () => {
  const dir = makeProject()

  it("a bad deployment field: file:line:col, field path, expectation, exit 1, nothing written", async () => {
    const file = path.join(dir, EP144)
    const original = fs.readFileSync(file, "utf8")
    edit(file, (t) => t.replace("  redundant_experts: 32 ", "  redundant_experts: 30 "))
    const out = path.join(dir, "out.json")
    const r = runCli(["large-ep", "evaluate", EP144, "--out", out], dir)
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(
      /^error: configs\/scenarios\/deepseek_v3_h800_decode_ep144\.yaml:\d+:\d+ deployment\.redundant_experts: n_routed_experts 256 \+ redundant_experts 30 = 286 expert slots are not divisible by ep 144/
    )
    expect(fs.existsSync(out)).toBe(false)
    edit(file, (t) => t.replace("  dispatch_dtype: fp8 ", "  dispatch_dtype: fp6 ").replace("  redundant_experts: 30 ", "  redundant_experts: 32 "))
    const d = await largeEpFailure(largeEpOptions(dir, EP144))
    expect(d._tag).toBe("ConfigError")
    expect(d.message).toMatch(/deepseek_v3_h800_decode_ep144\.yaml:\d+:\d+ deployment\.dispatch_dtype: Expected "fp8" \| "bf16" \| "fp16" \| "fp32"/)
    fs.writeFileSync(file, original)
  })

  it("--expert-load: EPLB placement judged on a measured file; its problems name file, line and column (real CLI)", () => {
    const loads = path.join(dir, "loads.csv")
    // One layer, every one of the 256 experts routed 10 tokens. EP144 with 32 redundant: experts 0-31 get a
    // second replica (5 tokens each). 288 replicas on 144 GPUs of 2 slots: the 224 whole ones fill one slot of
    // every GPU and the second slot of 80, the 64 halves the last 64: loads 20 and 15, max/mean 20 / (2560/144) = 1.125.
    fs.writeFileSync(loads, ["layer,expert,count", ...Array.from({ length: 256 }, (_, e) => `0,${e},10`)].join("\n"))
    const r = runCli(["large-ep", "evaluate", EP144, "--expert-load", "loads.csv", "--format", "json"], dir)
    expect(r.stderr).toBe("")
    const j = JSON.parse(r.stdout)
    expect(j.deployment.load_imbalance).toEqual({ measured: { file: "loads.csv", steps: 1, layers: 1, experts: 256 } })
    const moe = j.serving.layers.filter((l: any) => l.load_imbalance !== 1)
    expect(moe.length).toBeGreaterThan(0)
    for (const l of moe) expect(l.load_imbalance).toBeCloseTo(1.125, 12)
    const both = runCli(["large-ep", "evaluate", EP144, "--expert-load", "loads.csv", "--load-imbalance", "1.2"], dir)
    expect([both.status, both.stderr]).toEqual([1, "error: --load-imbalance and --expert-load both set the load imbalance: give one\n"])
    fs.writeFileSync(loads, "layer,expert,count\n0,0,10\n0,1,ten\n")
    const bad = runCli(["afd", "simulate", AFD, "--expert-load", "loads.csv"], dir)
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([1, "", 'error: loads.csv:3:5 count: Expected a number >= 0 (tokens routed), got "ten"\n'])
    fs.writeFileSync(loads, "layer,expert,count\n0,0,10\n0,7,10\n")
    const few = runCli(["large-ep", "evaluate", EP144, "--expert-load", "loads.csv"], dir)
    expect(few.status).toBe(1)
    expect(few.stderr).toBe("error: --expert-load: loads.csv: expected experts 0 to 255 (the model's routed experts), got 8\n")
    fs.rmSync(loads)
  })

  it("bad flag values name the flag (the commands' own parsing, in process)", async () => {
    // llmsim large-ep evaluate EP144 --ep 8,x; llmsim afd simulate AFD --instances 3B2F (both fail before reading a file)
    const [afdCommand, largeEpCommand] = playbookCommands
    const cases: Array<[typeof afdCommand, Array<string>, RegExp]> = [
      [largeEpCommand, ["evaluate", EP144, "--ep", "8,x"], /--ep: expected positive integers/],
      [afdCommand, ["simulate", AFD, "--instances", "3B2F"], /--instances: expected <attention>A<ffn>F counts/]
    ]
    for (const [command, args, re] of cases) {
      const errors = await commandErrors(command, args)
      expect(errors.length, args.join(" ")).toBe(1)
      expect(errors[0]).toMatch(re)
    }
  })

  it("bad batch flags name the flag (the CLI's parsers)", async () => {
    // --load-imbalance 0.5; --batch 4 --max-batch
    const [, largeEpCommand] = playbookCommands
    const li = await commandErrors(largeEpCommand, ["evaluate", EP144, "--load-imbalance", "0.5"])
    expect(li.join("\n")).toMatch(/--load-imbalance: expected a number >= 1 or "sampling"/)
    const both = await failureOf(batchPolicy({ tpotSloMs: Option.none(), maxBatch: true, batch: Option.some(4) }))
    expect(both.message).toMatch(/--max-batch and --batch both choose the batch/)
  })

  it("bad flag values the deployment model rejects name the flag", async () => {
    // --ep 12, --micro-batch 3 (large-ep); --instances 3A3F (afd)
    const ep = await largeEpFailure(largeEpOptions(dir, EP144, { eps: [12] }))
    expect(ep.message).toMatch(/--ep: an EP group that spans nodes fills them: ep 12/)
    const micro = await largeEpFailure(largeEpOptions(dir, EP144, { runtime: { micro_batch: 3 } }))
    expect(micro.message).toMatch(/--micro-batch: two-batch overlap runs exactly 2 micro-batches, got 3/)
    const inst = await afdFailure(afdOptions(dir, AFD, ["3A3F"]))
    expect(inst.message).toMatch(/--instances: .*not divisible by the 24 FFN GPUs/)
    for (const e of [ep, micro, inst]) expect(["UsageError", "ConfigError"]).toContain(e._tag)
  })
})

/**
 * "Does not fit" verdicts: `llmsim run`, `large-ep evaluate` and `afd simulate` on a batch that
 * does not fit in HBM exit 0 with a verdict line and the serving figures marked as not
 * achievable (the JSON keeps the numbers and `fits_in_hbm: false`); `--require-fit` makes it
 * exit 2 after printing. Two real-CLI runs (exit status, streams); the rest in process.
 *
 * Hand-worked memory of Llama-3.1-70B on H100 with TP8 (bf16): weights 70.55e9 params x 2 B / 8
 * GPUs = 17.64 GB per GPU; KV cache per token per GPU = 80 layers x (K, V) x 8 KV heads / 8 x
 * head_dim 128 x 2 B = 40,960 B, so decode at batch 512 and KV length 4096 holds
 * 512 x 4096 x 40,960 B = 85.90 GB of KV cache: over the 80 GB of HBM before any activation.
 */
import { describe, expect, it } from "vitest"
import { parseInstances } from "../../src/deploy/deployment.ts"
import { markUnfit, NOT_ACHIEVABLE, unfitSummary, unfitVerdict } from "../../src/report/fit.ts"
import { unfitOf } from "../../src/cli/run.ts"
import { makeProject, runCli } from "../helpers/cli.ts"
import { afdInProcess, largeEpInProcess, runInProcess, runOptions } from "../helpers/inProcess.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const EP144 = "configs/scenarios/deepseek_v3_h800_decode_ep144.yaml"
const AFD = "configs/scenarios/deepseek_v3_h800_afd.yaml"
const KV_BYTES = 512 * 4096 * 80 * 2 * 1 * 128 * 2

describe("fit verdict text", () => {
  it("writes the verdict with the parts, and the usable capacity under a reservation", () => {
    const parts = [
      ["weights", 60e9],
      ["KV cache", 33.1e9],
      ["activations", 0.3e9]
    ] as const
    expect(unfitVerdict({ per_gpu_bytes: 93.4e9, hbm_bytes: 80e9, reserved_bytes: 0, where: "", parts })).toBe(
      "verdict: DOES NOT FIT in HBM: 93.40 GB per GPU > 80.00 GB (weights 60.00, KV cache 33.10, activations 0.30); its TTFT, TPOT and tokens/s are not achievable"
    )
    expect(unfitVerdict({ per_gpu_bytes: 93.4e9, hbm_bytes: 80e9, reserved_bytes: 2e9, where: "prefill", parts })).toContain(
      "93.40 GB per GPU > 78.00 GB usable of 80.00 GB HBM (prefill: weights 60.00,"
    )
    expect(markUnfit("33.755", false)).toBe(`33.755 ${NOT_ACHIEVABLE}`)
    expect(markUnfit("33.755", true)).toBe("33.755")
    expect(markUnfit("-", false)).toBe("-")
    expect(unfitSummary({ fits_in_hbm: true, peak_memory_bytes: 1, hbm_bytes_per_gpu: 2 })).toBeUndefined()
    expect(unfitSummary({ fits_in_hbm: false, peak_memory_bytes: 93.4e9, hbm_bytes_per_gpu: 80e9 })).toBe("93.40 GB per GPU > 80.00 GB HBM")
  })
})

describe("llmsim run on a batch that does not fit", () => {
  const dir = makeProject()
  const args = ["run", LLAMA, "--phase", "decode", "--batch", "512", "--no-cache"]

  it("exits 0 with a verdict near the top and TPOT and tokens/s marked as not achievable (real CLI)", () => {
    const r = runCli(args, dir)
    expect(r.status).toBe(0)
    expect(r.stderr).toBe("")
    const lines = r.stdout.split("\n")
    // Scenario, hardware, efficiency, calibration, runtime, then the verdict.
    expect(lines[5]).toMatch(
      /^verdict: DOES NOT FIT in HBM: (\d+\.\d\d) GB per GPU > 80\.00 GB \(weights 17\.64, KV cache 85\.90, activations \d+\.\d\d\); its TTFT, TPOT and tokens\/s are not achievable; bottleneck: decode \w+-bound \(L\d+\.\w+\)$/
    )
    const total = Number(/(\d+\.\d\d) GB per GPU/.exec(lines[5])![1])
    expect(total).toBeGreaterThanOrEqual(17.64 + 85.9)
    expect(r.stdout).toMatch(/^TPOT ms\s+\d+\.\d{3} \(does not fit\)$/m)
    expect(r.stdout).toMatch(/^decode step tokens\/s per GPU\s+\d+\.\d \(does not fit\)$/m)
    expect(r.stdout).toMatch(/^fits in HBM\s+no$/m)
    expect(r.stdout).toMatch(/HBM 80\.00 GB -> DOES NOT FIT$/m)
  })

  it("--require-fit exits 2 after printing the result, with one line on stderr (real CLI)", () => {
    const r = runCli([...args, "--require-fit", "--format", "json"], dir)
    expect(r.status).toBe(2)
    const j = JSON.parse(r.stdout)
    // JSON keeps the numbers, with the fit.
    expect(j.serving.fits_in_hbm).toBe(false)
    expect(typeof j.serving.tpot_ms).toBe("number")
    expect(j.phases.decode.memory.kv_cache_bytes).toBe(KV_BYTES)
    const gb = (j.serving.peak_memory_bytes / 1e9).toFixed(2)
    expect(r.stderr).toBe(`does not fit: ${LLAMA}: ${gb} GB per GPU > 80.00 GB HBM (--require-fit)\n`)
  })

  it("a fitting run has a fits verdict, nothing marked, and passes --require-fit", async () => {
    const r = await runInProcess(runOptions(dir, LLAMA, { runtime: { phase: "decode" }, noCache: true }))
    const text = r.text("table")
    expect(text.split("\n")[5]).toMatch(/^verdict: fits in HBM \(\d+\.\d\d of 80\.00 GB per GPU\); TPOT \d+\.\d{3} ms; bottleneck: decode /)
    expect(text).not.toContain("DOES NOT FIT")
    expect(text).not.toContain(NOT_ACHIEVABLE)
    expect(unfitOf(r.out.result)).toBeUndefined()
  })

  it("names the peak phase when both phases ran", async () => {
    // Prefill at batch 256 adds its activations to the same 42.95 GB of KV cache (256 x 4096 x 40,960 B).
    const r = await runInProcess(runOptions(dir, LLAMA, { runtime: { batch_size: 256 }, noCache: true }))
    expect(r.text("table").split("\n")[5]).toMatch(
      /^verdict: DOES NOT FIT in HBM: \d+\.\d\d GB per GPU > 80\.00 GB \(prefill: weights 17\.64, KV cache 42\.95, activations \d+\.\d\d\);/
    )
    expect(unfitOf(r.out.result)).toMatch(/^\d+\.\d\d GB per GPU > 80\.00 GB HBM$/)
  })
})

describe("playbooks on a batch that does not fit", () => {
  const dir = makeProject()

  it("large-ep evaluate: verdict with the communication buffers, marked serving figures, JSON numbers kept", async () => {
    const r = await largeEpInProcess({
      run: runOptions(dir, EP144, { runtime: { batch_size: 1024 }, noCache: true }),
      eps: [],
      overrides: {},
      batch: { kind: "runtime" }
    })
    const text = r.text("table")
    // The header (with its calibration line), the runtime, the deployment's note (group-limited routing over 18 nodes), then the verdict.
    expect(text.split("\n")[7]).toMatch(/^note: topk_group 4 of n_group 8 /)
    expect(text.split("\n")[8]).toMatch(
      /^verdict: DOES NOT FIT in HBM: \d+\.\d\d GB per GPU > \d+\.\d\d GB.* \(weights \d+\.\d\d, KV cache \d+\.\d\d, activations \d+\.\d\d, communication buffers \d+\.\d\d\);/
    )
    expect(text).toMatch(/^TPOT ms\s+\d+\.\d{3} \(does not fit\)$/m)
    expect(text).toMatch(/^decode step tokens\/s per GPU\s+\d+\.\d \(does not fit\)$/m)
    expect(r.json.serving.fits_in_hbm).toBe(false)
    expect(typeof r.json.serving.tpot_ms).toBe("number")
    expect(unfitOf(r.result)).toBeDefined()
  })

  it("large-ep EP sweep: stars the rows that do not fit and names them under the table", async () => {
    // EP8 holds 256 / 8 = 32 routed experts (+ 32 redundant / 8) per GPU: far over 80 GB of FP8 weights.
    const r = await largeEpInProcess({ run: runOptions(dir, EP144, { noCache: true }), eps: [8, 144], overrides: {}, batch: { kind: "runtime" } })
    const text = r.text("table")
    expect(text).toMatch(/^EP8 .* \d+\.\d{3}\*\s+\d+\.\d\*\s+\d+\.\d\*\s.*\bno\b/m)
    expect(text).toMatch(/^EP144 .* \d+\.\d{3}\s+\d+\.\d\s+\d+\.\d\s.*\byes\b/m)
    expect(text).toContain("* does not fit in HBM (EP8): their TTFT, TPOT and tokens/s are not achievable")
    expect(unfitOf(r.result)).toBe("EP8 of the sweep")
  })

  it("afd simulate: the verdict names the role that does not fit", async () => {
    const r = await afdInProcess({
      run: runOptions(dir, AFD, { runtime: { batch_size: 2048 }, noCache: true }),
      instances: [parseInstances("3A2F")!],
      batch: { kind: "runtime" }
    })
    const text = r.text("table")
    expect(text).toMatch(/^verdict: DOES NOT FIT in HBM: \d+\.\d\d GB per GPU > \d+\.\d\d GB.* \(attention GPU: weights/m)
    expect(text).toMatch(/^TPOT ms\s+\d+\.\d{3} \(does not fit\)$/m)
    expect(r.json.serving.fits_in_hbm).toBe(false)
  })
})

/**
 * Disaggregated pools at saturation against published figures (data/reference/disaggregated_serving.csv):
 * each published pool measured alone at max load, simulated the way `llmsim plan` measures a role
 * (src/serve/disaggregate.ts with the other pool left out) on SGLang's engine model, the source's
 * engine. Nothing is fitted on these rows: every error is held out.
 *
 * The rows: LMSYS's DeepSeek-V3 on 96 H100 (prefill DEP32 at 1K, 2K and 4K-token prompts, per-node
 * input tokens/s; decode DEP72 at a 2,000-token KV and 256 sequences per GPU, per-node output
 * tokens/s). Settings the source does not state are assumed and named: a memory fraction of 0.85
 * (SGLang's own default is negative at these DP sizes: engineDefaults.ts), 16,384 prefill tokens
 * per rank a step (the source's 4K comparison states it), 1K = 1,024 and 2K = 2,048 tokens, and
 * 100-token outputs for the decode pool (its steady state is set by the KV length and batch).
 * What llmsim does not model here, and the source used: DeepEP's dispatch kernels, two-batch
 * overlap, EPLB; bench serves the core layout (docs/bench.md).
 */
import { Effect } from "effect"
import * as path from "node:path"
import { estimatorOf } from "../app/estimator.ts"
import { Evaluator, Project } from "../app/services.ts"
import { loadHardwareFile, loadScenario } from "../config/load.ts"
import { parseCsv } from "../reference/csv.ts"
import { saturation } from "../serve/capacity.ts"
import { validateWorkload } from "../serve/workload.ts"
import { pairDeployment, scenarioVariant, servingInstance, type EngineOverrides } from "../sim/serving.ts"
import { ReferenceDataError } from "./errors.ts"
import { readFile } from "./validate.ts"

const FILE = "disaggregated_serving.csv"
const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const HARDWARE = "configs/hardware/H100-SXM.yaml"
/** Assumed where the source is silent (see the module header). */
const MEMORY_FRACTION = 0.85
const PREFILL_STEP_TOKENS = 16_384
const DECODE_OUTPUT = 100

/** The published rows simulated, by row_id: role, GPUs (DP = EP), prompt tokens, sequences per GPU. */
const CASES: ReadonlyArray<{
  readonly row_id: string
  readonly role: "prefill" | "decode"
  readonly gpus: number
  readonly isl: number
  readonly batch?: number
}> = [
  { row_id: "lmsys-h100-prefill-1k", role: "prefill", gpus: 32, isl: 1024 },
  { row_id: "lmsys-h100-prefill-2k", role: "prefill", gpus: 32, isl: 2048 },
  { row_id: "lmsys-h100-prefill-4k", role: "prefill", gpus: 32, isl: 4096 },
  { row_id: "lmsys-h100-decode-2k", role: "decode", gpus: 72, isl: 2000, batch: 256 }
]

interface PoolRow {
  readonly row_id: string
  readonly role: "prefill" | "decode"
  readonly layout: string
  readonly isl: number
  /** Tokens/s per 8-GPU node: input for prefill, output for decode. */
  readonly measured_per_node: number
  readonly predicted_per_node: number
  readonly error_pct: number
}

export interface PoolValidation {
  readonly rows: ReadonlyArray<PoolRow>
  readonly assumptions: ReadonlyArray<string>
}

export const poolValidation = (referenceFolder: string) =>
  Effect.gen(function* () {
    const { root, paths } = yield* Project
    const evaluator = yield* Evaluator
    // The file's first lines are # comments (its source note).
    const raw = yield* readFile(referenceFolder, FILE)
    const table = parseCsv(
      raw
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n")
    )
    const base = yield* loadScenario(evaluator, paths, path.join(root, SCENARIO))
    const hardware = yield* loadHardwareFile(evaluator, root, path.join(root, HARDWARE))
    const estimator = yield* estimatorOf({ estimator: "analytic", efficiency: "hardware" }, { cwd: root, root })
    const rows: Array<PoolRow> = []
    for (const c of CASES) {
      const row = table.rows.find((r) => r.values.row_id === c.row_id)?.values
      if (row === undefined) return yield* Effect.fail(new ReferenceDataError({ message: `${FILE}: no row ${c.row_id}` }))
      const measured = Number(row[c.role === "prefill" ? "input_tps_per_node" : "output_tps_per_node"])
      const flags: EngineOverrides = {
        memory_fraction: MEMORY_FRACTION,
        ...(c.role === "prefill" ? { max_step_tokens: PREFILL_STEP_TOKENS } : { max_running: c.batch! })
      }
      const layout = scenarioVariant(base, { hardware, parallelism: { tp: 1, dp: c.gpus, ep: c.gpus } })
      // 256 routed experts do not divide 72 GPUs: the decode pool carries redundant experts (288 slots, 4 a GPU).
      const slots = 256 % c.gpus === 0 ? 0 : Math.ceil(256 / c.gpus) * c.gpus - 256
      const variant = slots === 0 ? layout : { ...layout, spec: { ...layout.spec, deployment: { redundant_experts: slots } } }
      const output = c.role === "prefill" ? 1 : DECODE_OUTPUT
      const inst = yield* servingInstance(variant, "sglang", flags, estimator, "hardware", c.isl + output)
      const checked = validateWorkload({ dataset: "random", input_len: c.isl, output_len: output, request_rate: Number.POSITIVE_INFINITY })
      if (!checked.ok) return yield* Effect.fail(new ReferenceDataError({ message: `${c.row_id}: ${checked.problems[0]!.message}` }))
      const side = { inst, hardware, key: HARDWARE }
      const dep =
        c.role === "prefill"
          ? pairDeployment(side, 1, side, 0, { acceptance: 0, workload: checked.workload, typical: c.isl + output, efficiency: "hardware" })
          : pairDeployment(side, 0, side, 1, { acceptance: 0, workload: checked.workload, typical: c.isl + output, efficiency: "hardware" })
      if (typeof dep === "string") return yield* Effect.fail(new ReferenceDataError({ message: `${c.row_id}: ${dep}` }))
      // Saturation: every request at once, twice what the pool holds (at least 2,000).
      const holds = inst.layout.dp * Math.min(inst.settings.max_running, Math.floor(inst.kv.kv_tokens / (c.isl + output)))
      const run = saturation(dep, checked.workload, Math.max(2000, 2 * holds))
      const nodes = c.gpus / 8
      const predicted = c.role === "prefill" ? (run.request_throughput * c.isl) / nodes : run.output_tokens_per_s / nodes
      rows.push({
        row_id: c.row_id,
        role: c.role,
        layout: `DEP${c.gpus}`,
        isl: c.isl,
        measured_per_node: measured,
        predicted_per_node: predicted,
        error_pct: (predicted / measured - 1) * 100
      })
    }
    const result: PoolValidation = {
      rows,
      assumptions: [
        `memory fraction ${MEMORY_FRACTION} (SGLang's default is negative at DP32/DP72)`,
        `${PREFILL_STEP_TOKENS} prefill tokens per rank a step`,
        "1K/2K prompts = 1,024/2,048 tokens",
        "32 redundant experts on DEP72 (256 routed experts do not divide 72 GPUs)",
        `decode outputs of ${DECODE_OUTPUT} tokens`,
        "no DeepEP, two-batch overlap or EPLB (bench serves the core layout)"
      ]
    }
    return result
  })

/**
 * The serving dataset: TensorRT-LLM's published max-load throughput (data/reference/
 * trtllm_perf_overview.csv, the PyTorch-backend pages 03e27c7d and 00f37686: trtllm-bench
 * throughput, every request of exactly ISL input and OSL output tokens queued at once) for the
 * H100, H200 and B200 rows whose model llmsim ships. Each row becomes an engine instance: the
 * model's shipped scenario on the row's hardware, the checkpoint's weights (FP8 on H100 / H200;
 * NVFP4, W4A4 as ModelOpt quantizes it, on B200; gpt-oss keeps its MXFP4 experts), the row's
 * TP / attention-DP / EP layout, and trtllm-bench's settings:
 *
 *   max_batch_size, max_num_tokens   trtllm-bench's heuristic (engineDefaults.ts trtllmBenchFinetune:
 *                                    KV requests = the KV budget / (ISL + OSL), rounded up) and
 *                                    max_num_tokens >= ISL + max batch without chunking
 *   KV fraction                      0.95: the page uses `--kv_cache_free_gpu_mem_fraction 0.95`
 *                                    "in many cases" (falling back to 0.90 on out-of-memory)
 *   CUDA graphs                      padding on, up to the max batch (the page's llm_options)
 *   KV cache dtype                   FP8 (the FP8 checkpoints quantize it; the DeepSeek and gpt-oss
 *                                    options say fp8 / auto)
 *   requests                         the page's num_requests for the ISL/OSL pair (3000 for 1000/1000,
 *                                    which it does not list: its 1024/1024 count)
 * Measured: output tokens/s per GPU (03e27c7d reports it per GPU; 00f37686 for the whole system,
 * divided here by its GPUs).
 */
import { parseCsv } from "../../reference/csv.ts"

export const SERVING_FILE = "trtllm_perf_overview.csv"

/** Shipped scenario of each model the rows name (same architecture: Llama-3.3-70B is Llama-3.1-70B's). */
const SERVING_MODELS: Readonly<Record<string, string>> = {
  "DeepSeek-R1-0528": "configs/scenarios/deepseek_v3_h800.yaml",
  "Llama-3.3-70B-Instruct": "configs/scenarios/llama_3_1_70b_h100.yaml",
  "Llama-3.1-8B-Instruct": "configs/scenarios/llama_3_1_8b_h100.yaml",
  "Llama-3.1-405B-Instruct": "configs/scenarios/llama_3_1_405b_h200.yaml",
  "Llama-4-Maverick-17B-128E-Instruct": "configs/scenarios/llama_4_maverick_h200.yaml",
  "Qwen3-235B-A22B": "configs/scenarios/qwen3_235b_h100.yaml",
  "Qwen3-30B-A3B": "configs/scenarios/qwen3_30b_a3b_h100.yaml",
  "gpt-oss-120b": "configs/scenarios/gpt_oss_120b_h100.yaml",
  "gpt-oss-20b": "configs/scenarios/gpt_oss_20b_h100.yaml"
}

/** Models whose routed experts make them MoE (reported apart from the dense ones). */
const MOE = new Set(["DeepSeek-R1-0528", "Llama-4-Maverick-17B-128E-Instruct", "Qwen3-235B-A22B", "Qwen3-30B-A3B", "gpt-oss-120b", "gpt-oss-20b"])

/** Hardware files the dataset reads rows for: Hopper (the host-time fit) and Blackwell (held out). */
const HARDWARE_CONFIG = /^configs\/hardware\/(H100-SXM|H200-SXM|B200)\.yaml$/

/** The checkpoint's weight format as the page labels it (`precision`): FP8, or FP4 = NVFP4. */
const WEIGHTS: Readonly<Record<string, "fp8" | "fp4">> = { FP8: "fp8", FP4: "fp4" }

export interface ServingCase {
  /** 1-based line in the CSV file. */
  readonly line: number
  readonly model: string
  readonly scenario: string
  readonly moe: boolean
  readonly hardware_config: string
  readonly hardware: string
  /** Blackwell (B200): never in the host-time fit, judged with the constants fitted on Hopper. */
  readonly blackwell: boolean
  /** Weights (and, for fp4, activations) of the checkpoint: fp8, or fp4 = NVFP4. */
  readonly weights: "fp8" | "fp4"
  readonly tp: number
  /** Attention data-parallel ranks (DEPn: n). */
  readonly dp: number
  readonly ep: number
  readonly gpus: number
  readonly isl: number
  readonly osl: number
  readonly num_requests: number
  /** Published output tokens/s per GPU. */
  readonly measured_per_gpu: number
  readonly source: string
}

/** The pages' request count per ISL/OSL (the CSV header quotes them); 1000/1000 takes 1024/1024's. */
const requestsFor = (stated: string): number => (stated === "" ? 3000 : Number(stated))

export const servingCases = (text: string): Array<ServingCase> => {
  const rows = parseCsv(text).rows
  const out: Array<ServingCase> = []
  for (const r of rows) {
    const f = r.values
    const model = f.model ?? ""
    const scenario = SERVING_MODELS[model]
    if (scenario === undefined) continue
    const hw = HARDWARE_CONFIG.exec(f.hardware_config ?? "")
    const weights = WEIGHTS[f.precision ?? ""]
    if (f.backend !== "pytorch" || hw === null || weights === undefined) continue
    if (f.metric !== "trtllm_out_tps_gpu" && f.metric !== "trtllm_total_out_tps") continue
    const tp = Number(f.tp)
    const gpus = Number(f.gpus)
    const attentionDp = f.attention_dp === "true"
    const published = Number(f.published)
    const isl = Number(f.isl)
    const osl = Number(f.osl)
    out.push({
      line: r.line,
      model,
      scenario,
      moe: MOE.has(model),
      hardware_config: f.hardware_config ?? "",
      hardware: f.hardware ?? "",
      blackwell: hw[1] === "B200",
      weights,
      // DEPn: attention over n data-parallel ranks of TP 1, experts over n GPUs.
      tp: attentionDp ? 1 : tp,
      dp: attentionDp ? tp : 1,
      ep: f.ep === "" ? tp : Number(f.ep),
      gpus,
      isl,
      osl,
      num_requests: requestsFor(f.num_requests ?? ""),
      measured_per_gpu: f.metric === "trtllm_out_tps_gpu" ? published : published / gpus,
      source: `${f.source_version ?? ""}`
    })
  }
  return out
}

/**
 * The large-EP deployment model (src/deploy, `llmsim large-ep evaluate`) as step functions for
 * the system-level checks: a scenario with a `deployment:` block in, decode and prefill step
 * latencies out. Resolution errors (a deployment the playbook rejects) are returned as text.
 */
import type { LoadedScenario } from "../config/load.ts"
import { modelOf } from "../kernel/model.ts"
import { resolveLargeEp, type LargeEpDeployment, type LargeEpOverrides } from "../deploy/deployment.ts"
import { largeEpDecode, largeEpPhase, type LargeEpLayer, type PlaybookInput } from "../deploy/largeEp.ts"
import { scenarioBase } from "../sim/simulate.ts"
import { analyticEstimator } from "../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../timing/roofline.ts"

export interface SystemStep {
  readonly step_ms: number
  readonly peak_memory_bytes: number
  /** The first MoE layer's terms (the per-layer output of `llmsim large-ep evaluate`), when the model has one. */
  readonly moe_layer?: LargeEpLayer
}

const moeLayer = (layers: ReadonlyArray<LargeEpLayer>): { moe_layer?: LargeEpLayer } => {
  const l = layers.find((x) => x.layer_type === "moe_layer")
  return l === undefined ? {} : { moe_layer: l }
}

export interface LargeEpSystem {
  readonly decode: (batchPerGpu: number, kvLen: number) => SystemStep
  readonly prefill: (promptsPerGpu: number, promptTokens: number) => SystemStep
  /** Deployment facts shown in the report's assumptions. */
  readonly summary: string
}

/**
 * Resolve a scenario's deployment block (decoded strictly with the scenario) with the playbook's
 * rules, and `overrides` as `llmsim large-ep evaluate`'s flags would give them; `commSms` sets the
 * SMs the high-throughput kernels take (the deployment block's `comm_sms`). A string on failure.
 */
export const largeEpSystem = (loaded: LoadedScenario, mode: EfficiencyMode, overrides: LargeEpOverrides = {}, commSms?: number): LargeEpSystem | string => {
  const model = modelOf(loaded)
  const input: PlaybookInput = { model, hardware: loaded.hardware, timing: timingHardware(loaded.hardware, mode), estimator: analyticEstimator }
  const r = resolveLargeEp(model, loaded.hardware, scenarioBase(loaded, model), overrides)
  if (!r.ok) return `deployment rejected: ${r.problem.message}`
  const d: LargeEpDeployment = commSms === undefined ? r.value : { ...r.value, comm_sms: commSms }
  const imbalance = typeof d.load_imbalance === "object" ? "measured expert loads" : String(d.load_imbalance)
  return {
    decode: (batch, kvLen) => {
      const p = largeEpDecode(input, d, { batch_size: batch, kv_len: kvLen })
      return { step_ms: p.tpot_ms, peak_memory_bytes: p.memory_per_gpu_bytes, ...moeLayer(p.layers) }
    },
    prefill: (prompts, tokens) => {
      const p = largeEpPhase(input, d, { phase: "prefill", batch_size: prompts, seq_len: tokens })
      return { step_ms: p.step_ms, peak_memory_bytes: p.memory_per_gpu_bytes, ...moeLayer(p.layers) }
    },
    summary:
      `${d.gpus} GPUs (${d.nodes} nodes), attention tp ${d.tp} x dp ${d.dp}, ep ${d.ep}, ${d.redundant_experts} redundant experts, ` +
      `${d.dispatch_dtype} dispatch / ${d.combine_dtype} combine, ${d.two_batch_overlap ? "two-batch overlap" : "no overlap"} (${d.micro_batches} micro-batches), ` +
      `load imbalance ${imbalance}, all-to-all kernels ${d.kernel_mode.prefill} (prefill) / ${d.kernel_mode.decode} (decode), ` +
      `all-to-all latency ${d.a2a_latency_us.high_throughput} / ${d.a2a_latency_us.low_latency} us, ${d.comm_sms} SMs for communication, ` +
      `overlap efficiency ${loaded.hardware.overlap_efficiency}`
  }
}

/**
 * The `serving` object the playbooks add to a result: TTFT / TPOT, tokens/s per request, unit,
 * GPU and node, memory per GPU with its parts, fit and the largest batch, the bottleneck, and the
 * per-layer times. Field names carry their units. The keys of the core serving summary
 * (src/kernel/records.ts ServingSummary) are all present with the same meaning, computed by the
 * playbook's deployment model; the rates are the one serving arithmetic (src/kernel/serving.ts)
 * over the unit's sequences (batch_size x attention dp ranks) and GPUs (attention + FFN GPUs in
 * AFD). `throughput_*` is the decode figure when decode is evaluated, else the prefill figure
 * (`throughput_kind` says which).
 */
import { servingRates } from "../kernel/serving.ts"
import type { StrategyName } from "../kernel/strategies.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { afdPhase, type AfdLayer, type AfdPhase } from "./afd.ts"
import type { AfdPlan, LargeEpDeployment } from "./deployment.ts"
import { largeEpPhase, type LargeEpLayer, type LargeEpPhase, type PlaybookInput } from "./largeEp.ts"
import { totalBytes, type MemoryParts } from "./memory.ts"

export interface ServingRun {
  readonly phases: ReadonlyArray<SinglePhase>
  readonly batch_size: number
  readonly seq_len: number
  readonly tokens_per_expert?: number
}

interface ServingCore {
  /** How the deployment model composes a step (src/kernel/strategies.ts). */
  readonly strategy: StrategyName
  readonly ttft_ms: number | null
  readonly tpot_ms: number | null
  readonly throughput_kind: "decode_output" | "prefill_input"
  readonly throughput_tokens_per_s: number
  readonly throughput_tokens_per_s_per_gpu: number
  readonly throughput_tokens_per_s_per_node: number
  readonly tokens_per_s_per_request: number | null
  readonly prefill_throughput_tokens_per_s: number | null
  readonly prefill_tokens_per_s_per_gpu: number | null
  readonly prefill_tokens_per_s_per_node: number | null
  readonly gpus: number
  readonly nodes: number
  readonly batch_size: number
  readonly micro_batches: number
  readonly memory_per_gpu_bytes: number
  readonly memory_parts_bytes: MemoryParts
  readonly peak_memory_bytes: number
  readonly hbm_bytes_per_gpu: number
  readonly reserved_bytes: number
  readonly fits_in_hbm: boolean
  readonly max_batch_per_gpu: number
  readonly bottleneck: string
  readonly bottleneck_layer: string
}

export interface LargeEpServing extends ServingCore {
  readonly playbook: "large-ep"
  readonly layers: ReadonlyArray<LargeEpLayer>
  readonly phases: { readonly prefill?: LargeEpPhase; readonly decode?: LargeEpPhase }
}

export interface AfdServing extends ServingCore {
  readonly playbook: "afd"
  readonly instances: string
  readonly attention_gpus: number
  readonly ffn_gpus: number
  readonly pipeline_regime: string
  readonly memory_by_role: { readonly attention_gpu: MemoryParts; readonly ffn_gpu: MemoryParts }
  readonly layers: ReadonlyArray<AfdLayer>
  readonly phases: { readonly prefill?: AfdPhase; readonly decode?: AfdPhase }
}

interface PhaseLike {
  readonly step_ms: number
  readonly memory_per_gpu_bytes: number
  readonly fits_in_hbm: boolean
  readonly max_batch_per_gpu: number
  readonly bottleneck: string
  readonly bottleneck_layer: string
}

const core = <P extends PhaseLike>(
  phases: { prefill?: P; decode?: P },
  parts: (p: P) => MemoryParts,
  unit: {
    strategy: StrategyName
    sequences: number
    gpus: number
    gpus_per_node: number
    nodes: number
    seq_len: number
    batch_size: number
    micro_batches: number
    hbm: number
    reserved: number
  }
): ServingCore => {
  const list = [phases.prefill, phases.decode].filter((p): p is P => p !== undefined)
  const primary = phases.decode ?? phases.prefill
  if (!primary) throw new Error("serving summary needs at least one phase")
  const biggest = list.reduce((a, b) => (b.memory_per_gpu_bytes > a.memory_per_gpu_bytes ? b : a))
  const ttft = phases.prefill?.step_ms ?? null
  const tpot = phases.decode?.step_ms ?? null
  const rates = servingRates(unit, unit.seq_len, ttft, tpot)
  const decode = rates.decode_tokens_per_s !== null
  return {
    strategy: unit.strategy,
    ttft_ms: ttft,
    tpot_ms: tpot,
    throughput_kind: decode ? "decode_output" : "prefill_input",
    throughput_tokens_per_s: (decode ? rates.decode_tokens_per_s : rates.prefill_tokens_per_s)!,
    throughput_tokens_per_s_per_gpu: (decode ? rates.decode_tokens_per_s_per_gpu : rates.prefill_tokens_per_s_per_gpu)!,
    throughput_tokens_per_s_per_node: (decode ? rates.decode_tokens_per_s_per_node : rates.prefill_tokens_per_s_per_node)!,
    tokens_per_s_per_request: rates.tokens_per_s_per_user,
    prefill_throughput_tokens_per_s: rates.prefill_tokens_per_s,
    prefill_tokens_per_s_per_gpu: rates.prefill_tokens_per_s_per_gpu,
    prefill_tokens_per_s_per_node: rates.prefill_tokens_per_s_per_node,
    gpus: unit.gpus,
    nodes: unit.nodes,
    batch_size: unit.batch_size,
    micro_batches: unit.micro_batches,
    memory_per_gpu_bytes: biggest.memory_per_gpu_bytes,
    memory_parts_bytes: parts(biggest),
    peak_memory_bytes: biggest.memory_per_gpu_bytes,
    hbm_bytes_per_gpu: unit.hbm,
    reserved_bytes: unit.reserved,
    fits_in_hbm: list.every((p) => p.fits_in_hbm),
    max_batch_per_gpu: list.reduce((a, p) => Math.min(a, p.max_batch_per_gpu), Infinity),
    bottleneck: primary.bottleneck,
    bottleneck_layer: primary.bottleneck_layer
  }
}

const phaseRun = (run: ServingRun, phase: SinglePhase) => ({
  phase,
  batch_size: run.batch_size,
  seq_len: run.seq_len,
  ...(run.tokens_per_expert === undefined ? {} : { tokens_per_expert: run.tokens_per_expert })
})

export const largeEpServing = (input: PlaybookInput, d: LargeEpDeployment, run: ServingRun): LargeEpServing => {
  const phases: { prefill?: LargeEpPhase; decode?: LargeEpPhase } = {}
  for (const phase of run.phases) phases[phase] = largeEpPhase(input, d, phaseRun(run, phase))
  const summary = core(phases, (p) => p.memory_parts_bytes, {
    strategy: d.two_batch_overlap ? "two-batch-overlap" : "serial-micro-batches",
    sequences: run.batch_size * d.dp,
    gpus: d.gpus,
    gpus_per_node: d.gpus_per_node,
    nodes: d.nodes,
    seq_len: run.seq_len,
    batch_size: run.batch_size,
    micro_batches: d.micro_batches,
    hbm: input.hardware.hbm_gb * 1e9,
    reserved: d.reserved_bytes
  })
  return { playbook: "large-ep", ...summary, layers: (phases.decode ?? phases.prefill)!.layers, phases }
}

const instancesLabel = (plan: AfdPlan): string => `${plan.attention.instances}A${plan.ffn.instances}F`

export const afdServing = (input: PlaybookInput, plan: AfdPlan, run: ServingRun): AfdServing => {
  const phases: { prefill?: AfdPhase; decode?: AfdPhase } = {}
  for (const phase of run.phases) phases[phase] = afdPhase(input, plan, phaseRun(run, phase))
  const biggerRole = (p: AfdPhase) => (totalBytes(p.memory.attention_gpu) >= totalBytes(p.memory.ffn_gpu) ? p.memory.attention_gpu : p.memory.ffn_gpu)
  const gpus = plan.attention.gpus + plan.ffn.gpus
  const summary = core(phases, biggerRole, {
    strategy: "afd-pipeline",
    sequences: run.batch_size * plan.attention.dp,
    gpus,
    gpus_per_node: plan.gpus_per_node,
    nodes: Math.ceil(plan.attention.gpus / plan.gpus_per_node) + Math.ceil(plan.ffn.gpus / plan.gpus_per_node),
    seq_len: run.seq_len,
    batch_size: run.batch_size,
    micro_batches: plan.micro_batches,
    hbm: input.hardware.hbm_gb * 1e9,
    reserved: plan.reserved_bytes
  })
  const primary = (phases.decode ?? phases.prefill)!
  const memPhase = [phases.prefill, phases.decode]
    .filter((p): p is AfdPhase => p !== undefined)
    .reduce((a, b) => (b.memory_per_gpu_bytes > a.memory_per_gpu_bytes ? b : a))
  return {
    playbook: "afd",
    ...summary,
    instances: instancesLabel(plan),
    attention_gpus: plan.attention.gpus,
    ffn_gpus: plan.ffn.gpus,
    pipeline_regime: primary.pipeline_regime,
    memory_by_role: memPhase.memory,
    layers: primary.layers,
    phases
  }
}

/**
 * Pure roll-ups: ops -> layer, layers -> phase result, phases -> serving summary.
 *
 * Layer latency. Ops of one layer run back to back on one stream, so the layer's compute side
 * is the sum of each op's max(compute, memory) (a sum of maxes, not a max of sums: a
 * memory-bound op cannot borrow idle tensor cores from a compute-bound neighbour). Communication
 * depends on the op before it, so it adds serially, unless the batch is split into micro-batches
 * (runtime.micro_batch >= 2) on hardware that runs two streams (max_concurrency >= 2): then one
 * micro-batch's communication overlaps the other's compute and
 *
 *   latency = compute_side + comm - overlap_efficiency * min(compute_side, comm).
 */
import type { Bound } from "../timing/roofline.ts"
import type { LayerExecution, LayerSummary, OpExecution, ServingSummary, SimulationResult } from "./records.ts"
import type { SinglePhase } from "../schema/runtime.ts"

export interface Composition {
  readonly overlap_efficiency: number
  readonly max_concurrency: number
  readonly micro_batch: number
}

export interface LayerMemory {
  readonly weight_bytes: number
  readonly kv_cache_bytes_per_token: number
  readonly activation_bytes: number
}

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

export const composeLayer = (
  layer_type: string,
  ops: ReadonlyArray<OpExecution>,
  composition: Composition,
  memory: LayerMemory,
  shapeFeatures: Readonly<Record<string, number>>
): LayerSummary => {
  const comm = sum(ops.filter((o) => o.bound === "comm").map((o) => o.dominant_latency_ms))
  const computeSide = sum(ops.filter((o) => o.bound !== "comm").map((o) => o.dominant_latency_ms))
  const overlaps = composition.micro_batch >= 2 && composition.max_concurrency >= 2
  const hidden = overlaps ? composition.overlap_efficiency * Math.min(computeSide, comm) : 0
  const latency = computeSide + comm - hidden
  const byBound = (b: Bound) => sum(ops.filter((o) => o.bound === b).map((o) => o.dominant_latency_ms))
  const shares: Array<[Bound, number]> = [["compute", byBound("compute")], ["memory", byBound("memory")], ["comm", comm - hidden]]
  const bound = shares.reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0]
  const flops = sum(ops.map((o) => o.flops))
  const bytes_read = sum(ops.map((o) => o.bytes_read))
  const bytes_written = sum(ops.map((o) => o.bytes_written))
  const comm_bytes = sum(ops.map((o) => o.comm_bytes))
  const features: Record<string, number> = {
    ...shapeFeatures,
    flops,
    bytes_read,
    bytes_written,
    comm_bytes,
    arithmetic_intensity_flops_per_byte: bytes_read + bytes_written > 0 ? flops / (bytes_read + bytes_written) : 0,
    weight_bytes: memory.weight_bytes,
    kv_cache_bytes_per_token: memory.kv_cache_bytes_per_token,
    num_ops: ops.length
  }
  for (const o of ops) features[`flops.${o.category}`] = (features[`flops.${o.category}`] ?? 0) + o.flops
  return {
    layer_type,
    flops,
    bytes_read,
    bytes_written,
    comm_bytes,
    compute_time_ms: sum(ops.map((o) => o.compute_time_ms)),
    memory_time_ms: sum(ops.map((o) => o.memory_time_ms)),
    comm_time_ms: comm,
    dominant_latency_ms: latency,
    estimated_execution_time_ms: latency,
    bound,
    weight_bytes: memory.weight_bytes,
    kv_cache_bytes_per_token: memory.kv_cache_bytes_per_token,
    activation_bytes: memory.activation_bytes,
    features,
    breakdown: ops
  }
}

export interface Instance {
  /** Index into the layer summaries passed to rollUp. */
  readonly summary: number
  readonly layer_name: string
}

/** Expand layer summaries into per-instance records and total them. */
export const rollUp = (
  phase: SinglePhase,
  summaries: ReadonlyArray<LayerSummary>,
  instances: ReadonlyArray<Instance>,
  kvTokens: number
): SimulationResult => {
  const layers: Array<LayerExecution> = instances.map((i) => ({ layer_name: i.layer_name, ...summaries[i.summary] }))
  let bottleneck = layers[0]
  for (const l of layers) if (l.dominant_latency_ms > bottleneck.dominant_latency_ms) bottleneck = l
  const weights_bytes = sum(layers.map((l) => l.weight_bytes))
  const kv_cache_bytes = kvTokens * sum(layers.map((l) => l.kv_cache_bytes_per_token))
  const activation_bytes = Math.max(0, ...layers.map((l) => l.activation_bytes))
  return {
    phase,
    layers,
    total_latency_ms: sum(layers.map((l) => l.dominant_latency_ms)),
    total_flops: sum(layers.map((l) => l.flops)),
    total_bytes: sum(layers.map((l) => l.bytes_read + l.bytes_written)),
    total_comm_bytes: sum(layers.map((l) => l.comm_bytes)),
    peak_memory_bytes: weights_bytes + kv_cache_bytes + activation_bytes,
    memory: { weights_bytes, kv_cache_bytes, activation_bytes },
    bottleneck_layer: bottleneck.layer_name
  }
}

export const servingSummary = (
  phases: { prefill?: SimulationResult; decode?: SimulationResult },
  run: { batch_size: number; seq_len: number },
  layout: { tp: number; dp: number },
  hbm_gb: number
): ServingSummary => {
  const gpus = layout.tp * layout.dp
  const sequences = run.batch_size * layout.dp
  const ttft = phases.prefill?.total_latency_ms ?? null
  const tpot = phases.decode?.total_latency_ms ?? null
  const throughput = tpot !== null && tpot > 0 ? (sequences / tpot) * 1e3 : null
  const peak = Math.max(phases.prefill?.peak_memory_bytes ?? 0, phases.decode?.peak_memory_bytes ?? 0)
  const hbm = hbm_gb * 1e9
  return {
    ttft_ms: ttft,
    tpot_ms: tpot,
    throughput_tokens_per_s: throughput,
    throughput_tokens_per_s_per_gpu: throughput === null ? null : throughput / gpus,
    prefill_throughput_tokens_per_s: ttft !== null && ttft > 0 ? ((sequences * run.seq_len) / ttft) * 1e3 : null,
    gpus,
    peak_memory_bytes: peak,
    hbm_bytes_per_gpu: hbm,
    fits_in_hbm: peak <= hbm
  }
}

/**
 * System-level checks: DeepSeek-V3/R1 production serving on H800 (DeepSeek's open-infra-index
 * day-6 overview, deepseek_inference_overview.yaml) against whole-model steps of llmsim.
 *
 * Decode. DeepSeek's decode unit is EP144 with DP144 attention (18 nodes), 32 redundant expert
 * copies, an average KV length of 4,989 tokens and 20 to 22 output tokens/s per request, giving
 * ~14.8k output tokens/s per node. The operating point is that load: by Little's law the
 * sequences in flight per GPU are B = 14.8k / (8 GPUs x 21 tokens/s) (the midpoint speed). llmsim
 * predicts the decode step (TPOT) at B sequences of KV 4,989 per GPU, hence the node's output
 * rate 8 B / TPOT, equivalently the per-request speed 1 / TPOT.
 *
 * Prefill. EP32 with DP32 attention (4 nodes), ~73.7k input tokens/s per node including
 * prefix-cache hits (56.3 % of input tokens). Hits cost no prefill compute, so node input
 * tokens/s = computed tokens/s / (1 - hit rate).
 *
 * The deployment model (the large-EP playbook, src/deploy, on its DeepSeek unit scenarios)
 * gives the checked rows when it is present; the core simulator's serial roll-up (the numbers
 * `llmsim run` gives for the layout) is shown beside it. Every assumption is listed in the notes.
 */
import { parse } from "yaml"
import { contextFor } from "../../kernel/layout.ts"
import type { Model } from "../../kernel/model.ts"
import { largestSatisfying } from "../../kernel/search.ts"
import { simulatePhase } from "../../kernel/step.ts"
import type { HardwareSpec } from "../../schema/hardware.ts"
import { analyticEstimator } from "../../timing/estimator.ts"
import { timingHardware, type EfficiencyMode } from "../../timing/roofline.ts"
import type { SystemStep } from "../largeEpAdapter.ts"
import { dataset, row, type DatasetReport, type ValidationRow } from "../report.ts"
import { fmt } from "../text.ts"

export const OVERVIEW_FILE = "deepseek_inference_overview.yaml"

const SUFFIX: Readonly<Record<string, number>> = { k: 1e3, K: 1e3, m: 1e6, M: 1e6, B: 1e9 }

/** "~14.8k" -> 14800, "~73.7k (including cache hits)" -> 73700, "608B" -> 6.08e11, "4989" -> 4989. */
export const parseCount = (v: unknown): number => {
  const m = /([\d.]+)\s*([kKmMB]?)/.exec(String(v))
  if (!m) return Number.NaN
  return Number(m[1]) * (SUFFIX[m[2]] ?? 1)
}

/** "20-22" -> [20, 22]. */
export const parseRange = (v: unknown): readonly [number, number] => {
  const m = /([\d.]+)\s*-\s*([\d.]+)/.exec(String(v))
  return m ? [Number(m[1]), Number(m[2])] : [Number.NaN, Number.NaN]
}

/** "342B (56.3%)" -> 0.563. */
export const parsePercent = (v: unknown): number => {
  const m = /([\d.]+)%/.exec(String(v))
  return m ? Number(m[1]) / 100 : Number.NaN
}

/** "EP144" -> 144. */
const degree = (v: unknown): number => Number(/(\d+)/.exec(String(v))?.[1] ?? Number.NaN)

interface Unit {
  readonly ep: number
  readonly dp: number
  readonly redundant: number
  readonly experts_per_gpu: number
}

interface ProductionFigures {
  readonly gpus_per_node: number
  readonly decode: Unit
  readonly prefill: Unit
  readonly decode_tokens_per_s_per_node: number
  readonly prefill_tokens_per_s_per_node: number
  readonly speed_range: readonly [number, number]
  readonly kv_len: number
  readonly cache_hit: number
  /** Tokens over the 24 hours and the average node count. */
  readonly input_tokens_24h: number
  readonly output_tokens_24h: number
  readonly average_nodes: number
  readonly lines: Readonly<Record<string, number>>
}

const lineOf = (text: string, key: string): number => {
  const i = text.indexOf(key)
  return i < 0 ? 1 : text.slice(0, i).split("\n").length
}

const productionFigures = (text: string): ProductionFigures => {
  const day6 = (parse(text) as any).open_infra_index_day6
  const stats = day6.statistics_24h
  const unit = (d: any): Unit => ({
    ep: degree(d.routed_expert_parallelism),
    dp: degree(d.mla_and_shared_expert),
    redundant: Number(d.redundant_routed_experts),
    experts_per_gpu: Number(d.routed_experts_per_gpu)
  })
  const keys = ["per_node_decode_throughput_output_tokens_per_s", "per_node_prefill_throughput_input_tokens_per_s"]
  return {
    gpus_per_node: Number(stats.gpus_per_node),
    decode: unit(day6.deployment.decode),
    prefill: unit(day6.deployment.prefill),
    decode_tokens_per_s_per_node: parseCount(stats.per_node_decode_throughput_output_tokens_per_s),
    prefill_tokens_per_s_per_node: parseCount(stats.per_node_prefill_throughput_input_tokens_per_s),
    speed_range: parseRange(stats.average_output_speed_tokens_per_s),
    kv_len: Number(stats.average_kvcache_length_per_output_token),
    cache_hit: parsePercent(stats.input_tokens_hitting_on_disk_kv_cache),
    input_tokens_24h: parseCount(stats.total_input_tokens),
    output_tokens_24h: parseCount(stats.total_output_tokens),
    average_nodes: Number(stats.average_node_occupancy),
    lines: Object.fromEntries(keys.map((k) => [k, lineOf(text, k)]))
  }
}

/** Little's law: sequences in flight per GPU = node throughput / (GPUs per node x per-request speed). */
export const concurrencyPerGpu = (tokensPerSPerNode: number, gpusPerNode: number, speed: number): number =>
  Math.round(tokensPerSPerNode / (gpusPerNode * speed))

/** The largest per-GPU batch with 1 / TPOT >= speed (a planner's use of the same model). */
const batchAtSpeed = (step: (b: number) => SystemStep, speed: number, maxBatch = 4096): number =>
  largestSatisfying((b) => 1000 / step(b).step_ms >= speed, maxBatch)

const nodeRate = (gpn: number, batch: number, stepMs: number): number => (gpn * batch * 1000) / stepMs

/** The core simulator's step at one of DeepSeek's units (serial roll-up unless microBatch >= 2): the pure kernel, as `llmsim run`. */
const coreStep = (model: Model, hw: HardwareSpec, mode: EfficiencyMode, u: Unit, gpn: number, phase: "prefill" | "decode", microBatch = 1) => {
  const timing = timingHardware(hw, mode)
  const composition = { overlap_efficiency: hw.overlap_efficiency, max_concurrency: hw.max_concurrency, micro_batch: microBatch }
  const layout = { tp: 1, dp: u.dp, ep: u.ep, redundant_experts: u.redundant, gpus_per_node: gpn }
  return (batch: number, seq: number): SystemStep => {
    const r = simulatePhase(model, contextFor(model, layout, phase, batch, seq), timing, analyticEstimator, composition)
    return { step_ms: r.total_latency_ms, peak_memory_bytes: r.peak_memory_bytes }
  }
}

/** A step model of the system checks: who computes it and on which scenario. */
interface SystemModel {
  readonly label: string
  readonly scenario: string
  readonly summary?: string
  readonly decode: (batchPerGpu: number, kvLen: number) => SystemStep
  readonly prefill: (promptsPerGpu: number, promptTokens: number) => SystemStep
}

/** Prefill prompts per GPU per step and their length (DeepSeek publishes neither). */
interface PrefillShape {
  readonly prompts: number
  readonly tokens: number
  /** Where the shape comes from (shown in the notes). */
  readonly source: string
}

export interface DeepSeekInputs {
  readonly text: string
  readonly hardware: HardwareSpec
  /** Name of the hardware file (configs/hardware/<name>.yaml). */
  readonly hardwareName: string
  readonly mode: EfficiencyMode
  /** The model of the shipped DeepSeek-V3 scenario, for the core roll-up. */
  readonly core: { readonly model: Model; readonly scenario: string }
  /** The deployment model for the checked rows; absent: the core roll-up is checked. */
  readonly deployment?: { readonly decode: SystemModel; readonly prefill: SystemModel & { readonly shape: PrefillShape } }
  /** Why no deployment model is used (shown in the notes). */
  readonly deploymentMissing?: string
}

/** Prefill shape of the core roll-up when no deployment scenario gives one. */
const CORE_PREFILL: PrefillShape = { prompts: 2, tokens: 4096, source: "assumed" }

const k = (x: number): string => `${(x / 1000).toFixed(1)}k`
const gb = (x: number): string => `${(x / 1e9).toFixed(1)} GB`

export const deepseekProduction = (x: DeepSeekInputs): DatasetReport => {
  const f = productionFigures(x.text)
  const gpn = f.gpus_per_node
  const [lo, hi] = f.speed_range
  const mid = (lo + hi) / 2
  const b = concurrencyPerGpu(f.decode_tokens_per_s_per_node, gpn, mid)
  const bLo = concurrencyPerGpu(f.decode_tokens_per_s_per_node, gpn, lo)
  const bHi = concurrencyPerGpu(f.decode_tokens_per_s_per_node, gpn, hi)
  const coreDecode = coreStep(x.core.model, x.hardware, x.mode, f.decode, gpn, "decode")
  const corePrefill = coreStep(x.core.model, x.hardware, x.mode, f.prefill, gpn, "prefill")
  const coreModel: SystemModel = {
    label: "core simulator, serial roll-up (llmsim run's composition, micro-batch 1)",
    scenario: x.core.scenario,
    decode: coreDecode,
    prefill: corePrefill
  }
  const decodeModel = x.deployment?.decode ?? coreModel
  const prefillModel = x.deployment?.prefill ?? { ...coreModel, shape: CORE_PREFILL }
  const shape = prefillModel.shape
  const decodeAt = (m: SystemModel, batch: number) => m.decode(batch, f.kv_len)
  const d = decodeAt(decodeModel, b)
  const prefillNode = (m: SystemModel, s: PrefillShape) => {
    const step = m.prefill(s.prompts, s.tokens)
    const perGpu = (s.prompts * s.tokens * 1000) / step.step_ms
    return { perGpu, node: (gpn * perGpu) / (1 - f.cache_hit), step }
  }
  const p = prefillNode(prefillModel, shape)
  const hbm = x.hardware.hbm_gb * 1e9
  const rows: Array<ValidationRow> = [
    row({
      case: `decode EP${f.decode.ep} / DP${f.decode.dp}, KV ${f.kv_len}, ${b} sequences per GPU (${fmt(mid, 3)} tokens/s per request)`,
      hardware: x.hardwareName,
      unit: "output tokens/s per node",
      predicted: nodeRate(gpn, b, d.step_ms),
      measured: f.decode_tokens_per_s_per_node,
      source: `${OVERVIEW_FILE}:${f.lines.per_node_decode_throughput_output_tokens_per_s}`,
      note: `TPOT ${d.step_ms.toFixed(1)} ms = ${(1000 / d.step_ms).toFixed(1)} tokens/s per request (published ${lo}-${hi})`
    }),
    row({
      case: `prefill EP${f.prefill.ep} / DP${f.prefill.dp}, ${shape.prompts} x ${shape.tokens}-token prompts per GPU, ${(f.cache_hit * 100).toFixed(1)}% cache hits`,
      hardware: x.hardwareName,
      unit: "input tokens/s per node",
      predicted: p.node,
      measured: f.prefill_tokens_per_s_per_node,
      source: `${OVERVIEW_FILE}:${f.lines.per_node_prefill_throughput_input_tokens_per_s}`,
      note: `${Math.round(p.perGpu)} computed tokens/s per GPU`
    })
  ]
  const solved = batchAtSpeed((batch) => decodeAt(decodeModel, batch), mid)
  const solvedStep = decodeAt(decodeModel, Math.max(1, solved))
  const coreAtB = decodeAt(coreModel, b)
  const coreSolved = batchAtSpeed((batch) => decodeAt(coreModel, batch), mid)
  const corePrefillNode = prefillNode(coreModel, shape)
  const prefillNodes = f.input_tokens_24h / 86400 / f.prefill_tokens_per_s_per_node
  const decodeNodes = f.output_tokens_24h / 86400 / f.decode_tokens_per_s_per_node
  const notes = [
    `Decode model: ${decodeModel.label}, on ${decodeModel.scenario}${decodeModel.summary ? `: ${decodeModel.summary}` : ""}.`,
    ...(x.deploymentMissing ? [`The large-EP deployment model is not used: ${x.deploymentMissing}.`] : []),
    `Model, precision and hardware: DeepSeek-V3 (3 dense + 58 MoE layers, LM head; FP8 weights and routed experts, BF16 activations and MLA cache) on ${x.hardwareName}, as in ${x.core.scenario}. MTP is not modelled: one token per sequence per step.`,
    `Decode operating point: DeepSeek's load, B = ${fmt(f.decode_tokens_per_s_per_node, 4)} / (${gpn} x ${fmt(mid, 3)}) = ${b} sequences per GPU (Little's law at the midpoint of ${lo}-${hi} tokens/s per request), every sequence at the average KV length ${f.kv_len} (attention time is linear in KV length). The check is the same as predicting the per-request speed at that load. At ${lo} and ${hi} tokens/s per request: B = ${bLo} and ${bHi}, predicted ${k(nodeRate(gpn, bLo, decodeAt(decodeModel, bLo).step_ms))} and ${k(nodeRate(gpn, bHi, decodeAt(decodeModel, bHi).step_ms))} tokens/s per node.`,
    `Decode memory at B = ${b}: ${gb(d.peak_memory_bytes)} per GPU of ${x.hardware.hbm_gb} GB: ${d.peak_memory_bytes <= hbm ? "fits" : "does NOT fit"}.`,
    `Solving the batch from the speed instead (largest B with 1 / TPOT >= ${fmt(mid, 3)} tokens/s, how a planner would pick it) gives B = ${solved} and ${k(nodeRate(gpn, solved, solvedStep.step_ms))} tokens/s per node: TPOT grows slowly with B (weights are read once per step), so a speed error becomes a larger batch error.`,
    `Core roll-up beside it (${coreModel.label}; ${f.decode.redundant} redundant experts as extra expert slots, dispatch and combine over NVLink within a node and the NIC beyond, every (token, expert) copy sent, no overlap): decode ${k(nodeRate(gpn, b, coreAtB.step_ms))} tokens/s per node at B = ${b} (${(1000 / coreAtB.step_ms).toFixed(1)} tokens/s per request; B = ${coreSolved} from the speed); prefill ${k(corePrefillNode.node)} input tokens/s per node.`,
    `Prefill model: ${prefillModel.label}, on ${prefillModel.scenario}${prefillModel.summary ? `: ${prefillModel.summary}` : ""}. Prompt length and prompts per step are not published: ${shape.prompts} x ${shape.tokens} tokens per GPU (${shape.source}). Cached prefix tokens (${(f.cache_hit * 100).toFixed(1)}%) are counted as input but cost nothing.`,
    `DeepSeek's figures are 24-hour averages, not a benchmark at one saturated operating point: the day's ${fmt(f.input_tokens_24h / 1e9, 3)}B input and ${fmt(f.output_tokens_24h / 1e9, 3)}B output tokens over 86,400 s need ${prefillNodes.toFixed(1)} nodes at ${k(f.prefill_tokens_per_s_per_node)} and ${decodeNodes.toFixed(1)} nodes at ${k(f.decode_tokens_per_s_per_node)}, ${(prefillNodes + decodeNodes).toFixed(1)} in all against an average occupancy of ${f.average_nodes} nodes: the per-node figures are daily totals over provisioned nodes, idle capacity included. A model of a saturated unit should predict more, most for bursty prefill.`
  ]
  return {
    ...dataset(
      {
        id: "deepseek-production",
        title: "DeepSeek-V3/R1 production serving on H800 (system level)",
        file: OVERVIEW_FILE,
        method:
          "Whole-model steps at DeepSeek's published decode and prefill units: decode at DeepSeek's load (Little's law), " +
          "prefill on stated prompt shapes with prefix-cache hits added back. Assumptions in the notes.",
        rows
      },
      []
    ),
    notes
  }
}

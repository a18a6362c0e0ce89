/**
 * The parallel layout of a deployment unit and the one place a `LayerContext` is built.
 *
 * Layout rule (every command: run, ops, diff, watch, the playbooks, validate). Per field, a
 * command-line override, else the scenario's `deployment` block, else its `parallelism` block,
 * else the default:
 *   gpus_per_node  deployment.gpus_per_node, else the hardware file's, else 8
 *   tp             deployment.attention.tp, else parallelism.tp, else 1
 *   gpus, dp       with deployment.nodes: gpus = nodes x gpus_per_node and dp = gpus / tp (tp
 *                  must divide it; attention.dp, when given, must agree); else
 *                  dp = deployment.attention.dp, else parallelism.dp, else 1, and gpus = tp x dp
 *   ep             deployment.ep, else every GPU when the deployment block sets the layout
 *                  (nodes or attention), else parallelism.ep, else 1
 *   redundant      deployment.redundant_experts, else 0
 * `--ep N` resizes the unit to N GPUs: DP attention over N / tp ranks, and the redundant experts
 * rounded up to the next count that fills every GPU's slots evenly ((n_routed + redundant)
 * divisible by N; DeepSeek's 32 gives 288 = 2 x 144 = 9 x 32).
 * A layout that does not divide is an error naming the field it came from, never floored.
 *
 * Pure: a problem comes back as a value naming where the bad value came from (a flag, or a
 * field path in the scenario) so the CLI can point at it.
 */
import type { LayerContext } from "../layers/context.ts"
import type { DeploymentSpec } from "../schema/deployment.ts"
import type { HardwareSpec } from "../schema/hardware.ts"
import type { Parallelism } from "../schema/parallelism.ts"
import type { Precision } from "../schema/scenario.ts"
import type { SinglePhase } from "../schema/runtime.ts"
import { moeConfigs, type Model } from "./model.ts"

/** Where a bad value came from: a flag, or a field path in the scenario file. */
export interface Problem {
  readonly flag?: string
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

export type Resolved<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly problem: Problem }

export const ok = <A>(value: A): Resolved<A> => ({ ok: true, value })
export const fail = (problem: Problem): Resolved<never> => ({ ok: false, problem })

/** What a scenario says about its deployment, besides the model. */
export interface ScenarioBase {
  readonly deployment?: DeploymentSpec
  readonly parallelism?: Parallelism
  /** `runtime.micro_batch` of the scenario file. */
  readonly micro_batch?: number
  readonly precision: Required<Precision>
}

/** GPUs of one scale-up (NVLink / xGMI) domain: scale_up_gpus (an NVL72 rack), else a server's GPUs, else 8. */
export const scaleUpGpus = (hw: Pick<HardwareSpec, "scale_up_gpus" | "gpus_per_node">): number => hw.scale_up_gpus ?? hw.gpus_per_node ?? 8

export interface Layout {
  readonly gpus_per_node: number
  readonly nodes: number
  readonly gpus: number
  /** Attention tensor parallelism. */
  readonly tp: number
  /** Attention data-parallel ranks. */
  readonly dp: number
  /** Expert-parallel GPUs. */
  readonly ep: number
  readonly redundant_experts: number
}

/** A resolved layout and, for later checks, where its tp and ep came from. */
export interface LayoutResolution {
  readonly layout: Layout
  readonly tpWhere: Problem
  readonly epWhere: Problem
}

export interface LayoutOverrides {
  readonly ep?: number
  readonly redundant_experts?: number
}

/** Smallest redundant count >= `redundant` with (experts + redundant) divisible by ep. */
export const roundRedundant = (experts: number, redundant: number, ep: number): number => Math.ceil((experts + redundant) / ep) * ep - experts

export const resolveLayout = (model: Model, hw: HardwareSpec, base: ScenarioBase, o: LayoutOverrides = {}): Resolved<LayoutResolution> => {
  const spec = base.deployment ?? {}
  const hasBlock = base.deployment !== undefined
  const par = base.parallelism ?? {}
  const dep = (...p: Array<PropertyKey>): Array<PropertyKey> => (hasBlock ? ["deployment", ...p] : ["deployment"])
  // The layout's "node" is the scale-up domain (its links); an EP group inside it tiles whole servers.
  const gpn = spec.gpus_per_node ?? scaleUpGpus(hw)
  const server = spec.gpus_per_node ?? hw.gpus_per_node ?? 8
  const tp = spec.attention?.tp ?? par.tp ?? 1
  const tpWhere: Problem =
    spec.attention?.tp !== undefined
      ? { path: dep("attention", "tp"), message: "" }
      : { path: par.tp !== undefined ? ["parallelism", "tp"] : dep("attention"), message: "" }
  const experts = moeConfigs(model).map((m) => m.n_routed_experts)
  const maxExperts = experts.reduce((m, e) => Math.max(m, e), 0)

  let gpus: number
  let dp: number
  let ep: number
  let redundant: number
  let epWhere: Problem
  let redundantWhere: Problem
  if (o.ep !== undefined) {
    epWhere = { flag: "--ep", path: [], message: "" }
    if (o.ep % tp !== 0)
      return fail({
        ...epWhere,
        message: `ep ${o.ep} is not a multiple of the attention tp ${tp} (the unit is resized to ep GPUs with DP attention over ep / tp ranks)`
      })
    // A unit inside one node tiles it (one that spans nodes fills them: src/deploy/deployment.ts).
    if (o.ep < server && server % o.ep !== 0) {
      return fail({
        ...epWhere,
        message: `ep ${o.ep} does not divide the ${server} GPUs of a node (an EP group inside one node is a divisor of gpus_per_node ${server})`
      })
    }
    gpus = o.ep
    dp = o.ep / tp
    ep = o.ep
    redundant = o.redundant_experts ?? (maxExperts > 0 ? roundRedundant(maxExperts, spec.redundant_experts ?? 0, ep) : 0)
    redundantWhere = o.redundant_experts !== undefined ? { flag: "--redundant-experts", path: [], message: "" } : epWhere
  } else {
    if (spec.nodes !== undefined) {
      gpus = spec.nodes * gpn
      if (spec.attention?.dp !== undefined && spec.attention.dp * tp !== gpus) {
        return fail({
          path: dep("attention"),
          message: `tp ${tp} x dp ${spec.attention.dp} = ${tp * spec.attention.dp} GPUs, but nodes ${spec.nodes} x gpus_per_node ${gpn} = ${gpus}`
        })
      }
      if (gpus % tp !== 0) return fail({ ...tpWhere, message: `tp ${tp} does not divide the ${gpus} GPUs of ${spec.nodes} nodes` })
      dp = gpus / tp
    } else {
      dp = spec.attention?.dp ?? par.dp ?? 1
      gpus = tp * dp
    }
    ep = spec.ep ?? (hasBlock && (spec.nodes !== undefined || spec.attention !== undefined) ? gpus : (par.ep ?? 1))
    epWhere =
      spec.ep !== undefined ? { path: dep("ep"), message: "" } : { path: par.ep !== undefined && !hasBlock ? ["parallelism", "ep"] : dep(), message: "" }
    redundant = o.redundant_experts ?? spec.redundant_experts ?? 0
    redundantWhere =
      o.redundant_experts !== undefined
        ? { flag: "--redundant-experts", path: [], message: "" }
        : spec.redundant_experts !== undefined
          ? { path: dep("redundant_experts"), message: "" }
          : epWhere
  }
  if (gpus % ep !== 0) return fail({ ...epWhere, message: `ep ${ep} does not divide the ${gpus} GPUs (attention tp ${tp} x dp ${dp})` })
  for (const e of experts) {
    if ((e + redundant) % ep !== 0) {
      return fail({
        ...redundantWhere,
        message: `n_routed_experts ${e} + redundant_experts ${redundant} = ${e + redundant} expert slots are not divisible by ep ${ep}`
      })
    }
  }
  // A collective over more ranks than the unit has would be timed over GPUs that do not exist.
  for (const e of model.entries) {
    const ranks = e.template.type === "comm_layer" ? e.template.config.comm_config.num_ranks : undefined
    if (ranks !== undefined && ranks > gpus) {
      return fail({
        ...(o.ep !== undefined ? epWhere : { path: ["layers", e.index, "config"] }),
        message: `layers.${e.index} (${e.label}): comm_config.num_ranks ${ranks} is more than the ${gpus} GPUs of the unit (attention tp ${tp} x dp ${dp})`
      })
    }
  }
  const layout: Layout = { gpus_per_node: gpn, nodes: Math.ceil(gpus / gpn), gpus, tp, dp, ep, redundant_experts: redundant }
  return ok({ layout, tpWhere, epWhere })
}

/** The parallel facts a context needs (a Layout, or an AFD role's own layout). */
export type ContextLayout = Pick<Layout, "tp" | "dp" | "ep" | "redundant_experts" | "gpus_per_node">

/** The one LayerContext builder: a phase and batch of `model` under a layout. */
export const contextFor = (
  model: Pick<Model, "precision" | "mtp_draft_tokens">,
  layout: ContextLayout,
  phase: SinglePhase,
  batch: number,
  seqLen: number,
  tokensPerExpert?: number
): LayerContext => ({
  phase,
  batch_size: batch,
  seq_len: seqLen,
  precision: model.precision,
  parallel: { tp: layout.tp, dp: layout.dp, ep: layout.ep },
  gpus_per_node: layout.gpus_per_node,
  ...(layout.redundant_experts > 0 ? { redundant_experts: layout.redundant_experts } : {}),
  ...(tokensPerExpert === undefined ? {} : { tokens_per_expert: tokensPerExpert }),
  // MTP: the main stack verifies 1 + k tokens per sequence in each decode step.
  ...(phase === "decode" && (model.mtp_draft_tokens ?? 0) > 0 ? { decode_tokens_per_seq: 1 + (model.mtp_draft_tokens ?? 0) } : {})
})

/**
 * Per-GPU parallel layout of one model replica of G = tp * dp GPUs (see src/schema/scenario.ts).
 *
 * - Attention: tensor-parallel over tp (heads split), data-parallel over dp groups; every TP
 *   rank of a group processes all of the group's tokens.
 * - GQA KV heads per GPU = max(1, kv_heads / tp): replicated when there are fewer KV heads than
 *   ranks (vLLM QKVParallelLinear does the same).
 * - MoE: experts spread over ep GPUs (ep | G), with ctx.redundant_experts extra replicas
 *   ((n_routed_experts + redundant) / ep slots per GPU); each expert's intermediate is split over
 *   moe_tp = G / ep GPUs (SGLang's moe_tp_size = tp_size / ep_size, generalised to dp).
 * - Links: a group of n ranks stays on the scale-up link (NVLink) when n <= gpus_per_node,
 *   else it is charged to the NIC.
 */
import type { Link } from "../ops/types.ts"
import type { AttnConfig, LayerTemplate } from "../schema/layer.ts"
import type { LayerContext } from "./context.ts"

const replicaGpus = (ctx: LayerContext): number => ctx.parallel.tp * ctx.parallel.dp

export const moeTp = (ctx: LayerContext): number => replicaGpus(ctx) / ctx.parallel.ep

export const linkFor = (ranks: number, ctx: LayerContext): Link => (ranks <= ctx.gpus_per_node ? "interconnect" : "nic")

export const qHeadsPerGpu = (attn: AttnConfig, ctx: LayerContext): number => attn.num_attention_heads / ctx.parallel.tp

export const kvHeadsPerGpu = (kvHeads: number, ctx: LayerContext): number => Math.max(1, kvHeads / ctx.parallel.tp)

const divides = (a: number, b: number): boolean => b % a === 0

/** A human message when attention cannot be split over ctx.parallel.tp, else undefined. */
export const attentionLayoutProblem = (attn: AttnConfig, ctx: LayerContext): string | undefined => {
  const tp = ctx.parallel.tp
  if (!divides(tp, attn.num_attention_heads)) return `num_attention_heads ${attn.num_attention_heads} is not divisible by tp ${tp}`
  if (attn.type !== "MLA") {
    const kv = attn.type === "linear" ? attn.num_key_heads : (attn.num_key_value_heads ?? attn.num_attention_heads)
    if (kv >= tp ? !divides(tp, kv) : !divides(kv, tp)) {
      return `num_key_value_heads ${kv} and tp ${tp}: one must divide the other (KV heads are split, or replicated when fewer than tp)`
    }
  }
  return undefined
}

/** A human message when the layout cannot run this template, else undefined. */
export const validateLayout = (template: LayerTemplate, ctx: LayerContext): string | undefined => {
  const { tp, dp, ep } = ctx.parallel
  if (template.type === "comm_layer") return undefined
  const attn = template.config.attn_config
  const problem = attentionLayoutProblem(attn, ctx)
  if (problem) return problem
  if (template.type === "ffn_layer") {
    const f = template.config.ffn_config
    if (f.d_model !== attn.d_model) return `ffn_config.d_model ${f.d_model} differs from attn_config.d_model ${attn.d_model}`
    if (!divides(tp, f.d_ff)) return `d_ff ${f.d_ff} is not divisible by tp ${tp}`
    return undefined
  }
  const m = template.config.moe_config
  if (m.d_model !== attn.d_model) return `moe_config.d_model ${m.d_model} differs from attn_config.d_model ${attn.d_model}`
  if (!divides(ep, tp * dp)) return `ep ${ep} does not divide tp*dp = ${tp * dp} GPUs`
  const redundant = ctx.redundant_experts ?? 0
  if (redundant === 0 && !divides(ep, m.n_routed_experts)) return `n_routed_experts ${m.n_routed_experts} is not divisible by ep ${ep}`
  if (redundant > 0 && !divides(ep, m.n_routed_experts + redundant)) {
    return `n_routed_experts ${m.n_routed_experts} + redundant_experts ${redundant} = ${m.n_routed_experts + redundant} expert slots are not divisible by ep ${ep}`
  }
  const mtp = moeTp(ctx)
  if (!divides(mtp, m.moe_intermediate_size)) {
    return `moe_intermediate_size ${m.moe_intermediate_size} is not divisible by the expert tensor-parallel size tp*dp/ep = ${mtp}`
  }
  const shared = (m.n_shared_experts ?? 0) * (m.shared_expert_intermediate_size ?? m.moe_intermediate_size)
  if (shared > 0 && !divides(tp, shared)) return `shared-expert intermediate ${shared} is not divisible by tp ${tp}`
  return undefined
}

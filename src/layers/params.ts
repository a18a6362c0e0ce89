/**
 * Parameter counts of a layer stack, from the same weight-byte functions the memory figures use
 * (one GPU, no parallelism, every dtype 2 bytes, so bytes / 2 = parameters): norms, routers and
 * DSA indexers included, biases not. Active parameters count the routed experts a token uses
 * (num_experts_per_tok of n_routed_experts) and everything else.
 */
import type { LayerTemplate } from "../schema/layer.ts"
import type { LmHead } from "../schema/scenario.ts"
import type { LayerContext } from "./context.ts"
import { layerWeightBytesPerGpu } from "./layer.ts"
import { lmHeadWeightBytesPerGpu } from "./lmHead.ts"
import { routedExpertWeightBytes } from "./moe.ts"

const ONE_GPU_BF16: LayerContext = {
  phase: "decode",
  batch_size: 1,
  seq_len: 1,
  precision: { weights: "bf16", activations: "bf16", kv_cache: "bf16", moe_experts: "bf16", lm_head: "bf16" },
  parallel: { tp: 1, dp: 1, ep: 1 },
  gpus_per_node: 1
}

export interface ParamCount {
  readonly total: number
  readonly active: number
}

const templateParams = (withPrecision: LayerTemplate): ParamCount => {
  // A per-layer precision changes bytes, not parameters.
  const { precision: _, ...t } = withPrecision
  const total = layerWeightBytesPerGpu(t, ONE_GPU_BF16) / 2
  if (t.type !== "moe_layer") return { total, active: total }
  const m = t.config.moe_config
  const routed = routedExpertWeightBytes(m, ONE_GPU_BF16) / 2
  return { total, active: total - routed + (routed * m.num_experts_per_tok) / m.n_routed_experts }
}

/** Input embedding (vocab x d) and LM head (vocab x d) plus the final norm, each a parameter set. */
const lmHeadParams = (lm: LmHead): { embedding: number; head: number } => {
  const both = lmHeadWeightBytesPerGpu(lm, ONE_GPU_BF16) / 2
  const embedding = lm.vocab_size * lm.d_model
  return { embedding, head: both - embedding }
}

/** Layers (template x repeat) plus embedding and LM head. */
export const modelParams = (layers: ReadonlyArray<{ template: LayerTemplate; repeat: number }>, lm: LmHead | undefined): ParamCount & { embedding: number } => {
  const sum = layers.reduce(
    (acc, l) => {
      const p = templateParams(l.template)
      return { total: acc.total + p.total * l.repeat, active: acc.active + p.active * l.repeat }
    },
    { total: 0, active: 0 }
  )
  const lmp = lm ? lmHeadParams(lm) : { embedding: 0, head: 0 }
  return { total: sum.total + lmp.embedding + lmp.head, active: sum.active + lmp.embedding + lmp.head, embedding: lmp.embedding }
}

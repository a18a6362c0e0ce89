/**
 * Test fixtures: layer templates built in code from the published Hugging Face configs in
 * data/reference/hf-configs (key names mapped to src/schema/layer.ts), and a context
 * builder. Not a test file itself.
 */
import * as fs from "node:fs"
import type { LayerContext, ParallelLayout } from "../../src/layers/context.ts"
import type { Precision } from "../../src/schema/scenario.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"

const readHf = (name: string): Record<string, any> =>
  JSON.parse(fs.readFileSync(new URL(`../../data/reference/hf-configs/${name}.json`, import.meta.url), "utf8"))

/** DeepSeek-V3 (and R1, Kimi-K2 share the layout): first_k_dense_replace dense layers, then MoE. */
export const deepseekLike = (name: string) => {
  const c = readHf(name)
  const attn = {
    type: "MLA",
    d_model: c.hidden_size,
    num_attention_heads: c.num_attention_heads,
    q_lora_rank: c.q_lora_rank,
    kv_lora_rank: c.kv_lora_rank,
    qk_nope_head_dim: c.qk_nope_head_dim,
    qk_rope_head_dim: c.qk_rope_head_dim,
    v_head_dim: c.v_head_dim
  } as const
  const dense: LayerTemplate = {
    type: "ffn_layer",
    config: { attn_config: attn, ffn_config: { d_model: c.hidden_size, d_ff: c.intermediate_size, hidden_act: c.hidden_act } }
  }
  const moeConfig = {
    d_model: c.hidden_size,
    n_routed_experts: c.n_routed_experts,
    num_experts_per_tok: c.num_experts_per_tok,
    moe_intermediate_size: c.moe_intermediate_size,
    n_shared_experts: c.n_shared_experts
  }
  const moe: LayerTemplate = { type: "moe_layer", config: { attn_config: attn, moe_config: moeConfig } }
  return {
    raw: c,
    attn,
    moeConfig,
    dense,
    moe,
    nDense: c.first_k_dense_replace as number,
    nMoe: (c.num_hidden_layers - c.first_k_dense_replace) as number,
    lm: { vocab_size: c.vocab_size, d_model: c.hidden_size }
  }
}

/** Llama-3.1 style dense GQA model. */
export const llamaLike = (name: string) => {
  const c = readHf(name)
  const layer: LayerTemplate = {
    type: "ffn_layer",
    config: {
      attn_config: { type: "GQA", d_model: c.hidden_size, num_attention_heads: c.num_attention_heads, num_key_value_heads: c.num_key_value_heads },
      ffn_config: { d_model: c.hidden_size, d_ff: c.intermediate_size, hidden_act: c.hidden_act }
    }
  }
  return { raw: c, layer, nLayers: c.num_hidden_layers as number, lm: { vocab_size: c.vocab_size, d_model: c.hidden_size } }
}

/** gpt-oss sliding-attention MoE layer (even layers). */
export const gptOssSliding = (name: string): LayerTemplate => {
  const c = readHf(name)
  return {
    type: "moe_layer",
    config: {
      attn_config: {
        type: "GQA",
        d_model: c.hidden_size,
        num_attention_heads: c.num_attention_heads,
        num_key_value_heads: c.num_key_value_heads,
        head_dim: c.head_dim,
        sliding_window: c.sliding_window
      },
      moe_config: {
        d_model: c.hidden_size,
        n_routed_experts: c.num_local_experts,
        num_experts_per_tok: c.num_experts_per_tok,
        moe_intermediate_size: c.intermediate_size
      }
    }
  }
}

export const BF16: Required<Precision> = { weights: "bf16", activations: "bf16", kv_cache: "bf16", moe_experts: "bf16", lm_head: "bf16" }
export const FP8: Required<Precision> = { weights: "fp8", activations: "bf16", kv_cache: "bf16", moe_experts: "fp8", lm_head: "bf16" }

export const ctxOf = (over: Partial<Omit<LayerContext, "parallel">> & { parallel?: Partial<ParallelLayout> } = {}): LayerContext => ({
  phase: "decode",
  batch_size: 1,
  seq_len: 1,
  precision: FP8,
  gpus_per_node: 8,
  ...over,
  parallel: { tp: 1, dp: 1, ep: 1, ...over.parallel }
})

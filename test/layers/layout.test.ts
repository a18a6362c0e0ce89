import { describe, expect, it } from "vitest"
import { planLayer, validateLayout } from "../../src/layers/index.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { ctxOf, deepseekLike, llamaLike } from "./hf.ts"

const ds = deepseekLike("deepseek-v3")
const llama = llamaLike("llama-3.1-70b")

describe("validateLayout", () => {
  it("accepts the usual layouts", () => {
    expect(validateLayout(ds.moe, ctxOf({ parallel: { dp: 32, ep: 32 } }))).toBeUndefined()
    expect(validateLayout(ds.moe, ctxOf({ parallel: { tp: 8, ep: 8 } }))).toBeUndefined()
    expect(validateLayout(llama.layer, ctxOf({ parallel: { tp: 16 } }))).toBeUndefined()
    expect(validateLayout({ type: "comm_layer", config: { comm_config: { payload_mb: 1, pattern: "p2p" } } }, ctxOf())).toBeUndefined()
  })

  it("heads not divisible by tp", () => {
    expect(validateLayout(ds.moe, ctxOf({ parallel: { tp: 3, ep: 3 } }))).toMatch(/num_attention_heads 128 .* tp 3/)
    expect(() => planLayer(llama.layer, ctxOf({ parallel: { tp: 3 } }))).toThrow(/num_attention_heads 64/)
  })

  it("KV heads and tp must nest", () => {
    const t: LayerTemplate = {
      type: "ffn_layer",
      config: {
        attn_config: { type: "GQA", d_model: 1536, num_attention_heads: 12, num_key_value_heads: 6 },
        ffn_config: { d_model: 1536, d_ff: 4096, hidden_act: "silu" }
      }
    }
    expect(validateLayout(t, ctxOf({ parallel: { tp: 4 } }))).toMatch(/num_key_value_heads 6/)
  })

  it("routed experts not divisible by ep", () => {
    expect(validateLayout(ds.moe, ctxOf({ parallel: { dp: 3, ep: 3 } }))).toMatch(/n_routed_experts 256 .* ep 3/)
  })

  it("ep must divide tp * dp", () => {
    expect(validateLayout(ds.moe, ctxOf({ parallel: { dp: 4, ep: 8 } }))).toMatch(/ep 8 does not divide tp\*dp = 4/)
  })

  it("d_model mismatch between attention and FFN / MoE", () => {
    const badFfn: LayerTemplate = { type: "ffn_layer", config: { attn_config: ds.attn, ffn_config: { d_model: 4096, d_ff: 18432, hidden_act: "silu" } } }
    const badMoe: LayerTemplate = { type: "moe_layer", config: { attn_config: ds.attn, moe_config: { ...ds.moeConfig, d_model: 4096 } } }
    expect(validateLayout(badFfn, ctxOf())).toMatch(/d_model 4096 differs .* 7168/)
    expect(validateLayout(badMoe, ctxOf())).toMatch(/d_model 4096 differs .* 7168/)
  })
})

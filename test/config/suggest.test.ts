/**
 * "Did you mean" for unknown keys (src/config/suggest.ts), through the decoder's one-line errors
 * (file:line:col, field path): Hugging Face names map to llmsim's keys where the path allows
 * them, typos to the closest key, anything else lists the keys known at that path; issues of
 * union members the value's `type` rules out are dropped.
 */
import { describe, expect, it } from "vitest"
import { ConfigError } from "../../src/config/errors.ts"
import { allowedKeysAt, editDistance, unknownKeyHint } from "../../src/config/suggest.ts"
import { decodeYamlText } from "../../src/config/yamlFile.ts"
import { HardwareSpec } from "../../src/schema/hardware.ts"
import { FfnLayerTemplate, MoeLayerTemplate } from "../../src/schema/layer.ts"
import { ScenarioSpec } from "../../src/schema/scenario.ts"

const messageOf = (r: unknown): string => (r instanceof ConfigError ? r.message : "decoded")

const GQA = "attn_config:\n  type: GQA\n  d_model: 4096\n  num_attention_heads: 32\n"
const MLA =
  "attn_config:\n  type: MLA\n  d_model: 7168\n  num_attention_heads: 128\n  q_lora_rank: 1536\n  kv_lora_rank: 512\n  qk_nope_head_dim: 128\n  qk_rope_head_dim: 64\n  v_head_dim: 128\n"

describe("edit distance", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps as one edit each", () => {
    expect(editDistance("peak_tflop", "peak_tflops")).toBe(1)
    expect(editDistance("confg", "config")).toBe(1)
    expect(editDistance("d_modle", "d_model")).toBe(1)
    expect(editDistance("kitten", "sitting")).toBe(3)
    expect(editDistance("", "abc")).toBe(3)
  })
})

describe("unknown keys", () => {
  it("a Hugging Face name: the llmsim key, at the key's line:col with its path", () => {
    const r = decodeYamlText(FfnLayerTemplate, `${GQA}ffn_config:\n  d_model: 4096\n  intermediate_size: 14336\n  hidden_act: silu\n`, "t.yaml")
    expect(messageOf(r).split("\n")[0]).toBe(
      "t.yaml:7:22 ffn_config.intermediate_size: Expected no excess property; did you mean d_ff? (llmsim's name for the Hugging Face key intermediate_size)"
    )
    const h = decodeYamlText(FfnLayerTemplate, `${GQA}  hidden_size: 4096\nffn_config:\n  d_model: 4096\n  d_ff: 1\n  hidden_act: silu\n`, "t.yaml")
    expect(messageOf(h)).toBe(
      "t.yaml:5:16 attn_config.hidden_size: Expected no excess property; did you mean d_model? (llmsim's name for the Hugging Face key hidden_size)"
    )
  })

  it("the same HF name means what the path allows: intermediate_size is moe_intermediate_size in moe_config", () => {
    const r = decodeYamlText(
      MoeLayerTemplate,
      `${GQA}moe_config:\n  d_model: 4096\n  num_local_experts: 8\n  num_experts_per_tok: 2\n  intermediate_size: 14336\n`,
      "m.yaml"
    )
    expect(
      messageOf(r)
        .split("\n")
        .filter((l) => /excess/.test(l))
    ).toEqual([
      "m.yaml:7:22 moe_config.num_local_experts: Expected no excess property; did you mean n_routed_experts? (llmsim's name for the Hugging Face key num_local_experts)",
      "m.yaml:9:22 moe_config.intermediate_size: Expected no excess property; did you mean moe_intermediate_size? (llmsim's name for the Hugging Face key intermediate_size)"
    ])
  })

  it("a typo: the closest key; nothing close: the keys known there (inside a scenario's layer list too)", () => {
    const hw = "name: x\npeak_tflop: 1\nmemory_bandwidth_gbps: 1\nhbm_gb: 1\ninterconnect_gbps: 1\nmax_concurrency: 1\noverlap_efficiency: 0\n"
    expect(messageOf(decodeYamlText(HardwareSpec, hw, "h.yaml")).split("\n")[0]).toBe(
      "h.yaml:2:13 peak_tflop: Expected no excess property; did you mean peak_tflops?"
    )
    const sc = "hardware: h.yaml\nlm_head: none\nlayers:\n  - type: ffn_layer\n    confg: a.yaml\nparallelism: {tp: 8, pp: 2}\n"
    const lines = messageOf(decodeYamlText(ScenarioSpec, sc, "s.yaml")).split("\n")
    expect(lines).toContain("s.yaml:5:12 layers.0.confg: Expected no excess property; did you mean config?")
    expect(lines).toContain("s.yaml:6:26 parallelism.pp: Expected no excess property; known keys here: tp, dp, ep")
  })

  it("the keys of the union member the value's type picks; the other member's complaints are dropped", () => {
    expect(allowedKeysAt(FfnLayerTemplate.ast, { attn_config: { type: "MLA" } }, ["attn_config"])).toContain("kv_lora_rank")
    expect(allowedKeysAt(FfnLayerTemplate.ast, { attn_config: { type: "GQA" } }, ["attn_config"])).not.toContain("kv_lora_rank")
    // An MLA block with GQA's head_dim: one issue, not the GQA member's "q_lora_rank: excess property" list.
    const r = decodeYamlText(FfnLayerTemplate, `${MLA}  head_dim: 64\nffn_config:\n  d_model: 7168\n  d_ff: 1\n  hidden_act: silu\n`, "a.yaml")
    expect(messageOf(r)).toBe("a.yaml:10:13 attn_config.head_dim: Expected no excess property; did you mean v_head_dim?")
    const missing = decodeYamlText(
      FfnLayerTemplate,
      `${MLA.replace("  kv_lora_rank: 512\n", "")}ffn_config:\n  d_model: 7168\n  d_ff: 1\n  hidden_act: silu\n`,
      "a.yaml"
    )
    expect(messageOf(missing)).toBe("a.yaml:2:3 attn_config.kv_lora_rank: Missing key")
  })

  it("hint text: alias only where allowed; a tie between two close keys suggests neither", () => {
    expect(unknownKeyHint("hidden_size", ["d_model", "d_ff"])).toMatch(/did you mean d_model\?/)
    expect(unknownKeyHint("hidden_size", ["payload_mb"])).toBe("; known keys here: payload_mb")
    expect(unknownKeyHint("tq", ["tp", "dp", "ep"])).toBe("; did you mean tp?")
    expect(unknownKeyHint("xp", ["tp", "dp", "ep"])).toBe("; known keys here: tp, dp, ep")
    // A shortened name: the one key it begins.
    expect(unknownKeyHint("batch", ["batch_size", "seq_len", "phase"])).toBe("; did you mean batch_size?")
  })
})

/**
 * Cross-field validation (src/config/validate.ts): one hand-worked case per rule, a valid twin
 * where the rule has a boundary, positions through the YAML text, and the rules wired into
 * loadScenario (every shipped scenario passes; a missing lm_head is a warning, `none` is not).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { appLayer, Evaluator } from "../../src/app/services.ts"
import { ConfigError } from "../../src/config/errors.ts"
import { loadScenario, warningLines } from "../../src/config/load.ts"
import { projectPaths } from "../../src/config/paths.ts"
import {
  attentionRules,
  hardwareRules,
  moeRules,
  positionIssues,
  templateRules,
  validateScenario,
  type RuleIssue,
  type ValidationInput
} from "../../src/config/validate.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import type { GqaAttention, LayerTemplate, MlaAttention, MoeConfig } from "../../src/schema/layer.ts"
import { makeProject, REPO } from "../helpers/cli.ts"
import { failureOf, runEffect } from "../helpers/inProcess.ts"

const issue = (path: ReadonlyArray<PropertyKey>, message: string): RuleIssue => ({ file: "t.yaml", path, message })
const paths = (xs: ReadonlyArray<RuleIssue>) => xs.map((x) => x.path.join("."))

const gqa = (o: Partial<GqaAttention> = {}): GqaAttention => ({ type: "GQA", d_model: 8192, num_attention_heads: 64, num_key_value_heads: 8, ...o })
const mla = (o: Partial<MlaAttention> = {}): MlaAttention => ({
  type: "MLA",
  d_model: 7168,
  num_attention_heads: 128,
  q_lora_rank: 1536,
  kv_lora_rank: 512,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  ...o
})
const moe = (o: Partial<MoeConfig> = {}): MoeConfig => ({ d_model: 8192, n_routed_experts: 8, num_experts_per_tok: 2, moe_intermediate_size: 14336, ...o })

describe("attention rules", () => {
  it("KV heads: at most the query heads, a divisor of them, all of them for MHA", () => {
    expect(attentionRules(gqa(), issue)).toEqual([])
    // 64 heads: 7 does not divide 64; 128 > 64; MHA with 8 of 64.
    expect(attentionRules(gqa({ num_key_value_heads: 7 }), issue)[0]).toMatchObject({
      path: ["attn_config", "num_key_value_heads"],
      message: expect.stringMatching(/divisor of num_attention_heads 64.*got 7/)
    })
    expect(attentionRules(gqa({ num_key_value_heads: 128 }), issue)[0].message).toMatch(/at most num_attention_heads 64 KV heads, got 128/)
    expect(attentionRules(gqa({ type: "MHA" }), issue)[0].message).toMatch(/Expected 64 \(MHA/)
    expect(attentionRules(gqa({ type: "MHA", num_key_value_heads: 64 }), issue)).toEqual([])
  })

  it("the default head_dim d_model / heads must be whole; an explicit head_dim may differ (gpt-oss: 64 x 64 != 2880)", () => {
    // 8000 / 64 = 125 whole; 8100 / 64 = 126.5 is not.
    expect(attentionRules(gqa({ d_model: 8000 }), issue)).toEqual([])
    expect(paths(attentionRules(gqa({ d_model: 8100 }), issue))).toEqual(["attn_config.num_attention_heads"])
    expect(attentionRules(gqa({ d_model: 2880, head_dim: 64 }), issue)).toEqual([])
  })

  it("MLA ranks compress d_model; q_lora_rank 0 (DeepSeek-V2-Lite) is allowed", () => {
    expect(attentionRules(mla(), issue)).toEqual([])
    expect(attentionRules(mla({ q_lora_rank: 0 }), issue)).toEqual([])
    expect(paths(attentionRules(mla({ kv_lora_rank: 7169 }), issue))).toEqual(["attn_config.kv_lora_rank"])
    expect(paths(attentionRules(mla({ q_lora_rank: 8000 }), issue))).toEqual(["attn_config.q_lora_rank"])
  })
})

describe("MoE rules", () => {
  it("top-k at most the routed experts (9 of 8 is refused, 8 of 8 is fine)", () => {
    expect(moeRules(moe({ num_experts_per_tok: 8 }), issue)).toEqual([])
    expect(moeRules(moe({ num_experts_per_tok: 9 }), issue)[0]).toMatchObject({
      path: ["moe_config", "num_experts_per_tok"],
      message: expect.stringMatching(/at most n_routed_experts 8 .*got 9/)
    })
  })

  it("group-limited routing: n_group divides the experts, topk_group <= n_group and needs n_group", () => {
    // DeepSeek-V3: 256 experts in 8 groups, 4 groups per token, top-8: 4 x 32 = 128 reachable.
    const v3 = { n_routed_experts: 256, num_experts_per_tok: 8, n_group: 8, topk_group: 4 }
    expect(moeRules(moe(v3), issue)).toEqual([])
    expect(paths(moeRules(moe({ ...v3, n_group: 3 }), issue))).toEqual(["moe_config.n_group"])
    expect(moeRules(moe({ ...v3, topk_group: 9 }), issue)[0].message).toMatch(/at most n_group 8, got 9/)
    const { n_group: _, ...noGroups } = v3
    expect(paths(moeRules(moe(noGroups), issue))).toEqual(["moe_config.topk_group"])
  })

  it("top-k at most the experts a token can reach: 64 experts in 8 groups, 1 group -> 8", () => {
    const base = { n_routed_experts: 64, n_group: 8, topk_group: 1 }
    expect(moeRules(moe({ ...base, num_experts_per_tok: 8 }), issue)).toEqual([])
    expect(moeRules(moe({ ...base, num_experts_per_tok: 9 }), issue)[0].message).toMatch(/topk_group 1 x 8 experts per group = 8 .*got 9/)
  })

  it("a shared-expert size without shared experts is refused", () => {
    expect(paths(moeRules(moe({ shared_expert_intermediate_size: 2048 }), issue))).toEqual(["moe_config.shared_expert_intermediate_size"])
    expect(paths(moeRules(moe({ n_shared_experts: 0, shared_expert_intermediate_size: 2048 }), issue))).toEqual(["moe_config.shared_expert_intermediate_size"])
    expect(moeRules(moe({ n_shared_experts: 1, shared_expert_intermediate_size: 2048 }), issue)).toEqual([])
  })
})

describe("template rules", () => {
  it("the FFN and MoE d_model agree with the attention's; a gated activation is not `gated: false`", () => {
    const ffn = (o: object): LayerTemplate => ({
      type: "ffn_layer",
      config: { attn_config: gqa(), ffn_config: { d_model: 8192, d_ff: 28672, hidden_act: "silu", ...o } }
    })
    expect(templateRules(ffn({}), issue)).toEqual([])
    expect(templateRules(ffn({ gated: false }), issue)).toEqual([]) // silu can be ungated
    expect(paths(templateRules(ffn({ d_model: 4096 }), issue))).toEqual(["ffn_config.d_model"])
    expect(paths(templateRules(ffn({ hidden_act: "swiglu", gated: false }), issue))).toEqual(["ffn_config.gated"])
    const m: LayerTemplate = { type: "moe_layer", config: { attn_config: gqa(), moe_config: moe({ d_model: 4096 }) } }
    expect(paths(templateRules(m, issue))).toEqual(["moe_config.d_model"])
  })
})

const HW: HardwareSpec = {
  name: "X",
  peak_tflops: 989,
  memory_bandwidth_gbps: 3350,
  hbm_gb: 80,
  interconnect_gbps: 450,
  max_concurrency: 2,
  overlap_efficiency: 1,
  sm_count: 132
}

describe("hardware rules", () => {
  it("GEMM tiles: both or neither, and SMs to schedule them on", () => {
    expect(hardwareRules({ ...HW, efficiency: { tile_m: 64, tile_n: 128 } }, issue)).toEqual([])
    expect(hardwareRules({ ...HW, efficiency: { tile_m: 0, tile_n: 0 } }, issue)).toEqual([])
    expect(paths(hardwareRules({ ...HW, efficiency: { tile_m: 64 } }, issue))).toEqual(["efficiency.tile_n"])
    expect(paths(hardwareRules({ ...HW, efficiency: { tile_n: 128 } }, issue))).toEqual(["efficiency.tile_m"])
    const { sm_count: _, ...noSms } = HW
    expect(hardwareRules({ ...noSms, efficiency: { tile_m: 64, tile_n: 128 } }, issue)[0].message).toMatch(/sm_count/)
  })
})

const dense = (d: number): LayerTemplate => ({
  type: "ffn_layer",
  config: { attn_config: gqa({ d_model: d }), ffn_config: { d_model: d, d_ff: 28672, hidden_act: "silu" } }
})
const comm: LayerTemplate = { type: "comm_layer", config: { comm_config: { payload_mb: 1, pattern: "all_reduce" } } }

const scenario = (o: Partial<ValidationInput> & { lm?: ValidationInput["spec"]["lm_head"] | "absent" } = {}): ValidationInput => ({
  scenarioFile: "/p/s.yaml",
  hardwareFile: "/p/hw.yaml",
  hardware: HW,
  spec: {
    hardware: "hw.yaml",
    layers: [{ type: "ffn_layer", config: "a.yaml" }],
    ...(o.lm === "absent" ? {} : { lm_head: o.lm ?? { vocab_size: 128256, d_model: 8192 } })
  },
  entries: [
    { index: 0, entry: { type: "ffn_layer", config: "a.yaml" }, template: dense(8192), file: "/p/a.yaml" },
    { index: 1, entry: { type: "comm_layer", config: "c.yaml" }, template: comm, file: "/p/c.yaml" }
  ],
  ...o
})

describe("scenario rules", () => {
  it("a valid scenario has no errors and no warnings; a comm layer has no d_model to compare", () => {
    expect(validateScenario(scenario())).toEqual({ errors: [], warnings: [] })
  })

  it("lm_head.d_model must be the layers' d_model", () => {
    const r = validateScenario(scenario({ lm: { vocab_size: 128256, d_model: 4096 } }))
    expect(r.errors).toEqual([{ file: "/p/s.yaml", path: ["lm_head", "d_model"], message: "Expected the layers' d_model 8192, got 4096" }])
  })

  it("every layer template works on the first layer's d_model", () => {
    const base = scenario()
    const r = validateScenario({
      ...base,
      entries: [...base.entries, { index: 2, entry: { type: "ffn_layer", config: "b.yaml" }, template: dense(4096), file: "/p/b.yaml" }]
    })
    expect(r.errors).toEqual([
      { file: "/p/s.yaml", path: ["layers", 2, "config"], message: "Expected a template with d_model 8192 (layers.0's), got d_model 4096" }
    ])
  })

  it("a missing lm_head is a warning; `lm_head: none` says it on purpose", () => {
    const missing = validateScenario(scenario({ lm: "absent" }))
    expect(missing.errors).toEqual([])
    expect(missing.warnings.map((w) => w.path)).toEqual([["lm_head"]])
    expect(validateScenario(scenario({ lm: "none" }))).toEqual({ errors: [], warnings: [] })
  })

  it("measured expert loads: one per routed expert, some > 0, and only for a MoE model", () => {
    const moeEntry = {
      index: 0,
      entry: { type: "moe_layer" as const, config: "m.yaml" },
      template: { type: "moe_layer" as const, config: { attn_config: gqa(), moe_config: moe() } },
      file: "/p/m.yaml"
    }
    const withLoads = (expert_loads: Array<number>, entries: ValidationInput["entries"] = [moeEntry]) =>
      validateScenario({ ...scenario(), spec: { ...scenario().spec, deployment: { load_imbalance: { expert_loads } } }, entries }).errors.map((e) => e.message)
    expect(withLoads([1, 2, 3, 4, 5, 6, 7, 8])).toEqual([])
    expect(withLoads([1, 2, 3])).toEqual(["Expected one load per routed expert (8), got 3"])
    expect(withLoads([0, 0, 0, 0, 0, 0, 0, 0])).toEqual(["Expected at least one expert load > 0 (all zero would read as perfect balance)"])
    expect(withLoads([1], scenario().entries)).toEqual(["Expected no expert_loads: the model has no MoE layer"])
  })

  it("a template used by several entries is reported once, in its own file", () => {
    const bad: LayerTemplate = {
      type: "ffn_layer",
      config: { attn_config: gqa({ num_key_value_heads: 7 }), ffn_config: { d_model: 8192, d_ff: 28672, hidden_act: "silu" } }
    }
    const entry = (index: number) => ({ index, entry: { type: "ffn_layer" as const, config: "a.yaml" }, template: bad, file: "/p/a.yaml" })
    const r = validateScenario({ ...scenario(), entries: [entry(0), entry(1)] })
    expect(r.errors.map((e) => [e.file, e.path.join(".")])).toEqual([["/p/a.yaml", "attn_config.num_key_value_heads"]])
  })
})

describe("positions", () => {
  it("an issue points at its field's value; a missing key at its parent", () => {
    const text = "attn_config:\n  type: GQA\n  num_key_value_heads: 7\n"
    const issues = positionIssues(
      [
        { file: "/p/a.yaml", path: ["attn_config", "num_key_value_heads"], message: "m" },
        { file: "/p/a.yaml", path: ["attn_config", "head_dim"], message: "n" }
      ],
      () => text,
      (f) => path.basename(f)
    )
    expect(issues).toEqual([
      { file: "a.yaml", line: 3, col: 24, path: "attn_config.num_key_value_heads", message: "m" },
      { file: "a.yaml", line: 2, col: 3, path: "attn_config.head_dim", message: "n" }
    ])
  })
})

const load = (dir: string, scenarioFile: string) =>
  Effect.gen(function* () {
    const evaluator = yield* Evaluator
    return yield* loadScenario(evaluator, projectPaths(dir), path.join(dir, scenarioFile))
  }).pipe(Effect.provide(appLayer({ cwd: dir, noCache: true })))

describe("loadScenario runs the rules", () => {
  it("every shipped scenario passes without a warning (the spec's two-layer example says lm_head: none)", async () => {
    const dir = path.join(REPO)
    const scenarios = fs
      .readdirSync(path.join(REPO, "configs", "scenarios"))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
    const warned: Array<string> = []
    for (const s of scenarios) {
      const loaded = await runEffect(load(dir, path.join("configs", "scenarios", s)))
      warned.push(...warningLines(loaded))
    }
    expect(warned).toEqual([])
  })

  it("a bad template field fails the load with file:line:col in the template; a missing lm_head warns, lm_head: none does not", async () => {
    const dir = makeProject()
    const tpl = path.join(dir, "configs", "models", "mixtral-8x7b", "moe_layer_config.yaml")
    fs.writeFileSync(tpl, fs.readFileSync(tpl, "utf8").replace(/num_experts_per_tok: 2 /, "num_experts_per_tok: 9 "))
    const e = await failureOf(load(dir, "configs/scenarios/mixtral_8x7b_h100.yaml"))
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.message).toMatch(
      /^configs\/models\/mixtral-8x7b\/moe_layer_config\.yaml:14:24 moe_config\.num_experts_per_tok: Expected at most n_routed_experts 8 experts per token, got 9$/
    )
    const a100 = path.join(dir, "configs", "scenarios", "deepseek_v3_a100.yaml")
    const withNone = fs.readFileSync(a100, "utf8")
    expect(withNone).toContain("lm_head: none\n")
    fs.writeFileSync(a100, withNone.replace("lm_head: none\n", ""))
    const missing = await runEffect(load(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(warningLines(missing)).toEqual([
      expect.stringMatching(/^warning: configs\/scenarios\/deepseek_v3_a100\.yaml:\d+:\d+ lm_head: no lm_head: the embedding and LM head/)
    ])
    fs.writeFileSync(a100, withNone)
    const loaded = await runEffect(load(dir, "configs/scenarios/deepseek_v3_a100.yaml"))
    expect(loaded.warnings).toEqual([])
    expect(loaded.spec.lm_head).toBeUndefined()
  })
})

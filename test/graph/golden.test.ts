/**
 * Golden outputs per op kind and version: the guard that makes per-op versions sound.
 *
 * Every op kind is evaluated on fixed inputs (the shipped model templates under several
 * phases and layouts). The digest of its outputs is recorded under `kind@version` in
 * golden-ops.json. A formula change that alters any output without bumping that op's `version`
 * fails here (cached results would otherwise go stale). After bumping, record the new digest:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/graph/golden.test.ts
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { digest } from "../../src/graph/canonical.ts"
import { planLayer, planLmHead } from "../../src/module/index.ts"
import type { LayerContext } from "../../src/module/context.ts"
import { evaluateOpCost, OP_FORMULAS } from "../../src/ops/registry.ts"
import type { OpSpec } from "../../src/ops/types.ts"
import type { LayerTemplate } from "../../src/schema/layer.ts"
import { REPO } from "../helpers/cli.ts"

const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname), "golden-ops.json")

const templates = (): Array<LayerTemplate> => {
  const out: Array<LayerTemplate> = []
  const root = path.join(REPO, "configs", "models")
  for (const model of fs.readdirSync(root).sort()) {
    for (const file of fs.readdirSync(path.join(root, model)).sort()) {
      if (!file.endsWith(".yaml")) continue
      const config = parse(fs.readFileSync(path.join(root, model, file), "utf8"))
      const type = "moe_config" in config ? "moe_layer" : "ffn_config" in config ? "ffn_layer" : "comm_layer"
      out.push({ type, config } as LayerTemplate)
    }
  }
  out.push({ type: "comm_layer", config: { comm_config: { payload_mb: 16, pattern: "all_reduce", num_ranks: 8 } } })
  out.push({ type: "comm_layer", config: { comm_config: { payload_mb: 4, pattern: "all_to_all", num_ranks: 32, link: "nic" } } })
  return out
}

const contexts = (): Array<LayerContext> => {
  const precision = { weights: "fp8", activations: "bf16", kv_cache: "bf16", moe_experts: "fp8", lm_head: "bf16" } as const
  return [
    { phase: "prefill", batch_size: 2, seq_len: 1000, precision, parallel: { tp: 1, dp: 1, ep: 1 }, gpus_per_node: 8 },
    { phase: "decode", batch_size: 16, seq_len: 3000, precision, parallel: { tp: 1, dp: 16, ep: 16 }, gpus_per_node: 8 },
    { phase: "decode", batch_size: 3, seq_len: 777, precision: { ...precision, weights: "bf16", moe_experts: "mxfp4" }, parallel: { tp: 8, dp: 1, ep: 8 }, gpus_per_node: 8 },
    { phase: "prefill", batch_size: 1, seq_len: 4096, precision, parallel: { tp: 4, dp: 8, ep: 32 }, gpus_per_node: 8, tokens_per_expert: 100 }
  ]
}

const sampleSpecs = (): Array<OpSpec> => {
  const specs: Array<OpSpec> = []
  for (const ctx of contexts()) {
    for (const t of templates()) {
      try {
        specs.push(...planLayer(t, ctx))
      } catch {
        // A layout a template cannot take (heads not divisible by tp): not a sample.
      }
    }
    specs.push(...planLmHead({ vocab_size: 129280, d_model: 7168 }, ctx))
  }
  return specs
}

describe("golden op outputs", () => {
  it("every op kind's outputs match the digest recorded for its version", () => {
    const byKind = new Map<string, Array<unknown>>()
    for (const spec of sampleSpecs()) {
      const rows = byKind.get(spec.kind) ?? []
      rows.push({ params: spec.params, cost: evaluateOpCost(spec) })
      byKind.set(spec.kind, rows)
    }
    const current: Record<string, string> = {}
    for (const [kind, rows] of [...byKind.entries()].sort()) current[`${kind}@${OP_FORMULAS[kind].version}`] = digest(rows)
    // Every registered formula must be exercised by the samples.
    expect([...byKind.keys()].sort()).toEqual(Object.keys(OP_FORMULAS).sort())
    if (process.env.UPDATE_GOLDEN === "1") {
      const previous = fs.existsSync(GOLDEN) ? JSON.parse(fs.readFileSync(GOLDEN, "utf8")) : {}
      fs.writeFileSync(GOLDEN, JSON.stringify({ ...previous, ...current }, Object.keys({ ...previous, ...current }).sort(), 2) + "\n")
    }
    const golden: Record<string, string> = JSON.parse(fs.readFileSync(GOLDEN, "utf8"))
    const problems: Array<string> = []
    for (const [id, d] of Object.entries(current)) {
      if (golden[id] === undefined) problems.push(`${id}: no recorded digest (bumped? record with UPDATE_GOLDEN=1)`)
      else if (golden[id] !== d) problems.push(`${id}: output changed without a version bump: bump OP_FORMULAS["${id.split("@")[0]}"].version`)
    }
    expect(problems).toEqual([])
  })
})

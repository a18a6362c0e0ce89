/**
 * The golden-digest guard table: one row per versioned unit of code whose version feeds a cache
 * key. Each row evaluates the unit on fixed sample inputs; golden.test.ts compares the digest of
 * the outputs with the one recorded for `unit@version` in golden.json. An output change without
 * a version bump fails there (cached results would go stale silently otherwise).
 *
 * Adding a unit (a kernel strategy, a new estimator) is one row: `{ unit, version, bump,
 * sample }`, where `bump` says which constant in which file to bump and `sample` returns
 * `{ inputs, outputs }`. Inputs are digested separately so that editing a shipped config (which
 * changes the samples, not the code) asks for a re-record rather than for a version bump.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { FileNode, SCHEMA_VERSION } from "../../src/config/load.ts"
import type { LayerContext } from "../../src/layers/context.ts"
import { planLayer, planLmHead } from "../../src/layers/index.ts"
import { evaluateOpCost, OP_FORMULAS } from "../../src/ops/registry.ts"
import type { OpSpec } from "../../src/ops/types.ts"
import { Dtype } from "../../src/schema/dtype.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import type { LayerTemplate, LayerType } from "../../src/schema/layer.ts"
import type { ScenarioSpec } from "../../src/schema/scenario.ts"
import { composeLayer, rollUp, type LayerMemory } from "../../src/kernel/step.ts"
import type { Composition } from "../../src/kernel/strategies.ts"
import { COMPOSE_CODE_VERSION, computeOp, TIMING_CODE_VERSION } from "../../src/sim/plan.ts"
import { analyticEstimator, ESTIMATORS } from "../../src/timing/estimator.ts"
import { digest } from "../../src/graph/canonical.ts"
import { pointEvaluator, type SweepBase } from "../../src/sweep/point.ts"
import { SWEEP_CODE_VERSION } from "../../src/sweep/pointCache.ts"
import type { Coordinates } from "../../src/sweep/space.ts"
import { DEEPSEEK, DENSE, H800 } from "../deploy/fixtures.ts"
import { CAPACITY_CODE_VERSION, capacityParams, computeCapacity, instanceRecipe } from "../../src/sim/capacityNode.ts"
import { validateWorkload } from "../../src/serve/workload.ts"
import type { LoadedScenario } from "../../src/config/load.ts"
import type { LayerEntry } from "../../src/schema/scenario.ts"
import { timeOp, timingHardware } from "../../src/timing/roofline.ts"
import { REPO } from "../helpers/cli.ts"

interface Sample {
  readonly inputs: unknown
  readonly outputs: unknown
}

export interface GoldenUnit {
  readonly unit: string
  readonly version: string | number
  /** What to bump when the outputs change: "<constant> in <file>". */
  readonly bump: string
  readonly sample: () => Sample
}

const once = <A>(f: () => A): (() => A) => {
  let value: A | undefined
  let done = false
  return () => {
    if (!done) {
      value = f()
      done = true
    }
    return value as A
  }
}

// ---------------------------------------------------------------------------------------------
// Shipped configs, decoded exactly as a run decodes them (the file node type's compute).

const CONFIGS = path.join(REPO, "configs")

type SchemaName = "scenario" | "hardware" | LayerType

const yamlFiles = (dir: string): Array<string> =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((d) => (d.isDirectory() ? yamlFiles(path.join(dir, d.name)) : d.name.endsWith(".yaml") ? [path.join(dir, d.name)] : []))

const decode = (schema: SchemaName, file: string): unknown => {
  const shown = path.relative(REPO, file)
  const text = fs.readFileSync(file, "utf8")
  return Effect.runSync(FileNode.compute({ schema, text_sha256: "" }, [], { text, shown }))
}

/** Every shipped config file with the schema a run decodes it with. */
export const shippedConfigs = once((): Array<{ file: string; schema: SchemaName; text: string; decoded: unknown }> => {
  const scenarios = yamlFiles(path.join(CONFIGS, "scenarios"))
  const schemaOf = new Map<string, SchemaName>()
  for (const f of scenarios) {
    schemaOf.set(f, "scenario")
    for (const l of (decode("scenario", f) as ScenarioSpec).layers) if (typeof l.config === "string") schemaOf.set(path.join(REPO, l.config), l.type)
  }
  for (const f of yamlFiles(path.join(CONFIGS, "hardware"))) schemaOf.set(f, "hardware")
  const out = []
  for (const file of yamlFiles(CONFIGS)) {
    const text = fs.readFileSync(file, "utf8")
    // A model file no scenario references: its schema from its top-level block.
    const schema = schemaOf.get(file) ?? (/^moe_config:/m.test(text) ? "moe_layer" : /^ffn_config:/m.test(text) ? "ffn_layer" : "comm_layer")
    out.push({ file: path.relative(REPO, file), schema, text, decoded: decode(schema, file) })
  }
  return out
})

const hardwareSpecs = once(() =>
  shippedConfigs()
    .filter((c) => c.schema === "hardware")
    .map((c) => ({ file: c.file, hw: c.decoded as HardwareSpec }))
)

const templates = once(
  (): Array<LayerTemplate> => [
    ...shippedConfigs()
      .filter((c) => c.file.startsWith("configs/models/"))
      .map((c) => ({ type: c.schema, config: c.decoded }) as LayerTemplate),
    { type: "comm_layer", config: { comm_config: { payload_mb: 16, pattern: "all_reduce", num_ranks: 8 } } } as LayerTemplate,
    { type: "comm_layer", config: { comm_config: { payload_mb: 4, pattern: "all_to_all", num_ranks: 32, link: "nic" } } } as LayerTemplate
  ]
)

// ---------------------------------------------------------------------------------------------
// Op samples: every template under layouts and phases, with every dtype in every precision slot.

export const DTYPES: ReadonlyArray<string> = Dtype.literals

const contexts = once((): Array<LayerContext> => {
  const precision = { weights: "fp8", activations: "bf16", kv_cache: "bf16", moe_experts: "fp8", lm_head: "bf16" } as const
  const out: Array<LayerContext> = [
    { phase: "prefill", batch_size: 2, seq_len: 1000, precision, parallel: { tp: 1, dp: 1, ep: 1 }, gpus_per_node: 8 },
    { phase: "decode", batch_size: 16, seq_len: 3000, precision, parallel: { tp: 1, dp: 16, ep: 16 }, gpus_per_node: 8 },
    {
      phase: "decode",
      batch_size: 3,
      seq_len: 777,
      precision: { ...precision, weights: "bf16", moe_experts: "mxfp4" },
      parallel: { tp: 8, dp: 1, ep: 8 },
      gpus_per_node: 8
    },
    { phase: "prefill", batch_size: 1, seq_len: 4096, precision, parallel: { tp: 4, dp: 8, ep: 32 }, gpus_per_node: 8, tokens_per_expert: 100 }
  ]
  // Each dtype in each slot once (rotations), in both phases.
  DTYPES.forEach((_, i) => {
    const at = (k: number) => DTYPES[(i + k) % DTYPES.length] as Dtype
    const p = { weights: at(0), activations: at(1), kv_cache: at(2), moe_experts: at(3), lm_head: at(4) }
    for (const phase of ["prefill", "decode"] as const) {
      out.push({ phase, batch_size: 4 + i, seq_len: 512 + 64 * i, precision: p, parallel: { tp: 2, dp: 4, ep: 8 }, gpus_per_node: 8 })
    }
  })
  return out
})

/** Op specs per sampled layer (lists in planning order), LM heads included. */
const sampleLayers = once((): Array<{ ctx: LayerContext; layer_type: string; specs: Array<OpSpec> }> => {
  const out: Array<{ ctx: LayerContext; layer_type: string; specs: Array<OpSpec> }> = []
  for (const ctx of contexts()) {
    for (const t of templates()) {
      try {
        out.push({ ctx, layer_type: t.type, specs: [...planLayer(t, ctx)] })
      } catch {
        // A layout a template cannot take (heads not divisible by tp): not a sample.
      }
    }
    out.push({ ctx, layer_type: "lm_head", specs: [...planLmHead({ vocab_size: 129280, d_model: 7168 }, ctx)] })
  }
  return out
})

export const sampleSpecs = once((): Array<OpSpec> => sampleLayers().flatMap((l) => l.specs))

/** A spread of op costs (every kind, every dtype) for the timing samples. */
const sampleCosts = once(() => sampleSpecs().map((spec) => ({ spec, cost: evaluateOpCost(spec) })))

const timingSlices = once(() =>
  hardwareSpecs().flatMap(({ file, hw }) => (["hardware", "none"] as const).map((mode) => ({ file, mode, timing: timingHardware(hw, mode) })))
)

// ---------------------------------------------------------------------------------------------
// Composition samples: real op rows under serial and micro-batched compositions.

const COMPOSITIONS: ReadonlyArray<Composition> = [
  { overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 1 }, // serial: one micro-batch
  { overlap_efficiency: 0.8, max_concurrency: 1, micro_batch: 2 }, // serial: one stream
  { overlap_efficiency: 0.8, max_concurrency: 2, micro_batch: 2 }, // micro-batched overlap
  { overlap_efficiency: 1, max_concurrency: 4, micro_batch: 4 }
]

const composeInputs = once(() => {
  const timing = timingSlices().find((t) => t.file.endsWith("H800-SXM.yaml") && t.mode === "hardware")!.timing
  return sampleLayers()
    .filter((_, i) => i % 3 === 0)
    .map((l, i) => ({
      layer_type: l.layer_type,
      rows: l.specs.map((spec) => computeOp({ spec, hw: timing, estimator: "analytic" })),
      composition: COMPOSITIONS[i % COMPOSITIONS.length],
      memory: { weight_bytes: 1e6 * (i + 1), kv_cache_bytes_per_token: 100 * i, activation_bytes: 3e5 + i } as LayerMemory,
      features: { tokens: l.ctx.batch_size, tp: l.ctx.parallel.tp }
    }))
})

// ---------------------------------------------------------------------------------------------

const opUnits: Array<GoldenUnit> = Object.keys(OP_FORMULAS)
  .sort()
  .map((kind) => ({
    unit: `op:${kind}`,
    version: OP_FORMULAS[kind].version,
    bump: `OP_FORMULAS.${kind}.version in src/ops/registry.ts`,
    sample: () => {
      const specs = sampleSpecs().filter((s) => s.kind === kind)
      return { inputs: specs.map((s) => s.params), outputs: specs.map((s) => evaluateOpCost(s)) }
    }
  }))

const estimatorUnits: Array<GoldenUnit> = Object.values(ESTIMATORS).map((est) => ({
  unit: `estimator:${est.id}`,
  // An estimator may build on timeOp; as in an op's code version, the timing version is part of it.
  version: `${est.version}.timing-v${TIMING_CODE_VERSION}`,
  bump: `ESTIMATORS.${est.id}.version in src/timing/estimator.ts (if timing:timeOp is reported too, bumping TIMING_CODE_VERSION covers this)`,
  sample: () => {
    const hw = timingSlices()
    const costs = sampleCosts()
    return {
      inputs: { costs: costs.map((c) => c.cost), hw: hw.map((h) => h.timing) },
      outputs: hw.map((h) => costs.map((c) => est.time(c.spec, c.cost, h.timing)))
    }
  }
}))

/**
 * Sweep points (src/sweep/point.ts through the deployment registry): every point model on the
 * DeepSeek-V3 fixture with the axes that pick its layout and lengths. The version joins
 * SWEEP_CODE_VERSION with what a pack's family digest also keys on (timing, composition, op
 * formulas, the estimator), so a bump of one of those asks for a re-record, not a sweep bump.
 */
const sweepUnit = (): GoldenUnit => {
  const ops = digest(Object.fromEntries(Object.entries(OP_FORMULAS).map(([k, f]) => [k, f.version])))
  return {
    unit: "sweep:point",
    version: `${SWEEP_CODE_VERSION}.timing-v${TIMING_CODE_VERSION}.compose-v${COMPOSE_CODE_VERSION}.ops-${ops.slice(0, 12)}.analytic-v${analyticEstimator.version}`,
    bump: "SWEEP_CODE_VERSION in src/sweep/pointCache.ts",
    sample: () => {
      const base = (point_model: SweepBase["point_model"]): SweepBase => ({
        model: DEEPSEEK,
        base: { precision: DEEPSEEK.precision, deployment: { nodes: 4 } },
        hardware: { "H800-SXM": H800 },
        scenario_hardware: "H800-SXM",
        estimator_id: analyticEstimator.id,
        efficiency: "none",
        point_model,
        phases: ["prefill", "decode"],
        defaults: { batch: 8, seq: 2048, output: 512 }
      })
      const cases: ReadonlyArray<{ readonly base: SweepBase; readonly points: ReadonlyArray<Coordinates> }> = [
        { base: base("core"), points: [{ batch: 1 }, { batch: 64, seq: 4096, output: 0 }, { ep: 16, batch: 32 }, { tp: 2, dp: 16, batch: 4 }, { ep: 7 }] },
        { base: base("large-ep"), points: [{ batch: 16 }, { ep: 16, tbo: "off", batch: 64 }, { ep: 8, redundant_experts: 8, batch: 128, output: 1024 }] },
        {
          base: base("afd"),
          points: [
            { instances: "2A2F", batch: 16 },
            { instances: "3A2F", batch: 64, seq: 8192 }
          ]
        }
      ]
      return {
        inputs: cases,
        outputs: cases.map((c) => {
          const evaluate = pointEvaluator(c.base, analyticEstimator)
          return c.points.map((p) => evaluate(p))
        })
      }
    }
  }
}

/**
 * One capacity search (src/sim/capacityNode.ts) of a two-layer DeepSeek-V3 dense stack on H800,
 * 64 random requests of 256 + 32 tokens, at max load and under a TPOT SLO (the rate search).
 */
const capacityUnit = (): GoldenUnit => ({
  unit: "capacity:search",
  version: CAPACITY_CODE_VERSION,
  bump: "CAPACITY_CODE_VERSION in src/sim/capacityNode.ts",
  sample: () => {
    const checked = validateWorkload({ dataset: "random", num_prompts: 64, input_len: 256, output_len: 32, seed: 3 })
    if (!checked.ok) throw new Error(checked.problems[0]!.message)
    const entry = { type: "ffn_layer", config: "configs/models/deepseek-v3/ffn_layer_config.yaml", repeat: 2 } as unknown as LayerEntry
    const spec = {
      name: "golden-capacity",
      hardware: "configs/hardware/H800-SXM.yaml",
      layers: [entry],
      precision: { weights: "fp8", activations: "bf16", kv_cache: "bf16" },
      parallelism: { tp: 1, dp: 1, ep: 1 }
    } as unknown as ScenarioSpec
    const loaded = { spec, hardware: H800, entries: [{ index: 0, entry, template: DENSE, file: "" }] } as unknown as LoadedScenario
    const instance = instanceRecipe(loaded, { engine: "vllm", engine_flags: {}, efficiency: "none", typical_context: 288, build: { kind: "serving" } })
    const cases = [{}, { tpot: 5 }].map((slo) =>
      capacityParams({
        deployment: { kind: "instance", instance, acceptance: 0 },
        workload: checked.workload,
        target: { ...(Object.keys(slo).length === 0 ? {} : { slo }), percentile: 99 },
        full: 64,
        search: {}
      })
    )
    return { inputs: cases, outputs: cases.map((p) => Effect.runSync(computeCapacity(p))) }
  }
})

/**
 * The table. The kernel's strategies (src/kernel) add their rows here.
 */
export const GOLDEN_UNITS: ReadonlyArray<GoldenUnit> = [
  ...opUnits,
  {
    unit: "timing:timeOp",
    version: TIMING_CODE_VERSION,
    bump: "TIMING_CODE_VERSION in src/sim/plan.ts",
    sample: () => {
      const hw = timingSlices()
      const costs = sampleCosts().map((c) => c.cost)
      return { inputs: { costs, hw: hw.map((h) => h.timing) }, outputs: hw.map((h) => costs.map((c) => timeOp(c, h.timing))) }
    }
  },
  ...estimatorUnits,
  {
    unit: "compose:composeLayer",
    version: COMPOSE_CODE_VERSION,
    bump: "COMPOSE_CODE_VERSION in src/sim/plan.ts",
    sample: () => {
      const inputs = composeInputs()
      return { inputs, outputs: inputs.map((x) => composeLayer(x.layer_type, x.rows, x.composition, x.memory, x.features)) }
    }
  },
  {
    unit: "compose:rollUp",
    version: COMPOSE_CODE_VERSION,
    bump: "COMPOSE_CODE_VERSION in src/sim/plan.ts",
    sample: () => {
      const summaries = composeInputs().map((x) => composeLayer(x.layer_type, x.rows, x.composition, x.memory, x.features))
      const groups = [summaries.slice(0, 4), summaries.slice(4, 9), summaries.slice(9)]
      const inputs = groups.map((g, i) => ({
        phase: i % 2 === 0 ? ("decode" as const) : ("prefill" as const),
        summaries: g,
        instances: g.flatMap((_, s) => Array.from({ length: 1 + ((s * 7) % 5) }, (_, r) => ({ summary: s, layer_name: `L${s}.${r}` }))),
        kv_tokens: 1024 * (i + 1)
      }))
      return { inputs, outputs: inputs.map((x) => rollUp(x.phase, x.summaries, x.instances, x.kv_tokens)) }
    }
  },
  {
    unit: "schema:decode",
    version: SCHEMA_VERSION,
    bump: "SCHEMA_VERSION in src/config/load.ts",
    sample: () => {
      const configs = shippedConfigs()
      return { inputs: configs.map((c) => ({ file: c.file, schema: c.schema, text: c.text })), outputs: configs.map((c) => c.decoded) }
    }
  },
  sweepUnit(),
  capacityUnit()
]

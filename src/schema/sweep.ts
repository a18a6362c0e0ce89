/**
 * The `sweep:` block of a scenario: a sweep as a reviewable, diffable config. Every key means
 * what the `llmsim sweep` flag of the same name means (docs/sweep.md); a flag given on the
 * command line replaces the block's value for that key. An axis is the flag's text
 * (`"1..512:x2"`, `"2A2F,3A2F"`), a single value, or a YAML list.
 */
import { Schema } from "effect"
import { physical, Positive, PositiveInt } from "./common.ts"

// Numbers are finite: `.inf` / `.nan` are no axis value (and JSON Schema, which cannot hold them, agrees).
const AxisText = Schema.Union([Schema.String, Schema.Finite, Schema.Array(Schema.Union([Schema.String, Schema.Finite]))])
const axis = Schema.optionalKey(AxisText)

const SweepAxes = Schema.Struct({
  hardware: axis,
  weights: axis,
  kv_cache: axis,
  moe_experts: axis,
  instances: axis,
  tp: axis,
  dp: axis,
  ep: axis,
  redundant_experts: axis,
  tbo: axis,
  micro_batches: axis,
  seq: axis,
  output: axis,
  batch: axis
})
type SweepAxes = typeof SweepAxes.Type

const SweepConstraints = Schema.Struct({
  max_ttft_ms: Schema.optionalKey(Positive),
  max_tpot_ms: Schema.optionalKey(Positive),
  min_tokens_per_s_per_user: Schema.optionalKey(Positive),
  max_gpus: Schema.optionalKey(PositiveInt)
})

export const SweepSpec = Schema.Struct({
  axes: Schema.optionalKey(SweepAxes),
  constraints: Schema.optionalKey(SweepConstraints),
  objective: Schema.optionalKey(
    Schema.Literals(["tokens_per_s_per_gpu", "tokens_per_s_per_user", "cost_per_1m_output_tokens_usd", "cost_per_1m_input_tokens_usd"])
  ),
  strategy: Schema.optionalKey(Schema.Literals(["serial", "overlapped", "two-batch-overlap", "serial-micro-batches", "afd-pipeline"])),
  /** USD per GPU-hour for every hardware of the sweep (else each hardware file's own price). */
  price_per_gpu_hour_usd: Schema.optionalKey(physical("usd_per_gpu_hour"))
})
export type SweepSpec = typeof SweepSpec.Type

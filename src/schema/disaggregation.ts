/**
 * DisaggregationSpec: the `disaggregation` block of a scenario, read by `llmsim bench`: serve the
 * model as a pool of prefill instances and a pool of decode instances with each request's KV
 * cache moved between them (src/serve/disaggregate.ts). Each pool may run on its own hardware
 * and layout (heterogeneous pools: prefill on H800, decode on H20) and override the engine's
 * settings; what a pool leaves out is the scenario's. Flags (--prefill-instances,
 * --decode-instances) override the counts.
 *
 *   disaggregation:
 *     prefill: {instances: 1, parallelism: {tp: 8}}
 *     decode:  {instances: 2, hardware: configs/hardware/H20.yaml, parallelism: {tp: 1, dp: 8, ep: 8}, wide_ep: true, engine: {max_running: 256}}
 *     transfer: {link: nic, layerwise: true}
 */
import { Schema } from "effect"
import { PositiveInt } from "./common.ts"
import { EngineSpec } from "./engine.ts"
import { Parallelism } from "./parallelism.ts"

const Pool = Schema.Struct({
  /** Engine instances in the pool (default 1). */
  instances: Schema.optionalKey(PositiveInt),
  /** Hardware file of the pool's GPUs (default: the scenario's). */
  hardware: Schema.optionalKey(Schema.String),
  /** The pool's layout (default: the scenario's parallelism). */
  parallelism: Schema.optionalKey(Parallelism),
  /**
   * Serve the pool as a wide expert-parallel deployment: its steps priced by the large-EP model
   * (src/deploy/largeEp.ts: DeepEP all-to-all, normal kernels in prefill and low-latency in decode
   * by default, two-batch overlap, the scenario's `deployment` block) instead of the core layout's.
   */
  wide_ep: Schema.optionalKey(Schema.Boolean),
  /**
   * Serve the (decode) pool as attention-FFN disaggregated units: each instance is the scenario's
   * `deployment.afd` block (attention and FFN instances, micro-batches), its steps through the AFD
   * pipeline (src/deploy/afd.ts), its KV cache on the attention GPUs.
   */
  afd: Schema.optionalKey(Schema.Boolean),
  /** Engine settings for this pool, over the scenario's engine block (the engine's name is the scenario's). */
  engine: Schema.optionalKey(EngineSpec.mapFields(({ name: _, ...rest }) => rest))
})

export const DisaggregationSpec = Schema.Struct({
  prefill: Schema.optionalKey(Pool),
  decode: Schema.optionalKey(Pool),
  transfer: Schema.optionalKey(
    Schema.Struct({
      /** auto: NVLink when both pools fit in one node (gpus_per_node), else the NIC. */
      link: Schema.optionalKey(Schema.Literals(["auto", "nic", "nvlink"])),
      /** Send each layer's KV as soon as it is prefilled (default false: after the prefill). */
      layerwise: Schema.optionalKey(Schema.Boolean)
    })
  )
})
export type DisaggregationSpec = typeof DisaggregationSpec.Type

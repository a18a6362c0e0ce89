/**
 * Parallel layout of one model replica. Attention runs tensor-parallel over `tp` GPUs and
 * data-parallel over `dp` groups; MoE experts are spread over `ep` GPUs (ep <= tp * dp).
 * `batch_size` is per attention data-parallel group.
 */
import { Schema } from "effect"
import { PositiveInt } from "./common.ts"

export const Parallelism = Schema.Struct({
  tp: Schema.optionalKey(PositiveInt),
  dp: Schema.optionalKey(PositiveInt),
  ep: Schema.optionalKey(PositiveInt)
})
export type Parallelism = typeof Parallelism.Type

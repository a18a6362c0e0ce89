/**
 * Standalone communication layer (comm_config): one collective of payload_mb * 1e6 bytes over
 * num_ranks (default tp) ranks, on the given link, else NVLink when the ranks fit in a node.
 */
import type { OpSpec } from "../ops/types.ts"
import type { CommConfig } from "../schema/layer.ts"
import type { LayerContext } from "./context.ts"
import { linkFor } from "./layout.ts"
import { collectiveOp } from "./spec.ts"

export const commPayloadBytes = (c: CommConfig): number => c.payload_mb * 1e6

export const planComm = (c: CommConfig, ctx: LayerContext): ReadonlyArray<OpSpec> => {
  const ranks = c.num_ranks ?? ctx.parallel.tp
  return [collectiveOp(c.pattern, c.pattern, commPayloadBytes(c), ranks, c.link ?? linkFor(ranks, ctx))]
}

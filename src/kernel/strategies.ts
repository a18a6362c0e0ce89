/**
 * Composition strategies: how the ops of a layer (and the layers of a step) add up in time.
 * Each is a named, pure function of op or stage times; this table lists them side by side so a
 * result can say which one produced it (`strategy` in `llmsim run` and the playbooks' output).
 *
 *   serial              ops back to back on one stream: compute side (sum over ops of
 *                       max(compute, memory)) + communication. The core roll-up's default.
 *   overlapped          micro-batches (runtime.micro_batch >= 2) on hardware with two streams
 *                       (max_concurrency >= 2): one micro-batch's communication overlaps the
 *                       other's compute: latency = compute + comm - overlap_efficiency x
 *                       min(compute, comm). The core roll-up with --micro-batch >= 2.
 *   two-batch-overlap   the large-EP deployment model's four-stage TBO (twoBatchOverlap.ts):
 *                       stages (a, d), (f, d), (f, c), (a, c) per layer, each the longer side
 *                       plus what overlap_efficiency leaves of the shorter, DeepEP all-to-all,
 *                       communication SMs taken from compute.
 *   serial-micro-batches  the large-EP model without TBO: m (a + d + f + c) per layer.
 *   afd-pipeline        attention-FFN disaggregation's pipelined micro-batches
 *                       (afdPipeline.ts): three-stage, conservative or serial cycles.
 */
export type StrategyName = "serial" | "overlapped" | "two-batch-overlap" | "serial-micro-batches" | "afd-pipeline"

export interface Strategy {
  readonly name: StrategyName
  /** One line for output and docs. */
  readonly description: string
  /** Where the strategy's formula lives. */
  readonly module: string
}

export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = {
  serial: {
    name: "serial",
    description: "ops back to back on one stream: sum of max(compute, memory) per op, plus communication",
    module: "src/kernel/step.ts"
  },
  overlapped: {
    name: "overlapped",
    description: "micro-batches on two streams: communication hidden behind the other micro-batch's compute at the hardware's overlap_efficiency",
    module: "src/kernel/step.ts"
  },
  "two-batch-overlap": {
    name: "two-batch-overlap",
    description:
      "large-EP deployment model: DeepEP all-to-all, four-stage two-batch overlap (a,d), (f,d), (f,c), (a,c) per layer, each stage the longer side plus the unhidden part of the shorter (overlap_efficiency)",
    module: "src/kernel/twoBatchOverlap.ts"
  },
  "serial-micro-batches": {
    name: "serial-micro-batches",
    description: "large-EP deployment model without overlap: DeepEP all-to-all, m (a + d + f + c) per layer",
    module: "src/kernel/twoBatchOverlap.ts"
  },
  "afd-pipeline": {
    name: "afd-pipeline",
    description: "attention-FFN disaggregation: micro-batches pipelined over attention, transfers and FFN (three-stage, conservative or serial)",
    module: "src/kernel/afdPipeline.ts"
  }
}

/** What the core roll-up needs to compose a layer. */
export interface Composition {
  readonly overlap_efficiency: number
  readonly max_concurrency: number
  readonly micro_batch: number
}

/** The core roll-up's strategy under a composition: overlapped only with >= 2 micro-batches on >= 2 streams. */
export const coreStrategy = (c: Composition): "serial" | "overlapped" => (c.micro_batch >= 2 && c.max_concurrency >= 2 ? "overlapped" : "serial")

/**
 * Time hidden when two streams run at once: the hardware's overlap_efficiency times the shorter
 * of the two (1: the shorter hides completely, max(a, b); 0: none, a + b). The one overlap rule
 * of the `overlapped` roll-up and of each two-batch-overlap stage (twoBatchOverlap.ts).
 */
export const hiddenMs = (overlapEfficiency: number, a: number, b: number): number => overlapEfficiency * Math.min(a, b)

/** Communication time hidden by the `overlapped` strategy (0 when serial). */
export const hiddenCommMs = (c: Composition, computeMs: number, commMs: number): number =>
  coreStrategy(c) === "overlapped" ? hiddenMs(c.overlap_efficiency, computeMs, commMs) : 0

/** The strategies of the core roll-up (the others belong to a deployment model: src/deploy/registry.ts). */
export type CoreStrategyName = "serial" | "overlapped"

/**
 * The micro-batch count the core roll-up runs a requested strategy at (undefined: the runtime's),
 * or why the request contradicts the hardware or `--micro-batch`.
 */
export const planCore = (
  requested: CoreStrategyName | undefined,
  microBatch: number | undefined,
  maxConcurrency: number
): { readonly ok: true; readonly micro_batch?: number } | { readonly ok: false; readonly message: string } => {
  const core = (m: number | undefined) => ({ ok: true as const, ...(m === undefined ? {} : { micro_batch: m }) })
  switch (requested) {
    case undefined:
      return core(microBatch)
    case "serial":
      return microBatch !== undefined && microBatch >= 2 && maxConcurrency >= 2
        ? {
            ok: false,
            message: `serial runs without overlap, but --micro-batch ${microBatch} on hardware with two streams overlaps (use --strategy overlapped, or drop --micro-batch)`
          }
        : core(microBatch)
    case "overlapped":
      if (maxConcurrency < 2) return { ok: false, message: `overlapped needs hardware with max_concurrency >= 2 (this hardware has ${maxConcurrency})` }
      if (microBatch !== undefined && microBatch < 2) return { ok: false, message: `overlapped needs --micro-batch >= 2, got ${microBatch}` }
      return core(microBatch ?? 2)
  }
}

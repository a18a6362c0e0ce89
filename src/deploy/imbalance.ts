/**
 * Expert load imbalance: the max/mean ratio of routed (token, expert) copies over the GPUs of an
 * EP group. The most loaded GPU sets the pace of an EP step: its expert GEMMs see factor x the
 * mean copies and it receives (dispatch) and sends (combine) factor x the mean bytes, while every
 * GPU sends its own tokens evenly. DeepSeek's EPLB minimises exactly this max load
 * (open-infra-index day-6 overview; deepseek-ai/EPLB).
 *
 * Three sources (DeploymentSpec.load_imbalance):
 *  - declared: a number >= 1.
 *  - sampling: uniform routing still scatters copies at random. With n mean copies per GPU over
 *    ep GPUs the count on one GPU has variance n (1 - 1/ep) (binomial), and the expected maximum
 *    of ep such counts is at most mean + sigma * sqrt(2 ln ep) (the Gaussian maximal inequality,
 *    Boucheron, Lugosi and Massart, "Concentration Inequalities", 2013, section 2.5):
 *        factor = 1 + sqrt(2 ln(ep) (1 - 1/ep) / n)
 *    so small decode batches are less balanced than large prefill batches.
 *  - expert_loads: measured tokens per logical expert, placed with DeepSeek EPLB's global policy
 *    (deepseek-ai/EPLB eplb.py @ 57919718be1fbe2baca80a42a7df4de7119aaa95: replicate_experts,
 *    then balanced_packing): each redundant slot replicates the expert with the highest load per
 *    replica; replicas (load / replicas each) are sorted by load and each goes to the least
 *    loaded GPU that still has a free slot. factor = max GPU load / mean GPU load.
 *  - measured (`--expert-load FILE`, src/cli/expertLoad.ts): per-step, per-layer tokens of each
 *    logical expert, as SGLang's expert distribution recorder counts them in `stat` mode
 *    (sgl-project/sglang @ 02295fe5 python/sglang/srt/eplb/expert_distribution.py,
 *    _StatAccumulator.dump: `logical_count` of shape [steps, layers, logical experts]). Each layer
 *    is placed once, by the policy above on its total over the steps (EPLB rebalances from a
 *    window of history, not per step); a replica takes 1 / replicas of its expert's tokens
 *    (SGLang's static dispatch picks a replica at random). Then every recorded step is judged on
 *    that placement:
 *        factor = sum over steps and layers of max GPU load / sum of mean GPU load
 *    the time-weighted max/mean (a step's MoE time follows its busiest GPU). So the spread of
 *    real batches (hot experts that move from step to step) counts, not only the popularity the
 *    totals show; counts given without steps are one step, popularity alone.
 */
import type { LoadImbalance } from "../schema/deployment.ts"

export const samplingImbalance = (meanCopiesPerGpu: number, ep: number): number =>
  ep <= 1 || meanCopiesPerGpu <= 0 ? 1 : 1 + Math.sqrt((2 * Math.log(ep) * (1 - 1 / ep)) / meanCopiesPerGpu)

/** Replicas per logical expert after adding `redundant` replicas one at a time (EPLB replicate_experts). */
export const replicateExperts = (loads: ReadonlyArray<number>, redundant: number): Array<number> => {
  const count = loads.map(() => 1)
  for (let r = 0; r < redundant; r++) {
    let best = 0
    for (let e = 1; e < loads.length; e++) if (loads[e] / count[e] > loads[best] / count[best]) best = e
    count[best] += 1
  }
  return count
}

/** Pack of each item after EPLB balanced_packing of `weights` into `packs` packs of equal item count. */
const packOf = (weights: ReadonlyArray<number>, packs: number): Array<number> => {
  const perPack = weights.length / packs
  const order = weights.map((w, i) => ({ w, i })).sort((a, b) => b.w - a.w || a.i - b.i)
  const load = new Array<number>(packs).fill(0)
  const items = new Array<number>(packs).fill(0)
  const pack = new Array<number>(weights.length).fill(0)
  for (const { w, i } of order) {
    let pick = -1
    for (let p = 0; p < packs; p++) if (items[p] < perPack && (pick < 0 || load[p] < load[pick])) pick = p
    load[pick] += w
    items[pick] += 1
    pack[i] = pick
  }
  return pack
}

/** Load per pack after EPLB balanced_packing of `weights` into `packs` packs of equal item count. */
export const balancedPacking = (weights: ReadonlyArray<number>, packs: number): Array<number> => {
  const load = new Array<number>(packs).fill(0)
  packOf(weights, packs).forEach((p, i) => {
    load[p] += weights[i]
  })
  return load
}

/**
 * EPLB's global placement of `loads` plus `redundant` replicas over `ep` GPUs: per GPU, the share
 * of each logical expert's tokens it serves (a replica serves 1 / replicas of them).
 */
const eplbPlacement = (loads: ReadonlyArray<number>, redundant: number, ep: number): Array<Map<number, number>> => {
  const count = replicateExperts(loads, redundant)
  const expertOf: Array<number> = []
  const replicas: Array<number> = []
  loads.forEach((l, e) => {
    for (let r = 0; r < count[e]; r++) {
      expertOf.push(e)
      replicas.push(l / count[e])
    }
  })
  const gpus = Array.from({ length: ep }, () => new Map<number, number>())
  packOf(replicas, ep).forEach((g, i) => {
    const e = expertOf[i]
    gpus[g].set(e, (gpus[g].get(e) ?? 0) + 1 / count[e])
  })
  return gpus
}

/** Sum of the busiest GPU's load and sum of the mean GPU load over `steps` (each one layer's loads) on one placement. */
const judged = (placement: ReadonlyArray<ReadonlyMap<number, number>>, steps: ReadonlyArray<ReadonlyArray<number>>) => {
  let max = 0
  let mean = 0
  for (const loads of steps) {
    let busiest = 0
    let total = 0
    for (const gpu of placement) {
      let l = 0
      for (const [e, share] of gpu) l += share * loads[e]
      busiest = Math.max(busiest, l)
      total += l
    }
    max += busiest
    mean += total / placement.length
  }
  return { max, mean }
}

/** max/mean GPU load of EPLB's global placement of `loads` plus `redundant` replicas over `ep` GPUs. */
export const eplbImbalance = (loads: ReadonlyArray<number>, redundant: number, ep: number): number => measuredImbalance([[loads]], redundant, ep)

/** Measured per-step expert loads: steps x layers x logical experts (tokens routed to each). */
export type ExpertLoadSteps = ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>

/**
 * The time-weighted max/mean GPU load of recorded steps (header, `measured`): each layer placed
 * by EPLB on its total over the steps, every step judged on that placement.
 */
export const measuredImbalance = (steps: ExpertLoadSteps, redundant: number, ep: number): number => {
  if (ep <= 1 || steps.length === 0) return 1
  let max = 0
  let mean = 0
  for (let layer = 0; layer < steps[0].length; layer++) {
    const perStep = steps.map((s) => s[layer])
    const totals = perStep[0].map((_, e) => perStep.reduce((a, s) => a + s[e], 0))
    if (totals.every((t) => t <= 0)) continue
    const j = judged(eplbPlacement(totals, redundant, ep), perStep)
    max += j.max
    mean += j.mean
  }
  return mean > 0 ? max / mean : 1
}

/** A measured load file (`--expert-load FILE`): where it came from and its steps. */
export interface MeasuredExpertLoad {
  readonly measured: { readonly file: string; readonly steps: ExpertLoadSteps }
}

/** Where an EP step's imbalance comes from: the scenario's or a flag's value, or a measured load file. */
export type ImbalanceSource = LoadImbalance | MeasuredExpertLoad

/** The factor for one EP step with `meanCopiesPerGpu` routed copies per GPU. */
export const imbalanceFactor = (spec: ImbalanceSource, meanCopiesPerGpu: number, ep: number, redundant: number): number => {
  if (typeof spec === "number") return spec
  if (spec === "sampling") return samplingImbalance(meanCopiesPerGpu, ep)
  if ("measured" in spec) return measuredImbalance(spec.measured.steps, redundant, ep)
  return eplbImbalance(spec.expert_loads, redundant, ep)
}

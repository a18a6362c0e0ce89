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

/** Load per pack after EPLB balanced_packing of `weights` into `packs` packs of equal item count. */
export const balancedPacking = (weights: ReadonlyArray<number>, packs: number): Array<number> => {
  const perPack = weights.length / packs
  const order = weights.map((w, i) => ({ w, i })).sort((a, b) => b.w - a.w || a.i - b.i)
  const load = new Array<number>(packs).fill(0)
  const items = new Array<number>(packs).fill(0)
  for (const { w } of order) {
    let pick = -1
    for (let p = 0; p < packs; p++) if (items[p] < perPack && (pick < 0 || load[p] < load[pick])) pick = p
    load[pick] += w
    items[pick] += 1
  }
  return load
}

/** max/mean GPU load of EPLB's global placement of `loads` plus `redundant` replicas over `ep` GPUs. */
export const eplbImbalance = (loads: ReadonlyArray<number>, redundant: number, ep: number): number => {
  const total = loads.reduce((a, b) => a + b, 0)
  if (total <= 0 || ep <= 1) return 1
  const count = replicateExperts(loads, redundant)
  const replicas: Array<number> = []
  loads.forEach((l, e) => {
    for (let r = 0; r < count[e]; r++) replicas.push(l / count[e])
  })
  const gpu = balancedPacking(replicas, ep)
  return gpu.reduce((a, b) => Math.max(a, b), -Infinity) / (total / ep)
}

/** The factor for one EP step with `meanCopiesPerGpu` routed copies per GPU. */
export const imbalanceFactor = (spec: LoadImbalance, meanCopiesPerGpu: number, ep: number, redundant: number): number => {
  if (typeof spec === "number") return spec
  if (spec === "sampling") return samplingImbalance(meanCopiesPerGpu, ep)
  return eplbImbalance(spec.expert_loads, redundant, ep)
}

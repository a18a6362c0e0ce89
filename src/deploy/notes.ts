/**
 * What a deployment's figures take for granted that would flatter it unsaid: a default or an
 * unmodelled field that makes the answer better than the hardware or the model allows. Each is a
 * sentence the result carries (`notes` in JSON, `note:` lines on the screen), so a user comparing
 * answers sees it beside the numbers. Pure.
 *
 *  - no `nic_gbps` in the hardware file while traffic leaves the node: it is timed at the
 *    scale-up (NVLink) rate (src/timing/roofline.ts timingHardware), several times the NIC's;
 *  - expert parallelism of 1 on a MoE model: every expert on every GPU, no all-to-all, so the
 *    communication columns are 0 (`--ep N` or a `deployment` block spreads the experts);
 *  - `topk_group` < `n_group` (DeepSeek's group-limited routing: a token's experts come from at
 *    most topk_group groups) while the EP group spans more nodes than that: not modelled, the all-to-all counts
 *    remote nodes as if routing were unrestricted (src/deploy/alltoall.ts), which overstates
 *    NIC traffic when groups align with nodes.
 */
import { moeConfigs, type Model } from "../kernel/model.ts"
import type { HardwareSpec } from "../schema/hardware.ts"

const noNic = (hw: HardwareSpec, where: string): Array<string> =>
  hw.nic_gbps !== undefined
    ? []
    : [
        `${hw.name} has no nic_gbps, so ${where} is timed at the scale-up rate (interconnect_gbps ${hw.interconnect_gbps} GB/s), not a NIC's: add the NIC's GB/s per GPU to its hardware file`
      ]

/** Group-limited routing matters only when the experts span more nodes than a token may reach (topk_group). */
const groupLimited = (model: Model, nodes: number): Array<string> => {
  const m = moeConfigs(model).find((c) => c.n_group !== undefined && c.topk_group !== undefined && c.topk_group < c.n_group)
  return m !== undefined && nodes > m.topk_group!
    ? [
        `topk_group ${m.topk_group} of n_group ${m.n_group} (group-limited routing) is not modelled: the nodes a token reaches are counted as if its experts were unrestricted, more NIC traffic than group-aligned placement sends`
      ]
    : []
}

/**
 * Notes of an expert-parallel layout: `ep` GPUs of `gpusPerNode` per node. `epOne`: say that EP 1
 * means no all-to-all (the large-EP model, whose point is the all-to-all; the core roll-up's EP 1
 * is a plain TP/DP layout).
 */
export const expertParallelNotes = (model: Model, hw: HardwareSpec, ep: number, gpusPerNode: number, epOne = true): Array<string> => {
  if (moeConfigs(model).length === 0) return []
  const spansNodes = ep > gpusPerNode
  return [
    ...(ep === 1 && epOne
      ? [
          "expert parallelism 1: every expert on every GPU, no all-to-all (the communication columns are 0); spread the experts with --ep N or a deployment block"
        ]
      : []),
    ...(spansNodes ? noNic(hw, `the all-to-all's traffic between the EP group's ${Math.ceil(ep / gpusPerNode)} nodes`) : []),
    ...groupLimited(model, Math.ceil(ep / gpusPerNode))
  ]
}

/** Notes of an attention-FFN disaggregated layout: its transfers' links, its FFN GPUs. */
export const afdNotes = (model: Model, hw: HardwareSpec, links: ReadonlyArray<"nic" | "interconnect">, ffnGpus: number, gpusPerNode: number): Array<string> => [
  ...(links.includes("nic") ? noNic(hw, "the attention-FFN transfers' NIC traffic") : []),
  ...groupLimited(model, Math.ceil(ffnGpus / gpusPerNode))
]

/** `{ notes }` for a result when there is something to say, else nothing (results without notes keep their JSON). */
export const withNotes = (notes: ReadonlyArray<string>): { readonly notes?: ReadonlyArray<string> } => (notes.length === 0 ? {} : { notes })

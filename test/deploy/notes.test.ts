/**
 * The notes a result carries about what flatters it (src/deploy/notes.ts): a missing NIC figure
 * where traffic leaves the node, EP 1 on the large-EP model, group-limited routing across nodes.
 */
import { describe, expect, it } from "vitest"
import { afdNotes, expertParallelNotes, withNotes } from "../../src/deploy/notes.ts"
import { DEEPSEEK, H800 } from "./fixtures.ts"

const noNicHw = (() => {
  const { nic_gbps: _nic, ...hw } = H800
  return hw
})()

describe("deployment notes", () => {
  it("name a missing nic_gbps only when the EP group leaves the node", () => {
    expect(expertParallelNotes(DEEPSEEK, noNicHw, 8, 8).some((n) => n.includes("no nic_gbps"))).toBe(false)
    const spanning = expertParallelNotes(DEEPSEEK, noNicHw, 32, 8)
    expect(spanning.find((n) => n.includes("no nic_gbps"))).toBe(
      `${H800.name} has no nic_gbps, so the all-to-all's traffic between the EP group's 4 nodes is timed at the scale-up rate (interconnect_gbps ${H800.interconnect_gbps} GB/s), not a NIC's: add the NIC's GB/s per GPU to its hardware file`
    )
    expect(expertParallelNotes(DEEPSEEK, H800, 32, 8).some((n) => n.includes("nic_gbps"))).toBe(false)
  })

  it("say EP 1 has no all-to-all on the large-EP model, not on the core roll-up", () => {
    expect(expertParallelNotes(DEEPSEEK, H800, 1, 8)[0]).toMatch(/^expert parallelism 1: every expert on every GPU, no all-to-all/)
    expect(expertParallelNotes(DEEPSEEK, H800, 1, 8, false)).toEqual([])
  })

  it("name DeepSeek's topk_group 4 of n_group 8 once the EP group spans more than 4 nodes", () => {
    expect(expertParallelNotes(DEEPSEEK, H800, 32, 8).some((n) => n.startsWith("topk_group"))).toBe(false)
    expect(expertParallelNotes(DEEPSEEK, H800, 40, 8).filter((n) => n.startsWith("topk_group 4 of n_group 8"))).toHaveLength(1)
  })

  it("AFD: a missing NIC figure when a transfer uses the NIC", () => {
    expect(afdNotes(DEEPSEEK, noNicHw, ["nic", "nic"], 8, 8).some((n) => n.includes("attention-FFN transfers' NIC traffic"))).toBe(true)
    expect(afdNotes(DEEPSEEK, noNicHw, ["interconnect", "interconnect"], 8, 8)).toEqual([])
  })

  it("add no field to a result with nothing to say", () => {
    expect(withNotes([])).toEqual({})
    expect(withNotes(["x"])).toEqual({ notes: ["x"] })
  })
})

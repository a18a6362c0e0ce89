/**
 * The scale-up domain in the layout rule (issue 27): on a GB200 NVL72 rack (gpus_per_node 4, a
 * compute tray; scale_up_gpus 72, the NVLink switch domain) an EP group of up to 72 GPUs talks over
 * NVLink, beyond it over the NIC; on an 8-GPU H100 server EP16 already leaves the node. EP groups
 * inside the domain tile whole trays.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"
import { describe, expect, it } from "vitest"
import { contextFor, resolveLayout, scaleUpGpus } from "../../src/kernel/layout.ts"
import { linkFor } from "../../src/layers/layout.ts"
import type { HardwareSpec } from "../../src/schema/hardware.ts"
import { DEEPSEEK } from "../deploy/fixtures.ts"
import { REPO } from "../helpers/cli.ts"

const hardware = (name: string) => parse(fs.readFileSync(path.join(REPO, "configs", "hardware", `${name}.yaml`), "utf8")) as HardwareSpec
const base = { precision: DEEPSEEK.precision }

const linkOfEp = (hw: HardwareSpec, ep: number) => {
  const r = resolveLayout(DEEPSEEK, hw, base, { ep })
  if (!r.ok) throw new Error(r.problem.message)
  return { link: linkFor(ep, contextFor(DEEPSEEK, r.value.layout, "decode", 1, 1)), layout: r.value.layout }
}

describe("the scale-up domain", () => {
  it("GB200 NVL72: 72 GPUs on NVLink, trays of 4", () => {
    const gb200 = hardware("GB200-NVL72")
    expect([gb200.gpus_per_node, gb200.scale_up_gpus, scaleUpGpus(gb200)]).toEqual([4, 72, 72])
    expect(linkOfEp(gb200, 64).link).toBe("interconnect")
    expect(linkOfEp(gb200, 72).layout.nodes).toBe(1)
    expect(linkOfEp(gb200, 144).link).toBe("nic")
    // An EP group smaller than a tray divides it: 2 does, 3 does not.
    expect(resolveLayout(DEEPSEEK, gb200, base, { ep: 2 }).ok).toBe(true)
    expect(resolveLayout(DEEPSEEK, gb200, base, { ep: 3 }).ok).toBe(false)
  })

  it("an 8-GPU server without scale_up_gpus: its node is the domain", () => {
    const h100 = hardware("H100-SXM")
    expect(scaleUpGpus(h100)).toBe(8)
    expect(linkOfEp(h100, 8).link).toBe("interconnect")
    expect(linkOfEp(h100, 16).link).toBe("nic")
  })
})

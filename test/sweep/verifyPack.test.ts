/**
 * Sweep point packs under `cache verify` (src/sweep/verifyPack.ts): a pack renamed to the
 * SHA-256 of its edited content looks intact, so its points are recomputed from the family
 * material its header carries. A forged point fails verify (exit 1), `--repair` removes the
 * pack, and the next sweep answers as `--no-cache` does; a header that is not its folder's
 * family is a problem; a pack of another code version is stale, not recomputed.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { sha256 } from "../../src/base/sha256.js"
import { listPackFiles } from "../../src/graph/maintenance.ts"
import { toolchainFingerprint } from "../../src/graph/toolchain.ts"
import { reexecutePack } from "../../src/sweep/verifyPack.ts"
import { makeProject, runCli } from "../helpers/cli.ts"
import { forgePack } from "../helpers/forge.ts"

const SWEEP = ["sweep", "configs/scenarios/llama_3_1_70b_h100.yaml", "--batch", "1..64:x2", "--phase", "decode", "--format", "json"]

/** A sweep's answer without its timing (elapsed_ms) and replay counts: what must not depend on the store. */
const answer = (stdout: string) => {
  const r = JSON.parse(stdout)
  return { frontier: r.frontier, best: r.best, neighbours: r.neighbours }
}

describe("sweep packs under cache verify", () => {
  it("a forged point fails verify (exit 1); --repair removes the pack and the next sweep answers as --no-cache", () => {
    const dir = makeProject()
    const cache = path.join(dir, "cache")
    const clean = runCli([...SWEEP, "--no-cache"], dir)
    expect(clean.status).toBe(0)
    expect(runCli(SWEEP, dir).status).toBe(0)
    const ok = runCli(["cache", "verify"], dir)
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/, 7 of 7 sweep points in 1 packs \(0 stale packs\), /)

    // Batch 64's TPOT made ten times better: that point now dominates the frontier.
    const pack = listPackFiles(cache)[0]!.file
    const line = fs
      .readFileSync(pack, "utf8")
      .split("\n")
      .find((l) => l.includes('\t{"batch":64}\t'))!
    const tpot = /"tpot_ms":([0-9.e-]+)/.exec(line)![1]!
    forgePack(cache, `"tpot_ms":${tpot}`, `"tpot_ms":${Number(tpot) / 10}`)
    expect(answer(runCli(SWEEP, dir).stdout)).not.toEqual(answer(clean.stdout))

    const bad = runCli(["cache", "verify"], dir)
    expect(bad.status).toBe(1)
    expect(bad.stdout).toMatch(/^MISMATCH sweep-point-pack sweep\/[0-9a-f]{64}\/[0-9a-f]{64} [0-9a-f]{16}: point \{"batch":64\}: recomputed result differs$/m)
    expect(runCli(["cache", "verify", "--repair"], dir).status).toBe(0)
    expect(listPackFiles(cache)).toEqual([])
    const after = runCli(SWEEP, dir)
    expect(answer(after.stdout)).toEqual(answer(clean.stdout))
    expect(runCli(["cache", "verify", "--sample", "3"], dir).stdout).toMatch(
      /^re-executed \(a random sample of at most 3\): .*, 3 of 7 sweep points in 1 packs \(0 stale packs\), /m
    )
  }, 120_000)

  it("a header that is not its folder's family is a problem; another code version's pack is stale", async () => {
    const dir = makeProject()
    const cache = path.join(dir, "cache")
    expect(runCli(SWEEP, dir).status).toBe(0)
    const pack = listPackFiles(cache)[0]!.file
    const family = path.basename(path.dirname(pack))
    const text = fs.readFileSync(pack, "utf8")
    const check = (t: string) => {
      const file = path.join(path.dirname(pack), `${sha256(t)}.jsonl`)
      fs.writeFileSync(file, t)
      return Effect.runPromise(reexecutePack(file, family, toolchainFingerprint(), undefined))
    }
    expect(await check(text)).toEqual({ points: 7, recomputed: 7, problems: [] })
    // The base edited in the header (H100 bandwidth doubled): no longer this family's material.
    const edited = text.replace('"memory_bandwidth_gbps":3350', '"memory_bandwidth_gbps":6700')
    expect(edited).not.toBe(text)
    expect((await check(edited)).problems).toEqual(["its header is not the material of its family (the folder it is in)"])
    // Under another toolchain, nothing is recomputed (no current sweep reads the pack).
    const other = await Effect.runPromise(reexecutePack(pack, family, { ...toolchainFingerprint(), node: "0.0.0" }, undefined))
    expect(other).toEqual({ stale: "other code or toolchain versions", points: 0, recomputed: 0, problems: [] })
  }, 60_000)
})

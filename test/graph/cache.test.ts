/**
 * The build graph through `llmsim run`'s entry point (in process, test/helpers/inProcess.ts) and
 * the real CLI: replay, narrow invalidation, early cutoff, corrupt entries, concurrent processes,
 * verify. Real processes are kept where the process is the point (two sharing one store) and for
 * one smoke test of each cache subcommand's exit status and message.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { listEntryFiles } from "../../src/graph/maintenance.ts"
import { BIN, edit, makeProject, NODE, runCli } from "../helpers/cli.ts"
import { entryText, parseEntryText } from "../../src/graph/store.ts"
import { cacheCommand, cacheInProcess, commandErrors, runInProcess, runOptions } from "../helpers/inProcess.ts"

const SCENARIO = "configs/scenarios/deepseek_v3_h800.yaml"
const MOE = "configs/models/deepseek-v3/moe_layer_config.yaml"

interface Node {
  id: string
  kind: string
  name: string
  layer_type?: string
  category?: string
  key: string
  status: string
}
const computed = (trace: { nodes: Array<Node> }, kind?: string) => trace.nodes.filter((n) => n.status === "computed" && (kind === undefined || n.kind === kind))

describe("build graph through llmsim run", () => {
  let dir: string
  /** `llmsim run SCENARIO --format json --trace FILE [--batch B] [--seq S]`, in process. */
  const run = async (runtime: { batch_size?: number; seq_len?: number } = {}) => {
    const r = await runInProcess(runOptions(dir, SCENARIO, { runtime }))
    return { stdout: r.text("json"), trace: r.trace as { nodes: Array<Node> }, explain: r.explain }
  }

  beforeAll(() => {
    dir = makeProject()
  })

  it("replays everything on a second identical run and prints byte-identical output", async () => {
    const first = await run()
    expect(computed(first.trace, "op").length).toBeGreaterThan(0)
    const second = await run()
    expect(computed(second.trace, "op")).toEqual([])
    expect(computed(second.trace, "layer")).toEqual([])
    expect(computed(second.trace, "scenario")).toEqual([])
    expect(second.trace.nodes.filter((n) => n.kind === "scenario").map((n) => n.status)).toEqual(["derived", "derived"])
    expect(second.stdout).toBe(first.stdout)
    // Every trace node carries the documented fields.
    for (const node of second.trace.nodes) {
      expect(["file", "op", "layer", "scenario"]).toContain(node.kind)
      expect(node.key).toMatch(/^[0-9a-f]{64}$/)
      if (node.kind === "op") {
        expect(node.layer_type).toBeDefined()
        expect(node.category).toBeDefined()
      }
    }
  })

  it("recomputes only MoE work when num_experts_per_tok changes", async () => {
    await run()
    edit(path.join(dir, MOE), (t) => t.replace(/num_experts_per_tok:\s*8/, "num_experts_per_tok: 6"))
    const after = await run()
    const ops = computed(after.trace, "op")
    expect(ops.length).toBeGreaterThan(0)
    for (const op of ops) {
      expect(op.layer_type).toBe("moe_layer")
      expect(op.category).not.toMatch(/^attention_/)
      expect(["moe_router", "moe_experts", "moe_shared", "comm"]).toContain(op.category)
    }
    // Routed experts must be among them; dense layers are untouched.
    expect(ops.some((o) => o.category === "moe_experts")).toBe(true)
    const layers = computed(after.trace, "layer")
    expect(layers.length).toBeGreaterThan(0)
    for (const l of layers) expect(l.layer_type).toBe("moe_layer")
    // The roll-up is never stored: derived from the layer results on every run.
    expect(after.trace.nodes.filter((n) => n.kind === "scenario").map((n) => n.status)).toEqual(["derived", "derived"])
    edit(path.join(dir, MOE), (t) => t.replace(/num_experts_per_tok: 6/, "num_experts_per_tok: 8"))
  })

  it("recomputes no op or layer after a comment or whitespace edit in any YAML", async () => {
    await run()
    const files = [SCENARIO, MOE, "configs/models/deepseek-v3/ffn_layer_config.yaml", "configs/hardware/H800-SXM.yaml"]
    for (const f of files) edit(path.join(dir, f), (t) => `# a new comment\n${t.replace(/\n/g, "\n\n")}   \n`)
    const after = await run()
    expect(computed(after.trace, "op")).toEqual([])
    expect(computed(after.trace, "layer")).toEqual([])
    // The files themselves were re-decoded: their text changed.
    expect(computed(after.trace, "file").length).toBe(files.length)
  })

  it("replays everything when --batch changes and comes back", async () => {
    const base = await run({ batch_size: 4 })
    const other = await run({ batch_size: 5 })
    expect(computed(other.trace, "op").length).toBeGreaterThan(0)
    const back = await run({ batch_size: 4 })
    expect(back.trace.nodes.filter((x) => x.status === "computed")).toEqual([])
    expect(back.stdout).toBe(base.stdout)
  })

  it("survives a truncated or garbled cache file with the same result", async () => {
    dir = makeProject()
    const ref = await run()
    const files = listEntryFiles(path.join(dir, "cache"))
    expect(files.length).toBeGreaterThan(10)
    // Deterministic "random" picks: a spread of entries, damaged in different ways.
    const picks = [0, Math.floor(files.length / 3), Math.floor((2 * files.length) / 3), files.length - 1]
    picks.forEach((i, j) => {
      const f = files[i].file
      const text = fs.readFileSync(f, "utf8")
      fs.writeFileSync(f, j % 2 === 0 ? text.slice(0, Math.floor(text.length / 2)) : text.replace(/[0-9]/g, "#"))
    })
    const after = await run()
    expect(after.stdout).toBe(ref.stdout)
    expect(computed(after.trace).length).toBeGreaterThan(0)
    const again = await run()
    expect(computed(again.trace, "op")).toEqual([])
    // A torn file left in the store (not read by any run) is removed by verify, not a failure.
    const stray = listEntryFiles(path.join(dir, "cache"))[0].file
    fs.writeFileSync(stray, "{ torn")
    const v = await (await cacheInProcess(dir)).verify()
    // `llmsim cache verify`: exit 0, "1 corrupt (removed), 0 problems"
    expect(v.problems).toHaveLength(0)
    expect(v.corrupt).toBe(1)
    expect(fs.existsSync(stray)).toBe(false)
  })

  it("explains why a node was computed", async () => {
    await run({ seq_len: 2048 })
    const r = await run({ seq_len: 3000 })
    expect(r.explain).toMatch(/^\d+ computed, \d+ replayed/m)
    expect(r.explain).toMatch(/seq_len: 2048 -> 3000|seq_len.*2048.*3000/)
  })

  it("verifies the store and catches a poisoned entry", async () => {
    await run()
    const cache = await cacheInProcess(dir)
    const ok = await cache.verify()
    // exit 0 and "0 problems"
    expect(ok.problems).toHaveLength(0)
    // Poison an op entry: change its output and fix up the digest so reads accept it.
    const files = listEntryFiles(path.join(dir, "cache"))
    const victim = files.map((f) => ({ f, e: parseEntryText(fs.readFileSync(f.file, "utf8")) as any })).find((x) => x.e.kind === "op")!
    victim.e.output.flops = victim.e.output.flops + 1
    victim.e.output_digest = digest(victim.e.output)
    fs.writeFileSync(victim.f.file, entryText(victim.e))
    // `llmsim cache verify` exits 1 on it (through the real CLI, with --repair: cache-trust.test.ts).
    const bad = await cache.verify()
    expect(bad.problems.map((p) => p.key)).toEqual([victim.e.key])
    expect(fs.existsSync(victim.f.file)).toBe(true)
    fs.rmSync(victim.f.file)
  })

  it("lets two processes share one cache folder", async () => {
    const shared = makeProject()
    const once = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(NODE, [BIN, "run", SCENARIO, "--format", "json"], { cwd: shared })
        let out = ""
        p.stdout.on("data", (d) => (out += d))
        p.on("close", (code) => resolve({ code, out }))
      })
    const [a, b] = await Promise.all([once(), once()])
    expect(a.code).toBe(0)
    expect(b.code).toBe(0)
    expect(a.out).toBe(b.out)
    // Then, in process: the same output from the shared store, and `cache verify` finds no problem (exit 0).
    const third = await runInProcess(runOptions(shared, SCENARIO))
    expect(third.text("json")).toBe(a.out)
    expect((await (await cacheInProcess(shared)).verify()).problems).toEqual([])
  })

  it("reports stats and trims with gc; --no-cache writes nothing", async () => {
    const fresh = makeProject()
    await runInProcess(runOptions(fresh, SCENARIO, { noCache: true }))
    expect(fs.existsSync(path.join(fresh, "cache"))).toBe(false)
    await run()
    const cache = await cacheInProcess(dir)
    expect(cache.stats().entries).toBeGreaterThan(0)
    cache.gc({ maxSizeBytes: 0 })
    expect(cache.stats().entries).toBe(0)
  })

  it("cache subcommands through the CLI: exit status and messages (smoke)", async () => {
    const fresh = makeProject()
    const r = runCli(["run", SCENARIO, "--no-cache"], fresh)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(fs.existsSync(path.join(fresh, "cache"))).toBe(false)
    // `cache stats --json` after the gc above (in process: the command prints storeStats as JSON)
    expect((await cacheInProcess(dir)).stats().entries).toBe(0)
    // `llmsim cache gc --max-size lots` exits 1 (the command in process: it fails before reading the store)
    expect(await commandErrors(cacheCommand, ["gc", "--max-size", "lots"])).toEqual([`--max-size: expected a size like 500MB or 2GiB, got "lots"`])
  })
})

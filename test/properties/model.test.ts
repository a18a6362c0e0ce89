/**
 * Property-based suite (fast-check) over generated projects (test/helpers/arbitraries.ts), run in
 * process. For random valid configs: every number in the result is finite and >= 0 and the totals
 * are positive; FLOPs and bytes never decrease when batch or sequence length grows; the output is
 * byte-identical with the store on (cold and warm) and off, and across key order and formatting
 * of the YAML files. For random configs with one broken field: loading fails with a typed
 * ConfigError pointing at the broken file, field and line, never with a defect.
 *
 * Seeds are fixed so a failure replays; numRuns are modest so the file stays well under 20 s.
 */
import { fc, test } from "@fast-check/vitest"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import { LineCounter, parseDocument, stringify, isMap, isScalar } from "yaml"
import { ConfigError } from "../../src/config/errors.ts"
import { runSimulation } from "../../src/app/session.ts"
import type { RunResult, SimulationResult } from "../../src/kernel/records.ts"
import { assertDecodes, brokenArb, projectArb, reorderKeys, SCENARIO, seededPerm, writeProject, type GenProject } from "../helpers/arbitraries.ts"
import { runEffect, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const SEED = 20261129

/** A fresh folder holding the project's files. */
const projectDir = (p: GenProject, render?: (o: Record<string, unknown>) => string) => {
  const dir = tempDir("llmsim-prop-")
  writeProject(dir, p, render)
  return dir
}

const run = async (dir: string, over: Parameters<typeof runOptions>[2] = {}) =>
  (await runInProcess(runOptions(dir, SCENARIO, { noCache: true, ...over }))).out.result

/** Every number reachable in `v`, with its dotted path. */
const numbers = (v: unknown, at = ""): Array<[string, number]> => {
  if (typeof v === "number") return [[at, v]]
  if (Array.isArray(v)) return v.flatMap((x, i) => numbers(x, `${at}.${i}`))
  if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => numbers(x, at === "" ? k : `${at}.${k}`))
  return []
}

const phasesOf = (r: RunResult): Array<SimulationResult> => [r.phases.prefill, r.phases.decode].filter((x): x is SimulationResult => x !== undefined)

describe("random valid configs", () => {
  test.prop([projectArb], { numRuns: 20, seed: SEED })("every number is finite and >= 0, totals are positive, no op is faster than its roofline", async (p) => {
    assertDecodes(p)
    const r = await run(projectDir(p))
    for (const [where, n] of numbers(r)) {
      expect(Number.isFinite(n), `${where} = ${n}`).toBe(true)
      expect(n, where).toBeGreaterThanOrEqual(0)
    }
    const phases = phasesOf(r)
    expect(phases.length).toBeGreaterThan(0)
    for (const ph of phases) {
      expect(ph.total_latency_ms).toBeGreaterThan(0)
      expect(ph.total_flops).toBeGreaterThan(0)
      expect(ph.total_bytes).toBeGreaterThan(0)
      expect(ph.peak_memory_bytes).toBeGreaterThan(0)
      for (const layer of ph.layers) {
        // A collective over one rank moves no bytes (the generated comm layer spans tp ranks): it
        // may cost only the link latency, which can be 0.
        if (layer.layer_type === "comm_layer" && p.tp === 1) expect(layer.comm_bytes, layer.layer_name).toBe(0)
        else expect(layer.dominant_latency_ms, layer.layer_name).toBeGreaterThan(0)
        // A layer's time is at least its slowest op's compute or memory time.
        for (const op of layer.breakdown) {
          expect(op.dominant_latency_ms, `${layer.layer_name}.${op.op}`).toBeGreaterThanOrEqual(Math.max(op.compute_time_ms, op.memory_time_ms) * (1 - 1e-12))
        }
      }
      // The phase total is at least the sum of its layers' compute-or-memory floors (no time summed as 0).
      const floor = ph.layers.reduce((s, l) => s + l.breakdown.reduce((t, op) => t + Math.max(op.compute_time_ms, op.memory_time_ms), 0), 0)
      expect(ph.total_latency_ms).toBeGreaterThanOrEqual(floor * (1 - 1e-9))
    }
    if (r.phases.decode !== undefined) {
      expect(r.serving.tpot_ms).toBeGreaterThan(0)
      expect(r.serving.throughput_tokens_per_s).toBeGreaterThan(0)
    }
    if (r.phases.prefill !== undefined) expect(r.serving.ttft_ms).toBeGreaterThan(0)
  })

  // Growth spread over scales (a few tokens to several thousand) so steps cross any threshold.
  const growth = (max: number) => fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max }))
  test.prop([projectArb, growth(64), growth(4096)], { numRuns: 30, seed: SEED })(
    "FLOPs and bytes are non-decreasing in batch and in seq, per phase, layer and op",
    async (p, dBatch, dSeq) => {
      const dir = projectDir(p)
      const base = await run(dir, { runtime: { batch_size: p.batch, seq_len: p.seq, phase: "both" } })
      const moreBatch = await run(dir, { runtime: { batch_size: p.batch + dBatch, seq_len: p.seq, phase: "both" } })
      const moreSeq = await run(dir, { runtime: { batch_size: p.batch, seq_len: p.seq + dSeq, phase: "both" } })
      for (const bigger of [moreBatch, moreSeq]) {
        for (const phase of ["prefill", "decode"] as const) {
          const a = base.phases[phase]!
          const b = bigger.phases[phase]!
          expect(b.total_flops, `${phase} total_flops`).toBeGreaterThanOrEqual(a.total_flops)
          expect(b.total_bytes, `${phase} total_bytes`).toBeGreaterThanOrEqual(a.total_bytes)
          expect(b.total_comm_bytes, `${phase} total_comm_bytes`).toBeGreaterThanOrEqual(a.total_comm_bytes)
          expect(b.layers.length).toBe(a.layers.length)
          a.layers.forEach((la, i) => {
            const lb = b.layers[i]
            expect(lb.flops, `${phase} ${la.layer_name} flops`).toBeGreaterThanOrEqual(la.flops)
            expect(lb.bytes_read, `${phase} ${la.layer_name} bytes_read`).toBeGreaterThanOrEqual(la.bytes_read)
            expect(lb.bytes_written, `${phase} ${la.layer_name} bytes_written`).toBeGreaterThanOrEqual(la.bytes_written)
            expect(lb.breakdown.map((o) => o.op)).toEqual(la.breakdown.map((o) => o.op))
            la.breakdown.forEach((oa, j) => {
              const ob = lb.breakdown[j]
              const at = `${phase} ${la.layer_name}.${oa.op}`
              expect(ob.flops, `${at} flops`).toBeGreaterThanOrEqual(oa.flops)
              expect(ob.bytes_read + ob.bytes_written, `${at} bytes`).toBeGreaterThanOrEqual(oa.bytes_read + oa.bytes_written)
              expect(ob.comm_bytes, `${at} comm_bytes`).toBeGreaterThanOrEqual(oa.comm_bytes)
            })
          })
        }
      }
    }
  )

  /** Ways to write the same YAML value: block with 2 or 4 spaces, flow style, JSON, with comments. */
  const renderers: Array<(o: Record<string, unknown>) => string> = [
    (o) => stringify(o, { indent: 4 }),
    (o) => stringify(o, { collectionStyle: "flow" }),
    (o) => JSON.stringify(o, null, 3) + "\n",
    (o) => `# reformatted\n\n${stringify(o, { indent: 2, indentSeq: false }).replace(/\n/g, "   # note\n")}`
  ]

  test.prop([projectArb, fc.nat(), fc.nat({ max: renderers.length - 1 })], { numRuns: 12, seed: SEED })(
    "the output is identical with the store off, cold and warm, and across key order and formatting",
    async (p, permSeed, style) => {
      const off = (await runInProcess(runOptions(projectDir(p), SCENARIO, { noCache: true }))).text("json")
      const cacheDir = tempDir("llmsim-prop-store-")
      const dir = projectDir(p)
      const cold = (await runInProcess(runOptions(dir, SCENARIO, { cacheDir }))).text("json")
      const warm = await runInProcess(runOptions(dir, SCENARIO, { cacheDir }))
      expect(cold).toBe(off)
      expect(warm.text("json")).toBe(off)
      // The warm run computed nothing: every node came from the store or memory.
      expect(warm.trace.nodes.filter((n: any) => n.status === "computed" || n.source === "computed")).toEqual([])
      const perm = seededPerm(permSeed)
      const shuffled = projectDir(p, (o) => renderers[style](reorderKeys(o, perm) as Record<string, unknown>))
      // Same store: the reordered files reach the same downstream entries.
      expect((await runInProcess(runOptions(shuffled, SCENARIO, { cacheDir }))).text("json")).toBe(off)
      expect((await runInProcess(runOptions(shuffled, SCENARIO, { noCache: true }))).text("json")).toBe(off)
    }
  )
})

/** Line (1-based) of the key `p` in `text`, and the line range of its parent mapping. */
const keyLines = (text: string, p: ReadonlyArray<string>) => {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc })
  const parent = p.length === 1 ? doc.contents : doc.getIn(p.slice(0, -1), true)
  if (!isMap(parent)) throw new Error(`no mapping at ${p.slice(0, -1).join(".")}`)
  const lineOf = (offset: number) => lc.linePos(offset).line
  const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === p[p.length - 1])
  const range = parent.range!
  return {
    key: pair === undefined ? undefined : lineOf((pair.key as any).range[0]),
    value: pair === undefined ? undefined : lineOf((pair.value as any).range[0]),
    parent: [lineOf(range[0]), lineOf(Math.max(range[0], range[1] - 1))] as const
  }
}

describe("random configs with one broken field", () => {
  test.prop([brokenArb], { numRuns: 40, seed: SEED })("fail with a ConfigError at the broken file, field and line, never a defect", async (b) => {
    const dir = projectDir(b.project)
    const exit = await runEffect(Effect.exit(runSimulation(runOptions(dir, SCENARIO, { noCache: true }))))
    expect(Exit.isFailure(exit), `${b.kind} ${b.file} ${b.path} was accepted`).toBe(true)
    if (!Exit.isFailure(exit)) return
    const reasons = exit.cause.reasons
    expect(
      reasons.map((r) => r._tag),
      "a defect or interruption instead of a typed error"
    ).toEqual(["Fail"])
    const error = (reasons[0] as { error: unknown }).error
    expect(error).toBeInstanceOf(ConfigError)
    const issues = (error as ConfigError).issues
    expect(issues.length).toBeGreaterThanOrEqual(1)
    const issue = issues.find((i) => i.path === b.path)
    expect(issue, `no issue at ${b.path}: ${JSON.stringify(issues)}`).toBeDefined()
    expect(issue!.file).toBe(b.file)
    expect(issue!.line).toBeGreaterThanOrEqual(1)
    expect(issue!.col).toBeGreaterThanOrEqual(1)
    expect(issue!.message.length).toBeGreaterThan(0)
    // The line is the field's own (key or value) or, for a missing key, inside its parent mapping.
    const text = fs.readFileSync(path.join(dir, b.file), "utf8")
    const lines = keyLines(text, b.path.split("."))
    if (b.kind === "missing") {
      expect(issue!.line).toBeGreaterThanOrEqual(lines.parent[0] - 1)
      expect(issue!.line).toBeLessThanOrEqual(lines.parent[1])
    } else {
      expect([lines.key, lines.value]).toContain(issue!.line)
    }
  })
})

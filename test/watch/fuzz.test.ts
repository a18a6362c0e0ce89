/**
 * A fixed, seeded corpus of broken YAML saves replayed into `llmsim watch --reporter json` (the
 * real watch session in process, test/helpers/inProcess.ts): truncated files at random offsets,
 * random byte flips, deleted keys, wrong indentation, an empty file, and a half-written save
 * followed at once by the good one, across the hardware file, a layer template and the scenario.
 * Each break is followed by the good file again: a save to a file the last evaluation did not read
 * (a template while the scenario does not parse) triggers nothing by design (src/watch/affected.ts),
 * so every save in the corpus lands on a file the session watches.
 *
 * Held: every save (or burst of saves) produces at least one error or result event; the watcher
 * never dies and never reports a fatal event; every result event's numbers equal a fresh
 * in-process `llmsim run --no-cache` of the files as saved in that step (or, ahead of those, of
 * the step before: an answer already on its way when the saves landed; no stale number shown as
 * current); and a step's events end with one answering the final files: an error exactly when
 * the fresh run of the final files fails, else a result equal to it. The test waits for that
 * answer (a state), not for a quiet window after the last event.
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { runSimulation } from "../../src/app/session.ts"
import type { RunResult } from "../../src/kernel/records.ts"
import { seededRandom } from "../helpers/arbitraries.ts"
import { makeProject, startCli } from "../helpers/cli.ts"
import { runEffect, runOptions, watchInProcess } from "../helpers/inProcess.ts"
import { stopAll, WAIT_MS, WatchProcess, type WatchEvent } from "./watchProcess.ts"

const SCENARIO = "configs/scenarios/llama_3_1_70b_h100.yaml"
const FILES = ["configs/hardware/H100-SXM.yaml", "configs/models/llama-3.1-70b/ffn_layer_config.yaml", SCENARIO]

afterEach(async () => {
  await stopAll()
})

/** One step of the corpus: the saves written back to back to one file (usually one). */
interface Step {
  readonly kind: string
  readonly file: string
  readonly saves: ReadonlyArray<Buffer>
}

const keyLines = (text: string) =>
  text
    .split("\n")
    .map((l, i) => [l, i] as const)
    .filter(([l]) => /^\s*[a-z_]+:/.test(l))
    .map(([, i]) => i)

const corpus = (good: Record<string, string>, seed: number): Array<Step> => {
  const r = seededRandom(seed)
  const int = (n: number) => Math.floor(r() * n)
  const mutations: Array<[string, (t: string) => Buffer]> = [
    ["truncated", (t) => Buffer.from(t.slice(0, int(t.length)))],
    [
      "byte flips",
      (t) => {
        // In the YAML itself, not its comments (the shipped files are mostly comments): bytes of
        // key lines before any `#`, so a flip can break a key or change a value's number.
        const b = Buffer.from(t)
        const starts = t.split("\n").reduce((acc: Array<number>, l) => [...acc, acc[acc.length - 1] + Buffer.byteLength(l) + 1], [0])
        const lines = t.split("\n")
        for (let k = 1 + int(3); k > 0; k--) {
          const i = keyLines(t)[int(keyLines(t).length)]
          const code = lines[i].split("#")[0].trimEnd()
          b[starts[i] + int(code.length)] = r() < 0.8 ? 0x20 + int(0x5f) : int(256)
        }
        return b
      }
    ],
    [
      "deleted key",
      (t) => {
        const lines = t.split("\n")
        const keys = keyLines(t)
        lines.splice(keys[int(keys.length)], 1)
        return Buffer.from(lines.join("\n"))
      }
    ],
    [
      "wrong indentation",
      (t) => {
        const lines = t.split("\n")
        const keys = keyLines(t)
        const i = keys[int(keys.length)]
        lines[i] = /^\s/.test(lines[i]) ? lines[i].trimStart() : " ".repeat(1 + int(3)) + lines[i]
        return Buffer.from(lines.join("\n"))
      }
    ],
    ["empty", () => Buffer.alloc(0)]
  ]
  const steps: Array<Step> = []
  // Seven steps: every mutation kind (five), every file (three) and one half-written save.
  for (let i = 0; i < 7; i++) {
    const file = FILES[i % FILES.length]
    const text = good[file]
    if (i % 7 === 6) {
      // A half-written save, then the complete file at once (an editor's non-atomic write).
      steps.push({ kind: "half-written then good", file, saves: [Buffer.from(text.slice(0, Math.floor(text.length / 2))), Buffer.from(text)] })
    } else {
      // Each kind in turn (the offsets within it are random), so every kind is in the corpus.
      const [kind, mutate] = mutations[i % mutations.length]
      steps.push({ kind, file, saves: [mutate(text)] })
      // Then the good file again: the next break starts from a project that evaluates, so the
      // file it saves is read by the last evaluation and therefore watched.
      steps.push({ kind: `${kind}, fixed`, file, saves: [Buffer.from(text)] })
    }
  }
  return steps
}

type Fresh = { readonly result: RunResult } | { readonly error: { file: string; line: number; col: number; path: string; message: string } }

/** `llmsim run --no-cache` of `dir` as it is now: the result, or the first issue of its typed error. */
const freshRun = async (dir: string): Promise<Fresh> => {
  const exit = await runEffect(Effect.exit(runSimulation(runOptions(dir, SCENARIO, { noCache: true }))))
  if (Exit.isSuccess(exit)) return { result: exit.value.result }
  // A bad save must be a typed error, never a defect.
  expect(exit.cause.reasons.map((x) => x._tag)).toEqual(["Fail"])
  const e = (exit.cause.reasons[0] as { error: any }).error
  const first = e.issues?.[0] ?? { file: "", line: 1, col: 1, path: "", message: e.message }
  return { error: { file: first.file, line: first.line, col: first.col, path: first.path, message: first.message } }
}

const issueOf = (e: WatchEvent) => ({ file: e.file, line: e.line, col: e.col, path: e.path, message: e.message })

/** The figures a result event shows, as they would be shown for `r`. */
const shown = (r: RunResult) => ({
  serving: r.serving,
  phases: Object.fromEntries(
    Object.entries(r.phases).map(([k, p]) => [
      k,
      {
        total_latency_ms: p!.total_latency_ms,
        total_flops: p!.total_flops,
        total_bytes: p!.total_bytes,
        total_comm_bytes: p!.total_comm_bytes,
        peak_memory_bytes: p!.peak_memory_bytes,
        bottleneck_layer: p!.bottleneck_layer,
        layers: p!.layers.length
      }
    ])
  )
})

const shownBy = (e: WatchEvent) => ({
  serving: e.serving,
  phases: Object.fromEntries(
    Object.entries(e.phases as Record<string, any>).map(([k, p]) => [
      k,
      {
        total_latency_ms: p.total_latency_ms,
        total_flops: p.total_flops,
        total_bytes: p.total_bytes,
        total_comm_bytes: p.total_comm_bytes,
        peak_memory_bytes: p.peak_memory_bytes,
        bottleneck_layer: p.bottleneck_layer,
        layers: p.layers
      }
    ])
  )
})

/** Whether event `e` answers the files whose fresh run is `f`: the same error at the same place, or the same figures. */
const answers = (f: Fresh, e: WatchEvent): boolean => {
  if (e.type !== ("error" in f ? "error" : "result")) return false
  try {
    if ("error" in f) expect(issueOf(e)).toEqual(f.error)
    else expect(shownBy(e)).toEqual(shown(f.result))
    return true
  } catch {
    return false
  }
}

/**
 * A step's events: read until one answers the files as they are now (`final`). A state, not a
 * quiet window: a busy machine can space the answers to a burst of saves further apart than any
 * window. At least one event; fails when none answers within WAIT_MS.
 */
const answering = async (w: WatchProcess, final: Fresh): Promise<Array<WatchEvent>> => {
  const events: Array<WatchEvent> = []
  const deadline = Date.now() + WAIT_MS
  while (events.length === 0 || !answers(final, events[events.length - 1])) {
    events.push(await w.next(Math.max(1, deadline - Date.now())))
  }
  return events
}

describe("llmsim watch under a fuzz corpus of broken saves", () => {
  it("answers every save with an error or a fresh result, never dies, never shows a stale number", async () => {
    const dir = makeProject()
    // A copy of the project holding the same files, for the fresh runs.
    const mirror = makeProject()
    const good = Object.fromEntries(FILES.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]))
    const w = new WatchProcess([], dir, watchInProcess(runOptions(dir, SCENARIO, { noCache: true })) as unknown as ReturnType<typeof startCli>)
    const goodRun = await freshRun(mirror)
    const first = await w.expectNext("result")
    expect("result" in goodRun && shown(goodRun.result)).toEqual(shownBy(first))

    const current: Record<string, Buffer> = Object.fromEntries(FILES.map((f) => [f, Buffer.from(good[f])]))
    let answered = 0
    // What the files evaluated to before the current step (the first event answered them).
    let previous: Fresh = goodRun
    const steps = corpus(good, 20261129)
    for (const [i, step] of steps.entries()) {
      const label = `step ${i} (${step.kind}, ${step.file})`
      // A save identical to what is on disk is no save: skip it so every step changes a file.
      const saves = step.saves.filter((s, k) => !s.equals(k === 0 ? current[step.file] : step.saves[k - 1]))
      if (saves.length === 0) continue
      // What each save leaves on disk, run fresh: a result event may show only one of these.
      const expected: Array<Fresh> = []
      for (const s of saves) {
        fs.writeFileSync(path.join(mirror, step.file), s)
        expected.push(await freshRun(mirror))
      }
      for (const s of saves) fs.writeFileSync(path.join(dir, step.file), s)
      current[step.file] = saves[saves.length - 1]

      // FUZZ_LOG=1 lists the corpus and whether each save evaluates (to read a failure).
      if (process.env.FUZZ_LOG) console.log(label, expected.map((x) => ("result" in x ? "ok" : "err")).join(","))
      const final = expected[expected.length - 1]
      const events = await answering(w, final).catch((e) => {
        throw new Error(`${label}: ${e.message.slice(0, 300)}`)
      })
      answered++
      expect(w.alive, label).toBe(true)
      // Answers to the previous step's files may come first: an evaluation already under way
      // when these saves landed, or a late repeat of one. Every other event answers a save of this step.
      let own = 0
      while (own < events.length - 1 && answers(previous, events[own])) own++
      for (const e of events.slice(own)) {
        expect(["result", "error"], `${label}: ${JSON.stringify(e).slice(0, 500)}`).toContain(e.type)
        if (e.type === "error") {
          expect(e.line, label).toBeGreaterThanOrEqual(1)
          expect(e.col, label).toBeGreaterThanOrEqual(1)
          // The error a fresh run of one of this step's saves reports, at the same position.
          expect(
            expected.flatMap((x) => ("error" in x ? [x.error] : [])),
            label
          ).toContainEqual(issueOf(e))
        } else {
          const candidates = expected.flatMap((x) => ("result" in x ? [shown(x.result)] : []))
          expect(candidates, `${label}: a result event for files that do not evaluate`).not.toEqual([])
          expect(candidates, label).toContainEqual(shownBy(e))
        }
      }
      // The last event speaks for the files as they are now (what `answering` waited for).
      const last = events[events.length - 1]
      if ("error" in final) {
        expect(last.type, `${label}: after a bad save the last event must be an error`).toBe("error")
        expect(issueOf(last), label).toEqual(final.error)
      } else {
        expect(last.type, label).toBe("result")
        expect(shownBy(last), label).toEqual(shown(final.result))
      }
      previous = final
    }
    // Every step that changed a file was answered (a byte flip may leave a file as it was).
    expect(answered).toBeGreaterThanOrEqual(steps.length - 4)
    expect(w.alive).toBe(true)
    expect(w.stdout).not.toContain('"type":"fatal"')
  })
})

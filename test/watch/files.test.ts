/**
 * What is watched: editors' rename-replace saves, files a scenario starts or stops referencing,
 * a referenced file that does not exist yet, llmsim.config.ts, and never the result store. The
 * watch session runs in this process (test/helpers/inProcess.ts) with the JSON reporter's events;
 * test/watch/lifecycle.test.ts and acceptance.test.ts drive the real `llmsim watch` process.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { edit } from "../helpers/cli.ts"
import { runInProcess, runOptions } from "../helpers/inProcess.ts"
import { HARDWARE, MOE, SCENARIO, useProjects, watchSessionInProcess } from "./watchProcess.ts"

const project = useProjects()

const watch = watchSessionInProcess

/** Set moe_intermediate_size, a field only the routed and shared expert GEMMs read. */
const expertSize = (n: number) => (t: string) => t.replace(/moe_intermediate_size:\s*\d+/, `moe_intermediate_size: ${n}`)

describe("llmsim watch: files", () => {
  it("sees rename-replace saves (temp file renamed over, and a backup-then-write save)", async () => {
    const dir = project()
    const moe = path.join(dir, MOE)
    const w = watch(dir)
    await w.expectNext("result")

    // The way VS Code, JetBrains and `sed -i` save: write a temp file, rename it over the original.
    const tmp = path.join(path.dirname(moe), ".moe_layer_config.yaml.tmp")
    fs.writeFileSync(tmp, expertSize(1536)(fs.readFileSync(moe, "utf8")))
    fs.renameSync(tmp, moe)
    const renamed = await w.expectNext("result")
    expect(renamed.changed_files).toEqual([MOE])
    expect(renamed.layers_recomputed.length).toBe(58)

    // The way vim saves with `backupcopy=no`: move the original aside, write a new file.
    const text = expertSize(1024)(fs.readFileSync(moe, "utf8"))
    fs.renameSync(moe, `${moe}~`)
    fs.writeFileSync(moe, text)
    const vim = await w.expectNext("result")
    expect(vim.changed_files).toEqual([MOE])
    expect(vim.layers_recomputed.length).toBe(58)
    expect(vim.phases.decode.delta_ms).toBeLessThan(0)

    // The inode-following trap: a third save must still be seen after two replacements.
    edit(moe, expertSize(2048))
    const third = await w.expectNext("result")
    expect(third.changed_files).toEqual([MOE])
    expect(third.phases.decode.delta_ms).toBeGreaterThan(0)
  })

  it("watches a newly referenced file (in a new folder) and stops triggering on one no longer referenced", async () => {
    const dir = project()
    const scenario = path.join(dir, SCENARIO)
    const moe = path.join(dir, MOE)
    const copy = "configs/models/tuning/moe_variant.yaml"
    fs.mkdirSync(path.join(dir, path.dirname(copy)))
    fs.copyFileSync(moe, path.join(dir, copy))
    const w = watch(dir)
    await w.expectNext("result")

    edit(scenario, (t) => t.replace(MOE, copy))
    const switched = await w.expectNext("result")
    expect(switched.changed_files).toEqual([SCENARIO])
    // Same content under another path: decoded values are equal, so nothing recomputes.
    expect(switched.layers_recomputed).toEqual([])

    edit(path.join(dir, copy), expertSize(1536))
    const variant = await w.expectNext("result")
    expect(variant.changed_files).toEqual([copy])
    expect(variant.layers_recomputed.length).toBe(58)

    // The old template is no longer referenced: saving it must not trigger a run, so the next
    // result answers only the save of the new one.
    edit(moe, expertSize(1024))
    edit(path.join(dir, copy), expertSize(1280))
    const after = await w.expectNext("result")
    expect(after.changed_files).toEqual([copy])
  })

  it("reports a referenced file that does not exist, and runs once it is created", async () => {
    const dir = project()
    const scenario = path.join(dir, SCENARIO)
    const w = watch(dir)
    await w.expectNext("result")

    const missing = "configs/models/not-yet/moe.yaml"
    edit(scenario, (t) => t.replace(MOE, missing))
    const err = await w.expectNext("error")
    expect(err.file).toBe(SCENARIO)
    const line =
      fs
        .readFileSync(scenario, "utf8")
        .split("\n")
        .findIndex((l) => l.includes(missing)) + 1
    expect(err.line).toBe(line)
    expect(err.col).toBeGreaterThan(1)
    expect(err.message).toContain(missing)

    // `mkdir -p` and a write: the folder did not exist when watching began.
    fs.mkdirSync(path.join(dir, path.dirname(missing)), { recursive: true })
    fs.writeFileSync(path.join(dir, missing), expertSize(1536)(fs.readFileSync(path.join(dir, MOE), "utf8")))
    let e = await w.next()
    // The folder and the file may arrive as two bursts; the answer to the last one is a result.
    while (e.type === "error") e = await w.next()
    expect(e.type).toBe("result")
    expect(e.changed_files).toContain(missing)
    expect(e.layers_recomputed.length).toBe(58)
  })

  it("re-reads llmsim.config.ts on save, and reports it when it cannot be loaded", async () => {
    const dir = project()
    // A scenario without a runtime block, so the project's runtime defaults apply.
    const scenario = path.join(dir, SCENARIO)
    edit(scenario, (t) => t.replace(/^runtime:\n(  .*\n)+/m, ""))
    const config = path.join(dir, "llmsim.config.ts")
    fs.writeFileSync(config, `export default { runtime: { batch_size: 4, seq_len: 1024, phase: "decode" } }\n`)
    const w = watch(dir, {})
    const first = await w.expectNext("result")
    expect(Object.keys(first.phases)).toEqual(["decode"])

    fs.writeFileSync(config, `export default { runtime: { batch_size: 8, seq_len: 1024, phase: "decode" } }\n`)
    const bigger = await w.expectNext("result")
    expect(bigger.changed_files).toEqual(["llmsim.config.ts"])
    expect(bigger.phases.decode.total_latency_ms).toBeGreaterThan(first.phases.decode.total_latency_ms)

    fs.writeFileSync(config, `export default { runtime: { batch_size: 0 } }\n`)
    const invalid = await w.expectNext("error")
    expect(invalid.file).toBe(config)
    expect(invalid.message).toMatch(/invalid project config/)

    fs.writeFileSync(config, `export default { runtime: { batch_size: 8, seq_len: 1024, phase: "decode" } }\n`)
    const back = await w.expectNext("result")
    expect(back.phases.decode.total_latency_ms).toBe(bigger.phases.decode.total_latency_ms)
    // Back to a runtime seen before: everything replays from the session store.
    expect(back.computed).toBe(0)
  })

  it("ignores writes to the result store, such as another llmsim run sharing it", async () => {
    const dir = project()
    const w = watch(dir)
    await w.expectNext("result")
    // A different batch size writes new entries into ./cache, inside the watched project root
    // (`llmsim run SCENARIO --batch 3`, in this process: the watcher sees the same file writes).
    const other = await runInProcess(runOptions(dir, SCENARIO, { runtime: { batch_size: 3 } }))
    expect(other.out.cacheDir).toBe(path.join(dir, "cache"))
    expect(fs.readdirSync(path.join(dir, "cache")).length).toBeGreaterThan(0)
    edit(path.join(dir, HARDWARE), (t) => t.replace(/memory_bandwidth_gbps:\s*\d+/, "memory_bandwidth_gbps: 3000"))
    const next = await w.expectNext("result")
    expect(next.changed_files).toEqual([HARDWARE])
  })

  it("keeps results in memory with --no-cache and writes no store", async () => {
    const dir = project()
    const w = watch(dir, { phase: "decode" }, true)
    const first = await w.expectNext("result")
    expect(first.computed).toBeGreaterThan(0)
    edit(path.join(dir, MOE), expertSize(1536))
    const second = await w.expectNext("result")
    expect(second.layers_recomputed.length).toBe(58)
    // The dense layers and LM head replay from the session's memory.
    expect(second.replayed).toBeGreaterThan(0)
    edit(path.join(dir, MOE), expertSize(2048))
    const undo = await w.expectNext("result")
    expect(undo.layers_recomputed).toEqual([])
    expect(undo.phases.decode.total_latency_ms).toBe(first.phases.decode.total_latency_ms)
    expect(fs.existsSync(path.join(dir, "cache"))).toBe(false)
  })
})

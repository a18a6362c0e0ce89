/**
 * The store says what it did: a store that cannot be written warns once (results unchanged);
 * `cache stats | verify | gc` refuse a folder that is not a store instead of passing it as empty;
 * `verify` finds a poisoned entry and `verify --repair` removes it; `gc` counts a removal that
 * failed as kept. Real CLI where the exit status and streams are the point (four spawns); the
 * rest in process.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { digest } from "../../src/graph/canonical.ts"
import { collectGarbage, listEntryFiles, storeProblem } from "../../src/graph/maintenance.ts"
import { diskStore, entryPath, entryText, parseEntryText, resetStoreWarning, writeEntry } from "../../src/graph/store.ts"
import { Effect } from "effect"
import { makeProject, runCli, startCli } from "../helpers/cli.ts"
import { cacheCommand, cacheInProcess, commandErrors, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { tempDir } from "../helpers/temp.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const entry = (key: string, output: unknown) => ({ key, kind: "op", id: "op:x", output, output_digest: digest(output), material: {} })

describe("a store that cannot be written", () => {
  it("warns once on stderr and prints the same result as --no-cache (real CLI)", async () => {
    const dir = makeProject()
    // Tests run as root, which ignores permission bits: a store under a regular file cannot be
    // created by anyone (mkdir fails with ENOTDIR).
    fs.writeFileSync(path.join(dir, "plain-file"), "")
    const store = path.join(dir, "plain-file", "cache")
    const r = runCli(["run", LLAMA, "--phase", "decode", "--cache-dir", "plain-file/cache"], dir)
    expect(r.status).toBe(0)
    expect(r.stderr).toBe(`warning: cache ${store} is not writable (ENOTDIR: not a directory): results are not stored\n`)
    const reference = await runInProcess(runOptions(dir, LLAMA, { runtime: { phase: "decode" }, noCache: true }))
    expect(r.stdout).toBe(reference.text("table"))
  })

  it("warns once per process, however many writes fail", async () => {
    resetStoreWarning()
    const file = path.join(tempDir("llmsim-unwritable-"), "plain-file")
    fs.writeFileSync(file, "")
    const lines: Array<string> = []
    const store = diskStore(path.join(file, "cache"), (line) => lines.push(line))
    for (const k of ["aa", "bb", "cc"]) await Effect.runPromise(store.put(entry(k + "0".repeat(62), { v: k })))
    expect(lines).toEqual([`warning: cache ${path.join(file, "cache")} is not writable (ENOTDIR: not a directory): results are not stored\n`])
    resetStoreWarning()
  })
})

describe("cache commands on a folder that is not a store", () => {
  const dir = makeProject()
  const missing = path.join(dir, "no-such-cache")

  it("cache verify on a missing folder exits 1 naming it (real CLI), not a vacuous pass", () => {
    const r = runCli(["cache", "verify", "--cache-dir", "no-such-cache"], dir)
    expect(r.status).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toBe(`error: cache folder ${missing} does not exist\n`)
  })

  it("cache stats and gc refuse it too, and a folder without a store layout or a file", async () => {
    expect(await commandErrors(cacheCommand, ["stats", "--cache-dir", missing])).toEqual([`cache folder ${missing} does not exist`])
    expect(await commandErrors(cacheCommand, ["gc", "--max-age", "7d", "--cache-dir", missing])).toEqual([`cache folder ${missing} does not exist`])
    const empty = tempDir("llmsim-not-a-store-")
    expect(await commandErrors(cacheCommand, ["verify", "--cache-dir", empty])).toEqual([`${empty} is not an llmsim store (no v1/ folder in it)`])
    const file = path.join(empty, "a-file")
    fs.writeFileSync(file, "")
    expect(storeProblem(file)).toBe(`cache folder ${file} is not a folder`)
    writeEntry(empty, entry("ab" + "0".repeat(62), { v: 1 }))
    expect(storeProblem(empty)).toBeUndefined()
  })
})

describe("cache verify --repair", () => {
  it("verify finds a poisoned entry and says to repair (exit 1); --repair removes it (exit 0) (real CLI)", async () => {
    const dir = makeProject()
    await runInProcess(runOptions(dir, LLAMA, { runtime: { phase: "decode" } }))
    // Poison an op entry: change its output and fix up the digest so a run would serve it.
    const files = listEntryFiles(path.join(dir, "cache"))
    const victim = files.map((f) => ({ f, e: parseEntryText(fs.readFileSync(f.file, "utf8")) as any })).find((x) => x.e.kind === "op")!
    victim.e.output.flops = victim.e.output.flops + 1
    victim.e.output_digest = digest(victim.e.output)
    fs.writeFileSync(victim.f.file, entryText(victim.e))
    // A torn file too, removed by every verify.
    const torn = files.find((f) => f.file !== victim.f.file)!.file
    fs.writeFileSync(torn, "{ torn")

    const bad = runCli(["cache", "verify"], dir)
    expect(bad.status).toBe(1)
    expect(bad.stdout).toMatch(/, 1 corrupt \(removed\), 1 problems\n/)
    expect(bad.stdout).toContain(`MISMATCH op ${victim.e.id} ${victim.e.key.slice(0, 16)}: recomputed output differs`)
    expect(bad.stderr).toBe(
      "error: cache verify found 1 mismatching entries (nondeterminism, or a poisoned entry, command record or sweep pack) that runs would serve; run `llmsim cache verify --repair` to remove them\n"
    )
    expect(fs.existsSync(victim.f.file)).toBe(true)
    expect(fs.existsSync(torn)).toBe(false)

    const repaired = runCli(["cache", "verify", "--repair"], dir)
    expect(repaired.stderr).toBe("")
    expect(repaired.status).toBe(0)
    expect(repaired.stdout).toContain("repair: removed 1 mismatching and 0 corrupt entries\n")
    expect(fs.existsSync(victim.f.file)).toBe(false)
    const after = await (await cacheInProcess(dir)).verify()
    expect(after.problems).toEqual([])
    expect(after.checked).toBe(files.length - 2)
  })
})

describe("cache gc", () => {
  it("counts an entry it could not remove as kept, with the reason", () => {
    const dir = tempDir("llmsim-gc-")
    const keys = ["aa", "bb"].map((p) => p + "0".repeat(62))
    keys.forEach((k) => writeEntry(dir, entry(k, { v: k })))
    // An entry path that rmSync refuses even for root: a non-empty folder where the file was.
    const stuck = entryPath(dir, keys[1])
    fs.rmSync(stuck)
    fs.mkdirSync(stuck)
    fs.writeFileSync(path.join(stuck, "x"), "")
    const r = collectGarbage(dir, { maxSizeBytes: 0 })
    expect(r.removed).toBe(1)
    expect(r.kept).toBe(1)
    expect(r.failed).toBe(1)
    expect(r.failed_reason).toMatch(/directory/i)
    expect(fs.existsSync(entryPath(dir, keys[0]))).toBe(false)
    expect(listEntryFiles(dir).map((f) => f.key)).toEqual([keys[1]])
  })
})

describe("cache gc and stale temp files", () => {
  it("counts and removes the temp pack a killed sweep left (once it is an hour old), never a young one (real CLI)", async () => {
    const dir = makeProject()
    const child = startCli(
      [
        "sweep",
        "configs/scenarios/deepseek_v3_h800.yaml",
        "--strategy",
        "two-batch-overlap",
        "--phase",
        "decode",
        "--ep",
        "8..256:+8",
        "--batch",
        "1..1024",
        "--seq",
        "1024..32768:+1024",
        "--cache-dir",
        "store"
      ],
      dir
    )
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
    // SIGKILL (nothing can clean up) once the pack's temp file is being written.
    const tmp = path.join(dir, "store", "v1", "tmp")
    const deadline = Date.now() + 60_000
    const writing = () => fs.existsSync(tmp) && fs.readdirSync(tmp).length > 0
    while (!writing() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    expect(writing()).toBe(true)
    child.kill("SIGKILL")
    await exited
    const [pack] = fs.readdirSync(tmp)
    expect(pack).toMatch(/^\.file\.\d+\.[0-9a-f]{12}\.tmp$/)
    // Young: another process may be about to rename it.
    expect(runCli(["cache", "gc", "--max-age", "100d", "--cache-dir", "store"], dir).stdout).toMatch(/, 0 stale temp files\n$/)
    expect(fs.readdirSync(tmp)).toEqual([pack])
    const old = new Date(Date.now() - 2 * 3600e3)
    fs.utimesSync(path.join(tmp, pack!), old, old)
    const gc = runCli(["cache", "gc", "--max-age", "100d", "--cache-dir", "store"], dir)
    expect(gc.status).toBe(0)
    expect(gc.stdout).toMatch(/, 1 stale temp files\n$/)
    expect(fs.readdirSync(tmp)).toEqual([])
  }, 90_000)
})

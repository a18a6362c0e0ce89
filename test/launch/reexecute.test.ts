/**
 * A replay cannot outlive its inputs, and a store cannot choose bytes (docs/caching.md,
 * "Trust"), through the real CLI:
 * - a poisoned op entry (its output edited, its digest and checksum recomputed) makes `run`
 *   print a wrong TPOT and the command record made from that run replays it; `cache verify`
 *   exits 1 naming both, `--repair` removes both, and `run` prints the TPOT of `--no-cache` again;
 * - a replay whose entries are gone or were recomputed falls through (a correct `--explain` run
 *   recomputes the entry; the next plain run no longer replays the wrong record);
 * - a forged command record (stdout edited, checksum line recomputed) replays as is until
 *   `cache verify`, which runs the command again and exits 1;
 * - a forged stored project config is served to runs until `cache verify`, which loads the
 *   config again and exits 1.
 * The expected TPOT is the `--no-cache` run's (12.395 ms for Llama-3.1-70B decode on H100, as
 * issue 24 reports), never a figure of the store path under test.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { sha256 } from "../../src/base/sha256.js"
import { listCommandFiles, listConfigFiles } from "../../src/graph/maintenance.ts"
import { makeProject, runCli } from "../helpers/cli.ts"
import { forgeRecord, poisonEntry } from "../helpers/forge.ts"

const LLAMA = "configs/scenarios/llama_3_1_70b_h100.yaml"
const RUN = ["run", LLAMA, "--phase", "decode"]
const FFN = "op:decode/0.ffn_layer/ffn"

/** The `TPOT ms` line's figure of a run's table. */
const tpot = (stdout: string): string => /^TPOT ms +([0-9.]+)$/m.exec(stdout)?.[1] ?? `no TPOT line in: ${stdout.slice(0, 200)}`

/** A project whose store holds the decode ops of Llama (from a `--format json` run, its own record), and the `--no-cache` TPOT. */
const project = () => {
  const dir = makeProject()
  const cache = path.join(dir, "cache")
  expect(runCli([...RUN, "--format", "json"], dir).status).toBe(0)
  const clean = runCli([...RUN, "--no-cache"], dir)
  expect(clean.status).toBe(0)
  return { dir, cache, clean: tpot(clean.stdout) }
}

/** Make the FFN op of every decode layer 0.0001 ms: the run's TPOT drops by about 80 x 0.085 ms. */
const poisonFfn = (cache: string) => poisonEntry(cache, FFN, (o) => void (o.dominant_latency_ms = 0.0001))

describe("a poisoned op entry and the record built from it", () => {
  it("cache verify exits 1 naming both; after --repair, run prints the --no-cache TPOT", () => {
    const { dir, cache, clean } = project()
    expect(clean).toBe("12.395")
    poisonFfn(cache)
    const poisoned = runCli(RUN, dir)
    expect(poisoned.status).toBe(0)
    expect(tpot(poisoned.stdout)).toBe("5.607")
    // The second identical run replays the record made from the poisoned one.
    expect(tpot(runCli(RUN, dir).stdout)).toBe("5.607")
    expect(listCommandFiles(cache)).toHaveLength(2)

    const verify = runCli(["cache", "verify"], dir)
    expect(verify.status).toBe(1)
    expect(verify.stdout).toContain(`MISMATCH op ${FFN} `)
    expect(verify.stdout).toMatch(new RegExp(`MISMATCH command llmsim ${RUN.join(" ")} [0-9a-f]{16}: built from the mismatching entry ${FFN}\\n`))
    // The clean record (no entry read: all computed) is run again and found the same.
    expect(verify.stdout).toMatch(/^re-executed: 1 of 2 command records \(0 stale, 0 dropped/m)
    expect(verify.stderr).toMatch(/^error: cache verify found 2 mismatching entries/)

    const repair = runCli(["cache", "verify", "--repair"], dir)
    expect(repair.status).toBe(0)
    expect(repair.stdout).toContain("repair: removed 2 mismatching and 0 corrupt entries\n")
    expect(listCommandFiles(cache)).toHaveLength(1)

    const after = runCli(RUN, dir)
    expect(after.status).toBe(0)
    expect(tpot(after.stdout)).toBe(clean)
    expect(runCli(["cache", "verify"], dir).status).toBe(0)
    expect(tpot(runCli(RUN, dir).stdout)).toBe(clean)
  }, 120_000)

  it("a replay whose entry is gone or recomputed falls through: a correct --explain run is enough", () => {
    const { dir, cache, clean } = project()
    const file = poisonFfn(cache)
    expect(tpot(runCli(RUN, dir).stdout)).toBe("5.607")
    // The entry removed (by hand, gc or a repair): the record is not replayed.
    fs.rmSync(file)
    const explained = runCli([...RUN, "--explain"], dir)
    expect(explained.status).toBe(0)
    expect(tpot(explained.stdout)).toBe(clean)
    expect(fs.existsSync(file)).toBe(true) // recomputed, with other bytes than the record was built from
    const plain = runCli(RUN, dir)
    expect(tpot(plain.stdout)).toBe(clean)
    expect(runCli(["cache", "verify"], dir).status).toBe(0)
  }, 120_000)
})

describe("a forged command record", () => {
  it("replays as is until cache verify runs it again (exit 1); after --repair, run prints the --no-cache TPOT", () => {
    const { dir, cache, clean } = project()
    // The store holds the --format json run's record; make the table run's and forge it.
    for (const f of listCommandFiles(cache)) fs.rmSync(f.file)
    const table = runCli(RUN, dir).stdout
    expect(tpot(table)).toBe(clean)
    // The TPOT line as printed, its figure replaced by 5.607 in the same width.
    const line = /^TPOT ms +[0-9.]+$/m.exec(table)![0]
    forgeRecord(
      cache,
      line,
      line.replace(/[0-9.]+$/, (n) => "5.607".padStart(n.length))
    )
    expect(tpot(runCli(RUN, dir).stdout)).toBe("5.607")

    const verify = runCli(["cache", "verify"], dir)
    expect(verify.status).toBe(1)
    expect(verify.stdout).toMatch(new RegExp(`MISMATCH command llmsim ${RUN.join(" ")} [0-9a-f]{16}: run again, it prints another stdout\\n`))
    expect(runCli(["cache", "verify", "--repair"], dir).status).toBe(0)
    expect(listCommandFiles(cache)).toHaveLength(0)
    expect(tpot(runCli(RUN, dir).stdout)).toBe(clean)
    const again = runCli(["cache", "verify", "--json"], dir)
    expect(again.status).toBe(0)
    expect(JSON.parse(again.stdout).commands).toEqual({ total: 1, reexecuted: 1, stale: 0, dropped: 0 })
  }, 120_000)

  it("--out: the file the command writes is compared too, and --sample bounds how many records run again", () => {
    const dir = makeProject()
    const cache = path.join(dir, "cache")
    const out = ["run", LLAMA, "--phase", "decode", "--format", "json", "--out", "r.json"]
    expect(runCli(out, dir).status).toBe(0)
    expect(runCli(RUN, dir).status).toBe(0)
    expect(runCli(["cache", "verify", "--sample", "1"], dir).stdout).toMatch(
      /^re-executed \(a random sample of at most 1\): 1 of 2 command records \(0 stale, 0 dropped/m
    )
    const files = listCommandFiles(cache).map((f) => f.file)
    const withOut = files.find((f) => fs.readFileSync(f, "utf8").includes('"--out"'))!
    for (const f of files) if (f !== withOut) fs.rmSync(f)
    const text = fs.readFileSync(withOut, "utf8")
    const i = text.indexOf('\\"tpot_ms\\": ') + '\\"tpot_ms\\": '.length
    forgeRecord(cache, text.slice(i, i + 6), "1.2345")
    const verify = runCli(["cache", "verify"], dir)
    expect(verify.status).toBe(1)
    expect(verify.stdout).toContain(": run again, it writes another --out file\n")
    // The command ran again into a temp file, never onto r.json.
    expect(fs.readFileSync(path.join(dir, "r.json"), "utf8")).not.toContain("1.2345")
  }, 120_000)
})

describe("a forged stored project config", () => {
  it("is served to runs until cache verify loads the config again (exit 1); after --repair, runs answer as --no-cache", () => {
    const dir = makeProject()
    const cache = path.join(dir, "cache")
    fs.writeFileSync(
      path.join(dir, "llmsim.config.ts"),
      'export default { defaultScenario: "configs/scenarios/deepseek_v3_a100.yaml", runtime: { batch_size: 2, seq_len: 64 } }\n'
    )
    const clean = runCli(["run", "--format", "json", "--no-cache"], dir)
    expect(JSON.parse(clean.stdout).runtime.batch_size).toBe(2)
    expect(runCli(["run", "--format", "json"], dir).status).toBe(0) // makes the store; the config is stored as it exits
    const [entry] = listConfigFiles(cache)
    const text = fs.readFileSync(entry!.file, "utf8")
    const rest = text.slice(65).replace('"batch_size":2', '"batch_size":4')
    expect(rest).not.toBe(text.slice(65))
    fs.writeFileSync(entry!.file, `${sha256(rest)}\n${rest}`)
    // Another command (its own key): the config comes from the store, forged.
    const forged = runCli(["run", "--format", "json", "--phase", "decode"], dir)
    expect(JSON.parse(forged.stdout).runtime.batch_size).toBe(4)

    const verify = runCli(["cache", "verify"], dir)
    expect(verify.status).toBe(1)
    expect(verify.stdout).toContain(`MISMATCH project-config config ${path.join(dir, "llmsim.config.ts")} `)
    expect(verify.stdout).toContain(": loaded again, its export differs\n")
    expect(verify.stdout).toMatch(/MISMATCH command llmsim run --format json --phase decode [0-9a-f]{16}: built from the mismatching entry config /)
    expect(runCli(["cache", "verify", "--repair"], dir).status).toBe(0)
    const after = runCli(["run", "--format", "json", "--phase", "decode"], dir)
    expect(after.stdout).toBe(runCli(["run", "--format", "json", "--phase", "decode", "--no-cache"], dir).stdout)
    expect(JSON.parse(after.stdout).runtime.batch_size).toBe(2)
    expect(runCli(["cache", "verify"], dir).status).toBe(0)
  }, 120_000)
})

/**
 * The command node (src/launch/command.js): every key input, changed, is a miss; an exact hit
 * replays stdout, stderr and output files; the real CLI records and replays a run.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { sha256 } from "../../src/base/sha256.js"
import { describe, expect, it } from "vitest"
import {
  codeIdentity,
  COMMAND_FORMAT,
  commandKey,
  KEY_ENV,
  REPLAYABLE,
  parseRecord,
  pathState,
  recordDirFor,
  recordPath,
  recordText,
  replayable,
  materialKey,
  runMaterial,
  sourceStamp,
  tryReplay,
  type CommandRecord,
  type KeyInputs
} from "../../src/launch/command.js"
import { Effect } from "effect"
import { collectGarbage, listCommandFiles, storeStats } from "../../src/graph/maintenance.ts"
import { verifyStore } from "../../src/graph/verify.ts"
import { NODE_TYPES } from "../../src/app/nodeTypes.ts"
import { makeProject, REPO, runCli } from "../helpers/cli.ts"
import { tempDir } from "../helpers/temp.ts"

const base: KeyInputs = { code: "bundle:abc", node: "24.21.0", args: ["run", "s.yaml"], cwd: "/p", env: { HOME: "/root" }, stdoutTTY: false, stderrTTY: false }

/** A stream stand-in that keeps what is written. */
const sink = () => {
  const chunks: Array<string> = []
  return { chunks, stream: { isTTY: false, write: (c: string) => (chunks.push(c), true) } as unknown as NodeJS.WriteStream }
}

describe("command key", () => {
  it("changes with the code, Node, argv, cwd, terminal kind and the environment that matters", () => {
    const k = commandKey(base)
    expect(commandKey({ ...base })).toBe(k)
    expect(commandKey({ ...base, code: "bundle:abd" })).not.toBe(k)
    expect(commandKey({ ...base, node: "24.22.0" })).not.toBe(k)
    expect(commandKey({ ...base, args: ["run", "s.yaml", "--format", "json"] })).not.toBe(k)
    expect(commandKey({ ...base, cwd: "/q" })).not.toBe(k)
    expect(commandKey({ ...base, stdoutTTY: true })).not.toBe(k)
    for (const v of ["LLMSIM_CONFIG_TIMEOUT_MS", "NO_COLOR", "CI", "TZ", "COLUMNS", "LANG"]) {
      expect(commandKey({ ...base, env: { ...base.env, [v]: "1" } }), v).not.toBe(k)
    }
    // Variables no command reads do not split the cache (nor the re-exec marker).
    expect(commandKey({ ...base, env: { ...base.env, HOME: "/elsewhere", LLMSIM_REEXEC: "1" } })).toBe(k)
  })

  it("code identity follows the bundle id, and the sources' stamp without a bundle", () => {
    const dir = tempDir("llmsim-code-")
    fs.mkdirSync(path.join(dir, "src"), { recursive: true })
    fs.writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 1\n")
    fs.writeFileSync(path.join(dir, "package.json"), "{}")
    const fromSources = codeIdentity(dir, {})
    expect(fromSources.startsWith("sources:")).toBe(true)
    fs.writeFileSync(path.join(dir, "src", "a.ts"), "export const a = 22\n") // an edit: size and mtime move
    expect(codeIdentity(dir, {})).not.toBe(fromSources)
    fs.mkdirSync(path.join(dir, "dist"))
    fs.writeFileSync(path.join(dir, "dist", "build.json"), JSON.stringify({ id: "one", sources: sourceStamp(dir) }))
    expect(codeIdentity(dir, {})).toBe("bundle:one")
    fs.writeFileSync(path.join(dir, "dist", "build.json"), JSON.stringify({ id: "two" }))
    expect(codeIdentity(dir, {})).toBe("bundle:two")
    // LLMSIM_FROM_SOURCE runs (and keys) the sources.
    expect(codeIdentity(dir, { LLMSIM_FROM_SOURCE: "1" }).startsWith("sources:")).toBe(true)
  })

  it("replays only commands whose output is a function of their inputs", () => {
    expect(replayable(["run"])).toBe(true)
    expect(replayable(["large-ep", "evaluate", "x.yaml"])).toBe(true)
    for (const args of [
      ["watch"],
      ["sweep"],
      ["diff", "HEAD"],
      ["run", "--no-cache"],
      ["run", "--explain"],
      ["run", "--trace", "t.json"],
      ["run", "--help"],
      ["cache", "stats"],
      []
    ]) {
      expect(replayable(args), args.join(" ")).toBe(false)
    }
  })

  it("docs/caching.md names every environment variable and command of the key", () => {
    const doc = fs.readFileSync(path.join(REPO, "docs", "caching.md"), "utf8")
    const section = doc.slice(doc.indexOf("## The command node"), doc.indexOf("## Trace and explain"))
    for (const v of KEY_ENV) expect(section, v).toContain(`\`${v}\``)
    for (const c of REPLAYABLE) expect(section, c).toContain(`\`${c}\``)
  })

  it("keeps records where `cache gc` and `verify` list them", () => {
    const dir = tempDir("llmsim-records-")
    const key = "ab".padEnd(64, "0")
    fs.mkdirSync(path.dirname(recordPath(dir, key)), { recursive: true })
    fs.writeFileSync(recordPath(dir, key), "x")
    expect(listCommandFiles(dir).map((f) => f.file)).toEqual([recordPath(dir, key)])
  })

  it("looks for records in --cache-dir (from cwd) or <root>/cache", () => {
    expect(recordDirFor(["run"], "/p/sub", "/p")).toBe("/p/cache")
    expect(recordDirFor(["run", "--cache-dir", "c2"], "/p/sub", "/p")).toBe("/p/sub/c2")
    expect(recordDirFor(["run", "--cache-dir=/abs"], "/p/sub", "/p")).toBe("/abs")
  })
})

describe("replay", () => {
  /** A project with one input file and a record of a command that read it. */
  const setup = (extra: (dir: string) => Partial<CommandRecord> = () => ({}), args: ReadonlyArray<string> = ["run", "in.yaml"]) => {
    const dir = tempDir("llmsim-replay-")
    const input = path.join(dir, "in.yaml")
    fs.writeFileSync(input, "a: 1\n")
    const env = {}
    const run = runMaterial({ code: codeIdentity(undefined, env), node: "24.0.0", args, cwd: dir, env, stdoutTTY: false, stderrTTY: false })
    const key = materialKey(run)
    const record: CommandRecord = {
      v: COMMAND_FORMAT,
      key,
      run,
      entries: [],
      inputs: [
        [input, pathState(input)],
        [path.join(dir, "llmsim.config.ts"), null]
      ],
      stdout: "result\n",
      stderr: "warning: w\n",
      files: [],
      ...extra(dir)
    }
    const file = recordPath(path.join(dir, "cache"), key)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, recordText(record))
    const attempt = () => {
      const out = sink()
      const err = sink()
      const hit = tryReplay({ args, cwd: dir, env, node: "24.0.0", stdout: out.stream, stderr: err.stream })
      return { hit, stdout: out.chunks.join(""), stderr: err.chunks.join("") }
    }
    return { dir, input, file, attempt }
  }

  it("prints the recorded stdout and stderr on an exact hit", () => {
    const { attempt } = setup()
    expect(attempt()).toEqual({ hit: true, stdout: "result\n", stderr: "warning: w\n" })
  })

  it("misses when a file it read changed, even to the same size", () => {
    const { input, attempt } = setup()
    fs.writeFileSync(input, "a: 2\n")
    expect(attempt().hit).toBe(false)
  })

  it("misses when a file appears where the command found none", () => {
    const { dir, attempt } = setup()
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), "export default {}\n")
    expect(attempt()).toEqual({ hit: false, stdout: "", stderr: "" })
  })

  it("rewrites the output file it recorded (its --out)", () => {
    const { dir, attempt } = setup((d) => ({ files: [[path.join(d, "report.html"), "<html></html>\n"]] }), ["run", "in.yaml", "--out", "report.html"])
    expect(attempt().hit).toBe(true)
    expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toBe("<html></html>\n")
  })

  it("never writes a file the command line did not name, whatever the record says", () => {
    const { dir, attempt } = setup((d) => ({ files: [[path.join(d, "elsewhere.txt"), "x"]] }), ["run", "in.yaml", "--out", "report.html"])
    expect(attempt().hit).toBe(false)
    expect(fs.existsSync(path.join(dir, "elsewhere.txt"))).toBe(false)
    const noOut = setup((d) => ({ files: [[path.join(d, "report.html"), "x"]] }))
    expect(noOut.attempt().hit).toBe(false)
  })

  it("misses when a store entry it was built from changed or is gone (a replay cannot outlive its entries)", () => {
    const rel = `v1/ac/ab/ab${"0".repeat(62)}.json`
    const body = '{"key":"x"}'
    const { dir, attempt } = setup(() => ({ entries: [[rel, sha256(body)]] }))
    const entry = path.join(dir, "cache", rel)
    fs.mkdirSync(path.dirname(entry), { recursive: true })
    fs.writeFileSync(entry, `${sha256(body)} op\n${body}`)
    expect(attempt().hit).toBe(true)
    // Recomputed to other bytes (a poisoned entry repaired, then computed again): a miss.
    const other = '{"key":"y"}'
    fs.writeFileSync(entry, `${sha256(other)} op\n${other}`)
    expect(attempt()).toEqual({ hit: false, stdout: "", stderr: "" })
    // Removed (verify --repair, gc): a miss.
    fs.rmSync(entry)
    expect(attempt().hit).toBe(false)
    // A FIFO in its place is not waited on.
    execFileSync("mkfifo", [entry])
    expect(attempt().hit).toBe(false)
  })

  it("a record naming an entry outside the store layout is not a record", () => {
    const { file } = setup(() => ({ entries: [["../../etc/passwd", "0".repeat(64)]] }))
    expect(parseRecord(fs.readFileSync(file, "utf8"))).toBeUndefined()
  })

  it("a record whose checksum does not match is never replayed", () => {
    const { file, attempt } = setup()
    const text = fs.readFileSync(file, "utf8")
    fs.writeFileSync(file, text.replace("result", "RESULT"))
    expect(parseRecord(fs.readFileSync(file, "utf8"))).toBeUndefined()
    expect(attempt().hit).toBe(false)
  })
})

describe("the real CLI records and replays", () => {
  it("a second identical run is replayed (no store entry is read or written), byte for byte; an edit is a miss", () => {
    const dir = makeProject()
    const args = ["run", "configs/scenarios/llama_3_1_70b_h100.yaml", "--format", "json", "--out", "r.json"]
    const first = runCli(args, dir)
    expect(first.status).toBe(0)
    const firstOut = fs.readFileSync(path.join(dir, "r.json"), "utf8")
    const records = fs.readdirSync(path.join(dir, "cache", "v1", "commands"))
    expect(records).toHaveLength(1)
    // Without the node entries, only a replay can answer without writing them again.
    fs.rmSync(path.join(dir, "cache", "v1", "ac"), { recursive: true })
    fs.rmSync(path.join(dir, "r.json"))
    const second = runCli(args, dir)
    expect(second.status).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    expect(fs.readFileSync(path.join(dir, "r.json"), "utf8")).toBe(firstOut)
    expect(fs.existsSync(path.join(dir, "cache", "v1", "ac"))).toBe(false)
    // One template edited: the full CLI runs (and stores node entries again).
    const tpl = path.join(dir, "configs", "models", "llama-3.1-70b", "ffn_layer_config.yaml")
    fs.writeFileSync(tpl, fs.readFileSync(tpl, "utf8").replace(/d_ff: \d+/, "d_ff: 28000"))
    const third = runCli(args, dir)
    expect(third.status).toBe(0)
    expect(fs.readFileSync(path.join(dir, "r.json"), "utf8")).not.toBe(firstOut)
    expect(fs.existsSync(path.join(dir, "cache", "v1", "ac"))).toBe(true)
  })
})

describe("command records in store maintenance", () => {
  /** A store holding one good and one damaged command record. */
  const store = () => {
    const cache = tempDir("llmsim-cmdstore-")
    const good = "a".repeat(64)
    const bad = "b".repeat(64)
    for (const key of [good, bad]) {
      const file = recordPath(cache, key)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      const run = runMaterial({ ...base, args: ["run", key] })
      const text = recordText({ v: COMMAND_FORMAT, key, run, inputs: [], entries: [], stdout: "x\n", stderr: "", files: [] })
      fs.writeFileSync(file, key === bad ? text.replace("x\\n", "y\\n") : text)
    }
    return { cache, good: recordPath(cache, good), bad: recordPath(cache, bad) }
  }

  it("cache stats counts them, verify removes a damaged one, gc evicts them by last use", async () => {
    const s = store()
    expect(storeStats(s.cache).by_kind.command).toEqual({ entries: 2, bytes: fs.statSync(s.good).size + fs.statSync(s.bad).size })
    const v = await Effect.runPromise(verifyStore(s.cache, NODE_TYPES))
    expect(v.corrupt).toBe(1)
    expect(fs.existsSync(s.bad)).toBe(false)
    expect(fs.existsSync(s.good)).toBe(true)
    const old = new Date(Date.now() - 3 * 86400e3)
    fs.utimesSync(s.good, old, old)
    expect(collectGarbage(s.cache, { maxAgeMs: 86400e3 }).removed).toBe(1)
    expect(fs.existsSync(s.good)).toBe(false)
  })
})

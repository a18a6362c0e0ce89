/**
 * The remote cache (src/graph/remote.ts) against a real server: Debian's nginx with WebDAV on
 * 127.0.0.1 (test/helpers/nginx.ts). Each "runner" is a fresh project folder with an empty local
 * store, as a fresh CI clone is; the runs are `llmsim run` in process. Checked: a second runner
 * computes no node and prints the same bytes; a forged action entry and corrupted content are
 * rejected and recomputed; with the server stopped a run still succeeds, same bytes, one warning.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { actionText, checkAction, checkPackIndex, packIndexText } from "../../src/graph/remote.ts"
import { readRemoteStats } from "../../src/graph/remoteStats.ts"
import { makeProject, runCli } from "../helpers/cli.ts"
import { commandErrors, runInProcess, runOptions } from "../helpers/inProcess.ts"
import { runCommand } from "../../src/cli/run.ts"
import { HAVE_NGINX, NGINX, NGINX_INSTALL, startWebDav, type WebDav } from "../helpers/nginx.ts"

const SCENARIO = "configs/scenarios/llama_3_1_8b_h100.yaml"
const SECRET = "test-only-secret"

describe("signed action entries", () => {
  const key = "a".repeat(64)
  const cas = "b".repeat(64)
  it("the entry a writer signs is accepted; another key, content or secret is refused", () => {
    expect(checkAction(SECRET, key, actionText(SECRET, key, "op", cas))).toEqual({ cas })
    expect(checkAction(SECRET, key, actionText("another secret", key, "op", cas))).toBe("bad signature")
    const moved = JSON.parse(actionText(SECRET, key, "op", cas))
    expect(checkAction(SECRET, key, JSON.stringify({ ...moved, cas: "c".repeat(64) }))).toBe("bad signature")
    expect(checkAction(SECRET, "d".repeat(64), actionText(SECRET, key, "op", cas))).toBe("action entry has the wrong format or key")
    expect(checkAction(SECRET, key, "<html>")).toBe("action entry is not JSON")
  })

  it("a sweep's pack index: the packs its writer signed, in order; another family or secret is refused", () => {
    const family = "f".repeat(64)
    const packs = ["2".repeat(64), "1".repeat(64), "2".repeat(64)]
    expect(checkPackIndex(SECRET, family, packIndexText(SECRET, family, packs))).toEqual(["1".repeat(64), "2".repeat(64)])
    expect(checkPackIndex(SECRET, family, packIndexText("another secret", family, packs))).toBe("bad signature")
    expect(checkPackIndex(SECRET, "e".repeat(64), packIndexText(SECRET, family, packs))).toBe("pack index has the wrong format or family")
  })
})

if (!HAVE_NGINX) console.warn(`remote cache tests skipped: no ${NGINX}; ${NGINX_INSTALL}`)
const test = HAVE_NGINX ? it : it.skip

describe(`remote cache over nginx WebDAV${HAVE_NGINX ? "" : ` (skipped: ${NGINX_INSTALL})`}`, () => {
  let dav: WebDav | undefined
  const before = process.env.LLMSIM_REMOTE_CACHE_KEY
  beforeAll(async () => {
    process.env.LLMSIM_REMOTE_CACHE_KEY = SECRET
    if (HAVE_NGINX) dav = await startWebDav()
  })
  afterAll(async () => {
    if (before === undefined) delete process.env.LLMSIM_REMOTE_CACHE_KEY
    else process.env.LLMSIM_REMOTE_CACHE_KEY = before
    await dav?.stop()
  })

  /** A fresh runner: its own project folder and empty store; stderr captured. */
  const runner = async () => {
    const dir = makeProject("llmsim-runner-")
    const warnings: Array<string> = []
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      warnings.push(String(chunk))
      return true
    })
    try {
      const r = await runInProcess(runOptions(dir, SCENARIO, { remoteCache: dav!.url }))
      return {
        dir,
        computed: r.trace.nodes.filter((n) => n.status === "computed").length,
        // Distinct keys: two ids of one key (identical layers) are one store entry.
        stored: new Set(r.trace.nodes.filter((n) => n.status !== "derived").map((n) => n.key)),
        computedKeys: new Set(r.trace.nodes.filter((n) => n.status === "computed").map((n) => n.key)).size,
        text: r.text("json"),
        warnings: warnings.filter((w) => w.startsWith("warning:"))
      }
    } finally {
      spy.mockRestore()
    }
  }

  let first: Awaited<ReturnType<typeof runner>>

  test("a second runner with an empty store computes no node, and prints the same bytes", async () => {
    first = await runner()
    expect(first.computed).toBeGreaterThan(10)
    expect(first.warnings).toEqual([])
    const second = await runner()
    expect(second.computed).toBe(0)
    expect(second.text).toBe(first.text)
    expect(second.warnings).toEqual([])
    // cache stats' counts: every stored node of the second run came from the remote.
    expect(readRemoteStats(path.join(second.dir, "cache"))).toMatchObject({ url: dav!.url, hits: second.stored.size, misses: 0, rejected: 0, uploads: 0 })
    expect(readRemoteStats(path.join(first.dir, "cache"))).toMatchObject({ hits: 0, misses: first.computedKeys, uploads: first.computedKeys })
  })

  test("the real CLI: a second runner's answer comes from the remote, cache stats counts it; flags and a missing key say why (real CLI)", async () => {
    const env = { LLMSIM_REMOTE_CACHE_KEY: SECRET }
    const a = runCli(["run", SCENARIO, "--remote-cache", dav!.url, "--format", "json"], makeProject("llmsim-runner-"), env)
    expect([a.status, a.stderr]).toEqual([0, ""])
    const dirB = makeProject("llmsim-runner-")
    const b = runCli(["run", SCENARIO, "--format", "json"], dirB, { ...env, LLMSIM_REMOTE_CACHE: dav!.url })
    expect([b.status, b.stderr, b.stdout]).toEqual([0, "", a.stdout])
    const stats = runCli(["cache", "stats"], dirB)
    const last = stats.stdout.trimEnd().split("\n").at(-1)
    expect(last).toMatch(/^remote http:\/\/127\.0\.0\.1:\d+: [1-9]\d* hits, 0 misses, 0 rejected, 0 uploaded, 0 failed requests \(all runs\)$/)
    expect(last).toContain(dav!.url)
    const noKey = runCli(["run", SCENARIO, "--remote-cache", dav!.url], makeProject("llmsim-runner-"), { LLMSIM_REMOTE_CACHE_KEY: "" })
    expect([noKey.status, noKey.stderr]).toEqual([
      0,
      `warning: remote cache ${dav!.url} not used: LLMSIM_REMOTE_CACHE_KEY is not set (its entries are signed with it)\n`
    ])
    // The flag's own parsing (in process: it fails before any file is read).
    const bad = await commandErrors(runCommand, [SCENARIO, "--remote-cache", "ftp://cache"])
    expect(bad.join("\n")).toMatch(/--remote-cache: expected an http\(s\) URL, got "ftp:\/\/cache"/)
  })

  test("llmsim.config.ts names the remote; readOnly reads and never writes", async () => {
    const dir = makeProject("llmsim-runner-")
    fs.writeFileSync(path.join(dir, "llmsim.config.ts"), `export default { remoteCache: { url: "${dav!.url}", readOnly: true } }\n`)
    const acDir = path.join(dav!.data, "ac")
    const before = fs.readdirSync(acDir).length
    // Another scenario: none of its nodes is on the server yet.
    const r = await runInProcess(runOptions(dir, "configs/scenarios/mixtral_8x7b_h100.yaml"))
    expect(r.trace.nodes.filter((n) => n.status === "computed").length).toBeGreaterThan(0)
    expect(fs.readdirSync(acDir).length).toBe(before)
    // (a hit or two: the H100 hardware file node is the first scenario's too)
    expect(readRemoteStats(path.join(dir, "cache"))).toMatchObject({ uploads: 0, rejected: 0, errors: 0 })
    expect(readRemoteStats(path.join(dir, "cache"))!.misses).toBeGreaterThan(0)
  })

  test("sweep point packs go through the remote too: a second runner replays every point (real CLI)", () => {
    const env = { LLMSIM_REMOTE_CACHE_KEY: SECRET, LLMSIM_REMOTE_CACHE: dav!.url }
    const args = ["sweep", SCENARIO, "--batch", "1,2,4,8"]
    const a = runCli(args, makeProject("llmsim-runner-"), env)
    expect([a.status, a.stderr]).toEqual([0, ""])
    expect(a.stdout).toMatch(/point nodes: 4 computed, 0 replayed/)
    const b = runCli(args, makeProject("llmsim-runner-"), env)
    expect([b.status, b.stderr]).toEqual([0, ""])
    expect(b.stdout).toMatch(/point nodes: 0 computed, 4 replayed/)
    // A pack index signed with another key is refused: that runner computes its points.
    const index = fs.readdirSync(path.join(dav!.data, "ac")).find((k) => {
      const text = fs.readFileSync(path.join(dav!.data, "ac", k), "utf8")
      return text.startsWith('{"llmsim_packs"')
    })!
    const listed = JSON.parse(fs.readFileSync(path.join(dav!.data, "ac", index), "utf8"))
    fs.writeFileSync(path.join(dav!.data, "ac", index), packIndexText("attacker's key", listed.family, listed.packs))
    const c = runCli(args, makeProject("llmsim-runner-"), env)
    expect(c.status).toBe(0)
    expect(c.stdout).toMatch(/point nodes: 4 computed, 0 replayed/)
    expect(c.stderr).toBe(`warning: remote cache ${dav!.url}: entry ${index.slice(0, 12)} rejected (bad signature); recomputed\n`)
    // Put the honest index back for the tests after this one.
    fs.writeFileSync(path.join(dav!.data, "ac", index), packIndexText(SECRET, listed.family, listed.packs))
  })

  test("sweep --bench --shard k/n on two runners: a third, unsharded, replays every search and prints the single-process answer (real CLI)", () => {
    const env = { LLMSIM_REMOTE_CACHE_KEY: SECRET, LLMSIM_REMOTE_CACHE: dav!.url }
    const args = ["sweep", SCENARIO, "--bench", "--tp", "1,2,4", "--random-input-len", "256", "--random-output-len", "32", "--num-prompts", "200"]
    for (const shard of ["1/2", "2/2"]) {
      const r = runCli([...args, "--shard", shard], makeProject("llmsim-runner-"), env)
      expect([r.status, r.stderr]).toEqual([0, ""])
      expect(r.stdout).toContain(`shard ${shard}: layouts ${shard === "1/2" ? "0..0" : "1..2"} of 3`)
    }
    const dir = makeProject("llmsim-runner-")
    const all = runCli([...args, "--format", "json"], dir, env)
    expect([all.status, all.stderr]).toEqual([0, ""])
    // Every node, the three searches included, came from the remote: no miss.
    expect(readRemoteStats(path.join(dir, "cache"))).toMatchObject({ misses: 0, rejected: 0 })
    const alone = runCli([...args, "--format", "json", "--no-cache"], makeProject("llmsim-runner-"))
    expect(all.stdout).toBe(alone.stdout)
  })

  test("a forged action entry is refused by its signature and recomputed; so is content that does not match its digest", async () => {
    const acDir = path.join(dav!.data, "ac")
    // Entries of the nodes this run reads (the server also holds other tests' nodes and packs).
    const keys = fs
      .readdirSync(acDir)
      .filter((k) => first.stored.has(k))
      .sort()
    // Forged: a writer without the secret points one key at other content it signed with its own key.
    const forgedKey = keys[0]
    const honest = JSON.parse(fs.readFileSync(path.join(acDir, keys[1]), "utf8"))
    fs.writeFileSync(path.join(acDir, forgedKey), actionText("attacker's key", forgedKey, honest.kind, honest.cas))
    const forged = await runner()
    expect(forged.computed).toBe(1)
    expect(forged.text).toBe(first.text)
    expect(forged.warnings).toEqual([`warning: remote cache ${dav!.url}: entry ${forgedKey.slice(0, 12)} rejected (bad signature); recomputed\n`])
    // Corrupted content: one byte of a content file changed on the server.
    const victim = JSON.parse(fs.readFileSync(path.join(acDir, keys[2]), "utf8"))
    const casFile = path.join(dav!.data, "cas", victim.cas)
    const text = fs.readFileSync(casFile, "utf8")
    fs.writeFileSync(casFile, text.replace(/"output":\{/, '"output":{"x":1,'))
    const corrupt = await runner()
    expect(corrupt.computed).toBe(1)
    expect(corrupt.text).toBe(first.text)
    expect(corrupt.warnings).toEqual([
      `warning: remote cache ${dav!.url}: entry ${keys[2].slice(0, 12)} rejected (content does not match its digest); recomputed\n`
    ])
  })

  test("with the server stopped a run succeeds, prints the same bytes and warns once", async () => {
    await dav!.stop()
    const alone = await runner()
    expect(alone.computed).toBe(first.computed)
    expect(alone.text).toBe(first.text)
    expect(alone.warnings.length).toBe(1)
    expect(alone.warnings[0]).toMatch(
      new RegExp(`^warning: remote cache ${dav!.url.replace(/\./g, "\\.")} unreachable \\(.+\\): using the local store only\\n$`)
    )
  })
})

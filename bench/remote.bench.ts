/**
 * The remote cache (src/graph/remote.ts, docs/caching.md "Remote cache") as two CI runners use it:
 * Debian's nginx with WebDAV on 127.0.0.1 (test/helpers/nginx.ts), two fresh project folders with
 * empty stores, the same `llmsim plan` (DeepSeek-V3, the npm start scenario) in each, a fresh CLI
 * process each time. The second runner replays every node, the plan's rate searches included,
 * and must print the same bytes. Skipped (with the reason) where nginx is not installed.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { HAVE_NGINX, NGINX_INSTALL, startWebDav } from "../test/helpers/nginx.ts"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")

const runner = (url: string): { ms: number; stdout: string } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-bench-runner-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [BIN, "plan", "configs/scenarios/deepseek_v3_h800.yaml"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, LLMSIM_REMOTE_CACHE: url, LLMSIM_REMOTE_CACHE_KEY: "bench-only-secret" },
    maxBuffer: 1 << 26
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  fs.rmSync(dir, { recursive: true, force: true })
  if (r.status !== 0 || r.stderr !== "") throw new Error(`plan on a runner: exit ${r.status}: ${r.stderr}`)
  return { ms, stdout: r.stdout }
}

export const run = async () => {
  if (!HAVE_NGINX) return { skipped: NGINX_INSTALL }
  const dav = await startWebDav()
  try {
    const first = runner(dav.url)
    const second = runner(dav.url)
    if (second.stdout !== first.stdout) throw new Error("the second runner printed something else")
    return { first_runner_ms: Math.round(first.ms), second_runner_ms: Math.round(second.ms), first_over_second: first.ms / second.ms }
  } finally {
    await dav.stop()
  }
}

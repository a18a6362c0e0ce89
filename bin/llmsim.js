#!/usr/bin/env node
// llmsim runs its TypeScript sources directly on Node >= 22.19 (type stripping). When started
// by an older system `node`, re-run on the Node pinned in devDependencies.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import path from "node:path"
import module from "node:module"

const [major, minor] = process.versions.node.split(".").map(Number)
const modern = major > 22 || (major === 22 && minor >= 19)
if (!modern && !process.env.LLMSIM_REEXEC) {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const pinned = path.join(here, "..", "node_modules", "node", "bin", "node")
  if (!existsSync(pinned)) {
    process.stderr.write(`llmsim needs Node >= 22.19 (found ${process.versions.node}); run npm ci\n`)
    process.exit(1)
  }
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, LLMSIM_REEXEC: "1" }
  })
  process.exit(r.status ?? 1)
} else {
  // Reuse V8 code (and stripped TypeScript) across runs: start-up dominates a cached run.
  module.enableCompileCache?.()
  await import("../src/cli/main.ts")
}

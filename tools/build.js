#!/usr/bin/env node
/**
 * Bundle the CLI into dist/ (npm's `prepare`, so `npm ci` builds it; `npm test` rebuilds a
 * stale one in test/setup/bundle.ts).
 *
 * Why a bundle: a run from sources loads ~500 modules (effect alone ~280, plus every TypeScript
 * file stripped at load); a bundle loads a few files. esbuild is a well-kept, dependency-free
 * bundler with a JS API. Plain JavaScript: prepare may run on an older system Node.
 *
 * Outputs:
 * - dist/llmsim.cjs, the CLI (src/cli/start.ts and everything it loads, its lazily loaded
 *   commands included) as one CommonJS script: bin/llmsim.js compiles it with a V8 code cache
 *   made after a run (src/launch/codeCache.js says why that halves its start-up work). A dynamic
 *   import inside it becomes a lazily evaluated module of the same script.
 * - dist/chart-libraries.js, which imports Vega and Vega-Lite (1.2 MB, in lazy chunks) for the
 *   CLI's first chart; dist/sweep-worker.js, a sweep worker thread; and dist/index.js, the
 *   programmatic API (its sweep engine and charts in lazy chunks): ES modules.
 * - their source maps (used with --verbose / LLMSIM_VERBOSE=1); dist/types/, the API's
 *   declarations (tsconfig.build.json: TypeScript's own declaration emit), which package.json
 *   `exports` names; and dist/build.json: { id, sources }, where `id` hashes every bundle output
 *   and the lockfile (the code identity a command record is keyed on, src/launch/command.js) and
 *   `sources` is the stamp of src/ it was built from.
 */
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { ENTRIES } from "../src/base/entries.js"
import { sha256Hasher } from "../src/base/sha256.js"
import { sourceStamp } from "../src/launch/command.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const OUT = path.join(ROOT, "dist")

/** The CLI requires the chart libraries' module from its own file (see the header). */
/** @type {import("esbuild").Plugin} */
const chartsApart = {
  name: "charts-apart",
  setup(b) {
    b.onResolve({ filter: /[\\/]chartLibraries\.ts$/ }, () => ({ path: `./${path.basename(ENTRIES.charts.bundle)}`, external: true }))
  }
}

export const build = async () => {
  const esbuild = await import("esbuild")
  const sources = sourceStamp(ROOT)
  fs.rmSync(OUT, { recursive: true, force: true })
  const common = {
    absWorkingDir: ROOT,
    outdir: OUT,
    bundle: true,
    platform: /** @type {const} */ ("node"),
    target: "node22",
    sourcemap: true,
    // Whitespace and syntax only (identifiers keep their names): about a third less to read and
    // decode on every start; stack traces map back through the source maps.
    minifyWhitespace: true,
    minifySyntax: true,
    // Optional or native packages load from node_modules when (and if) a command needs them.
    external: ["onnxruntime-node", "playwright-core", "fsevents", "canvas"],
    logLevel: /** @type {const} */ ("warning")
  }
  const esm = {
    ...common,
    splitting: true,
    format: /** @type {const} */ ("esm"),
    // CommonJS dependencies bundled into ES modules still call require() for Node built-ins.
    banner: { js: 'import { createRequire as __llmsimRequire } from "node:module"; const require = __llmsimRequire(import.meta.url);' }
  }
  const { cli, charts, sweepWorker, computeThread, clusterClient, runner, api } = ENTRIES
  await esbuild.build({
    ...common,
    entryPoints: { [cli.name]: cli.source },
    format: "cjs",
    outExtension: { ".js": ".cjs" },
    // A script compiled by node:vm cannot import() without an experimental flag: the chart
    // libraries' module comes through require() (an ES module, loaded synchronously by Node >= 22.12).
    supported: { "dynamic-import": false },
    // Strict, as the ES modules it is made of; import.meta.url is this file's URL.
    define: { "import.meta.url": "__llmsimUrl" },
    banner: { js: '"use strict";var __llmsimUrl=require("node:url").pathToFileURL(__filename).href;' },
    plugins: [chartsApart]
  })
  await esbuild.build({
    ...esm,
    entryPoints: {
      [charts.name]: charts.source,
      [sweepWorker.name]: sweepWorker.source,
      [computeThread.name]: computeThread.source,
      [clusterClient.name]: clusterClient.source,
      [runner.name]: runner.source
    },
    chunkNames: "chunk-[hash]"
  })
  // The API builds apart: it shares no chunk with the worker.
  await esbuild.build({ ...esm, entryPoints: { [api.name]: api.source }, chunkNames: "api-chunk-[hash]" })
  const h = sha256Hasher()
  for (const f of fs.readdirSync(OUT).sort())
    h.update(f)
      .update("\0")
      .update(fs.readFileSync(path.join(OUT, f)))
  // After the id: the declarations are types only, never run.
  const tsc = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.build.json")], {
    cwd: ROOT,
    encoding: "utf8"
  })
  if (tsc.status !== 0) throw new Error(`declarations of the API (tsconfig.build.json) failed:\n${tsc.stdout}${tsc.stderr}`)
  for (const f of ["package.json", "package-lock.json"]) {
    try {
      h.update(f)
        .update("\0")
        .update(fs.readFileSync(path.join(ROOT, f)))
    } catch {
      // a package without a lockfile
    }
  }
  fs.writeFileSync(path.join(OUT, "build.json"), JSON.stringify({ id: h.digest("hex"), sources }) + "\n")
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now()
  await build()
  process.stdout.write(`llmsim: built dist/ in ${Date.now() - t0} ms\n`)
}

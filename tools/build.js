#!/usr/bin/env node
/**
 * Bundle the CLI into dist/ (npm's `prepare`, so `npm ci` builds it; `npm test` rebuilds a
 * stale one in test/setup/bundle.ts).
 *
 * Why a bundle: a run from sources loads ~500 modules (effect alone ~280, plus every TypeScript
 * file stripped at load); one bundle with lazy chunks loads a few files. esbuild (a well-kept,
 * dependency-free bundler with a JS API) splits the dynamic imports (sweep engine, charts) into
 * chunks loaded on demand. Plain JavaScript: prepare may run on an older system Node.
 *
 * Outputs: one bundle per entry of src/base/entries.js (the CLI, the llmsim.config.ts loader
 * bin/llmsim.js preloads, the sweep worker thread, the programmatic API), their chunks and
 * source maps (used with --verbose / LLMSIM_VERBOSE=1); dist/types/, the API's declarations
 * (tsconfig.build.json: TypeScript's own declaration emit), which package.json `exports` names;
 * and dist/build.json: { id, sources }, where `id` hashes every bundle output and the lockfile
 * (the code identity a command record is keyed on, src/launch/command.js) and `sources` is the
 * stamp of src/ it was built from.
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

/**
 * effect/cli builds an `Intl.Segmenter` as its CliOutput module loads (for the display width of
 * help screens and tables): V8 then lists ICU's available locales, about 8 ms of every start-up
 * (a third of `node -e 0`) that `run` never uses. The bundle builds it on first use instead,
 * keeping the statement's line count so source maps still point right; an effect release that
 * changes the statement gets a build warning and the eager original.
 */
const EAGER_SEGMENTER = /const graphemeSegmenter = \/\*#__PURE__\*\/new Intl\.Segmenter\(([^;]*?)\);/
/** @type {import("esbuild").Plugin} */
const lazySegmenter = {
  name: "lazy-intl-segmenter",
  setup(b) {
    b.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ }, (args) => {
      const text = fs.readFileSync(args.path, "utf8")
      if (!EAGER_SEGMENTER.test(text)) {
        return {
          contents: text,
          loader: "js",
          warnings: [
            { text: "effect/cli CliOutput.js no longer builds graphemeSegmenter as expected: its Intl.Segmenter is eager again (tools/build.js lazySegmenter)" }
          ]
        }
      }
      const lazy = text.replace(
        EAGER_SEGMENTER,
        (_, a) =>
          `let graphemeSegmenterMade; const graphemeSegmenter = { segment: (text) => (graphemeSegmenterMade ??= new Intl.Segmenter(${a})).segment(text) };`
      )
      return { contents: lazy, loader: "js" }
    })
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
    splitting: true,
    format: /** @type {const} */ ("esm"),
    platform: /** @type {const} */ ("node"),
    target: "node22",
    sourcemap: true,
    // Whitespace and syntax only (identifiers keep their names): about a third less to read and
    // decode on every start; stack traces map back through the source maps.
    minifyWhitespace: true,
    minifySyntax: true,
    // Optional or native packages load from node_modules when (and if) a command needs them.
    external: ["onnxruntime-node", "playwright-core", "fsevents", "canvas"],
    // CommonJS dependencies bundled into ES modules still call require() for Node built-ins.
    banner: { js: 'import { createRequire as __llmsimRequire } from "node:module"; const require = __llmsimRequire(import.meta.url);' },
    plugins: [lazySegmenter],
    logLevel: /** @type {const} */ ("warning")
  }
  // The API builds apart: sharing chunks with it would split the CLI's start-up over more files.
  const { api, ...program } = ENTRIES
  await esbuild.build({ ...common, entryPoints: Object.fromEntries(Object.values(program).map((e) => [e.name, e.source])), chunkNames: "chunk-[hash]" })
  await esbuild.build({ ...common, entryPoints: { [api.name]: api.source }, chunkNames: "api-chunk-[hash]" })
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

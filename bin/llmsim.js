#!/usr/bin/env node
// llmsim runs its TypeScript sources directly on Node >= 22.19 (type stripping). When started
// by an older system `node`, re-run on the Node pinned in devDependencies.
//
// Signals (README "Signals"): the CLI exits 128 + n when SIGINT (130), SIGTERM (143) or SIGHUP
// (129) stops it after cleaning up. The re-exec wrapper forwards those signals to its child and
// ends the way the child ended: the same status, or the same signal raised on itself.
//
// Built-ins come through process.getBuiltinModule (Node >= 20.16, 22.3), here and in the
// launcher's modules (src/launch/*.js, src/base/*.js), not through `import`: an import builds an
// ES-module facade that reads every export once, and node:fs's lazy ones (promises, ReadStream)
// then load fs/promises, streams and readline, ~3 ms of every start, a replayed one's included.
// An older system Node imports what this file needs and re-executes without trying a replay.
const builtin = process.getBuiltinModule
const { existsSync, readFileSync } = builtin?.("node:fs") ?? (await import("node:fs"))
const { fileURLToPath } = builtin?.("node:url") ?? (await import("node:url"))
const path = builtin?.("node:path") ?? (await import("node:path")).default
const module = builtin?.("node:module") ?? (await import("node:module")).default
const os = builtin?.("node:os") ?? (await import("node:os")).default

/** @type {ReadonlyArray<NodeJS.Signals>} */
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"]
const [major, minor] = process.versions.node.split(".").map(Number)
const modern = major > 22 || (major === 22 && minor >= 19)
const here = path.dirname(fileURLToPath(import.meta.url))

// The command node (src/launch/command.js, built-ins only): a command whose every input is as
// recorded is replayed here, before effect or any TypeScript loads. Any doubt falls through.
const launcher = builtin === undefined ? undefined : await import("../src/launch/command.js")
/** The Node that would evaluate: this one, or the pinned one a re-exec would start. */
const evaluatingNode = () => {
  if (modern || process.env.LLMSIM_REEXEC) return process.versions.node
  try {
    return JSON.parse(readFileSync(path.join(here, "..", "node_modules", "node", "package.json"), "utf8")).version
  } catch {
    return undefined
  }
}
const node = evaluatingNode()
/**
 * `watch` and `bench` run in a child Node with a 4 MB young generation and a 512 MB old-generation
 * limit. V8's defaults (semi-spaces growing to 16 MB, old-generation limits sized for a batch job,
 * growing ~4x past the live heap between full collections) suit neither:
 * - watch: every save allocates a few MB that die young; the watcher's RSS climbed from ~130 MB to
 *   ~185 MB over 1,000 saves with a ~30 MB live heap; with these it levels off near 125 MB at the
 *   same save-to-result time (bench/watch.bench.ts).
 * - bench: a request waiting in an overloaded queue outlives a scavenge and dies in the old
 *   generation; a 1,000,000-request trace peaked at ~380-400 MB RSS with a 30-40 MB live heap, and
 *   at ~185 MB with these flags, at the same speed (bench/serve.bench.ts).
 * V8 reads both flags only at start-up.
 */
const HEAP_FLAGS = ["watch", "bench"].includes(process.argv.slice(2).find((a) => !a.startsWith("-")) ?? "")
  ? ["--max-semi-space-size=4", "--max-old-space-size=512"]
  : []
/**
 * A replay ends as the CLI does (src/cli/main.ts): a reader that closed the pipe (`| head -1`)
 * has all it wanted, so EPIPE ends it quietly with 0; SIGINT, SIGTERM and SIGHUP end it with
 * 128 + n. The replay's own writes are synchronous, so a signal is handled between them: the
 * --out file is renamed into place whole or not at all, and no temp file is left behind.
 * Installed before the replay is tried, removed when it misses (the CLI installs its own).
 */
const replayGuards = () => {
  /** @param {NodeJS.ErrnoException} e */
  const onStdoutError = (e) => {
    if (e.code === "EPIPE") process.exit(0)
    process.stderr.write(`error: cannot write to stdout: ${e.message}\n`)
    process.exit(1)
  }
  /** stderr closed early: nothing more can be said there; stdout decides. */
  const onStderrError = () => {}
  /** @type {Array<[NodeJS.Signals, () => void]>} */
  const onSignals = FORWARDED.map((sig) => [sig, () => process.exit(128 + (os.constants.signals[sig] ?? 0))])
  process.stdout.on("error", onStdoutError)
  process.stderr.on("error", onStderrError)
  for (const [sig, f] of onSignals) process.on(sig, f)
  return () => {
    process.stdout.removeListener("error", onStdoutError)
    process.stderr.removeListener("error", onStderrError)
    for (const [sig, f] of onSignals) process.removeListener(sig, f)
  }
}
const removeReplayGuards = replayGuards()
// A re-executed child skips the replay: its parent has just tried the same key.
const replayed =
  node !== undefined &&
  launcher !== undefined &&
  !process.env.LLMSIM_REEXEC &&
  launcher.tryReplay({ args: process.argv.slice(2), cwd: process.cwd(), env: process.env, node, stdout: process.stdout, stderr: process.stderr })
if (!replayed) removeReplayGuards()
if (replayed) {
  process.exitCode = 0
  // One more turn of the event loop: a signal that came during the replay (its work is
  // synchronous) is answered with 128 + n, as the CLI would, instead of being dropped at exit.
  setImmediate(() => {})
} else if ((!modern || HEAP_FLAGS.length > 0) && !process.env.LLMSIM_REEXEC) {
  const pinned = modern ? process.execPath : path.join(here, "..", "node_modules", "node", "bin", "node")
  if (!existsSync(pinned)) {
    process.stderr.write(`llmsim needs Node >= 22.19 (found ${process.versions.node}); run npm ci\n`)
    process.exit(1)
  }
  // spawn, not spawnSync: the parent must stay responsive to forward signals while it waits.
  // Imported here: node:child_process takes ~2.5 ms to load, which no other path needs.
  const { spawn } = await import("node:child_process")
  // The IPC channel is how the child learns that this process is gone (SIGKILL cannot be
  // forwarded): it closes, and the child stops itself (below).
  const child = spawn(pinned, [...HEAP_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, LLMSIM_REEXEC: "1" }
  })
  // A terminal's Ctrl-C reaches the whole process group (child included); forwarding again is
  // harmless, as the child's handler only interrupts once.
  /** @param {NodeJS.Signals} sig */
  const forward = (sig) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig)
  }
  for (const sig of FORWARDED) process.on(sig, forward(sig))
  child.on("error", (e) => {
    process.stderr.write(`error: cannot start ${pinned}: ${e.message}\n`)
    process.exit(1)
  })
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      // Die of the same signal (the shell then sees 128 + n); the fallback covers a signal whose
      // default action does not end the process.
      for (const sig of FORWARDED) process.removeAllListeners(sig)
      process.kill(process.pid, signal)
      process.exit(128 + (os.constants.signals[signal] ?? 0))
    }
    process.exit(code ?? 1)
  })
} else {
  // Re-executed by the wrapper above: when the wrapper dies without forwarding a signal (SIGKILL),
  // the IPC channel closes; stop as on SIGTERM instead of running on as an orphan.
  if (process.env.LLMSIM_REEXEC && process.channel) {
    process.on("disconnect", () => process.kill(process.pid, "SIGTERM"))
    process.channel.unref()
  }
  // effect's NodeRuntime.runMain interrupts the main fiber on SIGINT and SIGTERM and exits 130
  // for any interruption; remember which signal came so SIGTERM ends with 143 (128 + 15).
  /** @type {"SIGINT" | "SIGTERM" | "SIGHUP" | undefined} */
  let signal
  // Before main.ts has started the runtime (and after it ended) this is the only listener:
  // there is nothing to clean up, so exit with the same 128 + n at once.
  /** @type {Partial<Record<NodeJS.Signals, () => void>>} */
  const ours = {}
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    ours[sig] = () => {
      signal = sig
      if (process.listenerCount(sig) === 1) process.exit(128 + os.constants.signals[sig])
    }
    process.prependListener(sig, ours[sig])
  }
  // SIGHUP (the terminal went away) stops a command as SIGTERM does: the runtime interrupts it
  // and it cleans up (temp files beside --points, the sweep's temp pack), then ends with 129.
  process.on("SIGHUP", () => {
    signal = "SIGHUP"
    const others = process.listeners("SIGTERM").filter((l) => l !== ours.SIGTERM)
    if (others.length === 0) process.exit(128 + os.constants.signals.SIGHUP)
    for (const l of others) /** @type {(s: NodeJS.Signals) => void} */ (l)("SIGTERM")
  })
  process.on("exit", (code) => {
    if (code === 130 && signal !== undefined) process.exitCode = 128 + os.constants.signals[signal]
  })
  // Reuse V8 code (and stripped TypeScript) across runs: start-up dominates a cached run.
  module.enableCompileCache?.()
  // The bundle npm ci built (tools/build.js), with a code cache of its own (src/launch/codeCache.js),
  // else the TypeScript sources (LLMSIM_FROM_SOURCE=1, or no dist/). Stack traces (--verbose)
  // map back to the sources through its source maps.
  const { bundleId } = await import("../src/launch/command.js")
  const { ENTRIES, entryUrl } = await import("../src/base/entries.js")
  const id = bundleId()
  if (id !== undefined && (process.argv.includes("--verbose") || process.env.LLMSIM_VERBOSE)) process.setSourceMapsEnabled(true)
  const args = process.argv.slice(2)
  /** @type {{ start: (cwd: string, args: ReadonlyArray<string>) => Promise<void> }} */
  const cli =
    id === undefined
      ? await import(entryUrl(ENTRIES.cli, false).href)
      : /** @type {{ start: (cwd: string, args: ReadonlyArray<string>) => Promise<void> }} */ (
          (await import("../src/launch/codeCache.js")).loadBundle(fileURLToPath(entryUrl(ENTRIES.cli, true)), id, args)
        )
  await cli.start(process.cwd(), args)
}

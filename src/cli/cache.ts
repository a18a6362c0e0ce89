/**
 * `llmsim cache stats | verify | gc`: inspect, check and trim the result store.
 *
 * Each first checks that the folder is a store: a mistyped --cache-dir is an error, not an
 * empty store that passes `verify` vacuously. Each reports what it did, including what it could
 * not do (a removal refused by a read-only store is an error, exit 1).
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../config/errors.ts"
import { appLayer } from "../app/services.ts"
import { collectGarbage, parseAge, parseSize, storeProblem, storeStats } from "../graph/maintenance.ts"
import { Store } from "../graph/store.ts"
import { verifyStore } from "../graph/verify.ts"
import { mega } from "../base/format.ts"
import { NODE_TYPES } from "../app/nodeTypes.ts"
import { exitCode, writeStderr, writeStdout } from "./output.ts"
import { CONFIG_LOAD_TIMEOUT_MS, startConfigLoad } from "../config/configWorker.ts"

const cacheDirFlag = Flag.String("cache-dir").pipe(Flag.withDescription("Result store folder"), Flag.optional)
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Machine-readable output"), Flag.withDefault(false))

/** The store folder, resolved by the app's Store layer like every other command's; it must be a store. */
const cacheDirOf = (flag: Option.Option<string>) =>
  Effect.map(Store, (store) => store.dir!).pipe(
    Effect.provide(appLayer({ cwd: process.cwd(), ...(Option.isSome(flag) ? { cacheDir: flag.value } : {}), noCache: false })),
    Effect.flatMap((dir) => {
      const problem = storeProblem(dir)
      return problem === undefined ? Effect.succeed(dir) : Effect.fail(new UsageError({ message: problem }))
    })
  )

/** A stored project config's file loaded again, without the store (`cache verify`). */
const reloadConfig = (file: string) =>
  Effect.promise(() => startConfigLoad(file, CONFIG_LOAD_TIMEOUT_MS, undefined).outcome).pipe(
    Effect.map((o) => (o.ok ? { value: o.value } : { error: o.message }))
  )

const stats = Command.make(
  "stats",
  { cacheDir: cacheDirFlag, json: jsonFlag },
  Effect.fn(function* (a) {
    const s = storeStats(yield* cacheDirOf(a.cacheDir))
    if (a.json) return yield* writeStdout(JSON.stringify(s, null, 2) + "\n")
    const kinds = Object.entries(s.by_kind)
      .sort()
      .map(([k, v]) => `  ${k.padEnd(10)} ${String(v.entries).padStart(7)} entries  ${mega(v.bytes)} MB`)
    yield* writeStdout(
      [
        `store ${s.dir}`,
        `${s.entries} entries, ${mega(s.total_bytes)} MB${s.unreadable ? `, ${s.unreadable} unreadable` : ""}`,
        ...kinds,
        `last used: oldest ${s.oldest_use ?? "-"}, newest ${s.newest_use ?? "-"}`,
        ...(s.remote === null
          ? []
          : [
              `remote ${s.remote.url}: ${s.remote.hits} hits, ${s.remote.misses} misses, ${s.remote.rejected} rejected, ${s.remote.uploads} uploaded, ${s.remote.errors} failed requests (all runs)`
            ])
      ].join("\n") + "\n"
    )
  })
).pipe(Command.withDescription("Entries, bytes and kinds in the result store"))

const verify = Command.make(
  "verify",
  {
    cacheDir: cacheDirFlag,
    json: jsonFlag,
    repair: Flag.Boolean("repair").pipe(
      Flag.withDescription(
        "Remove mismatching (poisoned) and corrupt entries, forged command records and sweep packs, and the records built from them; the next run recomputes them"
      ),
      Flag.withDefault(false)
    ),
    sample: Flag.Int("sample").pipe(
      Flag.withDescription(
        "Run again at most N command records and recompute at most N points per sweep pack, chosen at random (default: all of them; 0: none, checksums only)"
      ),
      Flag.filter(
        (n) => n >= 0,
        (n) => `--sample must be >= 0, got ${n}`
      ),
      Flag.optional
    )
  },
  Effect.fn(function* (a) {
    const dir = yield* cacheDirOf(a.cacheDir)
    const { reexecutePack } = yield* Effect.promise(() => import("../sweep/verifyPack.ts"))
    const r = yield* verifyStore(dir, NODE_TYPES, {
      repair: a.repair,
      packs: reexecutePack,
      configs: reloadConfig,
      ...(Option.isSome(a.sample) ? { sample: a.sample.value } : {})
    })
    const mismatches = r.problems.length
    if (a.json) yield* writeStdout(JSON.stringify(r, null, 2) + "\n")
    else {
      const c = r.commands
      const p = r.packs
      yield* writeStdout(
        [
          `${r.checked} entries checked, ${r.recomputed} recomputed, ${r.stale} stale (other code or toolchain versions, unknown kinds), ${r.corrupt} corrupt (${r.corrupt_removed === r.corrupt ? "removed" : `${r.corrupt_removed} removed`}), ${mismatches} problems`,
          `re-executed${r.sample === null ? "" : ` (a random sample of at most ${r.sample})`}: ${c.reexecuted} of ${c.total} command records (${c.stale} stale, ${c.dropped} dropped: built from a removed entry), ${p.recomputed} of ${p.points} sweep points in ${p.total} packs (${p.stale} stale packs), ${r.configs.reloaded} of ${r.configs.total} stored project configs (${r.configs.stale} stale)`,
          ...r.problems.map((q) => `MISMATCH ${q.kind} ${q.id} ${q.key.slice(0, 16)}: ${q.problem}`),
          ...(a.repair ? [`repair: removed ${r.removed} mismatching and ${r.corrupt_removed} corrupt entries`] : [])
        ].join("\n") + "\n"
      )
    }
    if (r.not_removed > 0) {
      return yield* Effect.fail(
        new UsageError({
          message: `cache verify could not remove ${r.not_removed} bad entries from ${dir} (${r.not_removed_reason}); they are still in the store`
        })
      )
    }
    if (mismatches > 0 && !a.repair) {
      return yield* Effect.fail(
        new UsageError({
          message: `cache verify found ${mismatches} mismatching entries (nondeterminism, or a poisoned entry, command record or sweep pack) that runs would serve; run \`llmsim cache verify --repair\` to remove them`
        })
      )
    }
  })
).pipe(
  Command.withDescription("Recompute stored entries, run command records and sweep packs again, and report mismatches (exit 1 on any); --repair removes them")
)

const gc = Command.make(
  "gc",
  {
    cacheDir: cacheDirFlag,
    maxSize: Flag.String("max-size").pipe(Flag.withDescription("Keep at most this much, most recently used first (e.g. 500MB, 2GiB)"), Flag.optional),
    maxAge: Flag.String("max-age").pipe(Flag.withDescription("Remove entries unused for longer (e.g. 7d, 12h)"), Flag.optional)
  },
  Effect.fn(function* (a) {
    const maxSizeBytes = Option.isSome(a.maxSize) ? parseSize(a.maxSize.value) : undefined
    const maxAgeMs = Option.isSome(a.maxAge) ? parseAge(a.maxAge.value) : undefined
    if (Option.isSome(a.maxSize) && maxSizeBytes === undefined)
      return yield* Effect.fail(new UsageError({ message: `--max-size: expected a size like 500MB or 2GiB, got "${a.maxSize.value}"` }))
    if (Option.isSome(a.maxAge) && maxAgeMs === undefined)
      return yield* Effect.fail(new UsageError({ message: `--max-age: expected an age like 7d, 12h or 30m, got "${a.maxAge.value}"` }))
    if (maxSizeBytes === undefined && maxAgeMs === undefined)
      return yield* Effect.fail(new UsageError({ message: "cache gc needs --max-size and/or --max-age" }))
    const dir = yield* cacheDirOf(a.cacheDir)
    const r = collectGarbage(dir, { ...(maxSizeBytes === undefined ? {} : { maxSizeBytes }), ...(maxAgeMs === undefined ? {} : { maxAgeMs }) })
    const failed = r.failed > 0 ? ` (${r.failed} of them could not be removed)` : ""
    yield* writeStdout(
      `removed ${r.removed} entries (${mega(r.removed_bytes)} MB), kept ${r.kept}${failed} (${mega(r.kept_bytes)} MB), ${r.temp_removed} stale temp files\n`
    )
    if (r.failed > 0) {
      yield* writeStderr(`error: cache gc could not remove ${r.failed} entries from ${dir} (${r.failed_reason}); they are counted as kept\n`)
      yield* exitCode(1)
    }
  })
).pipe(Command.withDescription("Evict entries by last use and total size"))

export const cacheCommand = Command.make("cache").pipe(
  Command.withDescription("Inspect, verify and trim the result store"),
  Command.withSubcommands([stats, verify, gc])
)

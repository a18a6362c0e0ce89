/**
 * `llmsim cache stats | verify | gc`: inspect, check and trim the result store.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../config/errors.ts"
import { appLayer } from "../app/services.ts"
import { collectGarbage, parseAge, parseSize, storeStats } from "../graph/maintenance.ts"
import { Store } from "../graph/store.ts"
import { verifyStore } from "../graph/verify.ts"
import { mega } from "../report/format.ts"
// Loaded for their node types: verify recomputes an entry through its kind's registered type.
import "../config/load.ts"
import "../sim/plan.ts"
import { writeStdout } from "./output.ts"

const cacheDirFlag = Flag.String("cache-dir").pipe(Flag.withDescription("Result store folder"), Flag.optional)
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Machine-readable output"), Flag.withDefault(false))

/** The store folder, resolved by the app's Store layer like every other command's. */
const cacheDirOf = (flag: Option.Option<string>) =>
  Effect.map(Store, (store) => store.dir!).pipe(
    Effect.provide(appLayer({ cwd: process.cwd(), ...(Option.isSome(flag) ? { cacheDir: flag.value } : {}), noCache: false }))
  )

const stats = Command.make("stats", { cacheDir: cacheDirFlag, json: jsonFlag }, Effect.fn(function*(a) {
  const s = storeStats(yield* cacheDirOf(a.cacheDir))
  if (a.json) return yield* writeStdout(JSON.stringify(s, null, 2) + "\n")
  const kinds = Object.entries(s.by_kind).sort().map(([k, v]) => `  ${k.padEnd(10)} ${String(v.entries).padStart(7)} entries  ${mega(v.bytes)} MB`)
  yield* writeStdout([
    `store ${s.dir}`,
    `${s.entries} entries, ${mega(s.total_bytes)} MB${s.unreadable ? `, ${s.unreadable} unreadable` : ""}`,
    ...kinds,
    `last used: oldest ${s.oldest_use ?? "-"}, newest ${s.newest_use ?? "-"}`
  ].join("\n") + "\n")
})).pipe(Command.withDescription("Entries, bytes and kinds in the result store"))

const verify = Command.make("verify", { cacheDir: cacheDirFlag, json: jsonFlag }, Effect.fn(function*(a) {
  const r = yield* verifyStore(yield* cacheDirOf(a.cacheDir))
  if (a.json) yield* writeStdout(JSON.stringify(r, null, 2) + "\n")
  else {
    yield* writeStdout([
      `${r.checked} entries checked, ${r.recomputed} recomputed, ${r.stale} stale (other code or toolchain versions, unknown kinds), ${r.corrupt} corrupt (removed), ${r.problems.length} problems`,
      ...r.problems.map((p) => `MISMATCH ${p.kind} ${p.id} ${p.key.slice(0, 16)}: ${p.problem}`)
    ].join("\n") + "\n")
  }
  if (r.problems.length > 0) {
    return yield* Effect.fail(new UsageError({ message: `cache verify found ${r.problems.length} mismatching entries (nondeterminism or a poisoned entry); delete them or the store` }))
  }
})).pipe(Command.withDescription("Recompute stored entries and report mismatches (exit 1 on any)"))

const gc = Command.make("gc", {
  cacheDir: cacheDirFlag,
  maxSize: Flag.String("max-size").pipe(Flag.withDescription("Keep at most this much, most recently used first (e.g. 500MB, 2GiB)"), Flag.optional),
  maxAge: Flag.String("max-age").pipe(Flag.withDescription("Remove entries unused for longer (e.g. 7d, 12h)"), Flag.optional)
}, Effect.fn(function*(a) {
  const maxSizeBytes = Option.isSome(a.maxSize) ? parseSize(a.maxSize.value) : undefined
  const maxAgeMs = Option.isSome(a.maxAge) ? parseAge(a.maxAge.value) : undefined
  if (Option.isSome(a.maxSize) && maxSizeBytes === undefined) return yield* Effect.fail(new UsageError({ message: `--max-size: expected a size like 500MB or 2GiB, got "${a.maxSize.value}"` }))
  if (Option.isSome(a.maxAge) && maxAgeMs === undefined) return yield* Effect.fail(new UsageError({ message: `--max-age: expected an age like 7d, 12h or 30m, got "${a.maxAge.value}"` }))
  if (maxSizeBytes === undefined && maxAgeMs === undefined) return yield* Effect.fail(new UsageError({ message: "cache gc needs --max-size and/or --max-age" }))
  const r = collectGarbage(yield* cacheDirOf(a.cacheDir), { ...(maxSizeBytes === undefined ? {} : { maxSizeBytes }), ...(maxAgeMs === undefined ? {} : { maxAgeMs }) })
  yield* writeStdout(`removed ${r.removed} entries (${mega(r.removed_bytes)} MB), kept ${r.kept} (${mega(r.kept_bytes)} MB), ${r.temp_removed} stale temp files\n`)
})).pipe(Command.withDescription("Evict entries by last use and total size"))

export const cacheCommand = Command.make("cache").pipe(
  Command.withDescription("Inspect, verify and trim the result store"),
  Command.withSubcommands([stats, verify, gc])
)

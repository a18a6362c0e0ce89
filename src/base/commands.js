/**
 * Every `llmsim` subcommand, and whether a recorded run of it may be replayed (src/launch):
 * a command is replayable when its output is a function of the files it reads (no clock, no
 * network, no git, no terminal interaction). The launcher reads this table before anything
 * else loads; src/cli/main.ts registers exactly these names (test/cli/commands.test.ts), so a
 * new command cannot be added without deciding.
 */

export const COMMANDS = /** @type {const} */ ({
  run: { replayable: true },
  report: { replayable: true },
  ops: { replayable: true },
  "large-ep": { replayable: true },
  afd: { replayable: true },
  // A function of its files; a run with --requests, a trace or a progress bar taints its record (src/cli/bench.ts).
  bench: { replayable: true },
  // A function of its files; --hardware all (a folder's listing) or a progress bar taints its record (src/cli/plan.ts).
  plan: { replayable: true },
  // Writes a folder of files (src/cli/export.ts).
  export: { replayable: false },
  // Streams --points, uses worker threads and has its own point cache (src/sweep/pointCache.ts).
  sweep: { replayable: false },
  // Long-running: it answers file saves.
  watch: { replayable: false },
  // Long-running: a cluster runner (docs/cluster.md).
  worker: { replayable: false },
  // Reads git revisions, which a record cannot list as files.
  diff: { replayable: false },
  validate: { replayable: false },
  calibrate: { replayable: false },
  features: { replayable: false },
  ml: { replayable: false },
  // Inspects and changes the store itself.
  cache: { replayable: false },
  schema: { replayable: false },
  list: { replayable: false },
  init: { replayable: false },
  import: { replayable: false }
})

/** The subcommands a record may replay. */
export const REPLAYABLE = new Set(
  Object.entries(COMMANDS)
    .filter(([, c]) => c.replayable)
    .map(([name]) => name)
)

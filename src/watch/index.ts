/**
 * src/watch: `llmsim watch`: what a save affects, when to evaluate, the comparison with the previous
 * result, the screen contract (reporter.ts), the live report server.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type Comparison, type PhaseComparison } from "./delta.ts"
export { type WatcherError } from "./errors.ts"
export { liveReport } from "./liveReport.ts"
export { type Activity, type Reporter, type ReporterName, type ResultActivity } from "./reporter.ts"
export { watchSession } from "./session.ts"

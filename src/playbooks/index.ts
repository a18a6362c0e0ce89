/**
 * src/playbooks: `large-ep evaluate` and `afd simulate` on a scenario: batch policies, comparisons, the
 * core result beside the deployment model's.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { type BenchOptions, type BenchOutput, runBench } from "./bench.ts"
export { EXPORT_ENGINES, type Exported, runExport } from "./export.ts"
export {
  type AfdResult,
  type AfdSweep,
  type BatchPolicy,
  type EpSweepRow,
  type LargeEpResult,
  type LargeEpSweep,
  type PlaybookRuntime,
  runAfd,
  runLargeEp
} from "./run.ts"

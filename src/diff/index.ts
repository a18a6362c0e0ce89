/**
 * src/diff: `llmsim diff`: two sides (revisions, folders, files), their config and result differences,
 * the regression gate.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { classifyArgs } from "./args.ts"
export { diffWith } from "./compare.ts"
export { type ConfigChange } from "./configDiff.ts"
export { type GitError } from "./git.ts"
export { type FitPair, type LayerDiff, type PhaseDiff, type PhaseMetric, PHASES, type Regression } from "./resultDiff.ts"
export { diffJson, type ScenarioDiff, type SideInfo } from "./types.ts"

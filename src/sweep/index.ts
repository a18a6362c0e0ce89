/**
 * src/sweep: `llmsim sweep`: axes and the point space, points through the deployment registry,
 * constraints and cost, the Pareto frontier, worker threads, point packs, shard merge.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { AXES, AXIS_KINDS, type AxisName, flagName, parseAxis } from "./axes.ts"
export { type BenchSweepResult, type BenchSweepRow, type FrontierPoint, runBenchSweep } from "./bench.ts"
export { type NeighbourReport } from "./engine.ts"
export { BENCH_OBJECTIVES, type BenchObjective, type Constraints, type Objective, OBJECTIVES, type Row } from "./judge.ts"
export { mergeShards } from "./merge.ts"
export { PLAN_MODES, type PlanMode, type PlannedDeployment, type PlanResult, runPlan } from "./plan.ts"
export { runSweepCommand, type SweepResult } from "./run.ts"
export { parseShard } from "./space.ts"
export { reexecutePack } from "./verifyPack.ts"

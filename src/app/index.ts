/**
 * src/app: the composition root: the services a command runs with (project, store, evaluator), the
 * session, the estimator, the node types.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { estimatorOf, mlModelPath } from "./estimator.ts"
export { MeasurementError } from "./mlErrors.ts"
export { NODE_TYPES } from "./nodeTypes.ts"
export { type WorkerOptions } from "./runner.ts"
export { type FromRunnerThread } from "./runnerThread.ts"
export { appLayer, Evaluator, Project, storeFor } from "./services.ts"
export {
  deferStoreWrites,
  flushStoreWrites,
  openSession,
  resolveScenarioPath,
  type RunOptions,
  type RunOutput,
  runSimulation,
  type Session,
  withSession
} from "./session.ts"

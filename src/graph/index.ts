/**
 * src/graph: the domain-free build graph: node types and keys, the evaluator, the content-addressed
 * store, explain, verify and gc.
 *
 * The folder's public surface: every name another folder imports from it, by the file that
 * defines it (tools/surfaces.ts keeps this true; importers name the file itself).
 */
export { canonicalJson, digest } from "./canonical.ts"
export { ComputeFailed, holdsShards, runnerLayer } from "./cluster.ts"
export { type Evaluated, type Evaluator, makeEvaluator, type NodeRecord } from "./evaluator.ts"
export { causeText, type ExecutionRequest, failureText, RemoteExecutionError, shownUrl, threadExecutor } from "./executor.ts"
export { loadRunSummary, renderExplain, saveRunSummary } from "./explain.ts"
export { collectGarbage, parseAge, parseSize, storeProblem, storeStats } from "./maintenance.ts"
export { defineNodeType, type GraphNode, keyMaterial, type NodeType, nodeTypesByKind, type TraceEntry } from "./node.ts"
export { remoteCache, type RemoteCache, withRemote } from "./remote.ts"
export { diskStore, noStore, Store, type StoredEntry, type StoreShape } from "./store.ts"
export { CurrentToolchain, toolchainFingerprint } from "./toolchain.ts"
export { type PackCheck, verifyStore } from "./verify.ts"

/**
 * Every node type of the build graph, in one explicit list: what `cache verify` recomputes an
 * entry through (src/graph/verify.ts) and what docs/caching.md documents per kind
 * (test/graph/docs.test.ts).
 */
import { FileNode } from "../config/load.ts"
import type { NodeType } from "../graph/node.ts"
import { CapacityNode } from "../sim/capacityNode.ts"
import { LayerNode, OpNode, ScenarioNode } from "../sim/plan.ts"

export const NODE_TYPES: ReadonlyArray<NodeType> = [FileNode, OpNode, LayerNode, ScenarioNode, CapacityNode]

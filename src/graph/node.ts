/**
 * Build-graph node types and nodes (domain-free).
 *
 * A node TYPE (Skyframe's SkyFunction, a Salsa query) is defined once with `defineNodeType`:
 * its kind, the version of the code that computes it, and a computation from the node's params
 * and its dependencies' outputs. Tools that work on every kind (`cache verify`) take the list of
 * types explicitly (src/app/nodeTypes.ts lists the domain's), never from modules loaded for
 * their side effects. A NODE is an instance: type, stable id, name, params, deps, and
 * free-form `attributes` (shown in traces, never interpreted here and never part of a key).
 *
 * A node's key is SHA-256 over the canonical JSON of its key material:
 *
 *   { v: KEY_FORMAT_VERSION, kind, name, code: <version of the code that computes it>,
 *     params: <its own decoded parameters>, deps: [<output digest of each dependency>],
 *     toolchain: <llmsim, Node and dependency versions> }
 *
 * Keying on dependency OUTPUT digests (not their keys) gives early cutoff: a dependency that
 * recomputes to the same value leaves its dependants' keys unchanged (Salsa's backdating,
 * Shake/Bazel early cutoff). The node `id` is a stable identity across runs (it is not hashed);
 * it is what `--explain` uses to compare a node with its previous run.
 */
import type { Effect } from "effect"
import type { RemoteExecutionError } from "./executor.ts"
import type { Toolchain } from "./toolchain.ts"

/** Bump when the key material's layout or meaning changes (invalidates every entry). */
export const KEY_FORMAT_VERSION = 2

export interface NodeType<P = any, A = any, E = any, D = any, I = any> {
  readonly kind: string
  /** Version of the code computing this kind (see docs/caching.md); a function of the params
   *  when it differs per instance (an op's formula version depends on the op kind). */
  readonly code: string | ((params: P) => string)
  /** Pure computation from the params, the dependencies' outputs (in `deps` order) and, for
   *  types that read one, the node's `input`. */
  // A method (bivariant parameters), so a type with typed deps fits a list of every type.
  compute(params: P, deps: ReadonlyArray<D>, input: I): Effect.Effect<A, E>
  /** True when `compute` reads the node's `input` (a value not stored with the entry, such as
   *  a file's text, whose digest the params carry): `cache verify` cannot recompute these. */
  readonly readsInput: boolean
  /**
   * False for a cheap root whose output is a re-arrangement of its dependencies' (a scenario
   * roll-up: O(layers) sums over layer summaries): computed from them on every evaluation, never
   * written to or read from the store, and its output digest is computed only if asked for.
   * Storing it repeated every layer's breakdown per instance (91% of a store, 500 KB per run).
   */
  readonly stored: boolean
  /**
   * True when another process may compute it (src/graph/executor.ts): the node has no
   * dependencies and reads no input, and its error type includes RemoteExecutionError.
   */
  readonly remote: boolean
}

/** What a node type's `make` takes: a node without its type. */
interface NodeInit<P, D, I> {
  /** Stable identity across runs (not hashed). */
  readonly id: string
  readonly name: string
  /** JSON-able parameters: exactly what `compute` reads besides its dependencies. */
  readonly params: P
  readonly deps: ReadonlyArray<GraphNode<D, any>>
  /** Free-form labels copied into trace entries (layer_type, category ...). */
  readonly attributes?: Readonly<Record<string, string>>
  /** Value `compute` reads that is not part of the key itself (see NodeType.readsInput). */
  readonly input?: I
}

export interface GraphNode<A = unknown, E = never> extends NodeInit<unknown, any, unknown> {
  readonly type: NodeType<any, A, E, any, any>
}

export interface DefinedNodeType<P, A, E, D, I> extends NodeType<P, A, E, D, I> {
  /** Typed constructor of a node of this type. */
  readonly make: (init: NodeInit<P, D, I>) => GraphNode<A, E>
}

/** Trace entry fields the core owns; attributes may not shadow them. */
const RESERVED = new Set(["id", "kind", "name", "key", "status"])

/** Define a node type and return it with its typed constructor. */
export const defineNodeType = <P, A, E = never, D = never, I = undefined>(spec: {
  readonly kind: string
  readonly code: string | ((params: P) => string)
  readonly compute: (params: P, deps: ReadonlyArray<D>, input: I) => Effect.Effect<A, E>
  readonly readsInput?: boolean
  readonly stored?: boolean
  /** Only a type whose errors include RemoteExecutionError may say true (see NodeType.remote). */
  readonly remote?: RemoteExecutionError extends E ? boolean : false
}): DefinedNodeType<P, A, E, D, I> => {
  const type: NodeType<P, A, E, D, I> = {
    kind: spec.kind,
    code: spec.code,
    compute: spec.compute,
    readsInput: spec.readsInput ?? false,
    stored: spec.stored ?? true,
    remote: spec.remote ?? false
  }
  const make = (init: NodeInit<P, D, I>): GraphNode<A, E> => {
    if (type.remote && init.deps.length > 0) throw new Error(`node ${init.id}: a remote node type has no dependencies`)
    for (const k of Object.keys(init.attributes ?? {})) {
      if (RESERVED.has(k)) throw new Error(`node ${init.id}: attribute "${k}" would shadow a trace field`)
    }
    return { type, ...init }
  }
  return { ...type, make }
}

/** Node types by kind; two types of one kind are a defect. */
export const nodeTypesByKind = (types: ReadonlyArray<NodeType>): ReadonlyMap<string, NodeType> => {
  const out = new Map<string, NodeType>()
  for (const t of types) {
    if (out.has(t.kind)) throw new Error(`node type "${t.kind}" is defined twice`)
    out.set(t.kind, t)
  }
  return out
}

/** The code version of a node of `type` with `params`. */
export const codeOf = (type: NodeType, params: unknown): string => (typeof type.code === "string" ? type.code : type.code(params))

export interface KeyMaterial {
  readonly v: number
  readonly kind: string
  readonly name: string
  readonly code: string
  readonly params: unknown
  readonly deps: ReadonlyArray<string>
  readonly toolchain: Toolchain
}

/** Key material of a node whose dependencies produced outputs with `depDigests`. */
export const keyMaterial = (node: GraphNode<any, any>, depDigests: ReadonlyArray<string>, toolchain: Toolchain): KeyMaterial => ({
  v: KEY_FORMAT_VERSION,
  kind: node.type.kind,
  name: node.name,
  code: codeOf(node.type, node.params),
  params: node.params,
  deps: depDigests,
  toolchain
})

/** `derived`: an unstored node (NodeType.stored false), recomputed from its dependencies every time. */
type NodeStatus = "computed" | "replayed" | "derived"

/** One node of a trace: the core fields plus the node's attributes, spread flat. */
export interface TraceEntry {
  readonly id: string
  readonly kind: string
  readonly name: string
  readonly key: string
  readonly status: NodeStatus
  readonly [attribute: string]: string
}

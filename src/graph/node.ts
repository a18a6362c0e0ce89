/**
 * Build-graph nodes.
 *
 * A node's key is SHA-256 over the canonical JSON of its key material:
 *
 *   { v: KEY_FORMAT_VERSION, kind, name, code: <version of the code that computes it>,
 *     params: <its own decoded parameters>, deps: [<output digest of each dependency>] }
 *
 * Keying on dependency OUTPUT digests (not their keys) gives early cutoff: a dependency that
 * recomputes to the same value leaves its dependants' keys unchanged (Salsa's backdating,
 * Shake/Bazel early cutoff). The node `id` is a stable identity across runs (it is not hashed);
 * it is what `--explain` uses to compare a node with its previous run.
 */
import type { Effect } from "effect"

export const KEY_FORMAT_VERSION = 1

export type NodeKind = "file" | "op" | "layer" | "scenario"

export interface GraphNode<A = unknown, E = never> {
  readonly id: string
  readonly kind: NodeKind
  readonly name: string
  readonly layer_type?: string
  readonly category?: string
  /** Version of the code computing this node (see docs/caching.md). */
  readonly code: string
  /** JSON-able parameters: exactly what `compute` reads besides its dependencies. */
  readonly params: unknown
  readonly deps: ReadonlyArray<GraphNode<any, any>>
  /** Pure computation from the dependencies' outputs (in `deps` order). */
  readonly compute: (deps: ReadonlyArray<any>) => Effect.Effect<A, E>
}

export interface KeyMaterial {
  readonly v: number
  readonly kind: NodeKind
  readonly name: string
  readonly code: string
  readonly params: unknown
  readonly deps: ReadonlyArray<string>
}

export type NodeStatus = "computed" | "replayed"

export interface TraceEntry {
  readonly id: string
  readonly kind: NodeKind
  readonly name: string
  readonly layer_type?: string
  readonly category?: string
  readonly key: string
  readonly status: NodeStatus
}

/**
 * Both sides of a diff go through ONE evaluator, so a node whose key is equal on both sides is
 * computed once and replayed for the other side (the evaluator's L1 is keyed by content, not
 * by id). Node ids, though, name a position (`op:decode/1.moe_layer/...`) and are the same on
 * both sides, and the trace keeps one entry per id. This view prefixes every id reached from a
 * node with the side's name (`a:` / `b:`), so the trace shows each side's nodes separately.
 * Ids are not part of keys, so prefixing changes no result.
 */
import type { Effect } from "effect"
import type { Evaluated, Evaluator } from "../graph/evaluator.ts"
import type { GraphNode } from "../graph/node.ts"

const prefixNode = <A, E>(node: GraphNode<A, E>, prefix: string, seen: WeakMap<GraphNode<any, any>, GraphNode<any, any>>): GraphNode<A, E> => {
  const known = seen.get(node)
  if (known) return known as GraphNode<A, E>
  const copy: GraphNode<A, E> = { ...node, id: `${prefix}${node.id}`, deps: node.deps.map((d) => prefixNode(d, prefix, seen)) }
  seen.set(node, copy)
  return copy
}

export const prefixedEvaluator = (base: Evaluator, prefix: string): Evaluator => ({
  evaluate: <A, E>(node: GraphNode<A, E>): Effect.Effect<Evaluated<A>, E> => base.evaluate(prefixNode(node, prefix, new WeakMap())),
  trace: base.trace,
  materials: base.materials,
  commit: base.commit
})

import { Schema } from "effect"

/** A node's computation failed (a programming error surfaced with the node id). */
export class NodeError extends Schema.TaggedError<NodeError>()("NodeError", {
  node: Schema.String,
  message: Schema.String
}) {}

/** Errors of the accuracy commands a user can act on. */
import { Schema } from "effect"

/** The reference folder or one of its files is missing or unreadable. */
export class ReferenceDataError extends Schema.TaggedError<ReferenceDataError>()("ReferenceDataError", {
  message: Schema.String
}) {}

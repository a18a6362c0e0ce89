/** Errors of the ML estimator's inputs a user can fix: the model file, a measurement or aligned CSV. */
import { Schema } from "effect"

/** A model file that is missing, unreadable, corrupt or for another feature schema; the message names the file. */
export class ModelFileError extends Schema.TaggedError<ModelFileError>()("ModelFileError", {
  message: Schema.String
}) {}

/** A measurement or aligned CSV that cannot be used (missing column, bad number, no rows); file and line in the message. */
export class MeasurementError extends Schema.TaggedError<MeasurementError>()("MeasurementError", {
  message: Schema.String
}) {}

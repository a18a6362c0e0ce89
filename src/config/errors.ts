/**
 * Errors a user can fix: a config file that does not parse or decode, a missing file, a bad
 * command-line value. Each carries file:line:col and the field path so the message points at
 * the exact spot.
 */
import { Schema } from "effect"

export const Issue = Schema.Struct({
  file: Schema.String,
  line: Schema.Number,
  col: Schema.Number,
  /** Dotted field path inside the file, e.g. `layers.1.repeat`; empty for the whole file. */
  path: Schema.String,
  message: Schema.String
})
export type Issue = typeof Issue.Type

export const formatIssue = (i: Issue): string => `${i.file}:${i.line}:${i.col}${i.path === "" ? "" : ` ${i.path}`}: ${i.message}`

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  issues: Schema.Array(Issue)
}) {
  override get message(): string {
    return this.issues.map(formatIssue).join("\n")
  }
}

/** A command-line value that cannot be used (after the CLI parser accepted its syntax). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

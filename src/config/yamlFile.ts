/**
 * YAML text -> decoded value, with positions for every error.
 *
 * Gotchas handled here:
 * - `yaml` returns partial data even when the document has errors, so errors are checked first.
 * - YAML 1.2 core schema is pinned (no `yes` -> true, no octal `017`), merge keys off.
 * - Schema issues carry a path; we map it back to the YAML node to get line:col. A missing
 *   key points at its parent mapping.
 */
import { Schema, SchemaIssue } from "effect"
import { isMap, LineCounter, parseDocument, type Document } from "yaml"
import { ConfigError, type Issue } from "./errors.ts"

const PARSE_OPTIONS = { version: "1.2", merge: false, uniqueKeys: true, prettyErrors: false } as const

const pathText = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join(".")

/** Position of the deepest YAML node that exists along `path`. */
const positionOf = (doc: Document, lc: LineCounter, path: ReadonlyArray<PropertyKey>): { line: number; col: number } => {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as Array<unknown>, true)
    const range = (node as { range?: [number, number, number] } | undefined)?.range
    if (range) {
      // For a scalar under a key, the value position is the useful one; for a missing key, the parent.
      const pos = lc.linePos(range[0])
      return { line: pos.line, col: pos.col }
    }
  }
  return { line: 1, col: 1 }
}

/** A friendlier message for a failed union of tagged structs (e.g. unknown attention `type`). */
const unionHint = (doc: Document, path: ReadonlyArray<PropertyKey>, message: string): { path: ReadonlyArray<PropertyKey>; message: string } => {
  if (!message.startsWith("Expected {")) return { path, message }
  const node = doc.getIn(path as Array<unknown>, true)
  if (isMap(node) && node.has("type")) {
    const types = [...message.matchAll(/"type": ("[^"]+"(?: \| "[^"]+")*)/g)].map((m) => m[1]).join(" | ")
    const value = node.get("type")
    return { path: [...path, "type"], message: `Expected ${types || "a known type"}, got ${JSON.stringify(value)}` }
  }
  return { path, message: "Expected a mapping with a known `type`" }
}

export interface ParsedYaml {
  readonly doc: Document
  readonly lineCounter: LineCounter
  readonly value: unknown
}

/** Parse YAML text; syntax errors become a ConfigError with positions. */
export const parseYaml = (text: string, file: string): ParsedYaml | ConfigError => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter })
  if (doc.errors.length > 0) {
    return new ConfigError({
      issues: doc.errors.map((e): Issue => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0])
        return { file, line: pos.line, col: pos.col, path: "", message: e.message.split("\n")[0] }
      })
    })
  }
  return { doc, lineCounter, value: doc.toJS({ maxAliasCount: 100 }) }
}

/** Decode a parsed document with a schema: strict (unknown keys are errors), all issues reported. */
export const decodeParsed = <S extends Schema.Top>(
  schema: S,
  parsed: ParsedYaml,
  file: string
): S["Type"] | ConfigError => {
  const exit = Schema.decodeUnknownExit(schema as any)(parsed.value, { errors: "all", onExcessProperty: "error" })
  if (exit._tag === "Success") return exit.value as S["Type"]
  const failure = (exit.cause as any).reasons?.find((r: any) => r._tag === "Fail")?.error
  const issue = failure?.issue
  if (!issue) return new ConfigError({ issues: [{ file, line: 1, col: 1, path: "", message: String(exit.cause) }] })
  const formatted = SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues
  const issues = formatted.map((i): Issue => {
    const rawPath = (i.path ?? []).map((p: any) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)) as Array<PropertyKey>
    const hinted = unionHint(parsed.doc, rawPath, i.message)
    const pos = positionOf(parsed.doc, parsed.lineCounter, hinted.path)
    return { file, line: pos.line, col: pos.col, path: pathText(hinted.path), message: hinted.message }
  })
  return new ConfigError({ issues })
}

/** Parse and decode in one step. */
export const decodeYamlText = <S extends Schema.Top>(schema: S, text: string, file: string): S["Type"] | ConfigError => {
  const parsed = parseYaml(text, file)
  return parsed instanceof ConfigError ? parsed : decodeParsed(schema, parsed, file)
}

/** Line:col of a field path in a parsed document (for errors found after decoding). */
export const locate = (parsed: ParsedYaml, path: ReadonlyArray<PropertyKey>) => positionOf(parsed.doc, parsed.lineCounter, path)


/**
 * YAML text -> decoded value, with positions for every error.
 *
 * Gotchas handled here:
 * - `yaml` returns partial data even when the document has errors, so errors are checked first.
 * - YAML 1.2 core schema is pinned (no `yes` -> true, no octal `017`), merge keys off.
 * - Schema issues carry a path; we map it back to the YAML node to get line:col. A missing
 *   key points at its parent mapping.
 * - Hostile input: parsing cost grows with nodes (quadratically for keys of one mapping, as
 *   `uniqueKeys` compares each new key with every earlier one), so nodes and flow nesting are
 *   counted with the cheap lexer first and the file refused past a limit; aliases that expand
 *   too far (billion laughs) are refused by `yaml`'s `maxAliasCount` and reported, not thrown.
 * - A file that is not a config at all (`/etc/shadow`, a binary) is reported as such, never by
 *   echoing its lines as unknown keys.
 */
import { Schema, SchemaIssue } from "effect"
import { CST, isMap, isScalar, Lexer, LineCounter, parseDocument, type Document } from "yaml"
import { ConfigError, type Issue } from "./errors.ts"
import { allowedKeysAt, isOtherMemberIssue, unknownKeyHint } from "./suggest.ts"

const PARSE_OPTIONS = { version: "1.2", merge: false, uniqueKeys: true, prettyErrors: false } as const

/** Config files hold a few hundred nodes; the limits are far above any real one. */
export const MAX_YAML_NODES = 10_000
export const MAX_FLOW_DEPTH = 64
const MAX_ALIAS_COUNT = 100

/** A key shown in a message: a plain name, else a placeholder (never a line of someone's file). */
const shownKey = (k: PropertyKey): string => {
  const t = String(k)
  return /^[A-Za-z0-9_-]{1,64}$/.test(t) ? t : "<unknown key>"
}

const pathText = (path: ReadonlyArray<PropertyKey>): string => path.map(shownKey).join(".")

const NODE_TOKENS = new Set(["scalar", "single-quoted-scalar", "double-quoted-scalar", "block-scalar", "alias", "flow-map-start", "flow-seq-start"])

/** Refuse text with too many nodes or too deep flow nesting, lexing no further than the limit. */
const checkSize = (text: string): string | undefined => {
  let nodes = 0
  let depth = 0
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token)
    if (type !== null && NODE_TOKENS.has(type) && ++nodes > MAX_YAML_NODES) {
      return `more than ${MAX_YAML_NODES} YAML nodes (llmsim's limit; a config file has a few hundred)`
    }
    if (type === "flow-map-start" || type === "flow-seq-start") {
      if (++depth > MAX_FLOW_DEPTH) return `[ ] / { } nested more than ${MAX_FLOW_DEPTH} deep (llmsim's limit)`
    } else if (type === "flow-map-end" || type === "flow-seq-end") depth = Math.max(0, depth - 1)
  }
  return undefined
}

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

/** The fields that tell the members of a union of structs apart: attention `type`, a calibration entry's `status`. */
const TAGS = ["type", "status"] as const

/** A friendlier message for a failed union of tagged structs (e.g. unknown attention `type`, calibration `status`). */
const unionHint = (doc: Document, path: ReadonlyArray<PropertyKey>, message: string): { path: ReadonlyArray<PropertyKey>; message: string } => {
  if (!message.startsWith("Expected {")) return { path, message }
  const node = doc.getIn(path as Array<unknown>, true)
  const tag = TAGS.find((t) => message.includes(`"${t}": "`))
  if (tag !== undefined && isMap(node) && node.has(tag)) {
    const values = [...message.matchAll(new RegExp(`"${tag}": ("[^"]+"(?: \\| "[^"]+")*)`, "g"))].map((m) => m[1]).join(" | ")
    const value = node.get(tag)
    return { path: [...path, tag], message: `Expected ${values || `a known ${tag}`}, got ${JSON.stringify(value)}` }
  }
  return { path, message: `Expected a mapping with a known \`${tag ?? "type"}\`` }
}

export interface ParsedYaml {
  readonly doc: Document
  readonly lineCounter: LineCounter
  readonly value: unknown
}

/** Parse YAML text; syntax errors and limits become a ConfigError with positions. */
export const parseYaml = (text: string, file: string): ParsedYaml | ConfigError => {
  const whole = (message: string) => new ConfigError({ issues: [{ file, line: 1, col: 1, path: "", message }] })
  const tooBig = checkSize(text)
  if (tooBig !== undefined) return whole(tooBig)
  const lineCounter = new LineCounter()
  let doc: Document
  try {
    doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter })
  } catch (e) {
    // Within the limits above this is not expected; still a positioned error, not a crash.
    return whole(`cannot parse as YAML (${e instanceof RangeError ? "nested too deep" : "parser failure"})`)
  }
  if (doc.errors.length > 0) {
    return new ConfigError({
      issues: doc.errors.map((e): Issue => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0])
        return { file, line: pos.line, col: pos.col, path: "", message: e.message.split("\n")[0] }
      })
    })
  }
  try {
    return { doc, lineCounter, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) }
  } catch (e) {
    // `yaml` throws a ReferenceError when aliases expand past maxAliasCount (billion laughs).
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      return whole(`YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} times their size; llmsim's limit against alias bombs)`)
    }
    return whole(`cannot parse as YAML (${e instanceof RangeError ? "nested too deep" : "parser failure"})`)
  }
}

/** True when none of the document's top-level keys is a field the schema knows (the issues say
 *  every one is excess): the file is not this kind of config, whatever its lines hold. */
const notAConfig = (doc: Document, excessTopKeys: ReadonlySet<string>): boolean => {
  const top = doc.contents
  if (!isMap(top) || top.items.length === 0) return false
  return top.items.every((pair) => isScalar(pair.key) && excessTopKeys.has(String(pair.key.value)))
}

/** Decode a parsed document with a schema: strict (unknown keys are errors), all issues reported. */
export const decodeParsed = <S extends Schema.Top>(schema: S, parsed: ParsedYaml, file: string): S["Type"] | ConfigError => {
  const exit = Schema.decodeUnknownExit(schema as any)(parsed.value, { errors: "all", onExcessProperty: "error" })
  // Every number's range (finite, not denormal, at most 1e15) is the schemas' (src/schema/common.ts).
  if (exit._tag === "Success") return exit.value as S["Type"]
  const failure = (exit.cause as any).reasons?.find((r: any) => r._tag === "Fail")?.error
  const issue = failure?.issue
  if (!issue) return new ConfigError({ issues: [{ file, line: 1, col: 1, path: "", message: String(exit.cause) }] })
  const formatted = SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues
  const keyOf = (p: any) => (typeof p === "object" && p !== null && "key" in p ? p.key : p)
  const excessTop = new Set(formatted.filter((i) => (i.path ?? []).length === 1 && /excess property/.test(i.message)).map((i) => String(keyOf(i.path![0]))))
  if (notAConfig(parsed.doc, excessTop)) {
    return new ConfigError({
      issues: [{ file, line: 1, col: 1, path: "", message: "not a llmsim config file: none of its top-level keys is a known field (see configs/README.md)" }]
    })
  }
  // Issues of union members the value's own literal fields rule out (src/config/suggest.ts).
  const relevant = formatted.filter((i) => !isOtherMemberIssue(schema.ast, parsed.value, (i.path ?? []).map(keyOf), i.message))
  const issues = (relevant.length > 0 ? relevant : formatted).map((i): Issue => {
    const rawPath = (i.path ?? []).map(keyOf) as Array<PropertyKey>
    const base = rawPath.length === 0 && i.message === "Expected object" ? "Expected a mapping of fields (a llmsim config file)" : i.message
    // An unknown key with a plain name: the key meant (edit distance, Hugging Face names), src/config/suggest.ts.
    const key = rawPath[rawPath.length - 1]
    const message =
      base === "Expected no excess property" && typeof key === "string" && shownKey(key) === key
        ? base + unknownKeyHint(key, allowedKeysAt(schema.ast, parsed.value, rawPath.slice(0, -1)))
        : base
    const hinted = unionHint(parsed.doc, rawPath, message)
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

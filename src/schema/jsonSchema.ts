/**
 * JSON Schema documents for every config file kind, generated from the Effect schemas (never
 * written by hand), for editors: a YAML file whose first line is
 * `# yaml-language-server: $schema=<path>` is validated and completed while typing (VS Code's
 * redhat.vscode-yaml and other editors using yaml-language-server). `llmsim schema` writes them
 * to schema/, and a test keeps the committed files equal to a fresh generation.
 *
 * Strictness matches the decoder: unknown keys are rejected (`additionalProperties: false`), and
 * every number check, including the denormal and 1e15 limits of src/schema/common.ts, has its
 * exact JSON Schema form. What JSON Schema does not see: the cross-field rules of
 * src/config/validate.ts (KV heads dividing the query heads, d_model agreeing across files...),
 * whether a referenced file exists, and non-finite numbers (YAML `.inf`/`.nan`, which JSON
 * cannot hold; a validator that admits them as numbers is looser there).
 */
import { JsonSchema, Schema } from "effect"
import { HardwareSpec } from "./hardware.ts"
import { LayerType, templateSchemaFor } from "./layer.ts"
import { ScenarioSpec } from "./scenario.ts"

/**
 * The draft every document declares: draft-07, the one yaml-language-server (VS Code's YAML
 * extension, monaco-yaml) and JetBrains IDEs validate with (yaml-language-server issue #1112:
 * its 2019-09 / 2020-12 support was reverted). Effect generates 2020-12 and converts.
 */
const JSON_SCHEMA_DRAFT = JsonSchema.META_SCHEMA_URI_DRAFT_07

/** One config kind: the file name under schema/ and the Effect schema it is generated from. */
export interface ConfigKind {
  readonly name: string
  readonly file: string
  readonly title: string
  readonly schema: Schema.Top
}

/** Every config file kind: scenario, hardware, and one per layer template kind (LayerType). */
export const CONFIG_KINDS: ReadonlyArray<ConfigKind> = [
  { name: "scenario", file: "scenario.json", title: "llmsim scenario", schema: ScenarioSpec },
  { name: "hardware", file: "hardware.json", title: "llmsim hardware", schema: HardwareSpec },
  ...LayerType.literals.map((t): ConfigKind => ({ name: t, file: `${t}.json`, title: `llmsim layer template (${t})`, schema: templateSchemaFor(t) }))
]

/** The JSON Schema document of one config kind (draft-07, unknown keys rejected). */
const jsonSchemaOf = (kind: ConfigKind): Record<string, unknown> => {
  const doc = JsonSchema.toDocumentDraft07(Schema.toJsonSchemaDocument(kind.schema, { onExcessProperty: "error" }))
  const defs = Object.keys(doc.definitions).length > 0 ? { definitions: doc.definitions } : {}
  return { $schema: JSON_SCHEMA_DRAFT, title: kind.title, ...doc.schema, ...defs }
}

/** Every document as the text written to schema/<file> (2-space JSON, newline-terminated). */
export const jsonSchemaFiles = (): Array<{ readonly file: string; readonly text: string }> =>
  CONFIG_KINDS.map((k) => ({ file: k.file, text: `${JSON.stringify(jsonSchemaOf(k), null, 2)}\n` }))

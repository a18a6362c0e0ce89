/**
 * `llmsim schema [--out DIR]`: writes the JSON Schema of every config file kind (scenario,
 * hardware, each layer template kind) to DIR (default `schema/`, relative to the current
 * directory), generated from the Effect schemas (src/schema/jsonSchema.ts). Editors pick them up
 * through the `# yaml-language-server: $schema=...` first line of a config file.
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import * as path from "node:path"
import { jsonSchemaFiles } from "../schema/jsonSchema.ts"
import { writeFileAtomic, writeStdout } from "./output.ts"

/** Write every schema document under `dir`; the files written, in order. */
export const writeSchemas = (dir: string) =>
  Effect.gen(function* () {
    const written: Array<string> = []
    for (const f of jsonSchemaFiles()) {
      const file = path.join(dir, f.file)
      yield* writeFileAtomic(file, f.text)
      written.push(file)
    }
    return written
  })

export const schemaCommand = Command.make(
  "schema",
  {
    out: Flag.String("out").pipe(
      Flag.withDescription("Folder to write the JSON Schema files to (relative to the current directory)"),
      Flag.withDefault("schema")
    )
  },
  Effect.fn(function* (a) {
    const written = yield* writeSchemas(a.out)
    yield* writeStdout(written.map((f) => `wrote ${f}\n`).join(""))
  })
).pipe(Command.withDescription("Write JSON Schema files for the config kinds (editor validation and completion; configs/README.md)"))

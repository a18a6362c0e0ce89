/**
 * What someone who can write the store can do (docs/caching.md, "Trust"): edit a file and
 * recompute whatever makes it look intact (an entry's output digest and checksum line, a command
 * record's checksum line, a sweep pack's content-digest name). The tests use these to check that
 * `cache verify` catches each forgery, not only torn files.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { sha256 } from "../../src/base/sha256.js"
import { digest } from "../../src/graph/canonical.ts"
import { listCommandFiles, listEntryFiles, listPackFiles } from "../../src/graph/maintenance.ts"
import { entryText, parseEntryText, type StoredEntry } from "../../src/graph/store.ts"

/**
 * Rewrite the stored output of the entry with node id `id` (`op:decode/0.ffn_layer/ffn`), with
 * a valid output digest and checksum line: a run serves it as is. Returns the entry's file.
 */
export const poisonEntry = (cacheDir: string, id: string, change: (output: Record<string, unknown>) => void): string => {
  for (const f of listEntryFiles(cacheDir)) {
    const e = parseEntryText(fs.readFileSync(f.file, "utf8")) as StoredEntry & { output: Record<string, unknown> }
    if (e.id !== id) continue
    const output = structuredClone(e.output)
    change(output)
    fs.writeFileSync(f.file, entryText({ ...e, output, output_digest: digest(output) }))
    return f.file
  }
  throw new Error(`no stored entry ${id} in ${cacheDir}`)
}

/** Replace `from` by `to` in the one command record of the store, and recompute its checksum line. */
export const forgeRecord = (cacheDir: string, from: string, to: string): string => {
  const files = listCommandFiles(cacheDir)
  if (files.length !== 1) throw new Error(`expected one command record in ${cacheDir}, found ${files.length}`)
  const file = files[0]!.file
  const text = fs.readFileSync(file, "utf8")
  const rest = text.slice(65).replace(from, to)
  if (rest === text.slice(65)) throw new Error(`${from} is not in ${file}`)
  fs.writeFileSync(file, `${sha256(rest)}\n${rest}`)
  return file
}

/** Replace `from` by `to` in the one sweep pack of the store and rename it to its new SHA-256. */
export const forgePack = (cacheDir: string, from: string, to: string): string => {
  const files = listPackFiles(cacheDir)
  if (files.length !== 1) throw new Error(`expected one sweep pack in ${cacheDir}, found ${files.length}`)
  const file = files[0]!.file
  const text = fs.readFileSync(file, "utf8")
  const next = text.replace(from, to)
  if (next === text) throw new Error(`${from} is not in ${file}`)
  fs.rmSync(file)
  const renamed = path.join(path.dirname(file), `${sha256(next)}.jsonl`)
  fs.writeFileSync(renamed, next)
  return renamed
}

/**
 * Docs that show what the tool prints now. Every fenced block in README.md and docs/*.md whose
 * first line is a command (`$ llmsim ...`, optionally after `NAME=value` settings and with `\`
 * continuation lines) is run in a fresh project (a copy of configs/ and llmsim.config.ts, an
 * empty result store), and the lines after the command must be what it prints: stdout, or
 * stderr when the command ends in `> /dev/null`; a command that fails shows its stdout and then
 * its stderr (the error line), as a terminal does. Figures that change from run to run (the
 * seconds a sweep took) are compared as a placeholder.
 *
 *   node_modules/.bin/node tools/docs.ts           check; exit 1 naming each stale block
 *   node_modules/.bin/node tools/docs.ts --write   rewrite the blocks with what the tool prints
 *
 * `npm run docs` is the second; test/docs.test.ts runs the first.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { writeAtomic } from "../src/base/atomicFile.js"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(REPO, "bin", "llmsim.js")

/** A command block of a document: where it is, the command, what it shows. */
export interface DocBlock {
  readonly file: string
  /** 1-based line of the block's first command line. */
  readonly line: number
  readonly env: Readonly<Record<string, string>>
  readonly args: ReadonlyArray<string>
  /** The command as written (its lines, `$ ` included). */
  readonly command: ReadonlyArray<string>
  readonly showsStderr: boolean
  /** The lines after the command, as written. */
  readonly shown: string
  /** [start, end) line indexes of the shown lines in the file. */
  readonly range: readonly [number, number]
}

/** The documents whose command blocks are checked. */
export const documents = (): Array<string> => [
  path.join(REPO, "README.md"),
  ...fs
    .readdirSync(path.join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => path.join(REPO, "docs", f))
]

/** Every command block of `file`. */
export const blocksOf = (file: string, text = fs.readFileSync(file, "utf8")): Array<DocBlock> => {
  const lines = text.split("\n")
  const out: Array<DocBlock> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```\w*$/.test(lines[i]!) || !/^\$ (\w+=\S+ )*llmsim /.test(lines[i + 1] ?? "")) continue
    const start = i + 1
    let j = start
    const command: Array<string> = [lines[j]!]
    while (lines[j]!.endsWith("\\")) command.push(lines[++j]!)
    let end = j + 1
    while (end < lines.length && lines[end] !== "```") end++
    const words = command
      .map((l) => l.replace(/\\$/, ""))
      .join(" ")
      .replace(/^\$ /, "")
      .trim()
      .split(/\s+/)
    const env: Record<string, string> = {}
    while (/^\w+=\S+$/.test(words[0]!)) {
      const [k, ...v] = words.shift()!.split("=")
      env[k!] = v.join("=")
    }
    const showsStderr = words.at(-2) === ">" && words.at(-1) === "/dev/null"
    if (showsStderr) words.splice(-2, 2)
    words.shift() // llmsim
    out.push({ file, line: start + 1, env, args: words, command, showsStderr, shown: lines.slice(j + 1, end).join("\n"), range: [j + 1, end] })
    i = end
  }
  return out
}

/** Figures that differ between two runs of the same command, compared as placeholders. */
const VOLATILE: ReadonlyArray<readonly [RegExp, string]> = [[/\(\d+(\.\d+)? s\)/g, "(<seconds> s)"]]
const normalise = (text: string): string => VOLATILE.reduce((t, [re, to]) => t.replace(re, to), text.replace(/[ \t]+$/gm, "").trimEnd())

/** A fresh project: the shipped configs and llmsim.config.ts (its defineConfig import pointed at this installation). */
const freshProject = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-docs-"))
  fs.cpSync(path.join(REPO, "configs"), path.join(dir, "configs"), { recursive: true })
  const define = JSON.stringify(path.join(REPO, "src", "config", "define.ts"))
  fs.writeFileSync(path.join(dir, "llmsim.config.ts"), fs.readFileSync(path.join(REPO, "llmsim.config.ts"), "utf8").replace('"./src/config/define.ts"', define))
  return dir
}

/** What `llmsim ARGS` prints in a fresh project (stdout, or stderr; both when it fails), trailing blank lines aside. */
export const printed = (args: ReadonlyArray<string>, o: { readonly env?: Readonly<Record<string, string>>; readonly stderr?: boolean } = {}): string => {
  const dir = freshProject()
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", COLUMNS: "200", ...o.env },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024
    })
    if (r.error) throw r.error
    if (o.stderr) return r.stderr.trimEnd()
    return (r.status === 0 ? r.stdout : r.stdout + r.stderr).trimEnd()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** What the block's command prints now, in a fresh project. */
export const runBlock = (b: DocBlock): string => printed(b.args, { env: b.env, stderr: b.showsStderr })

/** Whether the block shows what the command prints (volatile figures aside). */
export const blockIsCurrent = (b: DocBlock, printed: string): boolean => normalise(b.shown) === normalise(printed)

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const write = process.argv.includes("--write")
  let stale = 0
  for (const file of documents()) {
    const text = fs.readFileSync(file, "utf8")
    const lines = text.split("\n")
    // Last block first, so earlier ranges stay valid while rewriting.
    for (const b of blocksOf(file, text).reverse()) {
      const printed = runBlock(b)
      if (blockIsCurrent(b, printed)) continue
      stale++
      process.stdout.write(`${path.relative(REPO, file)}:${b.line}: ${write ? "rewritten" : "stale"}: ${b.command[0]}\n`)
      if (write) lines.splice(b.range[0], b.range[1] - b.range[0], ...printed.split("\n"))
    }
    if (write) writeAtomic(file, lines.join("\n"))
  }
  process.stdout.write(stale === 0 ? "every command block shows what the tool prints\n" : write ? "" : "run npm run docs to rewrite them\n")
  process.exitCode = stale > 0 && !write ? 1 : 0
}

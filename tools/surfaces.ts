/**
 * Each folder's public surface: `src/<folder>/index.ts` re-exports exactly the names other
 * folders import from it (ARCHITECTURE.md "Folders"). Modules keep importing the file that
 * defines a name (the bundle then loads lazily what it loads lazily today); this checks that the
 * index says the truth: every name imported across folders is re-exported by the index, from the
 * file it is imported from, and every name an index re-exports is imported by another folder.
 *
 * `node tools/surfaces.ts --write` rewrites every index from the imports (keeping each index's
 * header comment); test/architecture.test.ts fails while `surfaceProblems()` finds anything.
 * Imports are read with regular expressions: the code base imports across folders with named
 * imports only (`import { a, type B } from "../x/y.ts"`), and a module loaded on demand is
 * destructured where it is imported (`const { a } = await import("../x/y.ts")`) or used as
 * `(await import("../x/y.ts")).a`: the forms read below. Importing an index.ts is refused (import
 * the file that defines the name), so an index only states the surface.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { writeAtomic } from "../src/base/atomicFile.js"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const SRC = path.join(REPO, "src")
const INDEX = "index.ts"

/** One name a module takes from another folder's file. */
interface Use {
  readonly from: string
  readonly folder: string
  /** The target file, relative to its folder (`run.ts`, `datasets/x.ts`). */
  readonly file: string
  readonly name: string
  readonly type: boolean
}

const sourceFiles = (dir: string): Array<string> =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()

const folderOf = (abs: string): string | undefined => {
  const rel = path.relative(SRC, abs).split(path.sep)
  return rel.length > 1 ? rel[0] : undefined
}

/** `a`, `type B`, `c as d` -> the imported names with their kind. */
const namesIn = (list: string, wholeType: boolean): Array<{ name: string; type: boolean }> =>
  list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const type = wholeType || s.startsWith("type ")
      const bare = s.replace(/^type\s+/, "")
      return { name: bare.split(/\s+as\s+/)[0]!.trim(), type }
    })

/** Every name each module of src/ takes from another folder. */
const crossFolderUses = (): Array<Use> => {
  const uses: Array<Use> = []
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(REPO, file)
    const own = folderOf(file)
    const text = fs.readFileSync(file, "utf8")
    const target = (spec: string): { folder: string; file: string } | undefined => {
      const abs = path.resolve(path.dirname(file), spec)
      const folder = folderOf(abs)
      if (folder === undefined || folder === own || !abs.startsWith(SRC)) return undefined
      return { folder, file: path.relative(path.join(SRC, folder), abs).split(path.sep).join("/") }
    }
    const add = (spec: string, names: Array<{ name: string; type: boolean }>) => {
      const t = target(spec)
      if (t !== undefined) for (const n of names) uses.push({ from, folder: t.folder, file: t.file, ...n })
    }
    // import { a, type B } from "..." / import type { B } from "..." / export { a } from "..."
    for (const m of text.matchAll(/\b(import|export)\s+(type\s+)?\{([^}]*)\}\s*from\s*"(\.[^"]+)"/g)) add(m[4]!, namesIn(m[3]!, m[2] !== undefined))
    // const { a, b } = await import("...") / yield* Effect.promise(() => import("..."))
    for (const m of text.matchAll(/const\s*\{([^}]*)\}\s*=[^;\n]*?import\("(\.[^"]+)"\)/g)) add(m[2]!, namesIn(m[1]!.replace(/:\s*\w+/g, ""), false))
    // (await import("...")).a
    for (const m of text.matchAll(/\(await import\("(\.[^"]+)"\)\)\.(\w+)/g)) add(m[1]!, [{ name: m[2]!, type: false }])
  }
  return uses
}

/** `name -> file` for every re-export of a folder's index.ts, or undefined without one. */
const indexExports = (folder: string): Map<string, string> | undefined => {
  const file = path.join(SRC, folder, INDEX)
  if (!fs.existsSync(file)) return undefined
  const out = new Map<string, string>()
  for (const m of fs.readFileSync(file, "utf8").matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from\s*"\.\/([^"]+)"/g)) {
    for (const n of namesIn(m[2]!, m[1] !== undefined)) out.set(n.name, m[3]!)
  }
  return out
}

const folders = (): Array<string> =>
  fs
    .readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()

/** Where the indexes and the imports disagree, one line each; empty when they agree. */
export const surfaceProblems = (): Array<string> => {
  const uses = crossFolderUses()
  const problems: Array<string> = []
  for (const folder of folders()) {
    const exported = indexExports(folder)
    if (exported === undefined) {
      problems.push(`src/${folder}/${INDEX} is missing`)
      continue
    }
    const used = new Set<string>()
    for (const u of uses.filter((x) => x.folder === folder)) {
      used.add(u.name)
      const at = exported.get(u.name)
      if (u.file === INDEX) problems.push(`${u.from} imports ${u.name} from src/${folder}/${INDEX}: import it from the file that defines it`)
      else if (at !== u.file)
        problems.push(
          `${u.from} imports ${u.name} from src/${folder}/${u.file}, which src/${folder}/${INDEX} does not re-export${at === undefined ? "" : ` (it names ${at})`}`
        )
    }
    for (const name of exported.keys()) if (!used.has(name)) problems.push(`src/${folder}/${INDEX} re-exports ${name}, which no other folder imports`)
  }
  return [...new Set(problems)]
}

/** Each folder's index.ts as the imports say it should be, keeping its header comment. */
const indexText = (folder: string, uses: ReadonlyArray<Use>): string => {
  const file = path.join(SRC, folder, INDEX)
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""
  const header = /^\/\*\*[\s\S]*?\*\/\n/.exec(old)?.[0] ?? `/** src/${folder}: the names other folders import from it. */\n`
  const byFile = new Map<string, Map<string, boolean>>()
  for (const u of uses.filter((x) => x.folder === folder)) {
    const names = byFile.get(u.file) ?? new Map<string, boolean>()
    // A name imported as a value anywhere is a value export.
    names.set(u.name, (names.get(u.name) ?? true) && u.type)
    byFile.set(u.file, names)
  }
  const lines = [...byFile.keys()].sort().map((f) => {
    const names = [...byFile.get(f)!].sort((a, b) => a[0].localeCompare(b[0])).map(([n, type]) => (type ? `type ${n}` : n))
    return `export { ${names.join(", ")} } from "./${f}"`
  })
  return header + lines.join("\n") + "\n"
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--write")) {
    const uses = crossFolderUses()
    const files = folders().map((folder) => path.join(SRC, folder, INDEX))
    for (const [i, folder] of folders().entries()) writeAtomic(files[i]!, indexText(folder, uses))
    // In the house format, so `npm run lint` (biome ci) accepts what was written.
    spawnSync(path.join(REPO, "node_modules", ".bin", "biome"), ["format", "--write", ...files], { cwd: REPO, stdio: "ignore" })
  }
  const problems = surfaceProblems()
  process.stdout.write(problems.length === 0 ? "every index.ts states its folder's surface\n" : `${problems.join("\n")}\n`)
  process.exitCode = problems.length === 0 ? 0 : 1
}

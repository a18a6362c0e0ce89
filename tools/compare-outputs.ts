/**
 * Compares what the CLI prints and writes at two revisions, byte for byte.
 *
 * Why: a mechanical refactor (moving folders, deduplicating helpers) must not change a single
 * result. Its acceptance: every shipped scenario's `run`, `large-ep evaluate`, `afd simulate`,
 * `sweep` and `validate` JSON, and the `report` HTML, are byte-identical to the commit before the
 * step; tables may differ only where identical layers are now collapsed. This script is that check.
 *
 * Run (from the repository root, after `npm ci`):
 *
 *   node_modules/.bin/node tools/compare-outputs.ts --base <git-rev> [--head <git-rev>] [--keep DIR] [--jobs N] [--only REGEX]
 *
 * - `--base REV`: the revision before the step. `--head REV`: the one after; default: this
 *   checkout's working tree, uncommitted edits included.
 * - Each revision is checked out with `git worktree add --detach` into a temp folder, with this
 *   checkout's node_modules linked in (no install), and removed at the end (also on Ctrl-C).
 * - Each side runs its own sources: `LLMSIM_FROM_SOURCE=1 node_modules/.bin/node bin/llmsim.js
 *   ...` in its folder, with `--no-cache` on every evaluating command, so nothing is replayed from
 *   a result store or command record (`validate` never uses the store).
 * - The command list comes from the shipped files: for every `configs/scenarios/*.yaml` (of either
 *   side): `run`, `large-ep evaluate` and `afd simulate` as JSON, `report --out FILE` (HTML), a small
 *   `sweep --format json` (batch x seq), and the default tables of `run` and `large-ep evaluate`;
 *   then a few sweeps covering the other axes and models (large-EP, AFD, hardware and dtype axes,
 *   constraints, objectives, `--format html`), `validate --format json` (analytic and `--estimator
 *   ml`, on data/reference), and `diff --a X --b Y` (JSON, and its table). Every scenario exits 0
 *   on all three evaluating commands today (a dense model runs `large-ep` as EP1 and `afd` with
 *   its FFN as experts); were one to fail, its exit status, stdout and stderr are still compared.
 * - Per command: exit status, stdout, stderr and the `--out` file must be equal. Two
 *   normalisations only: each side's folder and output folder are replaced by `<ROOT>` / `<OUT>`
 *   (they necessarily differ), and the sweep JSON's `stats.elapsed_ms` (a wall-clock time) is
 *   masked.
 * - One line per command: `same`, or `DIFFERS` with the first differing line of each side. JSON
 *   and HTML differences are failures (exit 1); a table difference is reported as `table differs`
 *   (informational: the acceptance allows tables to change where layers are collapsed).
 * - `--keep DIR` keeps every side's outputs (`DIR/base/<id>.stdout|.stderr|.out`, `DIR/head/...`)
 *   for a closer look (e.g. `diff -r`). `--jobs N` runs N commands at a time (default 2).
 *   `--only REGEX` keeps the commands whose id matches.
 *
 * Self-contained on purpose: it imports nothing from src/, which moves between the revisions.
 * Exit status: 0 all JSON/HTML same, 1 a JSON/HTML output differs, 2 a usage or git error.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

type Kind = "json" | "html" | "table"

interface Command {
  /** Unique, file-name safe: names the captured files. */
  readonly id: string
  readonly kind: Kind
  /** CLI arguments; `{OUT}` is replaced by the side's output file for this command. */
  readonly args: ReadonlyArray<string>
  /** The command writes its answer to `--out {OUT}` (compared instead of a mostly empty stdout). */
  readonly writesFile: boolean
  /** Mask wall-clock fields before comparing. */
  readonly maskTiming: boolean
}

interface Side {
  readonly label: "base" | "head"
  /** The revision as given, or "working tree". */
  readonly rev: string
  readonly commit: string | null
  /** Where the CLI runs: a temp worktree, or this checkout. */
  readonly root: string
  /** Captured outputs of this side. */
  readonly outDir: string
}

interface Outcome {
  readonly code: number | null
  readonly signal: string | null
  readonly ms: number
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const TIMEOUT_MS = 180_000

const usage = `usage: node_modules/.bin/node tools/compare-outputs.ts --base <git-rev> [--head <git-rev>] [--keep DIR] [--jobs N] [--only REGEX]`

const fail = (message: string): never => {
  process.stderr.write(`compare-outputs: ${message}\n`)
  process.exit(2)
}

// ---------------------------------------------------------------------------------------------
// Arguments

interface Options {
  readonly base: string
  readonly head: string | undefined
  readonly keep: string | undefined
  readonly jobs: number
  readonly only: RegExp | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Options => {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === "--help" || a === "-h") {
      process.stdout.write(`${usage}\n`)
      process.exit(0)
    }
    const eq = a.indexOf("=")
    const name = eq > 0 ? a.slice(0, eq) : a
    if (!["--base", "--head", "--keep", "--jobs", "--only"].includes(name)) fail(`unknown argument ${a}\n${usage}`)
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i]
    if (value === undefined || value === "") fail(`${name} needs a value\n${usage}`)
    values.set(name, value)
  }
  const base = values.get("--base")
  if (base === undefined) fail(`--base is required\n${usage}`)
  const jobs = Number(values.get("--jobs") ?? "2")
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) fail(`--jobs must be an integer 1 to 16`)
  const only = values.get("--only")
  return { base: base as string, head: values.get("--head"), keep: values.get("--keep"), jobs, only: only === undefined ? undefined : new RegExp(only) }
}

// ---------------------------------------------------------------------------------------------
// Git: materialise a revision

const git = (args: ReadonlyArray<string>): string => execFileSync("git", ["-C", REPO, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()

const resolveCommit = (rev: string): string => {
  try {
    return git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])
  } catch {
    return fail(`unknown revision: ${rev}`)
  }
}

/** Worktrees this run added, removed at exit. */
const added: Array<string> = []

const materialise = (commit: string, dir: string): void => {
  git(["worktree", "add", "--detach", "--quiet", dir, commit])
  added.push(dir)
  // The revision's sources with this checkout's dependencies: no network, no install.
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir")
}

let tmpRoot: string | undefined
let cleaned = false
const cleanup = (): void => {
  if (cleaned) return
  cleaned = true
  for (const dir of added.reverse()) {
    try {
      git(["worktree", "remove", "--force", dir])
    } catch {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  if (added.length > 0) {
    try {
      git(["worktree", "prune"])
    } catch {
      // nothing to prune
    }
  }
  if (tmpRoot !== undefined) fs.rmSync(tmpRoot, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// The command list

const SCENARIO_DIR = path.join("configs", "scenarios")

const scenariosOf = (root: string): ReadonlyArray<string> => {
  try {
    return fs.readdirSync(path.join(root, SCENARIO_DIR)).filter((f) => f.endsWith(".yaml"))
  } catch {
    return []
  }
}

const commandList = (sides: ReadonlyArray<Side>): ReadonlyArray<Command> => {
  const names = [...new Set(sides.flatMap((s) => scenariosOf(s.root)))].sort()
  const scenario = (name: string) => `${SCENARIO_DIR}/${name}`
  const hw = (name: string) => `configs/hardware/${name}.yaml`
  const out: Array<Command> = []
  const add = (id: string, kind: Kind, args: ReadonlyArray<string>, extra: { writesFile?: boolean; maskTiming?: boolean } = {}) =>
    out.push({ id, kind, args, writesFile: extra.writesFile ?? false, maskTiming: extra.maskTiming ?? false })

  for (const file of names) {
    const s = scenario(file)
    const base = file.replace(/\.yaml$/, "")
    add(`run.json.${base}`, "json", ["run", s, "--format", "json", "--no-cache"])
    add(`large-ep.json.${base}`, "json", ["large-ep", "evaluate", s, "--format", "json", "--no-cache"])
    add(`afd.json.${base}`, "json", ["afd", "simulate", s, "--format", "json", "--no-cache"])
    add(`sweep.json.${base}`, "json", ["sweep", s, "--batch", "1,16", "--seq", "1024,4096", "--format", "json", "--no-cache"], { maskTiming: true })
    add(`report.html.${base}`, "html", ["report", s, "--no-cache", "--out", "{OUT}"], { writesFile: true })
    add(`run.table.${base}`, "table", ["run", s, "--no-cache"])
    add(`large-ep.table.${base}`, "table", ["large-ep", "evaluate", s, "--no-cache"])
  }

  // Sweeps over the other axes and models (each a few points: ~0.5 s). A scenario named here
  // that neither side ships is skipped.
  const has = (file: string) => names.includes(file)
  const sweeps: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
    [
      "large-ep-tbo",
      "deepseek_v3_h800_decode_ep144.yaml",
      ["--strategy", "two-batch-overlap", "--phase", "decode", "--ep", "32,144", "--batch", "16,64", "--tbo", "on,off", "--redundant-experts", "0,32"]
    ],
    ["afd-instances", "deepseek_v3_h800_afd.yaml", ["--instances", "2A2F,3A2F", "--batch", "32,128"]],
    [
      "hardware-cost",
      "llama_3_1_70b_h100.yaml",
      [
        "--hardware",
        `${hw("H100-SXM")},${hw("H200-SXM")}`,
        "--tp",
        "4,8",
        "--batch",
        "1,64",
        "--phase",
        "decode",
        "--objective",
        "cost_per_1m_output_tokens_usd"
      ]
    ],
    ["kv-output-slo", "qwen3_235b_h100.yaml", ["--kv-cache", "fp8,bf16", "--output", "0,512", "--batch", "8,32", "--max-tpot-ms", "50"]],
    ["micro-batch", "mixtral_8x7b_h100.yaml", ["--micro-batch", "1,2", "--batch", "16,64"]],
    ["dtypes-layout", "kimi_k2_h200.yaml", ["--weights", "fp8,bf16", "--moe-experts", "fp8,fp4", "--dp", "8,16", "--ep", "8,16", "--batch", "16"]]
  ]
  for (const [id, file, axes] of sweeps) {
    if (has(file)) add(`sweep.json.${id}`, "json", ["sweep", scenario(file), ...axes, "--format", "json", "--no-cache"], { maskTiming: true })
  }
  if (has("deepseek_v3_h800.yaml")) {
    add(
      "sweep.html.pareto",
      "html",
      [
        "sweep",
        scenario("deepseek_v3_h800.yaml"),
        "--phase",
        "decode",
        "--ep",
        "16,32",
        "--batch",
        "1..256:x2",
        "--price-per-gpu-hour",
        "2.5",
        "--format",
        "html",
        "--no-cache",
        "--out",
        "{OUT}"
      ],
      { writesFile: true }
    )
  }

  // validate reads data/reference and never uses the result store.
  add("validate.json.analytic", "json", ["validate", "--format", "json"])
  add("validate.json.ml", "json", ["validate", "--format", "json", "--estimator", "ml"])

  // diff between two shipped scenarios (paths, no git): its JSON, and its table.
  const diffs: ReadonlyArray<readonly [string, string]> = [
    ["deepseek_v3_h800.yaml", "deepseek_v3_2_h800.yaml"],
    ["deepseek_v3_h800.yaml", "deepseek_v3_a100.yaml"]
  ]
  for (const [a, b] of diffs) {
    if (!has(a) || !has(b)) continue
    const id = `${a.replace(/\.yaml$/, "")}.vs.${b.replace(/\.yaml$/, "")}`
    add(`diff.json.${id}`, "json", ["diff", "--a", scenario(a), "--b", scenario(b), "--format", "json", "--no-cache"])
    add(`diff.table.${id}`, "table", ["diff", "--a", scenario(a), "--b", scenario(b), "--no-cache"])
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Running

const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, LLMSIM_FROM_SOURCE: "1" }
  // The re-exec marker would skip bin/llmsim.js's own checks; colour would depend on this shell.
  delete env.LLMSIM_REEXEC
  delete env.FORCE_COLOR
  return env
}

/** Children still running: stopped when this script is (their worktree is about to go). */
const running = new Set<ChildProcess>()

const outFile = (side: Side, cmd: Command) => path.join(side.outDir, `${cmd.id}.out`)

const runOne = (side: Side, cmd: Command, env: NodeJS.ProcessEnv): Promise<Outcome> => {
  const args = cmd.args.map((a) => (a === "{OUT}" ? outFile(side, cmd) : a))
  const stdout = fs.openSync(path.join(side.outDir, `${cmd.id}.stdout`), "w")
  const stderr = fs.openSync(path.join(side.outDir, `${cmd.id}.stderr`), "w")
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(path.join(side.root, "node_modules", ".bin", "node"), [path.join(side.root, "bin", "llmsim.js"), ...args], {
      cwd: side.root,
      env,
      stdio: ["ignore", stdout, stderr]
    })
    running.add(child)
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS)
    const done = (code: number | null, signal: string | null) => {
      running.delete(child)
      clearTimeout(timer)
      fs.closeSync(stdout)
      fs.closeSync(stderr)
      resolve({ code, signal, ms: performance.now() - started })
    }
    child.on("error", (e) => {
      fs.writeSync(stderr, `compare-outputs: cannot start: ${e.message}\n`)
      done(null, "spawn-error")
    })
    child.on("exit", (code, signal) => done(code, signal))
  })
}

/** Runs `tasks` with at most `jobs` at a time, calling `onDone(i, result)` as each ends. */
const pool = async <A>(tasks: ReadonlyArray<() => Promise<A>>, jobs: number, onDone: (i: number, result: A) => void): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      onDone(i, await tasks[i]())
    }
  }
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker))
}

// ---------------------------------------------------------------------------------------------
// Comparing

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Each side's own folders, which necessarily differ, to placeholders; wall-clock fields masked. */
const normalise = (side: Side, cmd: Command, data: Buffer): Buffer => {
  // latin1 maps each byte to one char and back: the bytes are untouched outside the replacements.
  const asBytes = (s: string) => Buffer.from(s, "utf8").toString("latin1")
  const places: ReadonlyArray<readonly [string, string]> = [
    [side.outDir, "<OUT>"],
    [fs.realpathSync(side.outDir), "<OUT>"],
    [side.root, "<ROOT>"],
    [fs.realpathSync(side.root), "<ROOT>"]
  ]
  let text = data.toString("latin1")
  // Longest first: one folder may hold the other (--keep inside the checkout).
  for (const [dir, name] of [...places].sort((a, b) => b[0].length - a[0].length)) {
    text = text.replace(new RegExp(escapeRegExp(asBytes(dir)), "g"), name)
  }
  if (cmd.maskTiming) text = text.replace(/"elapsed_ms": -?[0-9.eE+-]+/g, `"elapsed_ms": "<masked>"`)
  return Buffer.from(text, "latin1")
}

const readOrNull = (file: string): Buffer | null => {
  try {
    return fs.readFileSync(file)
  } catch {
    return null
  }
}

const clip = (line: string, at: number): string => {
  const from = Math.max(0, at - 60)
  const to = Math.min(line.length, at + 100)
  return `${from > 0 ? "…" : ""}${line.slice(from, to)}${to < line.length ? "…" : ""}`
}

/** The first differing line of two outputs, as two display lines. */
const firstDifference = (a: Buffer, b: Buffer): [string, string] => {
  const la = a.toString("utf8").split("\n")
  const lb = b.toString("utf8").split("\n")
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const x = la[i]
    const y = lb[i]
    if (x === y) continue
    if (x === undefined) return [`(ends after line ${la.length})`, `line ${i + 1}: ${clip(y ?? "", 0)}`]
    if (y === undefined) return [`line ${i + 1}: ${clip(x, 0)}`, `(ends after line ${lb.length})`]
    let c = 0
    while (c < x.length && c < y.length && x[c] === y[c]) c++
    return [`line ${i + 1}: ${clip(x, c)}`, `line ${i + 1}: ${clip(y, c)}`]
  }
  return ["(same text, different bytes)", "(same text, different bytes)"]
}

/**
 * For two JSON texts that differ: whether only numbers do, how many and by how much at most
 * (relative to the larger magnitude), so a float rounding change reads as what it is.
 */
const numericDrift = (a: Buffer, b: Buffer): string | undefined => {
  let ja: unknown
  let jb: unknown
  try {
    ja = JSON.parse(a.toString("utf8"))
    jb = JSON.parse(b.toString("utf8"))
  } catch {
    return undefined
  }
  let numbers = 0
  let worst = 0
  const walk = (x: unknown, y: unknown): boolean => {
    if (typeof x === "number" && typeof y === "number") {
      if (x !== y) {
        numbers++
        worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y)))
      }
      return true
    }
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => walk(v, y[i]))
    if (typeof x === "object" && typeof y === "object" && x !== null && y !== null && !Array.isArray(x) && !Array.isArray(y)) {
      const kx = Object.keys(x)
      const ky = Object.keys(y)
      return kx.length === ky.length && kx.every((k, i) => k === ky[i] && walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]))
    }
    return Object.is(x, y)
  }
  if (!walk(ja, jb)) return "JSON: other than numbers differs"
  return `JSON: only numbers differ: ${numbers}, at most ${worst.toExponential(2)} relative`
}

interface Verdict {
  readonly same: boolean
  /** What differs: exit, stdout, stderr, file. */
  readonly parts: ReadonlyArray<string>
  readonly detail: ReadonlyArray<string>
}

const compare = (cmd: Command, base: Side, head: Side, ob: Outcome, oh: Outcome): Verdict => {
  const parts: Array<string> = []
  const detail: Array<string> = []
  const status = (o: Outcome) => (o.signal !== null ? `signal ${o.signal}` : `exit ${o.code}`)
  if (status(ob) !== status(oh)) {
    parts.push("exit status")
    detail.push(`base: ${status(ob)}`, `head: ${status(oh)}`)
  }
  const streams: ReadonlyArray<readonly [string, (s: Side) => string]> = [
    ["stdout", (s) => path.join(s.outDir, `${cmd.id}.stdout`)],
    ["stderr", (s) => path.join(s.outDir, `${cmd.id}.stderr`)],
    ...(cmd.writesFile ? [["--out file", (s: Side) => outFile(s, cmd)] as const] : [])
  ]
  for (const [name, file] of streams) {
    const rb = readOrNull(file(base))
    const rh = readOrNull(file(head))
    if (rb === null || rh === null) {
      if (rb !== rh) {
        parts.push(name)
        detail.push(`base: ${rb === null ? "(no file)" : `${rb.length} bytes`}`, `head: ${rh === null ? "(no file)" : `${rh.length} bytes`}`)
      }
      continue
    }
    const nb = normalise(base, cmd, rb)
    const nh = normalise(head, cmd, rh)
    if (nb.equals(nh)) continue
    parts.push(name)
    const [db, dh] = firstDifference(nb, nh)
    detail.push(`${name} base: ${db}`, `${name} head: ${dh}`)
    const drift = cmd.kind === "json" ? numericDrift(nb, nh) : undefined
    if (drift !== undefined) detail.push(drift)
  }
  return { same: parts.length === 0, parts, detail }
}

// ---------------------------------------------------------------------------------------------
// Main

const main = async (): Promise<number> => {
  const options = parseArgs(process.argv.slice(2))
  const started = performance.now()
  if (!fs.existsSync(path.join(REPO, "node_modules", ".bin", "node"))) fail(`no node_modules in ${REPO}: run npm ci first`)
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "llmsim-compare-"))
  const keep = options.keep === undefined ? undefined : path.resolve(options.keep)
  const outRoot = keep ?? path.join(tmpRoot, "out")

  const side = (label: "base" | "head", rev: string | undefined): Side => {
    const outDir = path.join(outRoot, label)
    fs.rmSync(outDir, { recursive: true, force: true })
    fs.mkdirSync(outDir, { recursive: true })
    if (rev === undefined) return { label, rev: "working tree", commit: null, root: REPO, outDir }
    const commit = resolveCommit(rev)
    const root = path.join(tmpRoot as string, label)
    materialise(commit, root)
    return { label, rev, commit, root, outDir }
  }
  const base = side("base", options.base)
  const head = side("head", options.head)
  const describe = (s: Side) =>
    `${s.label}: ${s.rev}${s.commit === null ? ` (${REPO}, HEAD ${git(["rev-parse", "--short", "HEAD"])} + edits)` : ` (${s.commit.slice(0, 12)})`}`
  process.stdout.write(`${describe(base)}\n${describe(head)}\n`)
  for (const s of [base, head]) {
    if (!fs.existsSync(path.join(s.root, "bin", "llmsim.js"))) fail(`${s.rev} has no bin/llmsim.js`)
    if (
      s.root !== REPO &&
      readOrNull(path.join(s.root, "package-lock.json"))?.equals(readOrNull(path.join(REPO, "package-lock.json")) ?? Buffer.alloc(0)) !== true
    ) {
      process.stdout.write(`note: ${s.rev}'s package-lock.json differs from this checkout's; it runs on this checkout's node_modules\n`)
    }
  }

  const all = commandList([base, head])
  const commands = options.only === undefined ? all : all.filter((c) => (options.only as RegExp).test(c.id))
  process.stdout.write(
    `${commands.length} commands per side (${commands.filter((c) => c.kind !== "table").length} JSON/HTML, ${commands.filter((c) => c.kind === "table").length} tables), ${options.jobs} at a time\n\n`
  )

  // base then head of each command, so a pair finishes close together and lines print in order.
  const env = childEnv()
  const tasks = commands.flatMap((cmd) => [() => runOne(base, cmd, env), () => runOne(head, cmd, env)])
  const ready = new Array<boolean>(tasks.length).fill(false)
  const outcomes: Array<Outcome> = new Array(tasks.length)
  let printed = 0
  const failures: Array<string> = []
  const tableDiffs: Array<string> = []
  let runMs = 0
  const flush = () => {
    while (printed < commands.length && ready[2 * printed] && ready[2 * printed + 1]) {
      const cmd = commands[printed]
      const [ob, oh] = [outcomes[2 * printed], outcomes[2 * printed + 1]]
      runMs += ob.ms + oh.ms
      const v = compare(cmd, base, head, ob, oh)
      const rc = ob.code === 0 && oh.code === 0 ? "" : ` [base ${ob.signal ?? `exit ${ob.code}`}, head ${oh.signal ?? `exit ${oh.code}`}]`
      const label = v.same ? "same" : cmd.kind === "table" ? "table differs" : "DIFFERS"
      process.stdout.write(`${label.padEnd(13)} ${cmd.id}${rc}${v.same ? "" : ` (${v.parts.join(", ")})`}\n`)
      for (const d of v.detail) process.stdout.write(`    ${d}\n`)
      if (!v.same) (cmd.kind === "table" ? tableDiffs : failures).push(cmd.id)
      printed++
    }
  }
  await pool(tasks, options.jobs, (i, outcome) => {
    outcomes[i] = outcome
    ready[i] = true
    flush()
  })

  const seconds = (performance.now() - started) / 1e3
  const jsonHtml = commands.filter((c) => c.kind !== "table").length
  const tables = commands.length - jsonHtml
  process.stdout.write(
    `\nsummary: ${commands.length} commands per side in ${seconds.toFixed(1)} s (${(runMs / 1e3).toFixed(1)} s of CLI time); ` +
      `JSON/HTML: ${jsonHtml - failures.length} same, ${failures.length} differ; tables: ${tables - tableDiffs.length} same, ${tableDiffs.length} differ (informational)\n`
  )
  if (keep !== undefined) process.stdout.write(`outputs kept in ${keep}/base and ${keep}/head\n`)
  if (failures.length === 0) {
    process.stdout.write(tableDiffs.length === 0 ? "all same\n" : "all JSON/HTML same\n")
    return 0
  }
  process.stdout.write(`FAILED: ${failures.join(", ")}\n`)
  return 1
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    for (const child of running) child.kill("SIGKILL")
    cleanup()
    process.exit(sig === "SIGINT" ? 130 : 143)
  })
}
process.on("exit", cleanup)
let code = 2
try {
  code = await main()
} finally {
  cleanup()
}
process.exit(code)
